extension NDArray {
    /// A new contiguous array with `f` applied to every element. The inner loop runs over
    /// contiguous rows where the layout allows, so specialized closures vectorize.
    @inlinable
    public func map<R>(_ f: (Element) -> R) -> NDArray<R> {
        let src = _storage.base
        let shape = self.shape
        let outStrides = NDArray<R>.contiguousStrides(shape)
        return withExtendedLifetime(self) {
            NDArray<R>(shape: shape) { dst in
                guard let d = dst.baseAddress else { return }
                _forEachRow(shape: shape, strides: [strides, outStrides], offsets: [offset, 0]) { offs, n, st in
                    let out = d + offs[1]
                    if st[0] == 1 {
                        let p = src + offs[0]
                        for i in 0..<n { (out + i).initialize(to: f(p[i])) }
                    } else {
                        var p = offs[0]
                        let s = st[0]
                        for i in 0..<n {
                            (out + i).initialize(to: f(src[p]))
                            p += s
                        }
                    }
                }
            }
        }
    }

    /// Applies `f` to every element in place (copying first if the buffer is shared).
    @inlinable
    public mutating func apply(_ f: (inout Element) -> Void) {
        withUnsafeMutableBufferPointer { buf in
            for i in buf.indices { f(&buf[i]) }
        }
    }
}

/// Elementwise `f(a, b)` with NumPy broadcasting; the result is contiguous.
@inlinable
public func ndZip<A, B, R>(_ a: NDArray<A>, _ b: NDArray<B>, _ f: (A, B) -> R) throws -> NDArray<R> {
    let shape = try broadcastShapes(a.shape, b.shape)
    let va = try a.broadcast(to: shape), vb = try b.broadcast(to: shape)
    let pa = va._storage.base, pb = vb._storage.base
    let outStrides = NDArray<R>.contiguousStrides(shape)
    return withExtendedLifetime((va, vb)) {
        NDArray<R>(shape: shape) { dst in
            guard let d = dst.baseAddress else { return }
            _forEachRow(shape: shape, strides: [va.strides, vb.strides, outStrides],
                        offsets: [va.offset, vb.offset, 0]) { offs, n, st in
                let out = d + offs[2]
                let sa = st[0], sb = st[1]
                if sa == 1 && sb == 1 {
                    let x = pa + offs[0], y = pb + offs[1]
                    for i in 0..<n { (out + i).initialize(to: f(x[i], y[i])) }
                } else if sa == 1 && sb == 0 {
                    let x = pa + offs[0], y = pb[offs[1]]
                    for i in 0..<n { (out + i).initialize(to: f(x[i], y)) }
                } else if sa == 0 && sb == 1 {
                    let x = pa[offs[0]], y = pb + offs[1]
                    for i in 0..<n { (out + i).initialize(to: f(x, y[i])) }
                } else {
                    var i0 = offs[0], i1 = offs[1]
                    for i in 0..<n {
                        (out + i).initialize(to: f(pa[i0], pb[i1]))
                        i0 += sa
                        i1 += sb
                    }
                }
            }
        }
    }
}

/// Elementwise `f(a, b, c)` with NumPy broadcasting; the result is contiguous.
@inlinable
public func ndZip3<A, B, C, R>(_ a: NDArray<A>, _ b: NDArray<B>, _ c: NDArray<C>,
                               _ f: (A, B, C) -> R) throws -> NDArray<R> {
    let shape = try broadcastShapes(try broadcastShapes(a.shape, b.shape), c.shape)
    let va = try a.broadcast(to: shape), vb = try b.broadcast(to: shape), vc = try c.broadcast(to: shape)
    let pa = va._storage.base, pb = vb._storage.base, pc = vc._storage.base
    let outStrides = NDArray<R>.contiguousStrides(shape)
    return withExtendedLifetime((va, vb, vc)) {
        NDArray<R>(shape: shape) { dst in
            guard let d = dst.baseAddress else { return }
            _forEachRow(shape: shape, strides: [va.strides, vb.strides, vc.strides, outStrides],
                        offsets: [va.offset, vb.offset, vc.offset, 0]) { offs, n, st in
                var i0 = offs[0], i1 = offs[1], i2 = offs[2]
                let out = d + offs[3]
                for i in 0..<n {
                    (out + i).initialize(to: f(pa[i0], pb[i1], pc[i2]))
                    i0 += st[0]
                    i1 += st[1]
                    i2 += st[2]
                }
            }
        }
    }
}
