import GyreArrays

/// The partial state of one reduction over one canvas: `create` it, `append` chunks of points,
/// `combine` states of other chunks (in row order where order matters: `first`, `last`), and
/// `finalize` into an ``Aggregate``. The planes hold what datashader keeps: counts (uint32),
/// values (sum, min, max, first, last), flags (any), and for mean, std and var the sum, count
/// and sum of squared deviations (`m2`, updated as datashader's `m2` reduction does) of each
/// pixel side by side in `moments` (one cache line a point instead of two or three).
public struct AggregateState: Sendable {
    public let canvas: Canvas
    public let reduction: RenderReduction
    /// Whether a value column feeds `count` / `any` (then NaN values are not counted).
    public let usesValues: Bool
    var counts: [UInt32] = []
    /// mean: (sum, count) per pixel; std and var: (sum, count, m2) per pixel.
    var moments: [Double] = []
    var values: [Double] = []
    var flags: [Bool] = []

    /// A state with no points yet.
    public init(canvas: Canvas, reduction: RenderReduction, usesValues: Bool? = nil) {
        self.canvas = canvas
        self.reduction = reduction
        self.usesValues = usesValues ?? reduction.requiresValues
        let n = canvas.width * canvas.height
        switch reduction {
        case .count: counts = [UInt32](repeating: 0, count: n)
        case .any: flags = [Bool](repeating: false, count: n)
        case .sum, .min, .max, .first, .last: values = [Double](repeating: .nan, count: n)
        case .mean: moments = [Double](repeating: 0, count: 2 * n)
        case .std, .variance: moments = [Double](repeating: 0, count: 3 * n)
        case .countCategories(let k): counts = [UInt32](repeating: 0, count: n * Swift.max(k, 0))
        }
    }

    /// Adds `points` to the state (their columns as the reduction needs them).
    public mutating func append(_ points: Points) throws {
        if usesValues && points.values == nil {
            throw GyreRenderError(.invalidArgument, "reduction \(reduction) needs a value column")
        }
        if case .countCategories(let k) = reduction {
            guard let cats = points.categories else {
                throw GyreRenderError(.invalidArgument, "count_cat needs a category column")
            }
            guard cats.names.count <= k else {
                throw GyreRenderError(.invalidData, "the category column has \(cats.names.count) categories but the aggregate was made for \(k)")
            }
        }
        switch (points.x, points.y) {
        case (.float64(let x), .float64(let y)): appendXY(x, y, points)
        case (.float32(let x), .float32(let y)): appendXY(x, y, points)
        case (.float64(let x), .float32(let y)): appendXY(x, NDArray(points.y.doubles), points)
        case (.float32(let x), .float64(let y)): appendXY(NDArray(points.x.doubles), y, points)
        }
    }

    @inline(never)
    mutating func appendXY<X: BinaryFloatingPoint>(_ x: NDArray<X>, _ y: NDArray<X>, _ points: Points) {
        let b = Binner(canvas)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                if case .countCategories(let k) = reduction, let codes = points.categories?.codes {
                    codes.withUnsafeBufferPointer { cs in
                        counts.withUnsafeMutableBufferPointer { c in AggregateLoops.countCategories(b, xs, ys, cs, k, c) }
                    }
                    return
                }
                switch (usesValues ? points.values : nil) {
                case .none: appendPlain(b, xs, ys)
                case .float64(let v)?: v.withUnsafeBufferPointer { vs in appendValues(b, xs, ys, vs) }
                case .float32(let v)?: v.withUnsafeBufferPointer { vs in appendValues(b, xs, ys, vs) }
                }
            }
        }
    }

    @inline(__always)
    mutating func appendPlain<X: BinaryFloatingPoint>(_ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>) {
        switch reduction {
        case .any: flags.withUnsafeMutableBufferPointer { f in AggregateLoops.eachPoint(b, xs, ys, f) { a, p in a[p] = true } }
        default: counts.withUnsafeMutableBufferPointer { c in AggregateLoops.eachPoint(b, xs, ys, c) { a, p in a[p] &+= 1 } }
        }
    }

    /// The update rules of datashader's `_append` functions, for the reductions with values.
    @inline(__always)
    mutating func appendValues<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>
    ) {
        switch reduction {
        case .count: counts.withUnsafeMutableBufferPointer { c in AggregateLoops.eachValue(b, xs, ys, vs, c) { a, p, _ in a[p] &+= 1 } }
        case .any: flags.withUnsafeMutableBufferPointer { f in AggregateLoops.eachValue(b, xs, ys, vs, f) { a, p, _ in a[p] = true } }
        case .sum:
            values.withUnsafeMutableBufferPointer { m in AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in a[p] = a[p].isNaN ? v : a[p] + v } }
        case .min:
            values.withUnsafeMutableBufferPointer { m in AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in if a[p].isNaN || v < a[p] { a[p] = v } } }
        case .max:
            values.withUnsafeMutableBufferPointer { m in AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in if a[p].isNaN || v > a[p] { a[p] = v } } }
        case .first: values.withUnsafeMutableBufferPointer { m in AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in if a[p].isNaN { a[p] = v } } }
        case .last: values.withUnsafeMutableBufferPointer { m in AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in a[p] = v } }
        case .mean:
            // (sum, count) side by side per pixel.
            moments.withUnsafeMutableBufferPointer { m in
                AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in
                    a[2 &* p] += v
                    a[2 &* p &+ 1] += 1
                }
            }
        case .std, .variance:
            // (sum, count, m2) per pixel; m2 is updated before sum and count, with their old
            // values (datashader's `m2._append`).
            moments.withUnsafeMutableBufferPointer { m in
                AggregateLoops.eachValue(b, xs, ys, vs, m) { a, p, v in
                    let k = 3 &* p
                    let sum = a[k], n = a[k + 1]
                    if n > 0 { a[k + 2] += (v - sum / n) * (v - (sum + v) / (n + 1)) }
                    a[k] = sum + v
                    a[k + 1] = n + 1
                }
            }
        case .countCategories: break
        }
    }

    /// Folds `later` (the state of points that come after this state's) into this one.
    public mutating func combine(_ later: AggregateState) throws {
        guard later.canvas == canvas, later.reduction == reduction, later.usesValues == usesValues else {
            throw GyreRenderError(.invalidArgument, "cannot combine a \(later.reduction) state on \(later.canvas) with a \(reduction) state on \(canvas)")
        }
        switch reduction {
        case .count, .countCategories:
            for i in counts.indices { counts[i] &+= later.counts[i] }
        case .any:
            for i in flags.indices where later.flags[i] { flags[i] = true }
        case .sum:
            for i in values.indices {
                let a = values[i], b = later.values[i]
                values[i] = a.isNaN ? b : (b.isNaN ? a : a + b)
            }
        case .min:
            for i in values.indices {
                let a = values[i], b = later.values[i]
                if a.isNaN || b < a { values[i] = b }
            }
        case .max:
            for i in values.indices {
                let a = values[i], b = later.values[i]
                if a.isNaN || b > a { values[i] = b }
            }
        case .first:
            for i in values.indices where values[i].isNaN { values[i] = later.values[i] }
        case .last:
            for i in values.indices where !later.values[i].isNaN { values[i] = later.values[i] }
        case .mean:
            for i in moments.indices { moments[i] += later.moments[i] }
        case .std, .variance:
            // datashader's m2 combine: mu = (sa + sb) / (na + nb), m2 = sum of M + n (s/n - mu)^2
            // over the parts that hold values.
            for p in 0..<(moments.count / 3) {
                let k = 3 * p
                let na = moments[k + 1], nb = later.moments[k + 1]
                if nb == 0 { continue }
                if na == 0 {
                    moments[k] = later.moments[k]
                    moments[k + 1] = nb
                    moments[k + 2] = later.moments[k + 2]
                    continue
                }
                let sa = moments[k], sb = later.moments[k]
                let mu = (sa + sb) / (na + nb)
                let da = sa / na - mu, db = sb / nb - mu
                moments[k + 2] = (moments[k + 2] + na * da * da) + (later.moments[k + 2] + nb * db * db)
                moments[k] = sa + sb
                moments[k + 1] = na + nb
            }
        }
    }

    /// The aggregate: (height, width) — (height, width, categories) for `count_cat` — row 0 at
    /// the canvas's `ymin`; uint32 counts, bool for `any`, float64 (NaN where no value) otherwise.
    public func finalize(categories: [String]? = nil) -> Aggregate {
        let shape = [canvas.height, canvas.width]
        let data: AnyNDArray
        switch reduction {
        case .count: data = .uint32(try! NDArray(shape: shape, counts))
        case .countCategories(let k): data = .uint32(try! NDArray(shape: shape + [k], counts))
        case .any: data = .bool(try! NDArray(shape: shape, flags))
        case .sum, .min, .max, .first, .last: data = .float64(try! NDArray(shape: shape, values))
        case .mean:
            data = .float64(NDArray(shape: shape) { _ in 0 }.filled { i in moments[2 * i + 1] > 0 ? moments[2 * i] / moments[2 * i + 1] : .nan })
        case .variance:
            data = .float64(NDArray(shape: shape) { _ in 0 }.filled { i in moments[3 * i + 1] > 0 ? moments[3 * i + 2] / moments[3 * i + 1] : .nan })
        case .std:
            data = .float64(NDArray(shape: shape) { _ in 0 }.filled { i in
                moments[3 * i + 1] > 0 ? (moments[3 * i + 2] / moments[3 * i + 1]).squareRoot() : .nan
            })
        }
        var names = categories
        if case .countCategories(let k) = reduction, names == nil { names = (0..<k).map(String.init) }
        return Aggregate(canvas: canvas, reduction: reduction, data: data, categories: names)
    }
}

extension NDArray where Element == Double {
    /// The array with element `i` (C order) set to `f(i)`.
    func filled(_ f: (Int) -> Double) -> NDArray {
        var a = self
        a.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f(i) } }
        return a
    }
}

/// What aggregation gives: the canvas, the reduction and its pixels.
public struct Aggregate: Sendable {
    public let canvas: Canvas
    public let reduction: RenderReduction
    /// (height, width) or (height, width, categories); row 0 is the bottom of the canvas.
    public let data: AnyNDArray
    /// The category names of a `count_cat` aggregate, in code order.
    public let categories: [String]?

    public init(canvas: Canvas, reduction: RenderReduction, data: AnyNDArray, categories: [String]? = nil) {
        self.canvas = canvas
        self.reduction = reduction
        self.data = data
        self.categories = categories
    }
}
