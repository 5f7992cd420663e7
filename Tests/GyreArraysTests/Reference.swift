import GyreCore
import GyreArrays

/// Naive reference implementations the kernels are checked against: plain loops over
/// multi-indices, no SIMD, no blocking.
enum Ref {
    /// All multi-indices of a shape in C order.
    static func indices(_ shape: [Int]) -> [[Int]] {
        if shape.contains(0) { return [] }
        var out: [[Int]] = []
        var idx = [Int](repeating: 0, count: shape.count)
        while true {
            out.append(idx)
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < shape[d] { break }
                idx[d] = 0
                d -= 1
            }
            if d < 0 { return out }
        }
    }

    /// Groups the elements of `a` (read by multi-index) by their output position when reducing
    /// over `axes`; returns the output shape and the values of each group.
    static func groups(_ a: NDArray<Double>, axes: Set<Int>) -> ([Int], [[Double]]) {
        let outShape = a.shape.indices.filter { !axes.contains($0) }.map { a.shape[$0] }
        let outIdx = indices(outShape)
        var map: [[Int]: Int] = [:]
        for (i, o) in outIdx.enumerated() { map[o] = i }
        var groups = [[Double]](repeating: [], count: Swift.max(outIdx.count, outShape.isEmpty ? 1 : 0))
        for idx in indices(a.shape) {
            let key = idx.indices.filter { !axes.contains($0) }.map { idx[$0] }
            groups[map[key]!].append(a[index: idx])
        }
        return (outShape, groups)
    }

    static func sum(_ xs: [Double], skipna: Bool) -> Double {
        xs.reduce(0) { skipna && $1.isNaN ? $0 : $0 + $1 }
    }
    static func mean(_ xs: [Double], skipna: Bool) -> Double {
        let v = skipna ? xs.filter { !$0.isNaN } : xs
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }
    static func variance(_ xs: [Double], ddof: Int, skipna: Bool) -> Double {
        let v = skipna ? xs.filter { !$0.isNaN } : xs
        if v.contains(where: { $0.isNaN }) { return .nan }
        let m = v.reduce(0, +) / Double(v.count)
        let ss = v.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        if skipna { return v.count - ddof <= 0 ? .nan : ss / Double(v.count - ddof) }
        return ss / Double(Swift.max(v.count - ddof, 0))
    }
    static func minimum(_ xs: [Double], skipna: Bool) -> Double {
        if !skipna && xs.contains(where: { $0.isNaN }) { return .nan }
        let v = xs.filter { !$0.isNaN }
        return v.min() ?? .nan
    }
    static func maximum(_ xs: [Double], skipna: Bool) -> Double {
        if !skipna && xs.contains(where: { $0.isNaN }) { return .nan }
        let v = xs.filter { !$0.isNaN }
        return v.max() ?? .nan
    }
    static func median(_ xs: [Double], skipna: Bool) -> Double {
        if !skipna && xs.contains(where: { $0.isNaN }) { return .nan }
        let v = xs.filter { !$0.isNaN }.sorted()
        if v.isEmpty { return .nan }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
    static func quantile(_ xs: [Double], _ q: Double, skipna: Bool) -> Double {
        if !skipna && xs.contains(where: { $0.isNaN }) { return .nan }
        let v = xs.filter { !$0.isNaN }.sorted()
        if v.isEmpty { return .nan }
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, v.count - 1)
        let t = pos - Double(lo)
        return v[lo] + (v[hi] - v[lo]) * t
    }
}

/// Deterministic pseudo-random numbers for property tests.
/// The tests' generator: Gyre's SplitMix64 from `seed` (offset so existing seeds keep their cases).
struct TestRNG: RandomNumberGenerator {
    var base: SplitMix64
    init(_ seed: UInt64) { base = SplitMix64(seed: seed &+ 0x1234_5678) }
    mutating func next() -> UInt64 { base.next() }
}

/// Relative closeness for floating results (NaN equal to NaN).
func close(_ a: Double, _ b: Double, rtol: Double = 1e-9, atol: Double = 1e-12) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= atol + rtol * Swift.max(Swift.abs(a), Swift.abs(b))
}
