import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreStorage
import GyreZarr

/// A program lowered to a task graph, ready to run on any ``TaskGraphExecutor`` (this
/// process's, or a Dask cluster's): plan it, run the graph, then `finish` puts the result
/// blocks together (a result kept in memory) or completes the written store.
///
/// A written output is made in three steps: the client creates the target's array metadata
/// and writes what is already in memory (coordinates); the tasks write whole chunks straight
/// to the target; the client writes the group metadata and the consolidated metadata last, so
/// an interrupted run never opens as a complete store (as `writeZarr` does locally).
public struct DistributedComputation: Sendable {
    public let graph: TaskGraph
    let instance: ProgramInstance
    let writeOptions: ZarrWriteOptions?

    /// Opens the program's sources, evaluates its expression and lowers every lazy variable
    /// of the result (nothing is read but metadata and coordinates). With an output in the
    /// program, `writeOptions` say how it is written (format, codecs, chunks, overwrite).
    public static func plan(_ program: ProgramReference, writeOptions: ZarrWriteOptions = ZarrWriteOptions()) async throws -> DistributedComputation {
        let instance = try await ProgramInstance.open(program)
        var builder = GraphBuilder()
        var results: [Int] = []
        var shapes: [String: [Int]] = [:]
        let options = ComputeOptions(threads: 1, taskBytes: program.taskBytes, slabBytes: program.slabBytes)
        do {
            if program.output != nil {
                for a in try instance.result.zarrPlan(options: writeOptions).arrays {
                    guard let lazy = a.variable.lazyData else { continue }
                    shapes[a.name] = lazy.shape
                    results += try builder.lower(a.name, lazy, result: .write(chunkShape: a.metadata.chunkShape), options: options)
                }
            } else {
                for (name, v) in instance.result.variables {
                    guard let lazy = v.lazyData else { continue }
                    shapes[name] = lazy.shape
                    results += try builder.lower(name, lazy, result: .values, options: options)
                }
            }
        } catch let e as GyreDistributedError { throw e } catch {
            throw GyreDistributedError(.program, "planning \(program.expression): \(error)", cause: error)
        }
        let graph = TaskGraph(program: program, tasks: builder.tasks, results: results, shapes: shapes)
        return DistributedComputation(graph: graph, instance: instance, writeOptions: program.output == nil ? nil : writeOptions)
    }

    /// Rebuilds a planned computation from its graph (the Python entry point plans in one call
    /// and finishes in another).
    public static func resume(_ graph: TaskGraph, writeOptions: ZarrWriteOptions = ZarrWriteOptions()) async throws -> DistributedComputation {
        DistributedComputation(graph: graph, instance: try await ProgramInstance.open(graph.program),
                               writeOptions: graph.program.output == nil ? nil : writeOptions)
    }

    func store() throws -> (any WritableStore & ListableStore)? {
        guard let output = graph.program.output else { return nil }
        return try Dataset.writableStore(output, storageOptions: graph.program.storageOptions)
    }

    /// Before the tasks run: the target emptied (when overwriting; else it must be empty), each
    /// array's metadata created, the values already in memory written.
    public func prepareOutput() async throws {
        guard let store = try store(), let options = writeOptions else { return }
        let existing = try await store.list(prefix: "")
        if !existing.isEmpty {
            guard options.overwrite else {
                throw GyreDistributedError(.program, "\(store.name) already holds \(existing.count) keys; pass overwrite to replace it")
            }
            try await store.delete(keys: existing)
        }
        for a in try instance.result.zarrPlan(options: options).arrays {
            let arr = try await ZarrArray.create(store, path: a.name, metadata: a.metadata, overwrite: true)
            if case .eager(let data) = a.variable.storage { try await arr.write(data) }
        }
    }

    /// After the tasks ran: the result in memory (`results` holds the result blocks), or, for
    /// an output, the group and consolidated metadata written (and nil returned).
    public func finish(_ results: [Int: [UInt8]]) async throws -> Dataset? {
        for id in graph.results where results[id] == nil {
            throw GyreDistributedError(.task, "task \(id) (\(graph.tasks[id].op.summary)) gave no result")
        }
        if let store = try store(), let options = writeOptions {
            try await ZarrGroup.create(store, path: "", format: options.format, attributes: try instance.result.zarrPlan(options: options).attributes)
            try await ZarrGroup.consolidate(store, path: "")
            return nil
        }
        var blocks: [String: [(Box, AnyNDArray)]] = [:]
        for id in graph.results {
            let p = try TaskPayload(decoding: results[id]!, what: "result of task \(id)")
            guard case .values(_, let box, let a) = p else { throw GyreDistributedError(.task, "task \(id) gave no values") }
            blocks[graph.tasks[id].op.variable, default: []].append((box, a))
        }
        var out = instance.result
        for (name, parts) in blocks {
            guard let v = out.variables[name], let lazy = v.lazyData else { continue }
            var whole: AnyNDArray
            if parts.count == 1, parts[0].0.map(\.count) == lazy.shape { whole = parts[0].1 } else {
                whole = try AnyNDArray.uninitialized(lazy.shape, dtype: parts[0].1.dtype)
                for (box, a) in parts { try whole.assign(box.map { .slice(Slice($0.lowerBound, $0.upperBound)) }, from: a) }
            }
            try out.replaceVariable(name, try Variable(v.dims, whole, attrs: v.attrs, encoding: v.encoding))
        }
        return out
    }

    /// The result's name when the expression gives a DataArray.
    public var arrayName: String? { instance.arrayName }

    /// Plans, prepares, runs and finishes.
    public func run(on executor: any TaskGraphExecutor, progress: ComputeProgress? = nil) async throws -> Dataset? {
        try await prepareOutput()
        let results = try await executor.run(graph, progress: progress)
        return try await finish(results)
    }
}

extension LocalGraphExecutor {
    /// This process's executor for Gyre's programs: each task run by ``TaskRunner``.
    public static func gyre(threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> LocalGraphExecutor {
        LocalGraphExecutor(threads: threads) { program, task, inputs in
            try await TaskRunner.run(program, task, inputs: inputs, threads: 1)
        }
    }
}
