/// The inner loops of point aggregation, one per reduction, each specialized for its column
/// types: bin the point (``Binner``), skip it when outside, update the pixel. The update rules
/// are datashader's `_append` functions.
enum AggregateLoops {
    @inline(__always)
    static func count<X: BinaryFloatingPoint>(_ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>,
                                              _ c: UnsafeMutableBufferPointer<UInt32>) {
        let base = c.baseAddress!
        for i in 0..<xs.count {
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p] &+= 1 }
        }
    }

    @inline(__always)
    static func any<X: BinaryFloatingPoint>(_ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>,
                                            _ f: UnsafeMutableBufferPointer<Bool>) {
        let base = f.baseAddress!
        for i in 0..<xs.count {
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p] = true }
        }
    }

    @inline(__always)
    static func countValid<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ c: UnsafeMutableBufferPointer<UInt32>
    ) {
        let base = c.baseAddress!
        for i in 0..<xs.count where !vs[i].isNaN {
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p] &+= 1 }
        }
    }

    @inline(__always)
    static func anyValid<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ f: UnsafeMutableBufferPointer<Bool>
    ) {
        let base = f.baseAddress!
        for i in 0..<xs.count where !vs[i].isNaN {
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p] = true }
        }
    }

    @inline(__always)
    static func sum<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                let old = base[p]
                base[p] = old.isNaN ? v : old + v
            }
        }
    }

    @inline(__always)
    static func min<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                let old = base[p]
                if old.isNaN || v < old { base[p] = v }
            }
        }
    }

    @inline(__always)
    static func max<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                let old = base[p]
                if old.isNaN || v > old { base[p] = v }
            }
        }
    }

    @inline(__always)
    static func first<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 && base[p].isNaN { base[p] = v }
        }
    }

    @inline(__always)
    static func last<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ a: UnsafeMutableBufferPointer<Double>
    ) {
        let base = a.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p] = v }
        }
    }

    @inline(__always)
    static func mean<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ s: UnsafeMutableBufferPointer<Double>, _ c: UnsafeMutableBufferPointer<UInt32>
    ) {
        let sb = s.baseAddress!, cb = c.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                sb[p] += v
                cb[p] &+= 1
            }
        }
    }

    /// Sum, count and m2 together; m2 is updated before sum and count, with their old values
    /// (datashader's `m2._append`).
    @inline(__always)
    static func moments<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ s: UnsafeMutableBufferPointer<Double>, _ c: UnsafeMutableBufferPointer<UInt32>, _ m: UnsafeMutableBufferPointer<Double>
    ) {
        let sb = s.baseAddress!, cb = c.baseAddress!, mb = m.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                let n = cb[p], sum = sb[p]
                if n > 0 {
                    let u1 = sum / Double(n)
                    let u = (sum + v) / Double(n + 1)
                    mb[p] += (v - u1) * (v - u)
                }
                sb[p] = sum + v
                cb[p] = n &+ 1
            }
        }
    }

    /// Counts per category; codes outside `0..<k` (missing categories) are not counted.
    @inline(__always)
    static func countCategories<X: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ cs: UnsafeBufferPointer<Int32>, _ k: Int,
        _ c: UnsafeMutableBufferPointer<UInt32>
    ) {
        guard k > 0 else { return }
        let base = c.baseAddress!
        for i in 0..<xs.count {
            let code = Int(cs[i])
            if code < 0 || code >= k { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 { base[p &* k &+ code] &+= 1 }
        }
    }
}
