import GyreCore
/// Block-wise partial states for streaming reductions: the "create" step of a reduction that
/// runs create / append / combine / finalize over the chunks of an array too large to hold.
extension AnyNDArray {
    /// Float64 sums over `axes` and how many values went into each (NaNs excluded when
    /// `skipna`; with NaNs kept, a NaN makes the sum NaN and still counts). Integers and
    /// booleans are summed as float64.
    public func partialSums(axes: [Int], skipna: Bool) throws -> (sums: NDArray<Double>, counts: NDArray<Double>) {
        var acc = PartialSumAccumulator(axes: axes, skipna: skipna)
        try acc.add(self)
        return acc.result()!
    }
}

/// Float64 sums and counts over the same axes of block after block, added in place into one
/// pair of buffers: the "append" step of a streaming sum, mean or count whose blocks are slabs
/// of one task's input (the partial states of a time mean are the size of a map, so building
/// and adding a fresh pair per slab costs more than the slab's sum).
public struct PartialSumAccumulator: Sendable {
    public let axes: [Int]
    public let skipna: Bool
    /// The shape of the sums, once the first block has come.
    public private(set) var outShape: [Int]?
    private var sums: [Double] = []
    private var nans: [Double] = []
    private var folded = 0.0

    public init(axes: [Int], skipna: Bool) {
        self.axes = axes
        self.skipna = skipna
    }

    /// Adds a block's sums over `axes` (its kept dimensions must match earlier blocks').
    public mutating func add(_ block: AnyNDArray) throws {
        var set = Set<Int>()
        for a in axes {
            guard (0..<block.ndim).contains(a), set.insert(a).inserted else {
                throw GyreArraysError(.invalidAxis, "axis \(a) is out of range or repeated for an array of \(block.ndim) dimensions")
            }
        }
        switch block {
        case .float32(let a): try add(a, set)
        case .float64(let a): try add(a, set)
        default:
            guard block.dtype.isNumeric || block.dtype == .bool else {
                throw GyreArraysError(.unsupportedDType, "sums are not defined for \(block.dtype)")
            }
            guard case .float64(let a) = try block.astype(.float64) else { fatalError("astype(float64) returned another dtype") }
            try add(a, set)
        }
    }

    private mutating func add<T: FloatElement>(_ a: NDArray<T>, _ axes: Set<Int>) throws {
        let c = a.contiguous()
        let plan = _ReducePlan(shape: c.shape, axes: axes)
        if let outShape {
            guard outShape == plan.outShape else {
                throw GyreArraysError(.shapeMismatch, "a block reducing to \(plan.outShape) cannot be added to sums of shape \(outShape)")
            }
        } else {
            outShape = plan.outShape
            sums = [Double](repeating: 0, count: plan.outCount)
            nans = [Double](repeating: 0, count: skipna ? plan.outCount : 0)   // NaN counts only where NaNs are skipped
        }
        let skip = skipna
        withExtendedLifetime(c) {
            sums.withUnsafeMutableBufferPointer { S in
                nans.withUnsafeMutableBufferPointer { N in
                    _addSumsAndNaNCounts(UnsafePointer(c._storage.base + c.offset), plan, skipna: skip,
                                         sums: S.baseAddress!, nans: skip ? N.baseAddress! : nil)
                }
            }
        }
        folded += Double(plan.reducedCount)
    }

    /// The sums and how many values went into each (NaNs excluded when `skipna`), as
    /// `AnyNDArray.partialSums` gives them; nil before any block.
    public func result() -> (sums: NDArray<Double>, counts: NDArray<Double>)? {
        guard let outShape else { return nil }
        let n = folded
        let counts = skipna ? nans.map { n - $0 } : [Double](repeating: n, count: sums.count)
        return (try! NDArray(shape: outShape, sums), try! NDArray(shape: outShape, counts))
    }
}

extension AnyNDArray {
    /// Σ w·x and Σ w over `axes`, over the elements where x is not NaN, in float64, without
    /// forming w·x: the partial state of a weighted sum or mean (xarray's `weighted`). `weights`
    /// has this array's rank with extent 1 where it broadcasts (cos-latitude weights are
    /// (1, nlat, 1) against (time, lat, lon)).
    public func weightedPartialSums(_ weights: AnyNDArray, axes: [Int]) throws -> (weighted: NDArray<Double>, weights: NDArray<Double>) {
        var set = Set<Int>()
        for a in axes {
            guard (0..<ndim).contains(a), set.insert(a).inserted else {
                throw GyreArraysError(.invalidAxis, "axis \(a) is out of range or repeated for an array of \(ndim) dimensions")
            }
        }
        guard weights.ndim == ndim, zip(weights.shape, shape).allSatisfy({ $0 == 1 || $0 == $1 }) else {
            throw GyreArraysError(.shapeMismatch, "weights of shape \(weights.shape) do not broadcast against \(shape)")
        }
        guard case .float64(let w) = try weights.astype(.float64) else { fatalError("astype(float64) returned another dtype") }
        switch self {
        case .float32(let a): return Self._weightedSums(a, w, set)
        case .float64(let a): return Self._weightedSums(a, w, set)
        default:
            guard dtype.isNumeric || dtype == .bool else { throw GyreArraysError(.unsupportedDType, "weighted sums are not defined for \(dtype)") }
            guard case .float64(let a) = try astype(.float64) else { fatalError("astype(float64) returned another dtype") }
            return Self._weightedSums(a, w, set)
        }
    }

    static func _weightedSums<T: FloatElement>(_ a: NDArray<T>, _ w: NDArray<Double>, _ axes: Set<Int>) -> (weighted: NDArray<Double>, weights: NDArray<Double>) {
        let x = a.contiguous(), wc = w.contiguous()
        let shape = x.shape, n = shape.count
        let outShape = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        let outCount = outShape.reduce(1, *)
        var s1 = [Double](repeating: 0, count: outCount), s2 = [Double](repeating: 0, count: outCount)
        guard x.count > 0 else { return (try! NDArray(shape: outShape, s1), try! NDArray(shape: outShape, s2)) }
        // Element strides of the weights (0 where they broadcast) and of the output (0 on reduced axes).
        var wStrides = [Int](repeating: 0, count: n), oStrides = [Int](repeating: 0, count: n)
        var ws = 1, os = 1
        for d in stride(from: n - 1, through: 0, by: -1) {
            if wc.shape[d] != 1 { wStrides[d] = ws; ws *= wc.shape[d] }
            if !axes.contains(d) { oStrides[d] = os; os *= shape[d] }
        }
        let L = n == 0 ? 1 : shape[n - 1]
        let wL = n == 0 ? 0 : wStrides[n - 1], oL = n == 0 ? 0 : oStrides[n - 1]
        let rows = x.count / L
        withExtendedLifetime((x, wc)) {
            let xp = UnsafePointer(x._storage.base + x.offset), wp = UnsafePointer(wc._storage.base + wc.offset)
            s1.withUnsafeMutableBufferPointer { S1 in
                s2.withUnsafeMutableBufferPointer { S2 in
                    let p1 = S1.baseAddress!, p2 = S2.baseAddress!
                    var index = [Int](repeating: 0, count: Swift.max(n - 1, 0))
                    var wo = 0, oo = 0
                    for r in 0..<rows {
                        let row = xp + r * L
                        if wL == 0 && oL == 0 {
                            // One weight and one output for the whole row: a NaN-skipping row sum.
                            let (sum, nans) = T._sumRowSkipNaN(row, L)
                            p1[oo] += wp[wo] * sum
                            p2[oo] += wp[wo] * Double(L - nans)
                        } else {
                            for j in 0..<L {
                                let v = row[j]
                                if v.isNaN { continue }
                                let wv = wp[wo + j * wL]
                                p1[oo + j * oL] += wv * Double(v)
                                p2[oo + j * oL] += wv
                            }
                        }
                        // Next row: advance the counter over the leading axes.
                        var d = n - 2
                        while d >= 0 {
                            index[d] += 1
                            wo += wStrides[d]; oo += oStrides[d]
                            if index[d] < shape[d] { break }
                            wo -= wStrides[d] * shape[d]; oo -= oStrides[d] * shape[d]
                            index[d] = 0
                            d -= 1
                        }
                    }
                }
            }
        }
        return (try! NDArray(shape: outShape, s1), try! NDArray(shape: outShape, s2))
    }
}
