import GyreCore
import GyreArrays

/// Reduction kinds, as xarray names them.
public enum Reduction: Sendable, Hashable, CustomStringConvertible {
    case sum, mean, min, max, prod, std(ddof: Int), variance(ddof: Int), count, any, all, median
    case quantile(Double)
    /// The first / last value that is not NaN (groupby's `first` / `last`).
    case first, last

    public var description: String {
        switch self {
        case .sum: return "sum"
        case .mean: return "mean"
        case .min: return "min"
        case .max: return "max"
        case .prod: return "prod"
        case .std(let d): return d == 0 ? "std" : "std(ddof=\(d))"
        case .variance(let d): return d == 0 ? "var" : "var(ddof=\(d))"
        case .count: return "count"
        case .any: return "any"
        case .all: return "all"
        case .median: return "median"
        case .quantile(let q): return "quantile(\(q))"
        case .first: return "first"
        case .last: return "last"
        }
    }

    /// Whether partial results over pieces of the input combine into the whole result; median
    /// and quantile must see every value along the reduced dimensions at once.
    public var isDecomposable: Bool {
        switch self {
        case .median, .quantile: return false
        default: return true
        }
    }

    /// The eager reduction of a whole array over `axes`.
    public func apply(_ a: AnyNDArray, axes: [Int], skipna: Bool?) throws -> AnyNDArray {
        switch self {
        case .sum: return try a.sum(axes: axes, skipna: skipna)
        case .mean: return try a.mean(axes: axes, skipna: skipna)
        case .min: return try a.min(axes: axes, skipna: skipna)
        case .max: return try a.max(axes: axes, skipna: skipna)
        case .prod: return try a.prod(axes: axes, skipna: skipna)
        case .std(let ddof): return try a.std(axes: axes, ddof: ddof, skipna: skipna)
        case .variance(let ddof): return try a.variance(axes: axes, ddof: ddof, skipna: skipna)
        case .count: return try a.count(axes: axes)
        case .any: return try a.any(axes: axes)
        case .all: return try a.all(axes: axes)
        case .median: return try a.median(axes: axes, skipna: skipna)
        case .quantile(let q): return try a.quantile(q, axes: axes, skipna: skipna)
        case .first, .last: return try Reduction.firstOrLast(a, axes: axes, last: self == .last, skipna: skipna ?? a.dtype.isFloatingPoint)
        }
    }

    /// The first (or last) value along one axis that is not NaN (NaN where all are); with
    /// `skipna` false, simply the first (last) value.
    static func firstOrLast(_ a: AnyNDArray, axes: [Int], last: Bool, skipna: Bool) throws -> AnyNDArray {
        guard axes.count == 1, let ax = axes.first else {
            throw GyreComputeError(.invalidArgument, "first/last reduce exactly one dimension, not \(axes.count)")
        }
        let n = a.shape[ax]
        guard n > 0 else { throw GyreComputeError(.invalidArgument, "first/last of an empty dimension") }
        let order = last ? Array((0..<n).reversed()) : Array(0..<n)
        var result = try a.index(Array(repeating: AxisIndex.slice(.all), count: ax) + [.at(order[0])])
        guard skipna, a.dtype.isFloatingPoint else { return result.contiguous() }
        result = result.contiguous()
        for i in order.dropFirst() {
            let missing = result.isnan()
            guard missing.withUnsafeBufferPointer({ $0.contains(true) }) else { break }
            let next = try a.index(Array(repeating: AxisIndex.slice(.all), count: ax) + [.at(i)])
            result = try AnyNDArray.where(.bool(missing), next, result)
        }
        return result
    }

    /// The dtype the reduction gives for input of `dtype` (what the eager kernels return).
    public func resultDType(for dtype: DType) throws -> DType {
        let one = try AnyNDArray.zeros([1], dtype: dtype)
        return try apply(one, axes: [0], skipna: nil).dtype
    }
}

/// A reduction's running state for one block of outputs: create it from a block of input,
/// combine two states, finalize into the result (datashader's create / append / combine /
/// finalize; appending is creating from the next block and combining).
struct ReductionState: Sendable {
    /// The state's arrays, all of the output block's shape. Sum and mean of floats keep float64
    /// sums and counts; variance keeps counts, means and squared deviations (Chan et al.);
    /// count keeps counts; the others keep the reduction's own value.
    var parts: [AnyNDArray]
}

/// The create / combine / finalize functions of one decomposable reduction.
struct Reducer: Sendable {
    let kind: Reduction
    let skipna: Bool
    let dtype: DType
    var resultDType: DType

    init(_ kind: Reduction, skipna: Bool?, dtype: DType) throws {
        self.kind = kind
        self.dtype = dtype
        self.skipna = skipna ?? (dtype.isFloatingPoint)
        self.resultDType = try kind.resultDType(for: dtype)
    }

    /// Sums and means of numbers stream as float64 sums and counts.
    var usesMoments: Bool {
        switch kind {
        case .mean, .count: return dtype.isNumeric
        case .sum: return dtype.isFloatingPoint
        case .std, .variance: return dtype.isNumeric
        default: return false
        }
    }

    /// Sums, means and counts of numbers: states that slabs add into in place
    /// (`PartialSumAccumulator`), NaNs skipped as `createMoments` skips them.
    func accumulator(axes: [Int]) -> PartialSumAccumulator? {
        guard usesMoments else { return nil }
        switch kind {
        case .sum, .mean, .count: return PartialSumAccumulator(axes: axes, skipna: skipna || kind == .count)
        default: return nil
        }
    }

    /// The state of everything added to `acc` (nil when nothing was).
    func state(of acc: PartialSumAccumulator) -> ReductionState? {
        acc.result().map { ReductionState(parts: [.float64($0.sums), .float64($0.counts)]) }
    }

    func create(_ block: AnyNDArray, axes: [Int]) throws -> ReductionState {
        if usesMoments { return try createMoments(block, axes: axes) }
        switch kind {
        case .count:
            return ReductionState(parts: [try block.count(axes: axes)])
        default:
            return ReductionState(parts: [try kind.apply(block, axes: axes, skipna: skipna)])
        }
    }

    func createMoments(_ block: AnyNDArray, axes: [Int]) throws -> ReductionState {
        switch kind {
        case .sum, .mean, .count:
            // count counts the values that are not NaN whatever skipna says.
            let (s, c) = try block.partialSums(axes: axes, skipna: skipna || kind == .count)
            return ReductionState(parts: [.float64(s), .float64(c)])
        default:
            let b = try block.astype(.float64)
            let (s, c) = try b.partialSums(axes: axes, skipna: skipna)
            let mean = try AnyNDArray.float64(s).binary(.divide, .float64(c))
            let v = try b.variance(axes: axes, ddof: 0, skipna: skipna)
            // m2 = variance * count (0 where nothing was counted).
            var m2 = try v.binary(.multiply, .float64(c))
            m2 = try AnyNDArray.where(try AnyNDArray.float64(c).compare(.greater, .double(0)), m2, try AnyNDArray.zeros(m2.shape, dtype: .float64))
            return ReductionState(parts: [.float64(c), mean, m2])
        }
    }

    /// Combines two states of the same output block; `a` holds earlier input than `b`.
    func combine(_ a: ReductionState, _ b: ReductionState) throws -> ReductionState {
        if usesMoments {
            if a.parts.count == 2 {
                return ReductionState(parts: [try a.parts[0].binary(.add, b.parts[0]), try a.parts[1].binary(.add, b.parts[1])])
            }
            guard case .float64(let na) = a.parts[0], case .float64(let ma) = a.parts[1], case .float64(let qa) = a.parts[2],
                  case .float64(let nb) = b.parts[0], case .float64(let mb) = b.parts[1], case .float64(let qb) = b.parts[2] else {
                throw GyreComputeError(.invalidArgument, "internal: variance state is not float64")
            }
            let m = na.count
            var n = [Double](repeating: 0, count: m), mean = n, q = n
            let NA = na.contiguous().scalarsDouble, MA = ma.contiguous().scalarsDouble, QA = qa.contiguous().scalarsDouble
            let NB = nb.contiguous().scalarsDouble, MB = mb.contiguous().scalarsDouble, QB = qb.contiguous().scalarsDouble
            for i in 0..<m {
                let x = NA[i], y = NB[i], t = x + y
                n[i] = t
                if x == 0 { mean[i] = MB[i]; q[i] = QB[i]; continue }
                if y == 0 { mean[i] = MA[i]; q[i] = QA[i]; continue }
                let d = MB[i] - MA[i]
                mean[i] = MA[i] + d * y / t
                q[i] = QA[i] + QB[i] + d * d * x * y / t
            }
            let shape = na.shape
            return ReductionState(parts: [.float64(try NDArray(shape: shape, n)), .float64(try NDArray(shape: shape, mean)),
                                          .float64(try NDArray(shape: shape, q))])
        }
        switch kind {
        case .first, .last:
            // The earlier block's value unless it is missing (first); the later one's unless
            // it is missing (last).
            let (keep, other) = kind == .first ? (a.parts[0], b.parts[0]) : (b.parts[0], a.parts[0])
            guard skipna, keep.dtype.isFloatingPoint else { return ReductionState(parts: [keep]) }
            return ReductionState(parts: [try AnyNDArray.where(.bool(keep.isnan()), other, keep)])
        default:
            if kind == .count { return ReductionState(parts: [try a.parts[0].binary(.add, b.parts[0])]) }
            let both = try AnyNDArray.stack([a.parts[0], b.parts[0]], axis: 0)
            return ReductionState(parts: [try kind.apply(both, axes: [0], skipna: skipna)])
        }
    }

    func finalize(_ s: ReductionState) throws -> AnyNDArray {
        guard usesMoments else { return s.parts[0] }
        switch kind {
        case .sum:
            return try s.parts[0].astype(resultDType)
        case .mean:
            let m = try s.parts[0].binary(.divide, s.parts[1])  // 0/0 gives NaN where nothing counted
            return try m.astype(resultDType)
        case .count:
            return try s.parts[1].astype(.int64)
        case .std(let ddof), .variance(let ddof):
            guard case .float64(let n) = s.parts[0], case .float64(let q) = s.parts[2] else {
                throw GyreComputeError(.invalidArgument, "internal: variance state is not float64")
            }
            let N = n.contiguous().scalarsDouble, Q = q.contiguous().scalarsDouble
            var out = [Double](repeating: 0, count: N.count)
            let isStd: Bool
            if case .std = kind { isStd = true } else { isStd = false }
            for i in out.indices {
                let k = N[i] - Double(ddof)
                let v = k <= 0 ? Double.nan : Q[i] / k
                out[i] = isStd ? v.squareRoot() : v
            }
            return try AnyNDArray.float64(try NDArray(shape: n.shape, out)).astype(resultDType)
        default:
            return s.parts[0]
        }
    }
}

extension NDArray where Element == Double {
    /// The elements of a contiguous array, in order.
    var scalarsDouble: [Double] { withUnsafeBufferPointer { Array($0) } }
}
