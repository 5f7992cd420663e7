import GyreCore
import GyreArrays

/// An array that is not in memory yet: a chunked source seen through a selection, a
/// transposition and a chain of elementwise maps (for example CF decoding). Building one reads
/// nothing; `read(_:)` reads a region of it, fetching only the source chunks the region touches.
///
/// This is the linear core of the compute engine's expression tree: selections compose and
/// reach the source as one region, so a selection over one year of a 30-year store reads only
/// that year's chunks.
public struct LazyArray: Sendable {
    /// How one source axis is selected.
    enum Pick: Sendable, Hashable {
        /// `count` positions from `start` by `step` (any sign); the axis is kept.
        case range(start: Int, count: Int, step: Int)
        /// One position; the axis is dropped.
        case point(Int)
        /// Positions in order, possibly repeated; the axis is kept.
        case list([Int])

        var count: Int? {
            switch self {
            case .range(_, let n, _): return n
            case .point: return nil
            case .list(let p): return p.count
            }
        }
        func position(_ i: Int) -> Int {
            switch self {
            case .range(let s, _, let st): return s + i * st
            case .point(let p): return p
            case .list(let p): return p[i]
            }
        }
    }

    /// An elementwise function applied after reading (it must commute with selection).
    public struct Map: Sendable {
        public let name: String
        public let dtype: DType
        public let apply: @Sendable (AnyNDArray) throws -> AnyNDArray
        public init(name: String, dtype: DType, apply: @escaping @Sendable (AnyNDArray) throws -> AnyNDArray) {
            self.name = name
            self.dtype = dtype
            self.apply = apply
        }
    }

    /// What is read: the source the array was made from, or what the planner put in its place.
    public internal(set) var source: any ChunkedArraySource
    var picks: [Pick]
    /// Output axis j is kept source axis `kept[order[j]]`.
    var order: [Int]
    var maps: [Map] = []

    public init(_ source: any ChunkedArraySource) {
        self.source = source
        picks = source.shape.map { .range(start: 0, count: $0, step: 1) }
        order = Array(source.shape.indices)
    }

    /// Whether the array is its source exactly: nothing selected away, no axes reordered, no
    /// maps (so the source's stored chunks hold its values as they are).
    package var isWholeSource: Bool {
        maps.isEmpty && order == Array(order.indices)
            && zip(picks, source.shape).allSatisfy { p, n in if case .range(0, n, 1) = p { return true } else { return false } }
    }

    /// Source axes that survive the selection, in source order.
    var kept: [Int] { picks.indices.filter { picks[$0].count != nil } }
    /// Source axis of each output axis.
    var outputAxes: [Int] { let k = kept; return order.map { k[$0] } }

    public var shape: [Int] { outputAxes.map { picks[$0].count! } }
    public var ndim: Int { order.count }
    public var count: Int { shape.reduce(1, *) }
    public var dtype: DType { maps.last?.dtype ?? source.dtype }
    public var sourceName: String { source.sourceName }
    /// Bytes the whole array takes once read.
    public var nbytes: Int { count * Swift.max(dtype.itemSize, 1) }

    /// The chunk grid seen through the selection: for each output axis, runs of consecutive
    /// positions that fall in the same source chunk.
    public var chunks: [[Int]] {
        let srcChunks = source.chunks
        return outputAxes.map { a in
            let pick = picks[a]
            let n = pick.count!
            guard n > 0 else { return [0] }
            var bounds: [Int] = []
            var acc = 0
            for c in srcChunks[a] { acc += c; bounds.append(acc) }
            func chunkOf(_ p: Int) -> Int {
                var lo = 0, hi = bounds.count - 1
                while lo < hi { let mid = (lo + hi) / 2; if bounds[mid] > p { hi = mid } else { lo = mid + 1 } }
                return lo
            }
            if case .range(_, _, 1) = pick {
                // Fast path: the boundaries inside the range.
                let s = pick.position(0), e = s + n
                var out: [Int] = []
                var at = s
                while at < e { let b = Swift.min(bounds[chunkOf(at)], e); out.append(b - at); at = b }
                return out
            }
            var out: [Int] = []
            var current = chunkOf(pick.position(0)), run = 0
            for i in 0..<n {
                let c = chunkOf(pick.position(i))
                if c != current { out.append(run); run = 0; current = c }
                run += 1
            }
            out.append(run)
            return out
        }
    }

    func fail(_ why: String) -> GyreComputeError { GyreComputeError(.invalidArgument, "\(source.sourceName): \(why)") }

    // MARK: Building (reads nothing)

    /// Basic indexing, one item per leading output axis (missing trailing items mean `:`).
    public func index(_ items: [AxisIndex]) throws -> LazyArray {
        guard items.count <= ndim else { throw fail("\(items.count) indices for an array of \(ndim) dimensions") }
        var out = self
        let axes = outputAxes
        var dropped = Set<Int>()
        for (j, item) in items.enumerated() {
            let a = axes[j]
            let n = picks[a].count!
            switch item {
            case .at(let i):
                guard (-n..<n).contains(i) else { throw fail("index \(i) is out of bounds for an axis of size \(n)") }
                out.picks[a] = .point(picks[a].position(i < 0 ? i + n : i))
                dropped.insert(j)
            case .slice(let s):
                let r: (start: Int, count: Int, step: Int)
                do { r = try s.resolve(extent: n) } catch { throw fail("\(error)") }
                switch picks[a] {
                case .range(let st, _, let step):
                    out.picks[a] = .range(start: st + r.start * step, count: r.count, step: step * r.step)
                case .list(let p):
                    out.picks[a] = .list((0..<r.count).map { p[r.start + $0 * r.step] })
                case .point: break
                }
            case .newAxis:
                throw fail("new axes are not supported on lazy arrays; load() first")
            }
        }
        out.reorder(keepingOutputAxes: axes.indices.filter { !dropped.contains($0) }, previous: axes)
        return out
    }

    /// Positions along one output axis, in order (repeats allowed).
    public func take(_ positions: [Int], axis: Int) throws -> LazyArray {
        guard (0..<ndim).contains(axis) else { throw fail("axis \(axis) is out of range for \(ndim) dimensions") }
        let a = outputAxes[axis]
        let n = picks[a].count!
        var out = self
        out.picks[a] = .list(try positions.map { i in
            guard (-n..<n).contains(i) else { throw fail("index \(i) is out of bounds for an axis of size \(n)") }
            return picks[a].position(i < 0 ? i + n : i)
        })
        return out
    }

    /// Rebuilds `order` after some output axes were dropped: the survivors keep their order.
    mutating func reorder(keepingOutputAxes keep: [Int], previous axes: [Int]) {
        let newKept = kept
        order = keep.map { j in newKept.firstIndex(of: axes[j])! }
    }

    /// Permutes the output axes.
    public func transposed(_ perm: [Int]) throws -> LazyArray {
        guard perm.count == ndim, Set(perm) == Set(0..<ndim) else { throw fail("\(perm) is not a permutation of \(ndim) axes") }
        var out = self
        out.order = perm.map { order[$0] }
        return out
    }

    /// Applies an elementwise function to whatever is read.
    public func map(_ m: Map) -> LazyArray {
        var out = self
        out.maps.append(m)
        return out
    }

    // MARK: Reading

    /// Reads a region given in this array's coordinates (one slice per output axis; nil reads
    /// everything). Only the source chunks the region touches are fetched.
    public func read(_ region: [Slice]? = nil) async throws -> AnyNDArray {
        let plan = try sourcePlan(region)
        return try finish(try await source.read(region: plan.slices), plan)
    }

    /// Reads a region as consecutive slabs along its first axis, in order (see
    /// `ChunkedArraySource.readSlabs`): slab by slab from the source when the first axis is the
    /// source's first axis read with step 1, else the whole region as one slab.
    public func readSlabs(_ region: [Slice]? = nil, maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        let plan = try sourcePlan(region)
        guard order == Array(order.indices), ndim > 0, case .range(_, _, 1) = plan.picks[0] else {
            return try await body(try finish(try await source.read(region: plan.slices), plan), 0)
        }
        try await source.readSlabs(region: plan.slices, maxBytes: maxBytes) { data, offset in
            try await body(try finish(data, plan), offset)
        }
    }

    /// How a region of this array is read from the source: one region of positive steps over
    /// the bounding range of each source axis, then positions taken, points dropped, reversed
    /// axes flipped.
    struct SourcePlan {
        var picks: [Pick]
        var slices: [Slice] = []
        var after: [AxisIndex] = []
        var takes: [(axis: Int, positions: [Int])] = []
    }

    func sourcePlan(_ region: [Slice]?) throws -> SourcePlan {
        let axes = outputAxes
        let region = region ?? Array(repeating: Slice.all, count: axes.count)
        guard region.count == axes.count else { throw fail("\(region.count) slices for an array of \(axes.count) dimensions") }
        // The region composed with the selection, per source axis.
        var sub = picks
        for (j, a) in axes.enumerated() {
            let n = picks[a].count!
            let r: (start: Int, count: Int, step: Int)
            do { r = try region[j].resolve(extent: n) } catch { throw fail("\(error)") }
            switch picks[a] {
            case .range(let st, _, let step): sub[a] = .range(start: st + r.start * step, count: r.count, step: step * r.step)
            case .list(let p): sub[a] = .list((0..<r.count).map { p[r.start + $0 * r.step] })
            case .point: break
            }
        }
        var plan = SourcePlan(picks: sub)
        for (a, p) in sub.enumerated() {
            switch p {
            case .point(let i):
                plan.slices.append(Slice(i, i + 1)); plan.after.append(.at(0))
            case .range(let s, let n, let step):
                if n == 0 { plan.slices.append(Slice(0, 0)); plan.after.append(.slice(.all)); continue }
                if step > 0 {
                    plan.slices.append(Slice(s, s + (n - 1) * step + 1, step: step)); plan.after.append(.slice(.all))
                } else {
                    let lo = s + (n - 1) * step
                    plan.slices.append(Slice(lo, s + 1, step: -step)); plan.after.append(.slice(Slice(nil, nil, step: -1)))
                }
            case .list(let ps):
                guard let lo = ps.min(), let hi = ps.max() else { plan.slices.append(Slice(0, 0)); plan.after.append(.slice(.all)); continue }
                plan.slices.append(Slice(lo, hi + 1)); plan.after.append(.slice(.all))
                plan.takes.append((a, ps.map { $0 - lo }))
            }
        }
        return plan
    }

    /// What the source returned for `plan`, as this array's values.
    func finish(_ read: AnyNDArray, _ plan: SourcePlan) throws -> AnyNDArray {
        var data = read
        do {
            for t in plan.takes { data = try data.take(t.positions, axis: t.axis) }
            data = try data.index(plan.after)
            if order != Array(order.indices) { data = try data.transposed(order) }
            for m in maps { data = try m.apply(data) }
        } catch let e as GyreComputeError { throw e } catch {
            throw GyreComputeError(.invalidArgument, "\(source.sourceName): \(error)", cause: error)
        }
        return data
    }
}

// MARK: Planner support

/// A block of an array: one half-open range per dimension.
public typealias Box = [Range<Int>]

extension LazyArray {
    /// The whole array as a box.
    public var fullBox: Box { shape.map { 0..<$0 } }

    /// The bounding box, in source coordinates, of what reading `box` of this array reads.
    func sourceBox(_ box: Box) -> Box {
        var out: Box = source.shape.map { 0..<$0 }
        for (a, p) in picks.enumerated() {
            if case .point(let i) = p { out[a] = i..<(i + 1) }
        }
        for (j, a) in outputAxes.enumerated() {
            let r = box[j]
            guard !r.isEmpty else { out[a] = 0..<0; continue }
            let p0 = picks[a].position(r.lowerBound), p1 = picks[a].position(r.upperBound - 1)
            switch picks[a] {
            case .list(let ps):
                let sub = ps[r]
                out[a] = sub.min()!..<(sub.max()! + 1)
            default:
                out[a] = Swift.min(p0, p1)..<(Swift.max(p0, p1) + 1)
            }
        }
        return out
    }

    /// The same selection and maps over another source of the same shape and dtype (the
    /// planner swaps a node for its computed values this way).
    func withSource(_ s: any ChunkedArraySource) -> LazyArray {
        var out = self
        out.source = s
        return out
    }

    /// Bytes of the elementwise maps' intermediates per element read (each map makes a new array).
    var mapBytesPerElement: Int { maps.reduce(0) { $0 + Swift.max($1.dtype.itemSize, 1) } }

    /// The maps' names, in order.
    var mapNames: [String] { maps.map(\.name) }
}

extension Box {
    /// The box as slices.
    var slices: [Slice] { map { Slice($0.lowerBound, $0.upperBound) } }
    var elementCount: Int { reduce(1) { $0 * $1.count } }
}
