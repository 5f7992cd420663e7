import GyreStorage

/// The TIFF tags this reader knows, by number (TIFF 6.0, the TIFF Technical Notes, GeoTIFF 1.1
/// and GDAL's private tags).
public enum TIFFTag {
    public static let newSubfileType: UInt16 = 254
    public static let imageWidth: UInt16 = 256
    public static let imageLength: UInt16 = 257
    public static let bitsPerSample: UInt16 = 258
    public static let compression: UInt16 = 259
    public static let photometric: UInt16 = 262
    public static let stripOffsets: UInt16 = 273
    public static let samplesPerPixel: UInt16 = 277
    public static let rowsPerStrip: UInt16 = 278
    public static let stripByteCounts: UInt16 = 279
    public static let planarConfiguration: UInt16 = 284
    public static let predictor: UInt16 = 317
    public static let tileWidth: UInt16 = 322
    public static let tileLength: UInt16 = 323
    public static let tileOffsets: UInt16 = 324
    public static let tileByteCounts: UInt16 = 325
    public static let extraSamples: UInt16 = 338
    public static let sampleFormat: UInt16 = 339
    public static let jpegTables: UInt16 = 347
    public static let modelPixelScale: UInt16 = 33550
    public static let modelTiepoint: UInt16 = 33922
    public static let modelTransformation: UInt16 = 34264
    public static let geoKeyDirectory: UInt16 = 34735
    public static let geoDoubleParams: UInt16 = 34736
    public static let geoAsciiParams: UInt16 = 34737
    public static let gdalMetadata: UInt16 = 42112
    public static let gdalNodata: UInt16 = 42113
}

/// One tag's value as stored: numbers (every integer and rational type widened), doubles, or
/// text.
public enum TIFFValue: Sendable, Equatable {
    case integers([Int64])
    case doubles([Double])
    case text(String)
    case bytes([UInt8])

    public var integers: [Int64]? {
        switch self {
        case .integers(let v): return v
        case .bytes(let b): return b.map { Int64($0) }
        default: return nil
        }
    }
    public var doubles: [Double]? {
        switch self {
        case .doubles(let v): return v
        case .integers(let v): return v.map { Double($0) }
        default: return nil
        }
    }
    public var text: String? {
        switch self {
        case .text(let s): return s
        case .bytes(let b): return String(decoding: b.prefix { $0 != 0 }, as: UTF8.self)
        default: return nil
        }
    }
}

/// The bytes of a TIFF file read by range: the first block once, and more where a directory or
/// a tag's values lie beyond what was read (a COG has them all in its first kilobytes).
final class TIFFBytes {
    let store: any ReadableStore
    let key: String
    let name: String
    private var blocks: [(start: Int, bytes: [UInt8])] = []
    /// The file's length, once a read has found its end.
    private(set) var size: Int?
    static let blockSize = 64 << 10

    init(store: any ReadableStore, key: String, name: String) {
        self.store = store
        self.key = key
        self.name = name
    }

    /// Exactly `count` bytes at `offset`, or an error saying the file ends first.
    func bytes(at offset: Int, count: Int, what: @autoclosure () -> String) async throws -> ArraySlice<UInt8> {
        guard offset >= 0, count >= 0, offset < Int.max >> 1, count < Int.max >> 2 else {
            throw GyreTIFFError(.format, "\(name): \(what()) at offset \(offset) (\(count) bytes) is impossible")
        }
        if let size, offset + count > size {
            throw GyreTIFFError(.format, "\(name): \(what()) at bytes \(offset)..<\(offset + count) lies past the end of the file (\(size) bytes; truncated?)")
        }
        for b in blocks where offset >= b.start && offset + count <= b.start + b.bytes.count {
            return b.bytes[(offset - b.start)..<(offset - b.start + count)]
        }
        let want = Swift.min(Swift.max(count, Self.blockSize), Int.max - offset)
        let got = try await read(at: offset, upTo: want)
        if got.count < want { size = Swift.min(size ?? Int.max, offset + got.count) }
        guard got.count >= count else {
            throw GyreTIFFError(.format, "\(name): \(what()) at bytes \(offset)..<\(offset + count) lies past the end of the file (\(offset + got.count) bytes; truncated?)")
        }
        blocks.append((offset, got))
        if blocks.count > 64 { blocks.removeFirst() }
        return got[0..<count]
    }

    /// Up to `count` bytes at `offset` (fewer where the file ends first).
    func read(at offset: Int, upTo count: Int) async throws -> [UInt8] {
        do {
            guard let b = try await store.get(key, range: .range(offset: offset, length: count)) else { throw missing() }
            return b
        } catch let e as GyreStorageError where e.code == .invalidRange {
            do {
                guard let b = try await store.get(key, range: .from(offset: offset)) else { throw missing() }
                return Array(b.prefix(count))
            } catch let e as GyreStorageError where e.code == .invalidRange { return [] }
        }
    }

    func missing() -> GyreTIFFError { GyreTIFFError(.notFound, "\(name): no such file") }
}

/// A TIFF file's header and image file directories, parsed from bytes read by range.
struct TIFFParser {
    let bytes: TIFFBytes
    var littleEndian = true
    var big = false

    init(_ bytes: TIFFBytes) { self.bytes = bytes }

    func u16(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt16 {
        let i = b.startIndex + at
        return littleEndian ? UInt16(b[i]) | UInt16(b[i + 1]) << 8 : UInt16(b[i]) << 8 | UInt16(b[i + 1])
    }
    func u32(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(b[b.startIndex + at + k]) << (littleEndian ? 8 * k : 8 * (3 - k)) }
        return v
    }
    func u64(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(b[b.startIndex + at + k]) << (littleEndian ? 8 * k : 8 * (7 - k)) }
        return v
    }
    func offset(_ b: ArraySlice<UInt8>, _ at: Int) -> UInt64 { big ? u64(b, at) : UInt64(u32(b, at)) }

    /// The byte order, the variant and the first directory's offset.
    mutating func header() async throws -> Int {
        let h = try await bytes.bytes(at: 0, count: 8, what: "the header")
        switch (h[0], h[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: throw GyreTIFFError(.format, "\(bytes.name): not a TIFF file (it starts with \(h.prefix(4).map { String(format2: $0) }.joined(separator: " ")))")
        }
        switch u16(h, 2) {
        case 42:
            big = false
            return Int(u32(h, 4))
        case 43:
            big = true
            let h16 = try await bytes.bytes(at: 0, count: 16, what: "the BigTIFF header")
            guard u16(h16, 4) == 8, u16(h16, 6) == 0 else {
                throw GyreTIFFError(.format, "\(bytes.name): a BigTIFF header with offsets of \(u16(h16, 4)) bytes")
            }
            let o = u64(h16, 8)
            guard o < UInt64(Int.max >> 1) else { throw GyreTIFFError(.format, "\(bytes.name): first directory offset \(o) is impossible") }
            return Int(o)
        case let v: throw GyreTIFFError(.format, "\(bytes.name): TIFF version \(v) (42 for TIFF, 43 for BigTIFF)")
        }
    }

    static func typeSize(_ t: UInt16) -> Int? {
        switch t {
        case 1, 2, 6, 7: return 1
        case 3, 8: return 2
        case 4, 9, 11, 13: return 4
        case 5, 10, 12, 16, 17, 18: return 8
        default: return nil
        }
    }

    /// The directory at `at`: its tags (values fetched where they lie outside it) and the
    /// next directory's offset (0 at the last).
    func directory(at start: Int, index: Int) async throws -> (tags: [UInt16: TIFFValue], next: Int) {
        let what = "directory \(index)"
        let countSize = big ? 8 : 2, entrySize = big ? 20 : 12, inline = big ? 8 : 4
        let head = try await bytes.bytes(at: start, count: countSize, what: what)
        let n = big ? u64(head, 0) : UInt64(u16(head, 0))
        guard n > 0, n < 10_000 else { throw GyreTIFFError(.format, "\(bytes.name): \(what) at offset \(start) claims \(n) entries") }
        let body = try await bytes.bytes(at: start + countSize, count: Int(n) * entrySize + (big ? 8 : 4), what: what)
        var tags: [UInt16: TIFFValue] = [:]
        for e in 0..<Int(n) {
            let o = e * entrySize
            let tag = u16(body, o), type = u16(body, o + 2)
            let count = big ? u64(body, o + 4) : UInt64(u32(body, o + 4))
            guard let size = Self.typeSize(type) else { continue }  // unknown types are skipped, as TIFF 6 says
            guard count < UInt64(1 << 40) / UInt64(size) else {
                throw GyreTIFFError(.format, "\(bytes.name): \(what), tag \(tag): \(count) values is impossible")
            }
            let total = Int(count) * size
            let raw: ArraySlice<UInt8>
            if total <= inline {
                raw = body[(body.startIndex + o + (big ? 12 : 8))..<(body.startIndex + o + (big ? 12 : 8) + total)]
            } else {
                let vo = offset(body, o + (big ? 12 : 8))
                guard vo < UInt64(Int.max >> 1) else { throw GyreTIFFError(.format, "\(bytes.name): \(what), tag \(tag): value offset \(vo) is impossible") }
                raw = try await bytes.bytes(at: Int(vo), count: total, what: "\(what), tag \(tag)'s \(count) values")
            }
            tags[tag] = decode(raw, type: type, count: Int(count))
        }
        let next = offset(body, Int(n) * entrySize)
        guard next < UInt64(Int.max >> 1) else { throw GyreTIFFError(.format, "\(bytes.name): \(what): next directory offset \(next) is impossible") }
        return (tags, Int(next))
    }

    func decode(_ b: ArraySlice<UInt8>, type: UInt16, count: Int) -> TIFFValue {
        switch type {
        case 2: return .text(String(decoding: b.prefix { $0 != 0 }, as: UTF8.self))
        case 1, 7: return .bytes(Array(b))
        case 6: return .integers(b.map { Int64(Int8(bitPattern: $0)) })
        case 3: return .integers((0..<count).map { Int64(u16(b, 2 * $0)) })
        case 8: return .integers((0..<count).map { Int64(Int16(bitPattern: u16(b, 2 * $0))) })
        case 4, 13: return .integers((0..<count).map { Int64(u32(b, 4 * $0)) })
        case 9: return .integers((0..<count).map { Int64(Int32(bitPattern: u32(b, 4 * $0))) })
        case 16, 18: return .integers((0..<count).map { Int64(bitPattern: u64(b, 8 * $0)) })
        case 17: return .integers((0..<count).map { Int64(bitPattern: u64(b, 8 * $0)) })
        case 5: return .doubles((0..<count).map { let d = u32(b, 8 * $0 + 4); return d == 0 ? .nan : Double(u32(b, 8 * $0)) / Double(d) })
        case 10: return .doubles((0..<count).map { let d = Int32(bitPattern: u32(b, 8 * $0 + 4)); return d == 0 ? .nan : Double(Int32(bitPattern: u32(b, 8 * $0))) / Double(d) })
        case 11: return .doubles((0..<count).map { Double(Float(bitPattern: u32(b, 4 * $0))) })
        case 12: return .doubles((0..<count).map { Double(bitPattern: u64(b, 8 * $0)) })
        default: return .bytes(Array(b))
        }
    }

    /// Every directory in the chain, at most `limit` (a loop in the chain is an error).
    mutating func directories(limit: Int = 256) async throws -> [[UInt16: TIFFValue]] {
        var at = try await header()
        var seen = Set<Int>()
        var out: [[UInt16: TIFFValue]] = []
        while at != 0 {
            guard seen.insert(at).inserted else { throw GyreTIFFError(.format, "\(bytes.name): the directory chain loops back to offset \(at)") }
            guard out.count < limit else { throw GyreTIFFError(.format, "\(bytes.name): more than \(limit) directories") }
            let (tags, next) = try await directory(at: at, index: out.count)
            out.append(tags)
            at = next
        }
        guard !out.isEmpty else { throw GyreTIFFError(.format, "\(bytes.name): no image directory (first offset 0)") }
        return out
    }
}

extension String {
    init(format2 b: UInt8) {
        let h = String(b, radix: 16)
        self = h.count == 1 ? "0" + h : h
    }
}
