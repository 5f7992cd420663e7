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

    /// (sum, count) side by side per pixel.
    @inline(__always)
    static func mean<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ m: UnsafeMutableBufferPointer<Double>
    ) {
        let mb = m.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                mb[2 &* p] += v
                mb[2 &* p &+ 1] += 1
            }
        }
    }

    /// (sum, count, m2) side by side per pixel; m2 is updated before sum and count, with their
    /// old values (datashader's `m2._append`).
    @inline(__always)
    static func moments<X: BinaryFloatingPoint, V: BinaryFloatingPoint>(
        _ b: Binner, _ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ vs: UnsafeBufferPointer<V>,
        _ m: UnsafeMutableBufferPointer<Double>
    ) {
        let mb = m.baseAddress!
        for i in 0..<xs.count {
            let v = Double(vs[i])
            if v.isNaN { continue }
            let p = b.pixel(Double(xs[i]), Double(ys[i]))
            if p >= 0 {
                let k = 3 &* p
                let sum = mb[k], n = mb[k + 1]
                if n > 0 {
                    let u1 = sum / n
                    let u = (sum + v) / (n + 1)
                    mb[k + 2] += (v - u1) * (v - u)
                }
                mb[k] = sum + v
                mb[k + 1] = n + 1
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
