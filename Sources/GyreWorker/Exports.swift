import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreDistributed
import GyreZarr

// Gyre's C ABI for Dask workers and Python clients (libGyreWorker.so, loaded by the
// `gyre_dask` module with ctypes). Every function returns 0 on success; on failure it
// returns 1 and sets `*error` to a message (UTF-8, NUL-terminated). Buffers it hands out are
// malloc'ed: free them with gyre_free. The calling thread waits; Gyre's own work runs on
// Swift's threads.

/// Waits on the calling (foreign) thread for async work.
private final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
    init() {}
}

private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return box.value!
}

/// Large buffers kept for reuse in this process (as the gyre binary keeps them): a worker's
/// tasks allocate chunk-sized buffers again and again, and first-touch page faults on fresh
/// memory cost more than the work on some machines. Done once, at the first call.
private let tuned: Bool = {
    GyreRuntime.tuneAllocatorForLargeBuffers()
    return true
}()

private func cString(_ s: String) -> UnsafeMutablePointer<CChar> { strdup(s)! }

private func fail(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ e: any Error) -> Int32 {
    out?.pointee = UnsafeMutableRawPointer(cString("\(e)"))
    return 1
}

private func text(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let p else { throw GyreDistributedError(.program, "\(what) is NULL") }
    return String(cString: p)
}

@_cdecl("gyre_version")
public func gyre_version() -> UnsafePointer<CChar> {
    UnsafePointer(versionString)
}
private nonisolated(unsafe) let versionString = strdup("gyre-worker 1")!

@_cdecl("gyre_free")
public func gyre_free(_ p: UnsafeMutableRawPointer?) { free(p) }

/// Runs one task: `program` and `task` as JSON, `count` inputs (the results of the task's
/// inputs, in order); the result bytes in `*out` (`*outLength` long).
@_cdecl("gyre_run_task")
public func gyre_run_task(_ program: UnsafePointer<CChar>?, _ task: UnsafePointer<CChar>?, _ count: Int32,
                          _ inputs: UnsafePointer<UnsafePointer<UInt8>?>?, _ lengths: UnsafePointer<Int64>?, _ threads: Int32,
                          _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ outLength: UnsafeMutablePointer<Int64>?,
                          _ errorOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    _ = tuned
    do {
        let p = try ProgramReference(json: try JSON.parse(try text(program, "the program")))
        let t = try GraphTask(json: try JSON.parse(try text(task, "the task")))
        // The inputs read in place (Python keeps them alive for the call).
        var payloads: [TaskPayload] = []
        for i in 0..<Int(max(count, 0)) {
            guard let inputs, let lengths, lengths[i] >= 0, let base = inputs[i] else { throw GyreDistributedError(.task, "input \(i) of task \(t.id) is missing") }
            do {
                payloads.append(try TaskPayload(decoding: UnsafeRawBufferPointer(start: base, count: Int(lengths[i])), what: "input \(i) of task \(t.id)"))
            } catch { throw GyreDistributedError(.task, "\(t.op.summary): \(error)", cause: error) }
        }
        guard payloads.count == t.inputs.count else {
            throw GyreDistributedError(.task, "task \(t.id) takes \(t.inputs.count) inputs but was given \(payloads.count)")
        }
        let given = payloads
        let result = blocking { try await TaskRunner.run(p, t, payloads: given, threads: Int(max(threads, 1))) }
        let bytes = try result.get()
        let m = malloc(max(bytes.count, 1))!
        bytes.withUnsafeBytes { m.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        out?.pointee = m
        outLength?.pointee = Int64(bytes.count)
        return 0
    } catch { return fail(errorOut, error) }
}

/// Plans a program: `request` is `{"program": {...}, "overwrite": false}`; the task graph as
/// JSON in `*graph`. With an output, the target's arrays are created first.
@_cdecl("gyre_plan")
public func gyre_plan(_ request: UnsafePointer<CChar>?, _ graph: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                      _ errorOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    do {
        let r = try JSON.parse(try text(request, "the request"))
        guard let pj = r["program"] else { throw GyreDistributedError(.program, "the request has no program") }
        let program = try ProgramReference(json: pj)
        var options = ZarrWriteOptions()
        options.overwrite = r["overwrite"]?.bool ?? false
        let opts = options
        let computation = try blocking { () async throws -> DistributedComputation in
            let c = try await DistributedComputation.plan(program, writeOptions: opts)
            try await c.prepareOutput()
            return c
        }.get()
        graph?.pointee = UnsafeMutableRawPointer(cString(String(decoding: computation.graph.json.serialized(indent: 0), as: UTF8.self)))
        return 0
    } catch { return fail(errorOut, error) }
}

/// Completes a written output once the graph's tasks ran (the results of its result tasks).
@_cdecl("gyre_finish")
public func gyre_finish(_ graph: UnsafePointer<CChar>?, _ count: Int32, _ ids: UnsafePointer<Int64>?,
                        _ payloads: UnsafePointer<UnsafePointer<UInt8>?>?, _ lengths: UnsafePointer<Int64>?,
                        _ errorOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    do {
        let g = try TaskGraph(json: try JSON.parse(try text(graph, "the graph")))
        var results: [Int: [UInt8]] = [:]
        for i in 0..<Int(max(count, 0)) {
            guard let ids, let payloads, let lengths, lengths[i] >= 0 else { throw GyreDistributedError(.task, "result \(i) is missing") }
            results[Int(ids[i])] = [UInt8](UnsafeBufferPointer(start: payloads[i], count: Int(lengths[i])))
        }
        let r = results
        _ = try blocking { () async throws -> Bool in
            let c = try await DistributedComputation.resume(g)
            _ = try await c.finish(r)
            return true
        }.get()
        return 0
    } catch { return fail(errorOut, error) }
}
