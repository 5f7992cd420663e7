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
        switch try await lazyResult(expression) {
        case .value(let j): return .value(j)
        case .dataset(let result, let arrayName, _):
            let (loaded, estimate) = try await load(result, what: "'\(expression)'", limits: limits)
            return .dataset(loaded, arrayName: arrayName, estimate: estimate)
        }
    }

    /// An expression evaluated but nothing read: a plain value, or the lazy dataset it gives
    /// (an array becomes a dataset of that one variable).
    func lazyResult(_ expression: String) async throws -> EvalResult {
        guard !expression.isEmpty, expression.utf8.count <= 4096 else {
            throw GyreServerError(.badRequest, "expr must be 1 to 4096 bytes of a GyreExpr expression, such as ds.sst.mean('time')")
        }
        let value: ExprValue
        do { value = try await Evaluator(dataset: dataset).evaluate(expression) } catch let e as GyreExprError {
            throw GyreServerError(.badRequest, "dataset '\(name)': \(e.pointing(into: expression))")
        } catch let e as GyreDataError {
            throw GyreServerError(.badRequest, "dataset '\(name)': \(e.message)")
        }
        switch value {
        case .array(let a): return .dataset(try a.toDataset(name: a.name ?? "result"), arrayName: a.name ?? "result", estimate: .null)
        case .dataset(let d): return .dataset(d, arrayName: nil, estimate: .null)
        case .number(let d, let isInteger): return .value(["value": isInteger ? .int(Int64(d)) : .double(d)])
        case .string(let s): return .value(["value": .string(s)])
        case .bool(let b): return .value(["value": .bool(b)])
        case .none: return .value(["value": .null])
        default:
            throw GyreServerError(.badRequest, "dataset '\(name)': '\(expression)' is not a value (an array, a dataset, a number, a string or a boolean)")
        }
    }

    /// What loading a (lazy) dataset would cost, from its plan, before anything is read.
    struct Estimate: Sendable {
        var read = 0, peak = 0, result = 0, chunks = 0
        var json: JSON {
            ["bytes_read": .int(Int64(read)), "peak_memory": .int(Int64(peak)), "result_bytes": .int(Int64(result)), "chunks_read": .int(Int64(chunks))]
        }
    }

    func estimate(_ result: Dataset) throws -> Estimate {
        var e = Estimate()
        for (k, v) in result.variables {
            guard let l = v.lazyData else { e.result += v.nbytes; continue }
            let p: ComputePlan
            do { p = try l.plan() } catch { throw GyreServerError(.badRequest, "dataset '\(name)': planning '\(k)': \(error)") }
            e.read += p.bytesRead
            e.peak = Swift.max(e.peak, p.peakMemory)
            e.result += p.resultBytes
            e.chunks += p.chunksRead
        }
        return e
    }

    /// Refuses (413, with the estimate) what would read, hold or (when `result` is checked)
    /// return more than the limits.
    func check(_ e: Estimate, what: String, limits: EvalLimits, result: Bool) throws {
        var checks = [("read", e.read, limits.maxReadBytes), ("hold at its peak", e.peak, limits.maxMemoryBytes)]
        if result { checks.append(("return", e.result, limits.maxResultBytes)) }
        for (verb, n, limit) in checks where n > limit {
            throw GyreServerError(.payloadTooLarge, "dataset '\(name)': \(what) would \(verb) \(n) bytes, more than this server's limit of "
                                  + "\(limit); select less (isel/sel) or reduce more. Estimate: \(e.json.text)")
        }
    }

    /// Loads a (lazy) dataset drawn from this one within the limits: the plan's estimate is
    /// made before anything is read, and a load whose estimate passes a limit is refused (413)
    /// with the estimate; one that runs past `maxSeconds` is cancelled (503). `what` names the
    /// request in those errors.
    func load(_ result: Dataset, what: String, limits: EvalLimits) async throws -> (Dataset, estimate: JSON) {
        let e = try estimate(result)
        try check(e, what: what, limits: limits, result: true)
        var options = ComputeOptions.current
        options.memoryBudget = limits.maxMemoryBytes
        let work = Task { try await ComputeOptions.$current.withValue(options) { try await result.load() } }
        guard let loaded = try await Self.finished(work, within: limits.maxSeconds) else {
            throw GyreServerError(.serviceUnavailable, "dataset '\(name)': \(what) ran past this server's limit of \(limits.maxSeconds) s and was cancelled")
        }
        return (loaded, e.json)
    }

    /// A computed result as a Zarr view (`/datasets/{name}/eval/{token}/zarr/`): the
    /// expression is evaluated and planned, nothing read; each chunk key computes that chunk
    /// when it is asked for. A result whose whole plan would read or hold more than the limits
    /// is refused (413). Views are kept by expression, the most recently used, and checked
    /// against the limits each time.
    func evalView(_ expression: String, limits: EvalLimits) async throws -> (view: ZarrView, estimate: JSON) {
        let (view, e) = try await evalViews.view(expression) {
            guard case .dataset(let result, _, _) = try await lazyResult(expression) else {
                throw GyreServerError(.badRequest, "'\(expression)' is a plain value, not an array or a dataset: ask /datasets/\(name)/eval?expr=...")
            }
            return (try await ZarrView(result, label: "dataset '\(name)', expression '\(expression)'"), try estimate(result))
        }
        try check(e, what: "'\(expression)'", limits: limits, result: false)
        return (view, e.json)
    }

    /// The path segment that names an expression's view: its UTF-8 in base64url, unpadded.
    public static func evalToken(_ expression: String) -> String {
        Data(expression.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The expression a view's token names.
    static func expression(fromToken token: String) throws -> String {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        guard token.count <= 6000, let data = Data(base64Encoded: b64), let s = String(data: data, encoding: .utf8), !s.isEmpty else {
            throw GyreServerError(.notFound, "'\(token.prefix(80))' is not an eval view: the segment after /eval/ is the expression in base64url")
        }
        return s
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

/// Zarr views of results computed from one dataset, by expression; past `capacity` the least
/// recently used goes.
final class EvalViews: Sendable {
    private let views: Mutex<[(expression: String, view: ZarrView, estimate: ServedDataset.Estimate)]>
    let capacity: Int

    init(capacity: Int) {
        views = Mutex([])
        self.capacity = capacity
    }

    func view(_ expression: String, make: () async throws -> (ZarrView, ServedDataset.Estimate)) async throws -> (ZarrView, ServedDataset.Estimate) {
        let hit = views.withLock { list -> (ZarrView, ServedDataset.Estimate)? in
            guard let i = list.firstIndex(where: { $0.expression == expression }) else { return nil }
            let e = list.remove(at: i)
            list.append(e)
            return (e.view, e.estimate)
        }
        if let hit { return hit }
        let (v, e) = try await make()
        views.withLock { list in
            list.removeAll { $0.expression == expression }
            list.append((expression, v, e))
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
        return (v, e)
    }
}
