import GyreCore
/// Reductions on type-erased arrays, with NumPy's result types and xarray's NaN handling:
/// `skipna` nil means "skip NaNs for float data" (xarray's default); integers have no NaNs.
extension AnyNDArray {
    private func axisSet(_ axes: [Int]?) throws -> Set<Int> {
        guard let axes else { return Set(0..<ndim) }
        var s = Set<Int>()
        for a in axes {
            let n = a < 0 ? a + ndim : a
            guard n >= 0 && n < ndim else {
                throw GyreArraysError(.invalidAxis, "axis \(a) is out of range for an array of \(ndim) dimensions")
            }
            guard s.insert(n).inserted else { throw GyreArraysError(.invalidAxis, "axis \(a) is repeated") }
        }
        return s
    }

    private struct FloatReduce: _NumericVisitor {
        let axes: Set<Int>
        let fkind: _FloatReduceKind
        let ikind: _IntReduceKind?
        let skipna: Bool
        func visitInteger<T: IntegerElement>(_ a: NDArray<T>) throws -> AnyNDArray {
            guard let ikind else {
                // count over integers: every element counts.
                let plan = _ReducePlan(shape: a.shape, axes: axes)
                return .int64(NDArray(repeating: Int64(plan.reducedCount), shape: plan.outShape))
            }
            return try _reduceInt(a, axes: axes, kind: ikind)
        }
        func visitFloat<T: FloatElement>(_ a: NDArray<T>) throws -> AnyNDArray {
            try _reduceFloat(a, axes: axes, kind: fkind, skipna: skipna)
        }
    }

    private func reduce(_ name: String, axes: [Int]?, _ f: _FloatReduceKind, _ i: _IntReduceKind?, skipna: Bool?) throws -> AnyNDArray {
        let set = try axisSet(axes)
        switch self {
        case .datetime64(let t, let u), .timedelta64(let t, let u):
            // min/max/mean over times: computed on the ticks with NaT as NaN.
            let isDT: Bool
            if case .datetime64 = self { isDT = true } else { isDT = false }
            switch f {
            case .min, .max, .mean, .sum:
                if isDT, case .sum = f { break }
                let asFloat = t.map { $0 == Int64.min ? Double.nan : Double($0) }
                let r = try _reduceFloat(asFloat, axes: set, kind: f, skipna: skipna ?? true)
                guard case .float64(let d) = r else { fatalError() }
                let ticks = d.map { $0.isNaN ? Int64.min : Int64($0.rounded(.towardZero)) }
                return isDT ? .datetime64(ticks, u) : .timedelta64(ticks, u)
            case .count:
                let r = try _reduceFloat(t.map { $0 == Int64.min ? Double.nan : 0 }, axes: set, kind: .count, skipna: true)
                return r
            default: break
            }
            throw GyreArraysError(.unsupportedDType, "\(name) is not defined for \(dtype)")
        case .cftime(let t, let c):
            switch f {
            case .min, .max:
                let asFloat = t.map { $0 == Int64.min ? Double.nan : Double($0) }
                guard case .float64(let d) = try _reduceFloat(asFloat, axes: set, kind: f, skipna: skipna ?? true) else { fatalError() }
                return .cftime(d.map { $0.isNaN ? Int64.min : Int64($0) }, c)
            case .count:
                return try _reduceFloat(t.map { $0 == Int64.min ? Double.nan : 0 }, axes: set, kind: .count, skipna: true)
            default:
                throw GyreArraysError(.unsupportedDType, "\(name) is not defined for \(dtype)")
            }
        case .string(let s, _):
            if case .count = f {
                let plan = _ReducePlan(shape: s.shape, axes: set)
                return .int64(NDArray(repeating: Int64(plan.reducedCount), shape: plan.outShape))
            }
            throw GyreArraysError(.unsupportedDType, "\(name) is not defined for \(dtype)")
        default:
            let r = try _numeric(FloatReduce(axes: set, fkind: f, ikind: i, skipna: skipna ?? true), name)
            if case .bool = self, case .uint64 = r {  // NumPy sums booleans as int64
                return try r.astype(.int64)
            }
            if case .bool = self, case .uint8 = r { return try r.astype(.bool) }
            return r
        }
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("sum", axes: axes, .sum, .sum, skipna: skipna)
    }
    /// Arithmetic mean over `axes`; integers give float64.
    public func mean(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("mean", axes: axes, .mean, .mean, skipna: skipna)
    }
    /// Variance with `ddof` delta degrees of freedom.
    public func variance(axes: [Int]? = nil, ddof: Int = 0, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("var", axes: axes, .variance(ddof: ddof), .variance(ddof: ddof), skipna: skipna)
    }
    /// Standard deviation with `ddof` delta degrees of freedom.
    public func std(axes: [Int]? = nil, ddof: Int = 0, skipna: Bool? = nil) throws -> AnyNDArray {
        try variance(axes: axes, ddof: ddof, skipna: skipna).unary(.sqrt)
    }
    public func min(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("min", axes: axes, .min, .min, skipna: skipna)
    }
    public func max(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("max", axes: axes, .max, .max, skipna: skipna)
    }
    public func prod(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try reduce("prod", axes: axes, .prod, .prod, skipna: skipna)
    }
    /// Number of non-missing values (NaN and NaT are missing).
    public func count(axes: [Int]? = nil) throws -> AnyNDArray {
        try reduce("count", axes: axes, .count, nil, skipna: true)
    }

    /// Whether any element is true (non-zero; NaN counts as true).
    public func any(axes: [Int]? = nil) throws -> AnyNDArray {
        let set = try axisSet(axes)
        let t = try truthValues().map { $0 ? UInt8(1) : 0 }
        guard case .uint8(let r) = try _reduceInt(t, axes: set, kind: .max) as AnyNDArray? ?? .uint8(t) else { fatalError() }
        return .bool(r.map { $0 != 0 })
    }

    /// Whether every element is true (non-zero; NaN counts as true).
    public func all(axes: [Int]? = nil) throws -> AnyNDArray {
        let set = try axisSet(axes)
        let t = try truthValues().map { $0 ? UInt8(1) : 0 }
        let plan = _ReducePlan(shape: t.shape, axes: set)
        if plan.reducedCount == 0 { return .bool(NDArray(repeating: true, shape: plan.outShape)) }
        guard case .uint8(let r) = try _reduceInt(t, axes: set, kind: .min) else { fatalError() }
        return .bool(r.map { $0 != 0 })
    }

    private func argExtreme(axis: Int?, max isMax: Bool, skipna: Bool?) throws -> AnyNDArray {
        var src = self
        var ax = axis ?? 0
        if axis == nil { src = try contiguous().reshaped([count]); ax = 0 }
        guard ax >= -src.ndim && ax < src.ndim else {
            throw GyreArraysError(.invalidAxis, "axis \(ax) is out of range for an array of \(src.ndim) dimensions")
        }
        let a = ax < 0 ? ax + src.ndim : ax
        let skip = skipna ?? true
        switch src {
        case .float32(let x): return .int64(try _argExtreme(x, axis: a, max: isMax, skipna: skip, isNaN: { $0.isNaN }))
        case .float64(let x): return .int64(try _argExtreme(x, axis: a, max: isMax, skipna: skip, isNaN: { $0.isNaN }))
        case .datetime64(let x, _), .timedelta64(let x, _), .cftime(let x, _):
            return .int64(try _argExtreme(x, axis: a, max: isMax, skipna: skip, isNaN: { $0 == Int64.min }))
        case .string(let x, _): return .int64(try _argExtreme(x, axis: a, max: isMax, skipna: false, isNaN: { _ in false }))
        case .bool(let x): return .int64(try _argExtreme(x.map { $0 ? UInt8(1) : 0 }, axis: a, max: isMax, skipna: false, isNaN: { _ in false }))
        default:
            let x = try src.numericArray(Int64.self)
            if case .uint64(let u) = src {
                return .int64(try _argExtreme(u, axis: a, max: isMax, skipna: false, isNaN: { _ in false }))
            }
            return .int64(try _argExtreme(x, axis: a, max: isMax, skipna: false, isNaN: { _ in false }))
        }
    }

    /// Position of the minimum along `axis` (of the flattened array when nil).
    public func argmin(axis: Int? = nil, skipna: Bool? = nil) throws -> AnyNDArray { try argExtreme(axis: axis, max: false, skipna: skipna) }
    /// Position of the maximum along `axis` (of the flattened array when nil).
    public func argmax(axis: Int? = nil, skipna: Bool? = nil) throws -> AnyNDArray { try argExtreme(axis: axis, max: true, skipna: skipna) }

    private func floatForOrderStats() throws -> AnyNDArray {
        switch self {
        case .float32, .float64: return self
        case .datetime64, .timedelta64, .cftime, .string:
            throw GyreArraysError(.unsupportedDType, "median and quantile are not defined for \(dtype)")
        default: return try astype(.float64)
        }
    }

    /// Median over `axes` (the mean of the two middle values for even counts, like NumPy).
    public func median(axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        let set = try axisSet(axes)
        switch try floatForOrderStats() {
        case .float32(let a): return .float32(try _quantileFloat(a, axes: set, q: [], median: true, skipna: skipna ?? true)[0])
        case .float64(let a): return .float64(try _quantileFloat(a, axes: set, q: [], median: true, skipna: skipna ?? true)[0])
        default: fatalError()
        }
    }

    /// Linear-interpolation quantile `q` (in [0, 1]) over `axes`, as NumPy's default method.
    public func quantile(_ q: Double, axes: [Int]? = nil, skipna: Bool? = nil) throws -> AnyNDArray {
        try quantiles([q], axes: axes, skipna: skipna)[0]
    }

    /// Several quantiles at once (one selection pass per row), one result per `q`.
    public func quantiles(_ qs: [Double], axes: [Int]? = nil, skipna: Bool? = nil) throws -> [AnyNDArray] {
        for q in qs where !(q >= 0 && q <= 1) {
            throw GyreArraysError(.invalidArgument, "quantiles must be in the range [0, 1], got \(q)")
        }
        let set = try axisSet(axes)
        switch try floatForOrderStats() {
        case .float32(let a): return try _quantileFloat(a, axes: set, q: qs, median: false, skipna: skipna ?? true).map { .float32($0) }
        case .float64(let a): return try _quantileFloat(a, axes: set, q: qs, median: false, skipna: skipna ?? true).map { .float64($0) }
        default: fatalError()
        }
    }
}
