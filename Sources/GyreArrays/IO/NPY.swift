import GyreCore
import Foundation

/// NumPy's `.npy` format (versions 1-3): the exchange format for arrays with the Python peers.
extension AnyNDArray {
    /// Parses an `.npy` payload. Corrupt or truncated data gives an error naming what is wrong;
    /// `source` names the file in messages.
    public init(npy data: Data, source: String = "<npy>") throws {
        self = try data.withUnsafeBytes { try AnyNDArray.npyPrefix($0, source: source).array }
    }

    /// Parses the `.npy` payload at the start of `raw` (more bytes may follow it): the array
    /// and the bytes the payload takes.
    package static func npyPrefix(_ raw: UnsafeRawBufferPointer, source: String = "<npy>") throws -> (array: AnyNDArray, length: Int) {
        func fail(_ why: String) -> GyreArraysError { GyreArraysError(.corruptData, "\(source): \(why)") }
        let bytes = [UInt8](raw.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("not an .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1: headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: throw fail("unsupported .npy version \(major)")
        }
        guard raw.count >= headerStart + headerLen else { throw fail("truncated header") }
        let headerBytes = Data(raw[headerStart..<(headerStart + headerLen)])
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else { throw fail("unreadable header") }
        func field(_ key: String) throws -> String {
            guard let r = header.range(of: "'\(key)':") else { throw fail("header has no '\(key)'") }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        let descrText = try field("descr")
        guard descrText.hasPrefix("'"), let end = descrText.dropFirst().firstIndex(of: "'") else {
            throw fail("unsupported descr (structured dtypes are not supported)")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        let fortran = try field("fortran_order").hasPrefix("True")
        let shapeText = try field("shape")
        guard let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else { throw fail("bad shape") }
        let shape = try shapeText[shapeText.index(after: open)..<close].split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= 0 else { throw fail("bad shape '\(shapeText)'") }
            return v
        }
        let (dtype, bigEndian) = try parseNumpyDescr(descr, source: source)
        let count = shape.reduce(1, *)
        let itemSize = dtype.itemSize
        let payloadStart = headerStart + headerLen
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow, raw.count - payloadStart >= needed else {
            throw fail("truncated data: shape \(shape) of \(descr) needs \(needed) bytes, file has \(raw.count - payloadStart)")
        }
        let storeShape = fortran ? Array(shape.reversed()) : shape
        var arr = try AnyNDArray.fromRaw(raw.baseAddress! + payloadStart, count: count, shape: storeShape, dtype: dtype, swap: bigEndian)
        if fortran { arr = try arr.transposed() }
        return (arr, payloadStart + needed)
    }

    /// Reads an `.npy` file.
    public static func readNPY(_ url: URL) throws -> AnyNDArray {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw GyreArraysError(.corruptData, "cannot read \(url.path): \(error.localizedDescription)")
        }
        return try AnyNDArray(npy: data, source: url.path)
    }

    /// Builds an array from raw little-endian (or byte-swapped) element bytes.
    package static func fromRaw(_ p: UnsafeRawPointer, count: Int, shape: [Int], dtype: DType, swap: Bool) throws -> AnyNDArray {
        func typed<T: FixedWidthInteger>(_: T.Type) -> NDArray<T> {
            if !swap || T.bitWidth == 8 {
                return NDArray<T>(shape: shape) { dst in
                    if count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: p, byteCount: count * MemoryLayout<T>.size) }
                }
            }
            return NDArray<T>(shape: shape) { dst in
                for i in 0..<count {
                    let v = p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                    (dst.baseAddress! + i).initialize(to: swap ? v.byteSwapped : v)
                }
            }
        }
        switch dtype {
        case .bool: return .bool(typed(UInt8.self).map { $0 != 0 })
        case .int8: return .int8(typed(Int8.self))
        case .int16: return .int16(typed(Int16.self))
        case .int32: return .int32(typed(Int32.self))
        case .int64: return .int64(typed(Int64.self))
        case .uint8: return .uint8(typed(UInt8.self))
        case .uint16: return .uint16(typed(UInt16.self))
        case .uint32: return .uint32(typed(UInt32.self))
        case .uint64: return .uint64(typed(UInt64.self))
        case .float32:
            if !swap {
                return .float32(NDArray<Float>(shape: shape) { dst in
                    if count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: p, byteCount: count * 4) }
                })
            }
            return .float32(typed(UInt32.self).map { Float(bitPattern: $0) })
        case .float64:
            if !swap {
                return .float64(NDArray<Double>(shape: shape) { dst in
                    if count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: p, byteCount: count * 8) }
                })
            }
            return .float64(typed(UInt64.self).map { Double(bitPattern: $0) })
        case .datetime64(let u): return .datetime64(typed(Int64.self), u)
        case .timedelta64(let u): return .timedelta64(typed(Int64.self), u)
        case .string(.bytes(let n)):
            return .string(NDArray<String>(shape: shape) { dst in
                for i in 0..<count {
                    var bytes = [UInt8](UnsafeRawBufferPointer(start: p + i * n, count: n))
                    while bytes.last == 0 { bytes.removeLast() }
                    (dst.baseAddress! + i).initialize(to: String(decoding: bytes, as: UTF8.self))
                }
            }, .bytes(n))
        case .string(.unicode(let n)):
            return .string(NDArray<String>(shape: shape) { dst in
                for i in 0..<count {
                    var s = String.UnicodeScalarView()
                    for k in 0..<n {
                        var cp = p.loadUnaligned(fromByteOffset: (i * n + k) * 4, as: UInt32.self)
                        if swap { cp = cp.byteSwapped }
                        if cp == 0 { break }
                        s.append(Unicode.Scalar(cp) ?? "\u{FFFD}")
                    }
                    (dst.baseAddress! + i).initialize(to: String(s))
                }
            }, .unicode(n))
        default:
            throw GyreArraysError(.unsupportedDType, "cannot build \(dtype) from raw bytes")
        }
    }

    /// The `.npy` header (version 1.0, little-endian, C order) of the array.
    func npyHeader() throws -> [UInt8] {
        let descr: String
        switch dtype {
        case .bool: descr = "|b1"
        case .int8: descr = "|i1"
        case .uint8: descr = "|u1"
        case .int16: descr = "<i2"
        case .uint16: descr = "<u2"
        case .int32: descr = "<i4"
        case .uint32: descr = "<u4"
        case .int64: descr = "<i8"
        case .uint64: descr = "<u8"
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .datetime64(let u): descr = "<M8[\(u.rawValue)]"
        case .timedelta64(let u): descr = "<m8[\(u.rawValue)]"
        default: throw GyreArraysError(.unsupportedDType, "cannot write \(dtype) to .npy")
        }
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
    }

    /// The array as an `.npy` payload (version 1.0, little-endian, C order).
    public func npyData() throws -> Data {
        var out: [UInt8] = []
        try appendNPY(to: &out)
        return Data(out)
    }

    /// Appends the array as an `.npy` payload to `out`: its header, then its elements copied
    /// once.
    package func appendNPY(to out: inout [UInt8]) throws {
        let header = try npyHeader()
        out.reserveCapacity(out.count + header.count + count * Swift.max(dtype.itemSize, 1))
        out += header
        final class Sink { var out: [UInt8] = [] }
        struct Bytes: _ArrayReader {
            let sink: Sink
            func read<T>(_ a: NDArray<T>) {
                if let b = a as? NDArray<Bool> { sink.out += b.elements.map { $0 ? 1 : 0 }; return }
                a.withUnsafeBufferPointer { sink.out.append(contentsOf: UnsafeRawBufferPointer($0)) }
            }
        }
        let sink = Sink()
        swap(&sink.out, &out)
        contiguous()._read(Bytes(sink: sink))
        swap(&sink.out, &out)
    }
}

/// Parses a NumPy dtype string ("<f4", ">i2", "|b1", "<M8[ns]", "<U8", "|S4") into a dtype and
/// whether its bytes are big-endian.
public func parseNumpyDescr(_ descr: String, source: String = "dtype") throws -> (DType, bigEndian: Bool) {
    var s = Substring(descr)
    var big = false
    if let f = s.first, "<>|=".contains(f) { big = f == ">"; s = s.dropFirst() }
    func fail() -> GyreArraysError { GyreArraysError(.unsupportedDType, "\(source): unsupported dtype '\(descr)'") }
    guard let kind = s.first else { throw fail() }
    let rest = s.dropFirst()
    if kind == "M" || kind == "m" {
        guard rest.hasPrefix("8["), rest.hasSuffix("]"), let u = TimeUnit(rawValue: String(rest.dropFirst(2).dropLast())) else { throw fail() }
        return (kind == "M" ? .datetime64(u) : .timedelta64(u), big)
    }
    guard let n = Int(rest) else { throw fail() }
    switch (kind, n) {
    case ("b", 1): return (.bool, false)
    case ("i", 1): return (.int8, false)
    case ("i", 2): return (.int16, big)
    case ("i", 4): return (.int32, big)
    case ("i", 8): return (.int64, big)
    case ("u", 1): return (.uint8, false)
    case ("u", 2): return (.uint16, big)
    case ("u", 4): return (.uint32, big)
    case ("u", 8): return (.uint64, big)
    case ("f", 4): return (.float32, big)
    case ("f", 8): return (.float64, big)
    case ("U", _) where n > 0: return (.string(.unicode(n)), big)
    case ("S", _) where n > 0: return (.string(.bytes(n)), false)
    default: throw fail()
    }
}
