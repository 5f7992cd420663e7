/// The inner loops of point aggregation, one per reduction, each specialized for its column
/// types: ``Binner/forEachPixel(_:_:_:)`` bins the points and skips those outside; the body
/// updates the pixel by datashader's `_append` rule for the reduction.
enum AggregateLoops {
    @inline(__always)
    static func count<X: BinaryFloatingPoint>(_ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>,
                                              _ a: UnsafeMutableBufferPointer<UInt32>) {
        let base = a.baseAddress!
        b.forEachPixel(xs, ys) { _, p in base[p] &+= 1 }
    }

    @inline(__always)
    static func any<X: BinaryFloatingPoint>(_ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>,
                                              _ a: UnsafeMutableBufferPointer<Bool>) {
        let base = a.baseAddress!
        b.forEachPixel(xs, ys) { _, p in base[p] = true }
    }

    @inline(__always)
    static func countValid<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<UInt32>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            base[p] &+= 1
        }
    }

    @inline(__always)
    static func anyValid<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Bool>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            base[p] = true
        }
    }

    @inline(__always)
    static func sum<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            let old = base[p]
            base[p] = old.isNaN ? v : old + v
        }
    }

    @inline(__always)
    static func min<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            let old = base[p]
            if old.isNaN || v < old { base[p] = v }
        }
    }

    @inline(__always)
    static func max<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            let old = base[p]
            if old.isNaN || v > old { base[p] = v }
        }
    }

    @inline(__always)
    static func first<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            if base[p].isNaN { base[p] = v }
        }
    }

    @inline(__always)
    static func last<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            base[p] = v
        }
    }

    /// (sum, count) side by side per pixel.
    @inline(__always)
    static func mean<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            base[2 &* p] += v
            base[2 &* p &+ 1] += 1
        }
    }

    /// (sum, count, m2) side by side per pixel; m2 is updated before sum and count, with their
    /// old values (datashader's `m2._append`).
    @inline(__always)
    static func moments<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if v.isNaN { return }
            let k = 3 &* p
            let sum = base[k], n = base[k + 1]
            if n > 0 {
                let u1 = sum / n
                let u = (sum + v) / (n + 1)
                base[k + 2] += (v - u1) * (v - u)
            }
            base[k] = sum + v
            base[k + 1] = n + 1
        }
    }

    /// Counts per category; codes outside `0..<k` (missing categories) are not counted.
    @inline(__always)
    static func countCategories<X: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ cs: UnsafeBufferPointer<Int32>, _ k: Int,
        _ c: UnsafeMutableBufferPointer<UInt32>
    ) {
        guard k > 0, let cb = cs.baseAddress else { return }
        let base = c.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let code = Int(cb[i])
            if code < 0 || code >= k { return }
            base[p &* k &+ code] &+= 1
        }
    }
}
