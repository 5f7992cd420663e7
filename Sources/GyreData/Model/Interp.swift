import GyreCore
import GyreArrays
import GyreCompute
import OrderedCollections

extension DataArray {
    /// Linear interpolation along one dimension at new labels of its coordinate (xarray's
    /// `interp(dim=values)` with `method="linear"`): numbers, or dates for a time coordinate.
    /// Between neighbours x₀ ≤ x < x₁, y₀ + (y₁ − y₀)(x − x₀)/(x₁ − x₀), as SciPy's `interp1d`
    /// computes it (so a NaN neighbour gives NaN); outside the coordinate's range, NaN. One
    /// label given as a scalar (`scalar: true`) drops the dimension and keeps the label as a
    /// scalar coordinate. Lazy arrays stay lazy: only the neighbouring positions are read.
    public func interp(_ dim: String, at labels: [Scalar], scalar: Bool = false) throws -> DataArray {
        let what = "interp(\(dim))"
        guard dims.contains(dim) else { throw GyreDataError(.missingDimension, "\(what): dimension '\(dim)' not found; the array has dimensions \(dims)") }
        guard let c = coords[dim], c.dims == [dim] else { throw GyreDataError(.missingVariable, "\(what): dimension '\(dim)' has no coordinate to interpolate along") }
        guard dtype.isNumeric else { throw GyreDataError(.invalidArgument, "\(what): cannot interpolate \(dtype) values") }
        guard !scalar || labels.count == 1 else { throw GyreDataError(.invalidArgument, "\(what): a scalar target is one label") }
        let index = try Index(dim: dim, values: try c.data)
        guard index.count >= 2 else { throw GyreDataError(.invalidArgument, "\(what): needs at least 2 points along '\(dim)', not \(index.count)") }
        // Keys as doubles; times relative to the earliest, as xarray does before interpolating.
        var xs: [Double] = [], origin: Int64 = 0
        switch index.keys {
        case .numbers(let d): xs = d
        case .ticks(let t): origin = t.min() ?? 0; xs = t.map { Double($0 &- origin) }
        case .strings: throw GyreDataError(.invalidArgument, "\(what): cannot interpolate along the string coordinate '\(dim)'")
        }
        guard !xs.contains(where: \.isNaN) else { throw GyreDataError(.invalidArgument, "\(what): coordinate '\(dim)' has NaN values") }
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        let sorted = order.map { xs[$0] }
        guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw GyreDataError(.invalidArgument, "\(what): coordinate '\(dim)' has repeated values")
        }
        var targets: [Double] = [], targetTicks: [Int64] = []
        for l in labels {
            switch try index.key(for: l) {
            case .number(let d): targets.append(d)
            case .tick(let t): targetTicks.append(t); targets.append(Double(t &- origin))
            case .string: throw GyreDataError(.invalidArgument, "\(what): label \(l) is not a number or a time")
            }
        }
        let plan = InterpPlan(sorted: sorted, order: order, targets: targets)
        var v = try plan.linear(variable, along: dim, what: what)
        v.attrs = variable.attrs
        // The new coordinate: the labels in the coordinate's own type.
        let newValues: AnyNDArray
        switch try c.data {
        case .datetime64(_, let u): newValues = .datetime64(NDArray(targetTicks), u)
        case .timedelta64(_, let u): newValues = .timedelta64(NDArray(targetTicks), u)
        case .cftime(_, let cal): newValues = .cftime(NDArray(targetTicks), cal)
        default: newValues = .float64(NDArray(targets))
        }
        var coord = try Variable([dim], newValues)
        coord.attrs = c.attrs
        if scalar {
            v = try v.isel([dim: .at(0)])
            coord = try coord.isel([dim: .at(0)])
        }
        // Other coordinates along the dimension go as in xarray: numbers and times are
        // interpolated, strings, booleans and calendar dates take the nearest position's
        // value (ties to the larger label; dropped for a scalar target), the rest are dropped.
        var newCoords: OrderedDictionary<String, Variable> = [:]
        for (k, cv) in coords where k != dim {
            guard cv.dims.contains(dim) else { newCoords[k] = cv; continue }
            var out: Variable
            switch cv.dtype {
            case .bool, .string, .cftime:
                if scalar { continue }
                out = try context("\(what): coordinate '\(k)'") { try cv.isel([dim: .positions(plan.nearest)]) }
            case .datetime64, .timedelta64:
                out = try plan.linearTicks(cv, along: dim, what: "\(what): coordinate '\(k)'")
            default:
                guard cv.dtype.isNumeric else { continue }
                out = try plan.linear(cv, along: dim, what: "\(what): coordinate '\(k)'")
            }
            out.attrs = cv.attrs
            newCoords[k] = scalar ? try out.isel([dim: .at(0)]) : out
        }
        newCoords[dim] = coord
        return try DataArray(v, coords: newCoords, name: name)
    }

    /// The array without the positions along `dim` where any (`how: "any"`) or every
    /// (`"all"`) value is NaN (xarray's `dropna`). Which positions go depends on the values, so
    /// lazy data runs one streaming count first; the result stays lazy.
    public func dropna(_ dim: String, how: String = "any") async throws -> DataArray {
        guard how == "any" || how == "all" else { throw GyreDataError(.invalidArgument, "dropna: how must be \"any\" or \"all\", not \"\(how)\"") }
        guard dims.contains(dim) else { throw GyreDataError(.missingDimension, "dropna: dimension '\(dim)' not found; the array has dimensions \(dims)") }
        let others = dims.filter { $0 != dim }
        let per = others.reduce(1) { $0 * (sizes[$1] ?? 1) }
        let counts = try await DataArray(try variable.reduce(.count, dims: others), coords: [:], name: nil).load()
        let keep = try counts.data.doubles()!.enumerated().compactMap { i, k -> Int? in
            (how == "any" ? Int(k) == per : k > 0) ? i : nil
        }
        return try isel([dim: .positions(keep)])
    }
}

/// Where each target of `interp` falls on a coordinate: its neighbours `lo` and `hi` (positions
/// in the coordinate's own order), the weight of `hi` (NaN outside the coordinate's range), and
/// the nearest position (ties to the larger label, as pandas' `get_indexer(method="nearest")`).
struct InterpPlan {
    var lo: [Int] = [], hi: [Int] = [], weights: [Double] = [], nearest: [Int] = []

    /// `sorted` ascending, `order[i]` the position of `sorted[i]`; at least 2 points.
    init(sorted: [Double], order: [Int], targets: [Double]) {
        let n = sorted.count
        for t in targets {
            // hi is where the target would be inserted (left side), kept inside 1...n-1.
            var a = 0, b = n
            while a < b { let m = (a + b) / 2; if sorted[m] < t { a = m + 1 } else { b = m } }
            let h = Swift.min(Swift.max(a, 1), n - 1)
            let inside = t >= sorted[0] && t <= sorted[n - 1]
            lo.append(order[h - 1]); hi.append(order[h])
            weights.append(inside ? (t - sorted[h - 1]) / (sorted[h] - sorted[h - 1]) : .nan)
            nearest.append(t - sorted[h - 1] < sorted[h] - t ? order[h - 1] : order[h])
        }
    }

    /// y₀ + (y₁ − y₀)·w along `dim`, in float64 for integers; lazy values stay lazy.
    func linear(_ v: Variable, along dim: String, what: String) throws -> Variable {
        try context(what) {
            var x = v
            if !(v.dtype == .float32 || v.dtype == .float64) { x = try v.map("astype") { try $0.astype(.float64) } }
            let y0 = try x.isel([dim: .positions(lo)]), y1 = try x.isel([dim: .positions(hi)])
            let w = try Variable([dim], .float64(NDArray(weights)))
            return try y0.binary(.add, try y1.binary(.subtract, y0).binary(.multiply, w))
        }
    }

    /// Times and durations interpolated as float64 ticks and rounded half to even, NaT where
    /// either neighbour is NaT or the target is outside the range (xarray's handling).
    func linearTicks(_ v: Variable, along dim: String, what: String) throws -> Variable {
        try context(what) {
            let axis = v.dims.firstIndex(of: dim)!
            let data = try v.data
            let ticks: NDArray<Int64>, rebuild: (NDArray<Int64>) -> AnyNDArray
            switch data {
            case .datetime64(let t, let u): ticks = t; rebuild = { .datetime64($0, u) }
            case .timedelta64(let t, let u): ticks = t; rebuild = { .timedelta64($0, u) }
            default: throw GyreDataError(.invalidArgument, "expected times, found \(data.dtype)")
            }
            let a = try ticks.take(lo, axis: axis), b = try ticks.take(hi, axis: axis)
            let shape = a.shape, m = axis + 1 < shape.count ? shape[(axis + 1)...].reduce(1, *) : 1
            let av = a.elements, bv = b.elements
            var out = [Int64](repeating: Scalar.natTicks, count: av.count)
            for i in av.indices {
                let w = weights[(i / m) % shape[axis]]
                guard av[i] != Scalar.natTicks, bv[i] != Scalar.natTicks, !w.isNaN else { continue }
                let y = Double(av[i]) + (Double(bv[i]) - Double(av[i])) * w
                out[i] = Int64(exactly: y.rounded(.toNearestOrEven)) ?? Scalar.natTicks
            }
            return try Variable(v.dims, rebuild(try NDArray(shape: shape, out)))
        }
    }
}
