import GyreCore
/// Elements as raw bytes in C order (the layout of Zarr's `bytes` codec and NumPy buffers).
extension AnyNDArray {
    /// The elements as bytes, little- or big-endian. Fixed-width strings use NumPy's layout
    /// (`|S n`: bytes padded with zeros, `<U n`: UTF-32 code units); variable-length strings have
    /// no raw layout (use the vlen-utf8 codec).
    package func rawBytes(bigEndian: Bool = false) throws -> [UInt8] {
        let c = contiguous()
        func ints<T: FixedWidthInteger>(_ a: NDArray<T>) -> [UInt8] {
            a.withUnsafeBufferPointer { buf in
                if bigEndian == (UInt16(1).bigEndian == 1) || T.bitWidth == 8 {
                    return [UInt8](UnsafeRawBufferPointer(buf))
                }
                var out = [UInt8](repeating: 0, count: buf.count * MemoryLayout<T>.size)
                out.withUnsafeMutableBytes { raw in
                    for i in 0..<buf.count { raw.storeBytes(of: buf[i].byteSwapped, toByteOffset: i * MemoryLayout<T>.size, as: T.self) }
                }
                return out
            }
        }
        // Native byte order wanted: the buffer's bytes as they are, one copy.
        func native<T>(_ a: NDArray<T>) -> [UInt8] { a.withUnsafeBufferPointer { [UInt8](UnsafeRawBufferPointer($0)) } }
        let nativeOrder = bigEndian == (UInt16(1).bigEndian == 1)
        if nativeOrder {
            switch c {
            case .int8(let a): return native(a)
            case .int16(let a): return native(a)
            case .int32(let a): return native(a)
            case .int64(let a): return native(a)
            case .uint8(let a): return native(a)
            case .uint16(let a): return native(a)
            case .uint32(let a): return native(a)
            case .uint64(let a): return native(a)
            case .float32(let a): return native(a)
            case .float64(let a): return native(a)
            case .datetime64(let a, _), .timedelta64(let a, _): return native(a)
            default: break
            }
        }
        switch c {
        case .bool(let a): return a.elements.map { $0 ? 1 : 0 }
        case .int8(let a): return ints(a)
        case .int16(let a): return ints(a)
        case .int32(let a): return ints(a)
        case .int64(let a): return ints(a)
        case .uint8(let a): return ints(a)
        case .uint16(let a): return ints(a)
        case .uint32(let a): return ints(a)
        case .uint64(let a): return ints(a)
        case .float32(let a): return ints(a.map { $0.bitPattern })
        case .float64(let a): return ints(a.map { $0.bitPattern })
        case .datetime64(let a, _), .timedelta64(let a, _): return ints(a)
        case .string(let a, .bytes(let n)):
            var out = [UInt8](repeating: 0, count: a.count * n)
            for (i, s) in a.elements.enumerated() {
                let b = Array(s.utf8.prefix(n))
                out.replaceSubrange((i * n)..<(i * n + b.count), with: b)
            }
            return out
        case .string(let a, .unicode(let n)):
            var units = [UInt32](repeating: 0, count: a.count * n)
            for (i, s) in a.elements.enumerated() {
                for (k, u) in s.unicodeScalars.prefix(n).enumerated() { units[i * n + k] = u.value }
            }
            return ints(NDArray(units))
        default:
            throw GyreArraysError(.unsupportedDType, "\(dtype) has no fixed-size byte layout")
        }
    }

    /// Elements from raw bytes in C order; the byte count must match the shape and dtype.
    package static func fromRawBytes(_ bytes: [UInt8], shape: [Int], dtype: DType, bigEndian: Bool = false) throws -> AnyNDArray {
        let count = shape.reduce(1, *)
        let need = count * dtype.itemSize
        guard bytes.count == need else {
            throw GyreArraysError(.corruptData, "expected \(need) bytes for \(count) elements of \(dtype), got \(bytes.count)")
        }
        let swap = dtype.itemSize > 1 && bigEndian != (UInt16(1).bigEndian == 1)
        let swapStrings = bigEndian && { if case .string(.unicode) = dtype { return true }; return false }()
        return try bytes.withUnsafeBytes { raw in
            try AnyNDArray.fromRaw(raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: count, shape: shape, dtype: dtype,
                                   swap: dtype.isString ? swapStrings : swap)
        }
    }
}

/// Byte order of raw element buffers.
package enum ByteOrder {
    /// Reverses the bytes of each `itemSize`-byte element of `b` in place (big-endian stored
    /// values made native, or back); a trailing partial element is left alone.
    package static func swapInPlace(_ b: UnsafeMutableRawBufferPointer, itemSize: Int) {
        guard itemSize > 1, let base = b.baseAddress else { return }
        let n = b.count / itemSize
        func run<T: FixedWidthInteger>(_: T.Type) {
            for i in 0..<n {
                let v = base.loadUnaligned(fromByteOffset: i * itemSize, as: T.self)
                base.storeBytes(of: v.byteSwapped, toByteOffset: i * itemSize, as: T.self)
            }
        }
        switch itemSize {
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        case 8: run(UInt64.self)
        default:
            let p = base.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n {
                var lo = i * itemSize, hi = lo + itemSize - 1
                while lo < hi { let t = p[lo]; p[lo] = p[hi]; p[hi] = t; lo += 1; hi -= 1 }
            }
        }
    }
}
