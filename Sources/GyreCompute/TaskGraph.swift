import Foundation
import GyreCore
import GyreArrays

/// What every task of a graph rebuilds before it runs, as plain data: the sources, the
/// expression over them and the options that decide the tasks' bytes. A task never carries a
/// closure: a worker in another process (a Dask worker) opens the same sources, evaluates the
/// same expression and gets the same tree, then runs its one operation on it.
public struct ProgramReference: Sendable, Hashable {
    /// Paths or URLs (`s3://`, `https://`, `file://`, globs), as `Dataset.open` takes them.
    public var sources: [String]
    public var expression: String
    public var concatDim: String?
    public var storageOptions: [String: String]
    /// Where write tasks write (a Zarr store's path or URL); nil for results kept in memory.
    public var output: String?
    /// The streaming options that shape the tasks (so a worker makes the same bytes).
    public var taskBytes: Int
    public var slabBytes: Int

    public init(sources: [String], expression: String, concatDim: String? = nil, storageOptions: [String: String] = [:],
                output: String? = nil, taskBytes: Int = ComputeOptions().taskBytes, slabBytes: Int = ComputeOptions().slabBytes) {
        self.sources = sources
        self.expression = expression
        self.concatDim = concatDim
        self.storageOptions = storageOptions
        self.output = output
        self.taskBytes = taskBytes
        self.slabBytes = slabBytes
    }
}

/// One operation of a distributed computation. Boxes are half-open ranges per dimension.
public enum TaskOperation: Sendable, Hashable {
    /// Partial states of stage `stage` of `variable` over consecutive pieces of its input
    /// (2^k of them, combined as one subtree of the stage's combine tree).
    case partial(variable: String, stage: Int, pieces: [[Range<Int>]])
    /// Two states combined (the inputs, earlier first).
    case combine(variable: String, stage: Int)
    /// The stage's output block of kept tile `tile` from the states its inputs give, folded in
    /// order (the last combines of the stage's tree).
    case finalize(variable: String, stage: Int, tile: [Range<Int>])
    /// The stage's output block of `tile` read at once (median and quantile).
    case reduceBlock(variable: String, stage: Int, tile: [Range<Int>])
    /// A block of the variable's values.
    case compute(variable: String, region: [Range<Int>])
    /// A block of the variable (whole chunks of the target) written to the program's output.
    case write(variable: String, region: [Range<Int>])

    public var variable: String {
        switch self {
        case .partial(let v, _, _), .combine(let v, _), .finalize(let v, _, _), .reduceBlock(let v, _, _), .compute(let v, _), .write(let v, _): return v
        }
    }

    /// The operation's name, as the graph's JSON and Dask's keys give it.
    public var kind: String {
        switch self {
        case .partial: return "partial"
        case .combine: return "combine"
        case .finalize: return "finalize"
        case .reduceBlock: return "reduce"
        case .compute: return "compute"
        case .write: return "write"
        }
    }

    /// One line for errors and logs.
    public var summary: String {
        func b(_ x: [Range<Int>]) -> String { "[" + x.map { "\($0.lowerBound):\($0.upperBound)" }.joined(separator: ", ") + "]" }
        switch self {
        case .partial(let v, let s, let p):
            return "partial states of \(v) stage \(s) over \(p.count == 1 ? b(p[0]) : "\(p.count) pieces from \(b(p.first ?? [])) to \(b(p.last ?? []))")"
        case .combine(let v, let s): return "combine of \(v) stage \(s)"
        case .finalize(let v, let s, let t): return "finalize of \(v) stage \(s) block \(b(t))"
        case .reduceBlock(let v, let s, let t): return "\(v) stage \(s) block \(b(t))"
        case .compute(let v, let r): return "\(v) block \(b(r))"
        case .write(let v, let r): return "write of \(v) block \(b(r))"
        }
    }
}

/// A task: its operation and the tasks whose results it takes, in order.
public struct GraphTask: Sendable, Hashable {
    public var id: Int
    public var op: TaskOperation
    public var inputs: [Int]
}

/// A computation as plain values: tasks listed so that every task comes after its inputs.
public struct TaskGraph: Sendable {
    public var program: ProgramReference
    public var tasks: [GraphTask]
    /// The tasks whose results the caller keeps (result blocks, writes).
    public var results: [Int]
    /// The shape of each variable the graph computes.
    public var shapes: [String: [Int]]

    public init(program: ProgramReference, tasks: [GraphTask] = [], results: [Int] = [], shapes: [String: [Int]] = [:]) {
        self.program = program
        self.tasks = tasks
        self.results = results
        self.shapes = shapes
    }

    /// Tasks by kind, for plans and progress.
    public var counts: [String: Int] {
        var c: [String: Int] = [:]
        for t in tasks { c[t.op.kind, default: 0] += 1 }
        return c
    }
}

/// Runs a task graph: every task once its inputs are done; the results of `graph.results`
/// come back as the tasks' payload bytes (``TaskPayload``).
public protocol TaskGraphExecutor: Sendable {
    func run(_ graph: TaskGraph, progress: ComputeProgress?) async throws -> [Int: [UInt8]]
}

/// The graph's tasks lowered from lazy arrays: each reduction a stage of partial, combine and
/// finalize tasks over the same tiles, combined in the same tree, as computing it here does
/// (so the values are the same bytes), then the result's blocks computed or written.
package struct GraphBuilder {
    package private(set) var tasks: [GraphTask] = []
    /// Partial tasks one stage may have (larger pieces past that): with their combines, a
    /// stage stays under 10^5 tasks however many chunks its input has.
    package var maxPiecesPerStage = 40_000
    /// Input bytes a partial task reads at most (whole pieces of `taskBytes`, a power of two
    /// of them): four pieces, about 0.3 to 0.5 s of work on one core.
    package var piecesPerPartial = 4

    func batchPieceBytes(_ options: ComputeOptions) -> Int { piecesPerPartial * options.taskBytes }

    package init() {}

    mutating func add(_ op: TaskOperation, _ inputs: [Int]) -> Int {
        tasks.append(GraphTask(id: tasks.count, op: op, inputs: inputs))
        return tasks.count - 1
    }

    /// How the variable's values are wanted.
    package enum Result {
        /// Blocks of the values, returned.
        case values
        /// Written in whole chunks of this shape (the target array's) by the tasks.
        case write(chunkShape: [Int])
    }

    /// The finalized blocks of one stage on their grid: per output axis the ranges, and the
    /// task of each block, so a task finds the blocks a box of the output overlaps.
    struct StageBlocks {
        var ranges: [[Range<Int>]]
        var tasks: [[Int]: Int] = [:]

        init(boxes: [(Box, Int)], ndim: Int) {
            ranges = (0..<ndim).map { a in Array(Set(boxes.map { $0.0[a] })).sorted { $0.lowerBound < $1.lowerBound } }
            for (b, t) in boxes { tasks[b.map(\.lowerBound)] = t }
        }

        /// The tasks of the blocks `box` overlaps.
        func overlapping(_ box: Box) -> [Int] {
            var starts: [[Int]] = [[]]
            for (a, r) in box.enumerated() {
                let hits = ranges[a].filter { $0.overlaps(r) }.map(\.lowerBound)
                starts = starts.flatMap { s in hits.map { s + [$0] } }
            }
            return starts.compactMap { tasks[$0] }
        }
    }

    /// Adds the tasks that compute `array` (the variable `name`) and returns the tasks that
    /// give its result blocks (values) or write it. Each task takes only the stage blocks its
    /// box reads.
    package mutating func lower(_ name: String, _ array: LazyArray, result: Result, options: ComputeOptions) throws -> [Int] {
        let stages = array.reductionStages()
        var blocks: [StageBlocks] = []
        var finals: [[Int]] = []
        /// The stage blocks reading `box` of `a` needs.
        func needs(_ a: LazyArray, _ box: Box) -> [Int] {
            a.stageBoxesRead(box).sorted { $0.key < $1.key }.flatMap { blocks[$0.key].overlapping($0.value) }
        }
        for (j, st) in stages.enumerated() {
            let (kept, reduced) = try st.node.stageTiles(options: options, maxTasks: maxPiecesPerStage)
            let sub = try st.node.stageInput().input
            var outs: [(Box, Int)] = []
            for tile in kept {
                guard st.node.isDecomposable else {
                    let deps = needs(sub, ReductionSource.taskBox(tile, reduced[0]))
                    outs.append((st.node.outputBox(tile), add(.reduceBlock(variable: name, stage: j, tile: tile), deps)))
                    continue
                }
                // The combine tree of the local executor (TreeCombiner), with task ids. A
                // partial task takes an aligned run of 2^k pieces (a whole subtree of that
                // tree, combined inside the task); the last pieces go in smaller runs.
                var levels: [Int?] = []
                func place(_ id: Int, level: Int) {
                    var carry = id, i = level
                    while true {
                        while levels.count <= i { levels.append(nil) }
                        if let l = levels[i] {
                            carry = add(.combine(variable: name, stage: j), [l, carry])
                            levels[i] = nil
                            i += 1
                        } else {
                            levels[i] = carry
                            break
                        }
                    }
                }
                let boxes = reduced.map { ReductionSource.taskBox(tile, $0) }
                let pieceBytes = Swift.max(1, (boxes.first?.reduce(1) { $0 * $1.count } ?? 1) * Swift.max(sub.dtype.itemSize, 1))
                var run = 1, level = 0
                while run * 2 * pieceBytes <= batchPieceBytes(options) && run * 2 <= boxes.count { run *= 2; level += 1 }
                var at = 0
                while at < boxes.count {
                    while run > boxes.count - at { run /= 2; level -= 1 }
                    let pieces = Array(boxes[at..<(at + run)])
                    var deps: [Int] = []
                    if !st.inside.isEmpty { for b in pieces { deps += needs(sub, b) } }
                    place(add(.partial(variable: name, stage: j, pieces: pieces), Array(Set(deps)).sorted()), level: level)
                    at += run
                }
                // The finalize task folds what is left on the levels, the highest first (as
                // TreeCombiner.result does), then finalizes: one task for the tree's last combines.
                let roots = levels.reversed().compactMap { $0 }
                guard !roots.isEmpty else { throw GyreComputeError(.invalidArgument, "\(st.node.label) of \(name): nothing to reduce") }
                outs.append((st.node.outputBox(tile), add(.finalize(variable: name, stage: j, tile: tile), roots)))
            }
            blocks.append(StageBlocks(boxes: outs, ndim: st.node.shape.count))
            finals.append(outs.map(\.1))
        }
        switch result {
        case .values:
            // A reduction read as it is: its finalized blocks are the result.
            if let r = array.source as? ReductionSource, array.isWholeSource, r.shape == array.shape, !stages.isEmpty {
                return finals[stages.count - 1]
            }
            let layout = try StreamingLayout(array, reduced: [], gather: false, stateBytes: 0, outputBytes: 0, options: options, what: name)
            return layout.boxes(Array(0..<array.ndim)).map { add(.compute(variable: name, region: $0), needs(array, $0)) }
        case .write(let chunkShape):
            return Self.chunkAlignedBoxes(shape: array.shape, chunk: chunkShape, itemSize: Swift.max(array.dtype.itemSize, 1), taskBytes: options.taskBytes)
                .map { add(.write(variable: name, region: $0), needs(array, $0)) }
        }
    }

    /// Boxes of whole chunks (of `chunk`), merged along the axes from the last outward while a
    /// box stays under `taskBytes`.
    package static func chunkAlignedBoxes(shape: [Int], chunk: [Int], itemSize: Int, taskBytes: Int) -> [Box] {
        guard !shape.isEmpty else { return [[]] }
        if shape.contains(0) { return [] }
        var per = zip(shape, chunk).map { n, c in Swift.max(1, Swift.min(c, n)) }
        // Merge whole chunks while the box fits the task size.
        for a in shape.indices.reversed() {
            while per[a] < shape[a] {
                let next = Swift.min(shape[a], per[a] * 2)
                if per.enumerated().reduce(itemSize, { $0 * ($1.offset == a ? next : $1.element) }) > taskBytes { break }
                per[a] = next
            }
        }
        var boxes: [Box] = [[]]
        for a in shape.indices {
            let ranges = stride(from: 0, to: shape[a], by: per[a]).map { $0..<Swift.min($0 + per[a], shape[a]) }
            boxes = boxes.flatMap { b in ranges.map { b + [$0] } }
        }
        return boxes
    }
}

/// What a task gives, as bytes that travel between processes: partial states, a block of
/// values with where it lands, or a write's acknowledgement. A small header (JSON) and the
/// arrays as NumPy `.npy` payloads, so Python reads the blocks too.
package enum TaskPayload: Sendable {
    case states(PartialStates)
    /// A block of values; `stage` says which stage's output it is (nil: the result's).
    case values(stage: Int?, box: Box, array: AnyNDArray)
    case written(bytes: Int)

    static let magic = Array("GYRETASK1\n".utf8)

    package func encoded() throws -> [UInt8] {
        var header: JSONObject = [:]
        var arrays: [AnyNDArray] = []
        func check(_ a: AnyNDArray) throws -> AnyNDArray {
            if case .cftime = a { throw GyreComputeError(.invalidArgument, "values in a non-standard calendar cannot travel between tasks yet") }
            return a
        }
        switch self {
        case .states(let s):
            header["kind"] = .string("states")
            var groups: [JSON] = []
            for g in s.groups.keys.sorted() {
                let parts = try s.groups[g]!.parts.map(check)
                groups.append(.object(["group": .int(Int64(g)), "parts": .int(Int64(parts.count))]))
                arrays += parts
            }
            header["groups"] = .array(groups)
        case .values(let stage, let box, let array):
            arrays = [try check(array)]
            header["kind"] = .string("values")
            if let stage { header["stage"] = .int(Int64(stage)) }
            header["box"] = GraphTask.boxJSON(box)
        case .written(let n):
            header["kind"] = .string("written")
            header["bytes"] = .int(Int64(n))
        }
        header["arrays"] = .int(Int64(arrays.count))
        var out = Self.magic
        out.reserveCapacity(Self.magic.count + 256 + arrays.reduce(0) { $0 + 128 + $1.count * Swift.max($1.dtype.itemSize, 1) })
        out += JSON.object(header).serialized(indent: 0, sortedKeys: true).filter { $0 != 0x0A }
        out.append(0x0A)
        for a in arrays { try a.appendNPY(to: &out) }
        return out
    }

    package init(decoding bytes: [UInt8], what: String) throws {
        self = try bytes.withUnsafeBytes { try TaskPayload(decoding: $0, what: what) }
    }

    /// Reads a payload in place (the arrays are copied out once).
    package init(decoding bytes: UnsafeRawBufferPointer, what: String) throws {
        func fail(_ why: String) -> GyreComputeError { GyreComputeError(.invalidArgument, "\(what): \(why)") }
        guard bytes.count > Self.magic.count, Array(bytes.prefix(Self.magic.count)) == Self.magic else { throw fail("not a Gyre task result") }
        guard let nl = bytes[Self.magic.count...].firstIndex(of: 0x0A) else { throw fail("truncated header") }
        let header: JSON
        do { header = try JSON.parse(Array(bytes[Self.magic.count..<nl]), source: what) } catch { throw fail("bad header: \(error)") }
        var at = nl + 1
        /// The next `.npy` array.
        func take() throws -> AnyNDArray {
            guard at < bytes.count else { throw fail("truncated payload") }
            let (array, length) = try AnyNDArray.npyPrefix(UnsafeRawBufferPointer(rebasing: bytes[at...]), source: what)
            at += length
            return array
        }
        switch header["kind"]?.string {
        case "states":
            var groups: [Int: ReductionState] = [:]
            for g in header["groups"]?.array ?? [] {
                guard let k = g["group"]?.integer, let n = g["parts"]?.integer, n >= 0, n < 16 else { throw fail("bad group entry") }
                groups[Int(k)] = ReductionState(parts: try (0..<n).map { _ in try take() })
            }
            self = .states(PartialStates(groups: groups))
        case "values":
            let box = try GraphTask.box(header["box"], what)
            let array = try take()
            guard array.shape == box.map(\.count) else { throw fail("a block of shape \(array.shape) for box \(box)") }
            self = .values(stage: header["stage"]?.integer.map(Int.init), box: box, array: array)
        case "written":
            guard case .int(let n)? = header["bytes"] else { throw fail("bad header") }
            self = .written(bytes: Int(n))
        default:
            throw fail("unknown result kind")
        }
    }
}

/// Runs a graph's tasks in this process, at most `threads` at once, each when its inputs are
/// done, dropping a result once every task that takes it has run. Tasks start in graph order
/// (inputs always come first), so the oldest unfinished task is always running.
public struct LocalGraphExecutor: TaskGraphExecutor {
    public let threads: Int
    let runTask: @Sendable (ProgramReference, GraphTask, [[UInt8]]) async throws -> [UInt8]

    public init(threads: Int, runTask: @escaping @Sendable (ProgramReference, GraphTask, [[UInt8]]) async throws -> [UInt8]) {
        self.threads = Swift.max(1, threads)
        self.runTask = runTask
    }

    public func run(_ graph: TaskGraph, progress: ComputeProgress?) async throws -> [Int: [UInt8]] {
        let tasks = graph.tasks
        for (i, t) in tasks.enumerated() {
            guard t.id == i, t.inputs.allSatisfy({ $0 >= 0 && $0 < i }) else {
                throw GyreComputeError(.invalidArgument, "task graph: task \(i) is out of order or takes a later task")
            }
        }
        var consumers = [Int](repeating: 0, count: tasks.count)
        for t in tasks { for i in t.inputs { consumers[i] += 1 } }
        let store = PayloadStore(consumers: consumers, keep: Set(graph.results))
        progress?.addTasks(tasks.count)
        let run = runTask, program = graph.program
        try await Bounded.forEach(count: tasks.count, limit: threads, { k in
            let t = tasks[k]
            do {
                var inputs: [[UInt8]] = []
                for i in t.inputs { inputs.append(try await store.take(i)) }
                let out = try await run(program, t, inputs)
                await store.put(k, out)
            } catch {
                await store.abort()
                throw error
            }
            progress?.taskDone(bytesRead: 0)
            return 0
        }, consume: { _, _ in })
        return await store.kept
    }
}

/// Results waiting for the tasks that take them.
actor PayloadStore {
    var payloads: [Int: [UInt8]] = [:]
    var waiting: [Int: [CheckedContinuation<[UInt8], any Error>]] = [:]
    var consumers: [Int]
    let keep: Set<Int>
    var kept: [Int: [UInt8]] = [:]
    var aborted = false

    init(consumers: [Int], keep: Set<Int>) {
        self.consumers = consumers
        self.keep = keep
    }

    func put(_ id: Int, _ p: [UInt8]) {
        if keep.contains(id) { kept[id] = p }
        for c in waiting.removeValue(forKey: id) ?? [] { c.resume(returning: p); release(id) }
        if consumers[id] > 0 { payloads[id] = p }
    }

    func release(_ id: Int) {
        consumers[id] -= 1
        if consumers[id] <= 0 { payloads[id] = nil }
    }

    /// A task failed: what waits for results gives up.
    func abort() {
        aborted = true
        for (_, cs) in waiting { for c in cs { c.resume(throwing: CancellationError()) } }
        waiting = [:]
    }

    func take(_ id: Int) async throws -> [UInt8] {
        if let p = payloads[id] { release(id); return p }
        if aborted { throw CancellationError() }
        return try await withCheckedThrowingContinuation { waiting[id, default: []].append($0) }
    }
}
