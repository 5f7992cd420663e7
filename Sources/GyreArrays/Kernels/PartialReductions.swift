/// Block-wise partial states for streaming reductions: the "create" step of a reduction that
/// runs create / append / combine / finalize over the chunks of an array too large to hold.
extension AnyNDArray {
    /// Float64 sums over `axes` and how many values went into each (NaNs excluded when
    /// `skipna`; with NaNs kept, a NaN makes the sum NaN and still counts). Integers and
    /// booleans are summed as float64.
    public func partialSums(axes: [Int], skipna: Bool) throws -> (sums: NDArray<Double>, counts: NDArray<Double>) {
        var set = Set<Int>()
        for a in axes {
            guard (0..<ndim).contains(a), set.insert(a).inserted else {
                throw GyreArraysError(.invalidAxis, "axis \(a) is out of range or repeated for an array of \(ndim) dimensions")
            }
        }
        switch self {
        case .float32(let a): return Self._partialSums(a, set, skipna)
        case .float64(let a): return Self._partialSums(a, set, skipna)
        default:
            guard dtype.isNumeric || dtype == .bool else {
                throw GyreArraysError(.unsupportedDType, "sums are not defined for \(dtype)")
            }
            guard case .float64(let a) = try astype(.float64) else { fatalError("astype(float64) returned another dtype") }
            return Self._partialSums(a, set, skipna)
        }
    }

    static func _partialSums<T: FloatElement>(_ a: NDArray<T>, _ axes: Set<Int>, _ skipna: Bool) -> (sums: NDArray<Double>, counts: NDArray<Double>) {
        let c = a.contiguous()
        let plan = _ReducePlan(shape: c.shape, axes: axes)
        let (sums, nans) = withExtendedLifetime(c) {
            _sumsAndNaNCounts(UnsafePointer(c._storage.base + c.offset), plan, skipna: skipna, counts: skipna)
        }
        let n = Double(plan.reducedCount)
        let counts = skipna ? nans.map { n - $0 } : [Double](repeating: n, count: plan.outCount)
        return (try! NDArray(shape: plan.outShape, sums), try! NDArray(shape: plan.outShape, counts))
    }
}
