import GyreCore
// Scans (cumsum, cumprod, diff), sorting (sort, argsort, searchsorted, unique) and joining
// (concatenate, stack).

extension AnyNDArray {
    private func normalizedAxis(_ axis: Int) throws -> Int {
        let a = axis < 0 ? axis + ndim : axis
        guard a >= 0 && a < ndim else {
            throw GyreArraysError(.invalidAxis, "axis \(axis) is out of range for an array of \(ndim) dimensions")
        }
        return a
    }

    /// Moves `axis` last, applies `rowOp` to each contiguous row, and moves it back.
    private func alongAxis<T, R>(_ a: NDArray<T>, axis: Int, outLength: Int? = nil,
                                 _ rowOp: (UnsafePointer<T>, Int, UnsafeMutablePointer<R>) -> Void) throws -> NDArray<R> {
        let perm = (0..<a.ndim).filter { $0 != axis } + [axis]
        let moved = try a.transposed(perm).contiguous()
        let L = a.shape[axis]
        let outL = outLength ?? L
        let outer = moved.count / Swift.max(L, 1)
        var outShape = moved.shape
        outShape[outShape.count - 1] = outL
        let rows = L == 0 ? outShape.reduce(1, *) / Swift.max(outL, 1) : outer
        let src = moved._storage.base + moved._offset
        let out = withExtendedLifetime(moved) {
            NDArray<R>(shape: outShape) { dst in
                for r in 0..<rows { rowOp(src + r * L, L, dst.baseAddress! + r * outL) }
            }
        }
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return try out.transposed(inverse)
    }

    /// Cumulative sum along `axis`; with `skipna` (default for floats) NaNs count as zero
    /// (xarray's nancumsum). Small integers widen to 64 bits, as NumPy does.
    public func cumsum(axis: Int, skipna: Bool? = nil) throws -> AnyNDArray {
        try scan(axis: axis, product: false, skipna: skipna ?? true)
    }

    /// Cumulative product along `axis`; with `skipna` (default for floats) NaNs count as one.
    public func cumprod(axis: Int, skipna: Bool? = nil) throws -> AnyNDArray {
        try scan(axis: axis, product: true, skipna: skipna ?? true)
    }

    private func scan(axis: Int, product: Bool, skipna: Bool) throws -> AnyNDArray {
        let ax = try normalizedAxis(axis)
        switch self {
        case .float32(let a):
            return .float32(try alongAxis(a, axis: ax) { p, n, o in
                var acc: Float = product ? 1 : 0
                for i in 0..<n {
                    let v = p[i]
                    if !(skipna && v.isNaN) { acc = product ? acc * v : acc + v }
                    (o + i).initialize(to: acc)
                }
            })
        case .float64(let a):
            return .float64(try alongAxis(a, axis: ax) { p, n, o in
                var acc: Double = product ? 1 : 0
                for i in 0..<n {
                    let v = p[i]
                    if !(skipna && v.isNaN) { acc = product ? acc * v : acc + v }
                    (o + i).initialize(to: acc)
                }
            })
        case .timedelta64(let a, let u) where !product:
            return .timedelta64(try alongAxis(a, axis: ax) { p, n, o in
                var acc: Int64 = 0
                var nat = false
                for i in 0..<n {
                    if p[i] == Int64.min { nat = nat || !skipna } else { acc &+= p[i] }
                    (o + i).initialize(to: nat ? Int64.min : acc)
                }
            }, u)
        default:
            guard dtype.isNumeric else { throw GyreArraysError(.unsupportedDType, "cumulative \(product ? "product" : "sum") is not defined for \(dtype)") }
            let wide = try astype(dtype.sumResult)
            let bits = try wide.numericArray(Int64.self)
            let r = try alongAxis(bits, axis: ax) { p, n, o in
                var acc: Int64 = product ? 1 : 0
                for i in 0..<n {
                    acc = product ? acc &* p[i] : acc &+ p[i]
                    (o + i).initialize(to: acc)
                }
            }
            return dtype.sumResult == .uint64 ? .uint64(r.map { UInt64(bitPattern: $0) }) : .int64(r)
        }
    }

    /// n-th discrete difference along `axis`: `a[1:] - a[:-1]`, repeated `n` times. Booleans
    /// give `!=`, datetimes give timedeltas.
    public func diff(axis: Int, n: Int = 1) throws -> AnyNDArray {
        guard n >= 0 else { throw GyreArraysError(.invalidArgument, "order must be non-negative but got \(n)") }
        let ax = try normalizedAxis(axis)
        var r = self
        for _ in 0..<n {
            let hi = try r.slice(axis: ax, Slice(1, nil)), lo = try r.slice(axis: ax, Slice(nil, -1))
            if case .bool = r { r = try hi.compare(.notEqual, lo) } else { r = try hi.binary(.subtract, lo) }
        }
        return r
    }

    /// Sorted copy along `axis` (ascending, NaN/NaT last; stable).
    public func sorted(axis: Int = -1) throws -> AnyNDArray {
        let idx = try argsort(axis: axis)
        return try takeAlongAxis(idx, axis: axis)
    }

    /// Indices that sort each lane along `axis` (stable; NaN/NaT last).
    public func argsort(axis: Int = -1) throws -> AnyNDArray {
        let ax = try normalizedAxis(axis)
        func rows<T>(_ a: NDArray<T>, less: @escaping (T, T) -> Bool) throws -> NDArray<Int64> {
            try alongAxis(a, axis: ax) { p, n, o in
                var order = Array(0..<n)
                order.sort { i, j in less(p[i], p[j]) || (!less(p[j], p[i]) && i < j) }
                for i in 0..<n { (o + i).initialize(to: Int64(order[i])) }
            }
        }
        func floatLess<T: FloatElement>(_ x: T, _ y: T) -> Bool { x.isNaN ? false : (y.isNaN ? true : x < y) }
        func tickLess(_ x: Int64, _ y: Int64) -> Bool { x == Int64.min ? false : (y == Int64.min ? true : x < y) }
        switch self {
        case .float32(let a): return .int64(try rows(a, less: floatLess))
        case .float64(let a): return .int64(try rows(a, less: floatLess))
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return .int64(try rows(a, less: tickLess))
        case .string(let a, _): return .int64(try rows(a, less: <))
        case .bool(let a): return .int64(try rows(a.map { $0 ? 1 : 0 as UInt8 }, less: <))
        case .uint64(let a): return .int64(try rows(a, less: <))
        default: return .int64(try rows(try numericArray(Int64.self), less: <))
        }
    }

    /// Picks elements along `axis` by an index array of the same shape (NumPy's take_along_axis).
    public func takeAlongAxis(_ indices: AnyNDArray, axis: Int) throws -> AnyNDArray {
        let ax = try normalizedAxis(axis)
        guard indices.shape == shape, case .int64(let idx) = try indices.astype(.int64) else {
            throw GyreArraysError(.shapeMismatch, "indices of shape \(indices.shape) do not match array shape \(shape)")
        }
        struct Take: _SameTypeTransform {
            let idx: NDArray<Int64>; let axis: Int
            func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> {
                let perm = (0..<a.ndim).filter { $0 != axis } + [axis]
                let moved = try a.transposed(perm).contiguous()
                let im = try idx.transposed(perm).contiguous()
                let L = a.shape[axis]
                let src = moved._storage.base + moved._offset
                let ip = im._storage.base + im._offset
                for k in 0..<im.count where im._storage.base[im._offset + k] < 0 || im._storage.base[im._offset + k] >= L {
                    throw GyreArraysError(.indexOutOfRange, "index \(im._storage.base[im._offset + k]) is out of range for axis \(axis) of extent \(L)")
                }
                let out = withExtendedLifetime((moved, im)) {
                    NDArray<T>(shape: moved.shape) { dst in
                        for k in 0..<moved.count {
                            let row = k / L
                            (dst.baseAddress! + k).initialize(to: src[row * L + Int(ip[k])])
                        }
                    }
                }
                var inverse = [Int](repeating: 0, count: perm.count)
                for (i, p) in perm.enumerated() { inverse[p] = i }
                return try out.transposed(inverse)
            }
        }
        return try _transform(Take(idx: idx, axis: ax))
    }

    /// Positions at which `values` would be inserted into this sorted 1-D array to keep it sorted
    /// (`side` "left": first suitable position, "right": last).
    public func searchsorted(_ values: AnyNDArray, side: SearchSide = .left) throws -> AnyNDArray {
        guard ndim == 1 else { throw GyreArraysError(.invalidArgument, "searchsorted needs a 1-D sorted array, got \(ndim) dimensions") }
        func search<T>(_ a: [T], _ v: NDArray<T>, less: (T, T) -> Bool) -> NDArray<Int64> {
            v.map { x in
                var lo = 0, hi = a.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    let goRight = side == .left ? less(a[mid], x) : !less(x, a[mid])
                    if goRight { lo = mid + 1 } else { hi = mid }
                }
                return Int64(lo)
            }
        }
        func floatLess<T: FloatElement>(_ x: T, _ y: T) -> Bool { x.isNaN ? false : (y.isNaN ? true : x < y) }
        func tickLess(_ x: Int64, _ y: Int64) -> Bool { x == Int64.min ? false : (y == Int64.min ? true : x < y) }
        let common: DType
        if dtype == values.dtype { common = dtype } else if let p = DType.promote(dtype, values.dtype) { common = p } else {
            throw GyreArraysError(.unsupportedDType, "searchsorted: cannot compare \(dtype) with \(values.dtype)")
        }
        let a = try astype(common), v = try values.astype(common)
        switch (a, v) {
        case (.float32(let x), .float32(let y)): return .int64(search(x.elements, y, less: floatLess))
        case (.float64(let x), .float64(let y)): return .int64(search(x.elements, y, less: floatLess))
        case (.datetime64(let x, _), .datetime64(let y, _)), (.timedelta64(let x, _), .timedelta64(let y, _)), (.cftime(let x, _), .cftime(let y, _)):
            return .int64(search(x.elements, y, less: tickLess))
        case (.string(let x, _), .string(let y, _)): return .int64(search(x.elements, y, less: <))
        case (.uint64(let x), .uint64(let y)): return .int64(search(x.elements, y, less: <))
        default:
            return .int64(search(try a.numericArray(Int64.self).elements, try v.numericArray(Int64.self), less: <))
        }
    }

    /// The sorted distinct values of the flattened array (NaNs collapse into one, last).
    public func unique() throws -> AnyNDArray {
        let flat = try contiguous().reshaped([count]).sorted(axis: 0)
        struct Dedup: _SameTypeTransform {
            func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> {
                let e = a.elements
                var keep: [T] = []
                for (i, v) in e.enumerated() {
                    if i == 0 { keep.append(v); continue }
                    let prev = e[i - 1]
                    if !_sameValue(prev, v) { keep.append(v) }
                }
                return NDArray(keep)
            }
        }
        return try flat._transform(Dedup())
    }
}

/// Equality for deduplication: NaN equals NaN.
func _sameValue<T>(_ a: T, _ b: T) -> Bool {
    if let x = a as? Double, let y = b as? Double { return x == y || (x.isNaN && y.isNaN) }
    if let x = a as? Float, let y = b as? Float { return x == y || (x.isNaN && y.isNaN) }
    if let x = a as? Int64, let y = b as? Int64 { return x == y }
    if let x = a as? String, let y = b as? String { return x == y }
    if let x = a as? Bool, let y = b as? Bool { return x == y }
    if let x = a as? any BinaryInteger, let y = b as? any BinaryInteger { return Int64(x) == Int64(y) }
    return false
}

/// Which end of a run of equal values `searchsorted` reports.
public enum SearchSide: String, Sendable { case left, right }

extension NDArray {
    /// Joins arrays along an existing axis; all other extents must match.
    public static func concatenate(_ arrays: [NDArray], axis: Int) throws -> NDArray {
        guard let first = arrays.first else { throw GyreArraysError(.invalidArgument, "need at least one array to concatenate") }
        let ax = try first._normalizeAxis(axis)
        for (i, a) in arrays.enumerated() {
            guard a.ndim == first.ndim else {
                throw GyreArraysError(.shapeMismatch, "array \(i) has \(a.ndim) dimensions, array 0 has \(first.ndim)")
            }
            for d in 0..<a.ndim where d != ax && a.shape[d] != first.shape[d] {
                throw GyreArraysError(.shapeMismatch, "array \(i) has extent \(a.shape[d]) along axis \(d), array 0 has \(first.shape[d])")
            }
        }
        var outShape = first.shape
        outShape[ax] = arrays.reduce(0) { $0 + $1.shape[ax] }
        let outStrides = NDArray.contiguousStrides(outShape)
        return NDArray(shape: outShape) { dst in
            guard let d = dst.baseAddress else { return }
            var start = 0
            for a in arrays {
                let src = a._storage.base
                // Output positions of this piece: the output layout offset by `start` along ax.
                withExtendedLifetime(a) {
                    _forEachRow(shape: a.shape, strides: [a.strides, outStrides], offsets: [a.offset, start * outStrides[ax]]) { offs, n, st in
                        var p = offs[0], q = offs[1]
                        for _ in 0..<n {
                            (d + q).initialize(to: src[p])
                            p += st[0]
                            q += st[1]
                        }
                    }
                }
                start += a.shape[ax]
            }
        }
    }

    /// Joins arrays of one shape along a new axis.
    public static func stack(_ arrays: [NDArray], axis: Int = 0) throws -> NDArray {
        guard let first = arrays.first else { throw GyreArraysError(.invalidArgument, "need at least one array to stack") }
        let expanded = try arrays.map { a -> NDArray in
            guard a.shape == first.shape else {
                throw GyreArraysError(.shapeMismatch, "all arrays must have the same shape to stack: \(a.shape) vs \(first.shape)")
            }
            return try a.expandingDims(at: axis < 0 ? axis + a.ndim + 1 : axis)
        }
        return try concatenate(expanded, axis: axis < 0 ? axis + first.ndim + 1 : axis)
    }
}

extension AnyNDArray {
    /// Joins arrays along an existing axis, promoting to a common dtype.
    public static func concatenate(_ arrays: [AnyNDArray], axis: Int) throws -> AnyNDArray {
        guard let first = arrays.first else { throw GyreArraysError(.invalidArgument, "need at least one array to concatenate") }
        var common = first.dtype
        for a in arrays.dropFirst() where a.dtype != common {
            guard let p = DType.promote(common, a.dtype) else {
                throw GyreArraysError(.unsupportedDType, "cannot concatenate \(common) with \(a.dtype)")
            }
            common = p
        }
        let cast = try arrays.map { try $0.astype(common) }
        struct Cat: _SameTypeTransform {
            let rest: [AnyNDArray]; let axis: Int
            func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> {
                try NDArray.concatenate([a] + rest.map { $0.typed(T.self)! }, axis: axis)
            }
        }
        return try cast[0]._transform(Cat(rest: Array(cast.dropFirst()), axis: axis))
    }

    /// Joins arrays of one shape along a new axis, promoting to a common dtype.
    public static func stack(_ arrays: [AnyNDArray], axis: Int = 0) throws -> AnyNDArray {
        guard let first = arrays.first else { throw GyreArraysError(.invalidArgument, "need at least one array to stack") }
        let ax = axis < 0 ? axis + first.ndim + 1 : axis
        return try concatenate(try arrays.map { a in
            guard a.shape == first.shape else {
                throw GyreArraysError(.shapeMismatch, "all arrays must have the same shape to stack: \(a.shape) vs \(first.shape)")
            }
            return try a.expandingDims(at: ax)
        }, axis: ax)
    }
}
