import Foundation

/// The few NumPy routines shading is defined by, written to give NumPy's numbers: `linspace`,
/// `interp` and the uniform-bin `histogram` (datashader's eq_hist is built on them), so Gyre's
/// colours equal datashader's.
enum NumpyMath {
    /// `np.linspace(start, stop, n)`: `i * step + start`, the last one exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [start] : [] }
        let div = Double(n - 1), delta = stop - start, step = delta / div
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n {
            out[i] = step == 0 ? (Double(i) / div) * delta + start : Double(i) * step + start
        }
        out[n - 1] = stop
        return out
    }

    /// Piecewise-linear interpolation with NumPy's `interp` rules (NaN stays NaN; below
    /// `xp[0]` is `left`, above `xp.last` is `right`; at a knot the knot's value).
    struct Interp {
        let xp: [Double]
        let fp: [Double]
        let slopes: [Double]
        let left: Double
        let right: Double
        /// For evenly spaced knots (linspace): the first knot and the spacing, so the knot
        /// below a value is found by division (then checked against the knots themselves,
        /// which gives the same knot as the search).
        let start: Double, step: Double, uniform: Bool

        init(xp: [Double], fp: [Double], left: Double? = nil, right: Double? = nil, uniform: Bool = false) {
            self.xp = xp
            self.fp = fp
            start = xp.first ?? 0
            step = xp.count > 1 ? (xp[xp.count - 1] - xp[0]) / Double(xp.count - 1) : 0
            self.uniform = uniform && step > 0 && step.isFinite
            self.left = left ?? fp.first ?? .nan
            self.right = right ?? fp.last ?? .nan
            var s = [Double](repeating: 0, count: Swift.max(xp.count - 1, 0))
            for i in s.indices { s[i] = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i]) }
            slopes = s
        }

        /// The value at `x`; `guess` is the knot index of the previous call (for speed only).
        @inline(__always)
        func callAsFunction(_ x: Double) -> Double {
            if x.isNaN { return x }
            let n = xp.count
            if n == 1 { return x < xp[0] ? left : (x > xp[0] ? right : fp[0]) }
            if x < xp[0] { return left }
            if x > xp[n - 1] { return right }
            // j: the last knot <= x.
            let j = uniform ? knotByDivision(x, n) : knotBySearch(x, n)
            if j == n - 1 { return fp[j] }
            if xp[j] == x { return fp[j] }
            let slope = slopes[j]
            var r = slope * (x - xp[j]) + fp[j]
            if r.isNaN {
                r = slope * (x - xp[j + 1]) + fp[j + 1]
                if r.isNaN && fp[j] == fp[j + 1] { r = fp[j] }
            }
            return r
        }

        @inline(__always) func knotBySearch(_ x: Double, _ n: Int) -> Int {
            var lo = 0, hi = n
            while lo < hi {
                let mid = lo + (hi - lo) >> 1
                if x >= xp[mid] { lo = mid + 1 } else { hi = mid }
            }
            return lo - 1
        }

        @inline(__always) func knotByDivision(_ x: Double, _ n: Int) -> Int {
            var j = Swift.min(Swift.max(Int((x - start) / step), 0), n - 1)
            while j > 0 && xp[j] > x { j -= 1 }
            while j + 1 < n && xp[j + 1] <= x { j += 1 }
            return j
        }
    }

    /// `np.histogram(values, bins: n)` over the values' own range: the counts and the bin edges.
    static func histogram(_ values: [Double], bins n: Int) -> (counts: [UInt64], edges: [Double]) {
        var first = values.min() ?? 0, last = values.max() ?? 1
        if values.isEmpty { first = 0; last = 1 }
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let edges = linspace(first, last, n + 1)
        var counts = [UInt64](repeating: 0, count: n)
        let denom = last - first, numer = Double(n)
        for v in values where v >= first && v <= last {
            var i = Int(((v - first) / denom) * numer)
            if i == n { i -= 1 }
            if v < edges[i] { i -= 1 }
            if i != n - 1 && v >= edges[i + 1] { i += 1 }
            counts[i] += 1
        }
        return (counts, edges)
    }
}
