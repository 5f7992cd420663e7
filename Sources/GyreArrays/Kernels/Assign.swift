import GyreCore
extension NDArray {
    /// Copies `source` into the region `items` selects of this array (which becomes contiguous and
    /// uniquely owned first). The region's shape must equal the source's.
    package mutating func assign(_ items: [AxisIndex], from source: NDArray) throws {
        if !isContiguous || !isKnownUniquelyReferenced(&_storage) { self = contiguous(forceCopy: true) }
        let region = try index(items)
        guard region.shape == source.shape else {
            throw GyreArraysError(.shapeMismatch, "cannot assign an array of shape \(source.shape) to a region of shape \(region.shape)")
        }
        let dst = _storage.base, src = source._storage.base
        withExtendedLifetime(source) {
            _forEachRow(shape: region.shape, strides: [region.strides, source.strides], offsets: [region.offset, source.offset]) { offs, n, st in
                var p = offs[0], q = offs[1]
                for _ in 0..<n {
                    dst[p] = src[q]
                    p += st[0]
                    q += st[1]
                }
            }
        }
    }
}

extension AnyNDArray {
    /// Copies `source` (converted to this array's dtype) into the region `items` selects, in place:
    /// the payload is moved out of `self` first so the buffer stays uniquely referenced and is
    /// not copied (scattering many chunks into one result stays linear).
    package mutating func assign(_ items: [AxisIndex], from source: AnyNDArray) throws {
        let s = try source.astype(dtype)
        let placeholder = AnyNDArray.bool(NDArray(scalar: false))
        switch self {
        case .bool(var a):
            self = placeholder
            defer { self = .bool(a) }
            try a.assign(items, from: s.typed(Bool.self)!)
        case .int8(var a):
            self = placeholder
            defer { self = .int8(a) }
            try a.assign(items, from: s.typed(Int8.self)!)
        case .int16(var a):
            self = placeholder
            defer { self = .int16(a) }
            try a.assign(items, from: s.typed(Int16.self)!)
        case .int32(var a):
            self = placeholder
            defer { self = .int32(a) }
            try a.assign(items, from: s.typed(Int32.self)!)
        case .int64(var a):
            self = placeholder
            defer { self = .int64(a) }
            try a.assign(items, from: s.typed(Int64.self)!)
        case .uint8(var a):
            self = placeholder
            defer { self = .uint8(a) }
            try a.assign(items, from: s.typed(UInt8.self)!)
        case .uint16(var a):
            self = placeholder
            defer { self = .uint16(a) }
            try a.assign(items, from: s.typed(UInt16.self)!)
        case .uint32(var a):
            self = placeholder
            defer { self = .uint32(a) }
            try a.assign(items, from: s.typed(UInt32.self)!)
        case .uint64(var a):
            self = placeholder
            defer { self = .uint64(a) }
            try a.assign(items, from: s.typed(UInt64.self)!)
        case .float32(var a):
            self = placeholder
            defer { self = .float32(a) }
            try a.assign(items, from: s.typed(Float.self)!)
        case .float64(var a):
            self = placeholder
            defer { self = .float64(a) }
            try a.assign(items, from: s.typed(Double.self)!)
        case .datetime64(var a, let u):
            self = placeholder
            defer { self = .datetime64(a, u) }
            try a.assign(items, from: s.typed(Int64.self)!)
        case .timedelta64(var a, let u):
            self = placeholder
            defer { self = .timedelta64(a, u) }
            try a.assign(items, from: s.typed(Int64.self)!)
        case .cftime(var a, let c):
            self = placeholder
            defer { self = .cftime(a, c) }
            try a.assign(items, from: s.typed(Int64.self)!)
        case .string(var a, let k):
            self = placeholder
            defer { self = .string(a, k) }
            try a.assign(items, from: s.typed(String.self)!)
        }
    }
}
