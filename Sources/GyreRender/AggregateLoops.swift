/// The inner loops of point aggregation, specialized for their column types:
/// ``Binner/forEachPixel(_:_:_:)`` bins the points and skips those outside; the update is
/// datashader's `_append` rule for the reduction, given by the caller and inlined.
enum AggregateLoops {
    /// Every point inside the canvas: `update(plane, pixel)`.
    @inline(__always)
    static func eachPoint<X: BinaryFloatingPoint, P>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ a: UnsafeMutableBufferPointer<P>,
        _ update: (UnsafeMutablePointer<P>, Int) -> Void
    ) {
        let base = a.baseAddress!
        b.forEachPixel(xs, ys) { _, p in update(base, p) }
    }

    /// Every point inside the canvas whose value is not NaN: `update(plane, pixel, value)`.
    @inline(__always)
    static func eachValue<X: BinaryFloatingPoint, V: BinaryFloatingPoint, P>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<P>, _ update: (UnsafeMutablePointer<P>, Int, Double) -> Void
    ) {
        let base = a.baseAddress!, vb = vs.baseAddress!
        b.forEachPixel(xs, ys) { i, p in
            let v = Double(vb[i])
            if !v.isNaN { update(base, p, v) }
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
