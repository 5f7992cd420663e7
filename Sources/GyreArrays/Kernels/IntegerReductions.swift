import GyreCore
@usableFromInline
enum _IntReduceKind { case sum, mean, variance(ddof: Int), min, max, prod }

/// Reduces an integer array over `axes` with NumPy's result types: sum/prod wrap in 64 bits
/// (int64, or uint64 for unsigned input), mean/var accumulate in float64, min/max keep the type.
@inlinable
func _reduceInt<T: IntegerElement>(_ a: NDArray<T>, axes: Set<Int>, kind: _IntReduceKind) throws -> AnyNDArray {
    let c = a.contiguous()
    let plan = _ReducePlan(shape: c.shape, axes: axes)
    let m = plan.outCount, L = plan.rowLength, n = plan.reducedCount
    let base = UnsafePointer(c._storage.base + c.offset)
    return try withExtendedLifetime(c) { () throws -> AnyNDArray in
        switch kind {
        case .sum, .prod:
            let isSum: Bool
            if case .sum = kind { isSum = true } else { isSum = false }
            var acc = [Int64](repeating: isSum ? 0 : 1, count: m)
            acc.withUnsafeMutableBufferPointer { A in
                let o0 = A.baseAddress!
                plan.forEachRow { inOff, outOff in
                    let p = base + inOff
                    if plan.innerReduced {
                        var s: Int64 = isSum ? 0 : 1
                        if isSum { for j in 0..<L { s &+= Int64(truncatingIfNeeded: p[j]) } }
                        else { for j in 0..<L { s &*= Int64(truncatingIfNeeded: p[j]) } }
                        o0[outOff] = isSum ? o0[outOff] &+ s : o0[outOff] &* s
                    } else {
                        let o = o0 + outOff
                        if isSum { for j in 0..<L { o[j] &+= Int64(truncatingIfNeeded: p[j]) } }
                        else { for j in 0..<L { o[j] &*= Int64(truncatingIfNeeded: p[j]) } }
                    }
                }
            }
            if T.isSigned { return .int64(try NDArray(shape: plan.outShape, acc)) }
            return .uint64(try NDArray(shape: plan.outShape, acc.map { UInt64(bitPattern: $0) }))
        case .mean, .variance:
            var sums = [Double](repeating: 0, count: m)
            sums.withUnsafeMutableBufferPointer { S in
                let o0 = S.baseAddress!
                plan.forEachRow { inOff, outOff in
                    let p = base + inOff
                    if plan.innerReduced {
                        var s = 0.0
                        for j in 0..<L { s += Double(p[j]) }
                        o0[outOff] += s
                    } else {
                        let o = o0 + outOff
                        for j in 0..<L { o[j] += Double(p[j]) }
                    }
                }
            }
            let means = sums.map { $0 / Double(n) }
            if case .variance(let ddof) = kind {
                var ssd = [Double](repeating: 0, count: m)
                ssd.withUnsafeMutableBufferPointer { S in
                    let o0 = S.baseAddress!
                    plan.forEachRow { inOff, outOff in
                        let p = base + inOff
                        if plan.innerReduced {
                            let mu = means[outOff]
                            var s = 0.0
                            for j in 0..<L { let d = Double(p[j]) - mu; s += d * d }
                            o0[outOff] += s
                        } else {
                            for j in 0..<L { let d = Double(p[j]) - means[outOff + j]; o0[outOff + j] += d * d }
                        }
                    }
                }
                return .float64(try NDArray(shape: plan.outShape, ssd.map { $0 / Double(Swift.max(n - ddof, 0)) }))
            }
            return .float64(try NDArray(shape: plan.outShape, means))
        case .min, .max:
            let isMax: Bool
            if case .max = kind { isMax = true } else { isMax = false }
            if n == 0 && m > 0 {
                throw GyreArraysError(.emptyReduction, "zero-size array to reduction operation \(isMax ? "maximum" : "minimum") which has no identity")
            }
            var acc = [T](repeating: isMax ? T.min : T.max, count: m)
            acc.withUnsafeMutableBufferPointer { A in
                let o0 = A.baseAddress!
                plan.forEachRow { inOff, outOff in
                    let p = base + inOff
                    if plan.innerReduced {
                        var r = o0[outOff]
                        if isMax { for j in 0..<L { r = Swift.max(r, p[j]) } } else { for j in 0..<L { r = Swift.min(r, p[j]) } }
                        o0[outOff] = r
                    } else {
                        let o = o0 + outOff
                        if isMax { for j in 0..<L { o[j] = Swift.max(o[j], p[j]) } } else { for j in 0..<L { o[j] = Swift.min(o[j], p[j]) } }
                    }
                }
            }
            return AnyNDArray(try NDArray(shape: plan.outShape, acc))
        }
    }
}
