import GyreCore
// Floating-point reduction kernels. Inner rows run 16 lanes wide in the element type for short
// blocks and fold each block into float64 lanes with Neumaier compensation (the accuracy of
// pairwise summation at memory speed); outer rows accumulate into float64 output rows.

@inlinable @inline(__always)
func _load8<T: FloatElement>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

/// Sum of a row (NaNs propagate; NaN-skipping rows use `FloatElement._sumRowSkipNaN`).
@inlinable
func _rowSum<T: FloatElement>(_ p: UnsafePointer<T>, _ n: Int) -> (sum: Double, nans: Int) {
    var total = SIMD8<Double>(), comp = SIMD8<Double>()
    var i = 0
    while i + 16 <= n {
        let end = Swift.min(n, i + 512) & ~15
        var a0 = SIMD8<T>(), a1 = SIMD8<T>()
        while i < end {
            a0 += _load8(p + i)
            a1 += _load8(p + i + 8)
            i += 16
        }
        _neumaier(&total, &comp, SIMD8<Double>(a0) + SIMD8<Double>(a1))
    }
    var tail = 0.0
    while i < n { tail += Double(p[i]); i += 1 }
    return ((total + comp).sum() + tail, 0)
}

/// Sum of squared deviations from `mean` over a row (NaNs skipped when `skipna`).
@inlinable
func _rowSSD<T: FloatElement>(_ p: UnsafePointer<T>, _ n: Int, mean: Double, skipna: Bool) -> Double {
    var acc = SIMD8<Double>(), acc2 = SIMD8<Double>()
    let mv = SIMD8<Double>(repeating: mean)
    var i = 0
    while i + 8 <= n {
        let v = SIMD8<Double>(_load8(p + i))
        var d = v - mv
        if skipna { d = d.replacing(with: 0, where: v .!= v) }
        let sq = d * d
        if i & 8 == 0 { acc += sq } else { acc2 += sq }
        i += 8
    }
    var s = (acc + acc2).sum()
    while i < n {
        let v = Double(p[i])
        if !(skipna && v.isNaN) { s += (v - mean) * (v - mean) }
        i += 1
    }
    return s
}

/// What a float reduction computes.
@usableFromInline
enum _FloatReduceKind { case sum, mean, variance(ddof: Int), min, max, prod, count }

/// Float64 sums of a contiguous float array's elements per output of `plan` and, with `counts`,
/// the number of NaNs per output (skipped from the sums when `skipna`).
@inlinable
func _sumsAndNaNCounts<T: FloatElement>(_ base: UnsafePointer<T>, _ plan: _ReducePlan, skipna: Bool, counts needCounts: Bool) -> (sums: [Double], nans: [Double]) {
    var sums = [Double](repeating: 0, count: plan.outCount)
    var nanCounts = [Double](repeating: 0, count: needCounts ? plan.outCount : 1)
    sums.withUnsafeMutableBufferPointer { S in
        nanCounts.withUnsafeMutableBufferPointer { C in
            _addSumsAndNaNCounts(base, plan, skipna: skipna, sums: S.baseAddress!, nans: needCounts ? C.baseAddress! : nil)
        }
    }
    return (sums, nanCounts)
}

/// Adds the float64 sums of a contiguous float array's elements per output of `plan` to `s`
/// and, given `cnt`, the number of NaNs per output to it (NaNs skipped from the sums when
/// `skipna`): the in-place form that streaming reductions fold slab after slab into.
@inlinable
func _addSumsAndNaNCounts<T: FloatElement>(_ base: UnsafePointer<T>, _ plan: _ReducePlan, skipna: Bool,
                                           sums s: UnsafeMutablePointer<Double>, nans cnt: UnsafeMutablePointer<Double>?) {
    let L = plan.rowLength
    if plan.innerReduced {
        plan.forEachRow { inOff, outOff in
            let r = skipna ? T._sumRowSkipNaN(base + inOff, L) : _rowSum(base + inOff, L)
            s[outOff] += r.sum
            if let cnt { cnt[outOff] += Double(r.nans) }
        }
    } else {
        plan.forEachRowGroup { inOff, outOff, rows in
            _accumulateRows(s + outOff, skipna ? cnt.map { $0 + outOff } : nil, base + inOff, rows: rows, L: L)
        }
        if let cnt, !skipna {
            // Sums that kept NaNs: count them separately.
            plan.forEachRow { inOff, outOff in
                let p = base + inOff, k = cnt + outOff
                for j in 0..<L where p[j].isNaN { k[j] += 1 }
            }
        }
    }
}

/// Reduces a float array over `axes`. Result dtype follows NumPy: the input's float type
/// (count gives int64).
@inlinable
func _reduceFloat<T: FloatElement>(_ a: NDArray<T>, axes: Set<Int>, kind: _FloatReduceKind, skipna: Bool) throws -> AnyNDArray {
    let c = a.contiguous()
    let plan = _ReducePlan(shape: c.shape, axes: axes)
    let m = plan.outCount
    let L = plan.rowLength
    let base = UnsafePointer(c._storage.base + c.offset)
    return try withExtendedLifetime(c) { () throws -> AnyNDArray in
        switch kind {
        case .sum, .mean, .variance, .count:
            // NaN counts are only kept when NaNs are skipped (or counted).
            let needCounts: Bool
            if case .count = kind { needCounts = true } else { needCounts = skipna }
            let (sums, nanCounts) = _sumsAndNaNCounts(base, plan, skipna: skipna, counts: needCounts)
            let n = plan.reducedCount
            switch kind {
            case .sum:
                return AnyNDArray(NDArray<T>(shape: plan.outShape) { out in
                    for i in 0..<m { (out.baseAddress! + i).initialize(to: T(sums[i])) }
                })
            case .count:
                return .int64(NDArray<Int64>(shape: plan.outShape) { out in
                    for i in 0..<m { (out.baseAddress! + i).initialize(to: Int64(n) - Int64(nanCounts[i])) }
                })
            case .mean:
                return AnyNDArray(NDArray<T>(shape: plan.outShape) { out in
                    for i in 0..<m {
                        let k = skipna ? n - Int(nanCounts[i]) : n
                        (out.baseAddress! + i).initialize(to: T(sums[i] / Double(k)))
                    }
                })
            case .variance(let ddof):
                var means = [Double](repeating: 0, count: m)
                for i in 0..<m { means[i] = sums[i] / Double(skipna ? n - Int(nanCounts[i]) : n) }
                var ssd = [Double](repeating: 0, count: m)
                ssd.withUnsafeMutableBufferPointer { S in
                    means.withUnsafeBufferPointer { M in
                        let s = S.baseAddress!, mu = M.baseAddress!
                        if plan.innerReduced {
                            plan.forEachRow { inOff, outOff in
                                s[outOff] += _rowSSD(base + inOff, L, mean: mu[outOff], skipna: skipna)
                            }
                        } else {
                            plan.forEachRow { inOff, outOff in
                                let p = base + inOff, o = s + outOff, q = mu + outOff
                                for j in 0..<L {
                                    let v = Double(p[j])
                                    let d = v - q[j]
                                    o[j] += (skipna && v.isNaN) ? 0 : d * d
                                }
                            }
                        }
                    }
                }
                return AnyNDArray(NDArray<T>(shape: plan.outShape) { out in
                    for i in 0..<m {
                        let k = skipna ? n - Int(nanCounts[i]) : n
                        let v: Double
                        if skipna {
                            v = k - ddof <= 0 ? .nan : ssd[i] / Double(k - ddof)
                        } else {
                            v = ssd[i] / Double(Swift.max(k - ddof, 0))
                        }
                        (out.baseAddress! + i).initialize(to: T(v))
                    }
                })
            default: fatalError()
            }
        case .min, .max:
            let isMax: Bool
            if case .max = kind { isMax = true } else { isMax = false }
            if plan.reducedCount == 0 && m > 0 {
                throw GyreArraysError(.emptyReduction, "zero-size array to reduction operation \(isMax ? "maximum" : "minimum") which has no identity")
            }
            var vals = [T](repeating: isMax ? -T.infinity : T.infinity, count: m)
            var nanCounts = [Int](repeating: 0, count: m)
            vals.withUnsafeMutableBufferPointer { V in
                nanCounts.withUnsafeMutableBufferPointer { C in
                    let v = V.baseAddress!, cnt = C.baseAddress!
                    if plan.innerReduced {
                        plan.forEachRow { inOff, outOff in
                            let r = T._minMaxRow(base + inOff, L, max: isMax)
                            if isMax ? r.value > v[outOff] : r.value < v[outOff] { v[outOff] = r.value }
                            cnt[outOff] += r.nans
                        }
                    } else {
                        plan.forEachRow { inOff, outOff in
                            let p = base + inOff, o = v + outOff, k = cnt + outOff
                            if isMax {
                                for j in 0..<L { let x = p[j]; o[j] = x > o[j] ? x : o[j]; k[j] &+= x.isNaN ? 1 : 0 }
                            } else {
                                for j in 0..<L { let x = p[j]; o[j] = x < o[j] ? x : o[j]; k[j] &+= x.isNaN ? 1 : 0 }
                            }
                        }
                    }
                }
            }
            let n = plan.reducedCount
            return AnyNDArray(NDArray<T>(shape: plan.outShape) { out in
                for i in 0..<m {
                    let bad = skipna ? nanCounts[i] == n : nanCounts[i] > 0
                    (out.baseAddress! + i).initialize(to: bad ? T.nan : vals[i])
                }
            })
        case .prod:
            var prods = [Double](repeating: 1, count: m)
            prods.withUnsafeMutableBufferPointer { P in
                let o0 = P.baseAddress!
                plan.forEachRow { inOff, outOff in
                    let p = base + inOff
                    if plan.innerReduced {
                        var acc = 1.0
                        for j in 0..<L { let x = p[j]; if !(skipna && x.isNaN) { acc *= Double(x) } }
                        o0[outOff] *= acc
                    } else {
                        let o = o0 + outOff
                        for j in 0..<L { let x = p[j]; o[j] *= (skipna && x.isNaN) ? 1 : Double(x) }
                    }
                }
            }
            return AnyNDArray(NDArray<T>(shape: plan.outShape) { out in
                for i in 0..<m { (out.baseAddress! + i).initialize(to: T(prods[i])) }
            })
        }
    }
}
