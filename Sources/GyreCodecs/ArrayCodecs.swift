import GyreCore
import GyreArrays

/// Zarr v3 `bytes`: elements in C order, little- or big-endian.
public struct BytesCodec: ArrayToBytesCodec {
    public let bigEndian: Bool
    public var name: String { "bytes" }
    public init(bigEndian: Bool = false) { self.bigEndian = bigEndian }
    public var v3Configuration: JSON { .object(["name": "bytes", "configuration": .object(["endian": bigEndian ? "big" : "little"])]) }

    public func encode(_ array: AnyNDArray) throws -> [UInt8] {
        do { return try array.rawBytes(bigEndian: bigEndian) } catch let e as GyreArraysError {
            throw GyreCodecsError(.unsupported, "bytes: \(e.message)", cause: e)
        }
    }

    public func decode(_ bytes: [UInt8], shape: [Int], dtype: DType) throws -> AnyNDArray {
        do { return try AnyNDArray.fromRawBytes(bytes, shape: shape, dtype: dtype, bigEndian: bigEndian) } catch let e as GyreArraysError {
            throw GyreCodecsError(.corrupt, "bytes: \(e.message)", cause: e)
        }
    }
}

/// Zarr v3 `transpose`: stores the chunk with its axes permuted by `order` (a v2 "F" order
/// array is the reverse permutation).
public struct TransposeCodec: ArrayToArrayCodec {
    public let order: [Int]
    public var name: String { "transpose" }
    public init(order: [Int]) throws {
        guard Set(order) == Set(0..<order.count) else {
            throw GyreCodecsError(.invalidConfiguration, "transpose: order \(order) is not a permutation")
        }
        self.order = order
    }
    public var v3Configuration: JSON { .object(["name": "transpose", "configuration": .object(["order": .array(order.map { .int(Int64($0)) })])]) }

    public func encodedLayout(shape: [Int], dtype: DType) throws -> (shape: [Int], dtype: DType) {
        guard shape.count == order.count else {
            throw GyreCodecsError(.invalidConfiguration, "transpose: order \(order) does not fit \(shape.count) dimensions")
        }
        return (order.map { shape[$0] }, dtype)
    }

    public func encode(_ array: AnyNDArray) throws -> AnyNDArray {
        _ = try encodedLayout(shape: array.shape, dtype: array.dtype)
        return try array.transposed(order).contiguous()
    }

    public func decode(_ array: AnyNDArray, shape: [Int], dtype: DType) throws -> AnyNDArray {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, p) in order.enumerated() { inverse[p] = i }
        return try array.transposed(inverse).contiguous()
    }
}

/// numcodecs `delta`: the first element, then differences, in `dtype`; stored as `astype`.
public struct DeltaCodec: ArrayToArrayCodec {
    public let dtype: DType
    public let astype: DType
    public var name: String { "numcodecs.delta" }
    public init(dtype: DType, astype: DType? = nil) { self.dtype = dtype; self.astype = astype ?? dtype }
    public var v3Configuration: JSON { .object(["name": "numcodecs.delta", "configuration": .object(["dtype": .string(numpyName(dtype)), "astype": .string(numpyName(astype))])]) }

    public func encodedLayout(shape: [Int], dtype: DType) throws -> (shape: [Int], dtype: DType) { (shape, astype) }

    public func encode(_ array: AnyNDArray) throws -> AnyNDArray {
        let flat = try array.astype(dtype).contiguous().reshaped([array.count])
        guard flat.count > 1 else { return try flat.astype(astype).reshaped(array.shape) }
        let first = try flat.slice(axis: 0, Slice(0, 1))
        let d = try flat.diff(axis: 0)
        return try AnyNDArray.concatenate([first, try d.astype(dtype)], axis: 0).astype(astype).reshaped(array.shape)
    }

    public func decode(_ array: AnyNDArray, shape: [Int], dtype target: DType) throws -> AnyNDArray {
        let flat = try array.astype(dtype).reshaped([array.count])
        let restored: AnyNDArray = dtype.isFloatingPoint ? try flat.cumsum(axis: 0, skipna: false) : try flat.cumsum(axis: 0).astype(dtype)
        return try restored.astype(target).reshaped(shape)
    }
}

/// Variable-length UTF-8 strings (numcodecs `vlen-utf8`, Zarr v3 `vlen-utf8`): a 4-byte count,
/// then each string as a 4-byte length and its bytes, all little-endian.
public struct VLenUTF8Codec: ArrayToBytesCodec {
    public var name: String { "vlen-utf8" }
    public init() {}
    public var v3Configuration: JSON { .object(["name": "vlen-utf8", "configuration": .object([:])]) }

    public func encode(_ array: AnyNDArray) throws -> [UInt8] {
        guard case .string(let s, _) = array.contiguous() else {
            throw GyreCodecsError(.unsupported, "vlen-utf8 encodes strings, not \(array.dtype)")
        }
        var out: [UInt8] = []
        func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(s.count))
        for str in s.elements {
            let b = Array(str.utf8)
            put(UInt32(b.count))
            out.append(contentsOf: b)
        }
        return out
    }

    public func decode(_ bytes: [UInt8], shape: [Int], dtype: DType) throws -> AnyNDArray {
        var pos = 0
        func get() throws -> Int {
            guard pos + 4 <= bytes.count else { throw GyreCodecsError(.corrupt, "vlen-utf8: truncated at byte \(pos) of \(bytes.count)") }
            let v = Int(UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16 | UInt32(bytes[pos + 3]) << 24)
            pos += 4
            return v
        }
        let n = try get()
        let expected = shape.reduce(1, *)
        guard n == expected else { throw GyreCodecsError(.corrupt, "vlen-utf8: \(n) strings stored, the chunk holds \(expected)") }
        var items: [String] = []
        items.reserveCapacity(n)
        for _ in 0..<n {
            let len = try get()
            guard len <= bytes.count - pos else { throw GyreCodecsError(.corrupt, "vlen-utf8: a string of \(len) bytes runs past the end") }
            items.append(String(decoding: bytes[pos..<(pos + len)], as: UTF8.self))
            pos += len
        }
        return .string(try NDArray(shape: shape, items), .variable)
    }
}

/// numcodecs `shuffle`: bytes regrouped by their position within each element.
public struct ShuffleCodec: BytesToBytesCodec {
    public let elementSize: Int
    public var name: String { "numcodecs.shuffle" }
    public init(elementSize: Int) { self.elementSize = Swift.max(elementSize, 1) }
    public var v3Configuration: JSON { .object(["name": "numcodecs.shuffle", "configuration": .object(["elementsize": .int(Int64(elementSize))])]) }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        let es = elementSize, n = bytes.count / es
        if es == 1 || n == 0 { return bytes }
        var out = bytes
        for i in 0..<n { for j in 0..<es { out[j * n + i] = bytes[i * es + j] } }
        return out
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        let es = elementSize, n = bytes.count / es
        if es == 1 || n == 0 { return bytes }
        var out = bytes
        out.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { ShuffleCodec.unshuffle($0, into: dst, elementSize: es) } }
        return out
    }

    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard bytes.count == destination.count else {
            throw GyreCodecsError(.corrupt, "shuffle: \(bytes.count) bytes, the chunk needs \(destination.count)")
        }
        ShuffleCodec.unshuffle(bytes, into: destination, elementSize: elementSize)
        return true
    }

    /// Undoes a byte shuffle (numcodecs' and HDF5's alike): `source` holds byte 0 of every
    /// element, then byte 1 of every element, and so on; trailing bytes that make no whole
    /// element stay last, as they are. `destination` has `source`'s length.
    public static func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize es: Int) {
        let total = Swift.min(source.count, destination.count)
        guard total > 0, let sp = source.baseAddress, let dp = destination.baseAddress else { return }
        let n = total / Swift.max(es, 1)
        let s = sp.assumingMemoryBound(to: UInt8.self)
        if es <= 1 || n == 0 {
            dp.copyMemory(from: sp, byteCount: total)
            return
        }
        #if _endian(little)
        // Whole words at once where the destination is aligned for them (little-endian: byte j
        // of an element is bits 8j..8j+7).
        if es == 4 && Int(bitPattern: dp) % 4 == 0 {
            let d = dp.assumingMemoryBound(to: UInt32.self)
            let s0 = s, s1 = s + n, s2 = s + 2 * n, s3 = s + 3 * n
            for i in 0..<n {
                d[i] = UInt32(s0[i]) | UInt32(s1[i]) << 8 | UInt32(s2[i]) << 16 | UInt32(s3[i]) << 24
            }
        } else if es == 8 && Int(bitPattern: dp) % 8 == 0 {
            let d = dp.assumingMemoryBound(to: UInt64.self)
            for i in 0..<n {
                var w: UInt64 = 0
                for j in 0..<8 { w |= UInt64(s[j * n + i]) << UInt64(8 * j) }
                d[i] = w
            }
        } else if es == 2 && Int(bitPattern: dp) % 2 == 0 {
            let d = dp.assumingMemoryBound(to: UInt16.self)
            let s1 = s + n
            for i in 0..<n { d[i] = UInt16(s[i]) | UInt16(s1[i]) << 8 }
        } else {
            genericUnshuffle(s, dp.assumingMemoryBound(to: UInt8.self), n: n, es: es)
        }
        #else
        genericUnshuffle(s, dp.assumingMemoryBound(to: UInt8.self), n: n, es: es)
        #endif
        let rest = total - n * es
        if rest > 0 { (dp + n * es).copyMemory(from: sp + n * es, byteCount: rest) }
    }

    static func genericUnshuffle(_ s: UnsafePointer<UInt8>, _ d: UnsafeMutablePointer<UInt8>, n: Int, es: Int) {
        for j in 0..<es {
            let row = s + j * n
            for i in 0..<n { d[i * es + j] = row[i] }
        }
    }
}

/// Zarr v3 `crc32c`: a 4-byte little-endian CRC-32C (Castagnoli) of the bytes, appended.
public struct CRC32CCodec: BytesToBytesCodec {
    public var name: String { "crc32c" }
    public init() {}
    public var v3Configuration: JSON { .object(["name": "crc32c", "configuration": .object([:])]) }

    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = bytes
        withUnsafeBytes(of: CRC32CCodec.checksum(bytes).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 4 else { throw GyreCodecsError(.corrupt, "crc32c: \(bytes.count) bytes is too short for a checksum") }
        let body = bytes.prefix(bytes.count - 4)
        let n = bytes.count
        let stored = UInt32(bytes[n - 4]) | UInt32(bytes[n - 3]) << 8 | UInt32(bytes[n - 2]) << 16 | UInt32(bytes[n - 1]) << 24
        let actual = CRC32CCodec.checksum(body)
        guard stored == actual else {
            throw GyreCodecsError(.checksum, "crc32c: stored checksum \(String(stored, radix: 16)) does not match the data (\(String(actual, radix: 16)))")
        }
        return Array(body)
    }
}

/// NumPy's short dtype name ("<f4", "|u1", "<M8[ns]") for a dtype, little-endian.
public func numpyName(_ d: DType, bigEndian: Bool = false) -> String {
    let e = bigEndian ? ">" : "<"
    switch d {
    case .bool: return "|b1"
    case .int8: return "|i1"
    case .uint8: return "|u1"
    case .int16: return "\(e)i2"
    case .uint16: return "\(e)u2"
    case .int32: return "\(e)i4"
    case .uint32: return "\(e)u4"
    case .int64: return "\(e)i8"
    case .uint64: return "\(e)u8"
    case .float32: return "\(e)f4"
    case .float64: return "\(e)f8"
    case .datetime64(let u): return "\(e)M8[\(u.rawValue)]"
    case .timedelta64(let u): return "\(e)m8[\(u.rawValue)]"
    case .string(.bytes(let n)): return "|S\(n)"
    case .string(.unicode(let n)): return "\(e)U\(n)"
    case .string(.variable): return "|O"
    case .cftime: return "\(e)i8"
    }
}

/// numcodecs `fletcher32` (HDF5's Fletcher-32 filter): the bytes followed by their 32-bit
/// Fletcher checksum over big-endian 16-bit words, stored little-endian. Decoding checks and
/// strips it.
public struct Fletcher32Codec: BytesToBytesCodec {
    public var name: String { "numcodecs.fletcher32" }
    public init() {}
    public var v3Configuration: JSON { .object(["name": "numcodecs.fletcher32", "configuration": .object([:])]) }

    /// The checksum as HDF5 computes it (`H5_checksum_fletcher32`).
    public static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var sum1: UInt32 = 0, sum2: UInt32 = 0
        var words = data.count / 2, i = 0
        while words > 0 {
            var block = Swift.min(words, 360)
            words -= block
            while block > 0 {
                sum1 &+= UInt32(data[i]) << 8 | UInt32(data[i + 1])
                sum2 &+= sum1
                i += 2
                block -= 1
            }
            sum1 = (sum1 & 0xffff) &+ (sum1 >> 16)
            sum2 = (sum2 & 0xffff) &+ (sum2 >> 16)
        }
        if data.count % 2 == 1 {
            sum1 &+= UInt32(data[i]) << 8
            sum2 &+= sum1
            sum1 = (sum1 & 0xffff) &+ (sum1 >> 16)
            sum2 = (sum2 & 0xffff) &+ (sum2 >> 16)
        }
        sum1 = (sum1 & 0xffff) &+ (sum1 >> 16)
        sum2 = (sum2 & 0xffff) &+ (sum2 >> 16)
        return sum2 << 16 | sum1
    }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        let c = bytes.withUnsafeBytes { Self.checksum($0) }
        return bytes + withUnsafeBytes(of: c.littleEndian) { Array($0) }
    }

    /// The bytes without their checksum, after checking it.
    public static func strip(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        guard bytes.count >= 4 else { throw GyreCodecsError(.corrupt, "fletcher32: \(bytes.count) bytes, shorter than the checksum") }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8 | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        let computed = checksum(body)
        guard stored == computed else {
            throw GyreCodecsError(.corrupt, "fletcher32: checksum \(String(stored, radix: 16)) stored, \(String(computed, radix: 16)) computed (corrupt data)")
        }
        return body
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { Array(try Self.strip($0)) }
    }

    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        let body = try Self.strip(bytes)
        guard body.count == destination.count else {
            throw GyreCodecsError(.corrupt, "fletcher32: \(body.count) bytes, the chunk needs \(destination.count)")
        }
        destination.copyMemory(from: body)
        return true
    }
}
