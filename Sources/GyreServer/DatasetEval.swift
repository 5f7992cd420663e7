import Dispatch
import Foundation
import GyreCompute
import GyreCore
import GyreData
import GyreExpr
import Synchronization

/// How much one server-side computation may cost: estimated before anything is read, and
/// enforced on the clock while it runs.
public struct EvalLimits: Sendable {
    /// Decoded bytes a computation may read (the planner's estimate).
    public var maxReadBytes: Int
    /// Memory it may hold at its peak (the planner's estimate, then its budget while it runs).
    public var maxMemoryBytes: Int
    /// Bytes of the result, which the answer carries as JSON.
    public var maxResultBytes: Int
    /// Seconds before it is cancelled.
    public var maxSeconds: Double

    public init(maxReadBytes: Int = 4 << 30, maxMemoryBytes: Int = 1 << 30, maxResultBytes: Int = 16 << 20, maxSeconds: Double = 60) {
        self.maxReadBytes = maxReadBytes
        self.maxMemoryBytes = maxMemoryBytes
        self.maxResultBytes = maxResultBytes
        self.maxSeconds = maxSeconds
    }
}

extension ServedDataset {
    /// Runs a GyreExpr expression over the dataset (`ds`, and each variable by name, as
    /// `gyre eval` does) and answers its value as JSON: `{"value": ...}` for a number, string
    /// or boolean, else the result's variables with their values (`gyre eval --json`), and the
    /// plan's estimate. A computation whose estimate passes a limit is refused (413) before
    /// anything is read; one that runs past `maxSeconds` is cancelled (503).
    public func evaluate(_ expression: String, limits: EvalLimits) async throws -> JSON {
        switch try await compute(expression, limits: limits) {
        case .value(let j): return j
        case .dataset(let loaded, let arrayName, let estimate):
            guard case .object(var out) = loaded.valuesJSON(arrayName: arrayName) else { return estimate }
            out["estimate"] = estimate
            return .object(out)
        }
    }

    /// What a computation gives: a plain value, or a dataset in memory (with the name of the
    /// array it was, and the plan's estimate).
    public enum EvalResult: Sendable {
        case value(JSON)
        case dataset(Dataset, arrayName: String?, estimate: JSON)
    }

    /// Evaluates and computes an expression within the limits (see `evaluate`).
    public func compute(_ expression: String, limits: EvalLimits) async throws -> EvalResult {
        guard !expression.isEmpty, expression.utf8.count <= 4096 else {
            throw GyreServerError(.badRequest, "expr must be 1 to 4096 bytes of a GyreExpr expression, such as ds.sst.mean('time')")
        }
        let value: ExprValue
        do { value = try await Evaluator(dataset: dataset).evaluate(expression) } catch let e as GyreExprError {
            throw GyreServerError(.badRequest, "dataset '\(name)': \(e.pointing(into: expression))")
        } catch let e as GyreDataError {
            throw GyreServerError(.badRequest, "dataset '\(name)': \(e.message)")
        }
        let result: Dataset, arrayName: String?
        switch value {
        case .array(let a):
            result = try a.toDataset(name: a.name ?? "result")
            arrayName = a.name ?? "result"
        case .dataset(let d):
            result = d
            arrayName = nil
        case .number(let d, let isInteger): return .value(["value": isInteger ? .int(Int64(d)) : .double(d)])
        case .string(let s): return .value(["value": .string(s)])
        case .bool(let b): return .value(["value": .bool(b)])
        case .none: return .value(["value": .null])
        default:
            throw GyreServerError(.badRequest, "dataset '\(name)': '\(expression)' is not a value (an array, a dataset, a number, a string or a boolean)")
        }
        let (loaded, estimate) = try await load(result, what: "'\(expression)'", limits: limits)
        return .dataset(loaded, arrayName: arrayName, estimate: estimate)
    }

    /// Loads a (lazy) dataset drawn from this one within the limits: the plan's estimate is
    /// made before anything is read, and a load whose estimate passes a limit is refused (413)
    /// with the estimate; one that runs past `maxSeconds` is cancelled (503). `what` names the
    /// request in those errors.
    func load(_ result: Dataset, what: String, limits: EvalLimits) async throws -> (Dataset, estimate: JSON) {
        var read = 0, peak = 0, resultBytes = 0, chunks = 0
        for (k, v) in result.variables {
            guard let l = v.lazyData else { resultBytes += v.nbytes; continue }
            let p: ComputePlan
            do { p = try l.plan() } catch { throw GyreServerError(.badRequest, "dataset '\(name)': planning '\(k)': \(error)") }
            read += p.bytesRead
            peak = Swift.max(peak, p.peakMemory)
            resultBytes += p.resultBytes
            chunks += p.chunksRead
        }
        let estimate: JSON = ["bytes_read": .int(Int64(read)), "peak_memory": .int(Int64(peak)), "result_bytes": .int(Int64(resultBytes)),
                              "chunks_read": .int(Int64(chunks))]
        for (verb, n, limit) in [("read", read, limits.maxReadBytes), ("hold at its peak", peak, limits.maxMemoryBytes),
                                 ("return", resultBytes, limits.maxResultBytes)] where n > limit {
            throw GyreServerError(.payloadTooLarge, "dataset '\(name)': \(what) would \(verb) \(n) bytes, more than this server's limit of "
                                  + "\(limit); select less (isel/sel) or reduce more. Estimate: \(estimate.text)")
        }
        var options = ComputeOptions.current
        options.memoryBudget = limits.maxMemoryBytes
        let work = Task { try await ComputeOptions.$current.withValue(options) { try await result.load() } }
        guard let loaded = try await Self.finished(work, within: limits.maxSeconds) else {
            throw GyreServerError(.serviceUnavailable, "dataset '\(name)': \(what) ran past this server's limit of \(limits.maxSeconds) s and was cancelled")
        }
        return (loaded, estimate)
    }

    /// The task's value, or nil (and the task cancelled) when it has not finished in time.
    /// The clock is a Dispatch timer, not a task: computations that keep every thread of the
    /// concurrency pool busy cannot hold it back.
    static func finished<T: Sendable>(_ work: Task<T, any Error>, within seconds: Double) async throws -> T? {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T?, any Error>) in
            let gate = Gate(c)
            Task { gate.resume(await work.result.map { Optional($0) }) }
            DispatchQueue.global().asyncAfter(deadline: .now() + Swift.max(0, seconds)) {
                if gate.resume(.success(nil)) { work.cancel() }
            }
        }
    }
}

/// A continuation resumed once, by whichever of two tasks comes first.
final class Gate<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, any Error>?>
    init(_ c: CheckedContinuation<T?, any Error>) { continuation = Mutex(c) }
    /// Resumes it unless already resumed; true when this call did.
    @discardableResult func resume(_ r: Result<T?, any Error>) -> Bool {
        guard let c = continuation.withLock({ c in defer { c = nil }; return c }) else { return false }
        c.resume(with: r)
        return true
    }
}
