import GyreCore
/// Moves `axes` to the end and returns a contiguous (outer, inner) view of the data, with the
/// shape of the kept dimensions.
@usableFromInline
func _rowsOver<T>(_ a: NDArray<T>, axes: Set<Int>) throws -> (rows: NDArray<T>, outShape: [Int], rowLength: Int) {
    let kept = (0..<a.ndim).filter { !axes.contains($0) }
    let red = (0..<a.ndim).filter { axes.contains($0) }
    let t = try a.transposed(kept + red).contiguous()
    let outShape = kept.map { a.shape[$0] }
    let L = red.map { a.shape[$0] }.reduce(1, *)
    return (try t.reshaped([outShape.reduce(1, *), L]), outShape, L)
}

/// Puts the k-th smallest element of `buf[lo..<hi]` at index k (quickselect, median of three).
@inlinable
func _select<T: Comparable>(_ buf: UnsafeMutablePointer<T>, _ lo0: Int, _ hi0: Int, _ k: Int) {
    var lo = lo0, hi = hi0 - 1
    while hi > lo {
        let mid = lo + (hi - lo) / 2
        if buf[mid] < buf[lo] { swap(&buf[mid], &buf[lo]) }
        if buf[hi] < buf[lo] { swap(&buf[hi], &buf[lo]) }
        if buf[hi] < buf[mid] { swap(&buf[hi], &buf[mid]) }
        let pivot = buf[mid]
        var i = lo, j = hi
        while i <= j {
            while buf[i] < pivot { i += 1 }
            while pivot < buf[j] { j -= 1 }
            if i <= j { swap(&buf[i], &buf[j]); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return }
    }
}

/// The smallest element of `buf[lo..<hi]`.
@inlinable
func _minimum<T: Comparable>(_ buf: UnsafeMutablePointer<T>, _ lo: Int, _ hi: Int) -> T {
    var m = buf[lo]
    for i in (lo + 1)..<hi where buf[i] < m { m = buf[i] }
    return m
}

/// NumPy's linear interpolation (`_lerp`) evaluated in the element's own float type, as NumPy
/// does for a scalar quantile.
@inlinable
func _lerp<T: FloatElement>(_ a: T, _ b: T, _ t: Double) -> T {
    let diff = b - a
    if t >= 0.5 { return b - diff * T(1 - t) }
    return a + diff * T(t)
}

/// Order statistics of float rows: median (mean of the middle two, as NumPy) and linear quantiles.
@inlinable
func _quantileFloat<T: FloatElement>(_ a: NDArray<T>, axes: Set<Int>, q: [Double], median: Bool, skipna: Bool) throws -> [NDArray<T>] {
    let (rows, outShape, L) = try _rowsOver(a, axes: axes)
    let m = outShape.reduce(1, *)
    var results = [[T]](repeating: [T](repeating: .nan, count: m), count: median ? 1 : q.count)
    let scratch = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(L, 1))
    defer { scratch.deallocate() }
    let src = rows._storage.base + rows.offset
    withExtendedLifetime(rows) {
        for r in 0..<m {
            let p = src + r * L
            var n = 0
            var sawNaN = false
            for j in 0..<L {
                let v = p[j]
                if v.isNaN { sawNaN = true } else { scratch[n] = v; n += 1 }
            }
            if n == 0 || (sawNaN && !skipna) { continue }  // NaN result
            if median {
                let k = (n - 1) / 2
                _select(scratch, 0, n, k)
                let lo = scratch[k]
                if n % 2 == 1 { results[0][r] = lo } else {
                    let hi = _minimum(scratch, k + 1, n)
                    results[0][r] = (lo + hi) / 2
                }
            } else {
                for (qi, qq) in q.enumerated() {
                    let vi = Double(n) * qq + (1 + qq * -1) - 1
                    var prev = vi.rounded(.down)
                    var next = prev + 1
                    if vi >= Double(n - 1) { prev = Double(n - 1); next = prev }
                    if vi < 0 { prev = 0; next = 0 }
                    let gamma = vi - vi.rounded(.down)
                    let ip = Int(prev), inx = Int(next)
                    _select(scratch, 0, n, ip)
                    let a0 = scratch[ip]
                    let b0 = inx == ip ? a0 : _minimum(scratch, ip + 1, n)
                    results[qi][r] = _lerp(a0, b0, gamma)
                }
            }
        }
    }
    return try results.map { try NDArray(shape: outShape, $0) }
}

/// Index of the minimum or maximum along one axis. NaNs are skipped when `skipna` (an all-NaN
/// lane is an error, as in NumPy's nanargmin); otherwise the first NaN wins.
@inlinable
func _argExtreme<T: Comparable>(_ a: NDArray<T>, axis: Int, max isMax: Bool, skipna: Bool, isNaN: (T) -> Bool) throws -> NDArray<Int64> {
    let (rows, outShape, L) = try _rowsOver(a, axes: [axis])
    let m = outShape.reduce(1, *)
    if L == 0 && m > 0 {
        throw GyreArraysError(.emptyReduction, "attempt to get \(isMax ? "argmax" : "argmin") of an empty sequence")
    }
    var out = [Int64](repeating: 0, count: m)
    let src = rows._storage.base + rows.offset
    var allNaN = false
    withExtendedLifetime(rows) {
        for r in 0..<m {
            let p = src + r * L
            var best = -1
            for j in 0..<L {
                let v = p[j]
                if isNaN(v) {
                    if !skipna { best = j; break }
                    continue
                }
                if best < 0 || (isMax ? v > p[best] : v < p[best]) { best = j }
            }
            if best < 0 { allNaN = true }
            out[r] = Int64(best)
        }
    }
    if allNaN { throw GyreArraysError(.allNaN, "All-NaN slice encountered in \(isMax ? "argmax" : "argmin")") }
    return try NDArray(shape: outShape, out)
}
