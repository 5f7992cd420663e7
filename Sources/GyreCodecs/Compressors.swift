import GyreCore
import CBlosc
import CLZ4
import CZlib
import CDeflate
import CZstd
import GyreArrays

/// Zstandard (numcodecs `zstd`, Zarr v3 `zstd`): a plain zstd frame.
public struct ZstdCodec: BytesToBytesCodec {
    public let level: Int32
    public let checksum: Bool
    public var name: String { "zstd" }
    public init(level: Int32 = 3, checksum: Bool = false) { self.level = level; self.checksum = checksum }
    public var v3Configuration: JSON { .object(["name": "zstd", "configuration": .object(["level": .int(Int64(level)), "checksum": .bool(checksum)])]) }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] { try bytes.withUnsafeBytes { try encode(raw: $0) } }

    public func encode(raw source: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else { throw GyreCodecsError(.encode, "zstd: cannot create a context") }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        let cap = ZSTD_compressBound(source.count)
        var failure: String?
        let out = [UInt8](unsafeUninitializedCapacity: cap) { dst, n in
            let r = ZSTD_compress2(cctx, dst.baseAddress, cap, source.baseAddress, source.count)
            if ZSTD_isError(r) != 0 { failure = String(cString: ZSTD_getErrorName(r)); n = 0 } else { n = r }
        }
        if let failure { throw GyreCodecsError(.encode, "zstd: \(failure)") }
        return out
    }

    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        let size = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        guard size < UInt64.max - 1 else { return false }
        guard size == UInt64(destination.count) else {
            throw GyreCodecsError(.corrupt, "zstd: frame holds \(size) bytes, the chunk needs \(destination.count)")
        }
        let r = ZSTD_decompress(destination.baseAddress, destination.count, bytes.baseAddress, bytes.count)
        if ZSTD_isError(r) != 0 { throw GyreCodecsError(.corrupt, "zstd: \(String(cString: ZSTD_getErrorName(r)))") }
        guard r == destination.count else { throw GyreCodecsError(.corrupt, "zstd: frame decoded to \(r) of \(destination.count) bytes") }
        return true
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        let size = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, bytes.count) }
        if size == UInt64.max - 1 { throw GyreCodecsError(.corrupt, "zstd: not a zstd frame (\(bytes.count) bytes)") }
        if size != UInt64.max {
            guard size < 1 << 40 else { throw GyreCodecsError(.corrupt, "zstd: frame claims an absurd size of \(size) bytes") }
            var failure: String?
            let out = [UInt8](unsafeUninitializedCapacity: Int(size)) { dst, n in
                let r = bytes.withUnsafeBytes { ZSTD_decompress(dst.baseAddress, Int(size), $0.baseAddress, bytes.count) }
                if ZSTD_isError(r) != 0 { failure = String(cString: ZSTD_getErrorName(r)); n = 0 } else { n = r }
            }
            if let failure { throw GyreCodecsError(.corrupt, "zstd: \(failure)") }
            guard out.count == Int(size) else { throw GyreCodecsError(.corrupt, "zstd: frame decoded to \(out.count) of \(size) bytes") }
            return out
        }
        // Size not in the frame header: stream.
        guard let dctx = ZSTD_createDStream() else { throw GyreCodecsError(.corrupt, "zstd: cannot create a stream") }
        defer { ZSTD_freeDStream(dctx) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        try bytes.withUnsafeBytes { src in
            var input = ZSTD_inBuffer(src: src.baseAddress, size: bytes.count, pos: 0)
            var last = 1
            while input.pos < input.size || last != 0 {
                let r = chunk.withUnsafeMutableBytes { dst -> Int in
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                    let r = ZSTD_decompressStream(dctx, &output, &input)
                    if ZSTD_isError(r) == 0 { out.append(contentsOf: dst.prefix(output.pos)) }
                    return r
                }
                if ZSTD_isError(r) != 0 { throw GyreCodecsError(.corrupt, "zstd: \(String(cString: ZSTD_getErrorName(r)))") }
                if r == 0 { break }
                if input.pos >= input.size && last == r { throw GyreCodecsError(.corrupt, "zstd: truncated frame") }
                last = r
            }
        }
        return out
    }
}

/// zlib (numcodecs `zlib`) and gzip (numcodecs and Zarr v3 `gzip`) through the zlib library.
public struct ZlibCodec: BytesToBytesCodec {
    public enum Format: Sendable { case zlib, gzip }
    public let level: Int32
    public let format: Format
    public var name: String { format == .zlib ? "zlib" : "gzip" }
    public init(level: Int32 = 1, format: Format = .zlib) { self.level = level; self.format = format }
    public var v3Configuration: JSON { .object(["name": .string(name), "configuration": .object(["level": .int(Int64(level))])]) }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        var strm = z_stream()
        let windowBits: Int32 = format == .gzip ? 16 + 15 : 15
        guard deflateInit2_(&strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GyreCodecsError(.encode, "\(name): cannot initialize (level \(level))")
        }
        defer { deflateEnd(&strm) }
        let cap = Int(deflateBound(&strm, uLong(bytes.count))) + 32
        var status: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: cap) { dst, n in
            bytes.withUnsafeBytes { src in
                strm.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
                strm.avail_in = uInt(bytes.count)
                strm.next_out = dst.baseAddress
                strm.avail_out = uInt(cap)
                status = deflate(&strm, Z_FINISH)
            }
            n = cap - Int(strm.avail_out)
        }
        guard status == Z_STREAM_END else { throw GyreCodecsError(.encode, "\(name): deflate failed (\(status))") }
        return out
    }

    /// Decodes with libdeflate when the decoded size is known (about twice zlib's speed).
    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        try decode(raw: bytes, into: destination)
        return true
    }

    /// Decodes a zlib or gzip stream from memory into exactly `destination.count` bytes.
    public func decode(raw source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
        guard let d = libdeflate_alloc_decompressor() else { throw GyreCodecsError(.corrupt, "\(name): cannot allocate a decompressor") }
        defer { libdeflate_free_decompressor(d) }
        var produced = 0
        let r = format == .zlib
            ? libdeflate_zlib_decompress(d, source.baseAddress, source.count, destination.baseAddress, destination.count, &produced)
            : libdeflate_gzip_decompress(d, source.baseAddress, source.count, destination.baseAddress, destination.count, &produced)
        switch r {
        case LIBDEFLATE_SUCCESS:
            guard produced == destination.count else {
                throw GyreCodecsError(.corrupt, "\(name): stream decoded to \(produced) bytes, the chunk needs \(destination.count)")
            }
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            throw GyreCodecsError(.corrupt, "\(name): stream decodes to more than the chunk's \(destination.count) bytes")
        default:
            throw GyreCodecsError(.corrupt, "\(name): corrupt or truncated stream (\(source.count) bytes)")
        }
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        var strm = z_stream()
        let windowBits: Int32 = format == .gzip ? 16 + 15 : 15
        guard inflateInit2_(&strm, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GyreCodecsError(.corrupt, "\(name): cannot initialize")
        }
        defer { inflateEnd(&strm) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        var status: Int32 = Z_OK
        try bytes.withUnsafeBytes { src in
            strm.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
            strm.avail_in = uInt(bytes.count)
            repeat {
                chunk.withUnsafeMutableBytes { dst in
                    strm.next_out = dst.bindMemory(to: Bytef.self).baseAddress
                    strm.avail_out = uInt(dst.count)
                    status = inflate(&strm, Z_NO_FLUSH)
                    out.append(contentsOf: dst.prefix(dst.count - Int(strm.avail_out)))
                }
                if status != Z_OK && status != Z_STREAM_END {
                    let msg = strm.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw GyreCodecsError(.corrupt, "\(name): \(msg)")
                }
                if status == Z_OK && strm.avail_in == 0 && strm.avail_out != 0 {
                    throw GyreCodecsError(.corrupt, "\(name): truncated stream")
                }
            } while status != Z_STREAM_END
        }
        return out
    }
}

/// LZ4 with numcodecs' framing: a 4-byte little-endian uncompressed size, then an LZ4 block.
public struct LZ4Codec: BytesToBytesCodec {
    public let acceleration: Int32
    public var name: String { "lz4" }
    public init(acceleration: Int32 = 1) { self.acceleration = acceleration }
    public var v3Configuration: JSON { .object(["name": "numcodecs.lz4", "configuration": .object(["acceleration": .int(Int64(acceleration))])]) }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw GyreCodecsError(.encode, "lz4: \(bytes.count) bytes is more than LZ4 can take") }
        let cap = Int(LZ4_compressBound(Int32(bytes.count))) + 4
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: cap) { dst, n in
            let size = UInt32(bytes.count).littleEndian
            withUnsafeBytes(of: size) { for i in 0..<4 { dst[i] = $0[i] } }
            let r = bytes.withUnsafeBytes { src in
                LZ4_compress_fast(src.bindMemory(to: CChar.self).baseAddress, UnsafeMutableRawPointer(dst.baseAddress! + 4).assumingMemoryBound(to: CChar.self),
                                  Int32(bytes.count), Int32(cap - 4), acceleration)
            }
            if r <= 0 && !bytes.isEmpty { failed = true; n = 0 } else { n = 4 + Int(r) }
        }
        if failed { throw GyreCodecsError(.encode, "lz4: compression failed") }
        return out
    }

    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard bytes.count >= 4 else { throw GyreCodecsError(.corrupt, "lz4: \(bytes.count) bytes is too short for the size header") }
        let size = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard size == destination.count else { throw GyreCodecsError(.corrupt, "lz4: block holds \(size) bytes, the chunk needs \(destination.count)") }
        if size == 0 { return true }
        let got = LZ4_decompress_safe(bytes.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                      destination.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count - 4), Int32(size))
        guard got == Int32(size) else { throw GyreCodecsError(.corrupt, "lz4: block decoded to \(got) of \(size) bytes") }
        return true
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 4 else { throw GyreCodecsError(.corrupt, "lz4: \(bytes.count) bytes is too short for the size header") }
        let size = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard size <= Int(LZ4_MAX_INPUT_SIZE) else { throw GyreCodecsError(.corrupt, "lz4: header claims an absurd size of \(size) bytes") }
        var got: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: size) { dst, n in
            got = bytes.withUnsafeBytes { src in
                LZ4_decompress_safe(src.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                    UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(bytes.count - 4), Int32(size))
            }
            n = got < 0 ? 0 : Int(got)
        }
        guard got == Int32(size) else { throw GyreCodecsError(.corrupt, "lz4: block decoded to \(got) of \(size) bytes") }
        return out
    }
}

/// Blosc (numcodecs `blosc`, Zarr v3 `blosc`) with every compressor the library was built with.
public struct BloscCodec: BytesToBytesCodec {
    public enum Shuffle: String, Sendable { case noshuffle, shuffle, bitshuffle
        var code: Int32 { switch self { case .noshuffle: return 0; case .shuffle: return 1; case .bitshuffle: return 2 } }
    }
    public let cname: String
    public let clevel: Int32
    public let shuffle: Shuffle
    public let typesize: Int
    public let blocksize: Int
    public var name: String { "blosc" }

    public init(cname: String = "lz4", clevel: Int32 = 5, shuffle: Shuffle = .shuffle, typesize: Int = 1, blocksize: Int = 0) throws {
        guard blosc_compname_to_compcode(cname) >= 0 else {
            throw GyreCodecsError(.unsupported, "blosc: compressor '\(cname)' is not available; have \(String(cString: blosc_list_compressors()))")
        }
        guard (0...9).contains(clevel) else { throw GyreCodecsError(.invalidConfiguration, "blosc: clevel must be 0...9, got \(clevel)") }
        self.cname = cname
        self.clevel = clevel
        self.shuffle = shuffle
        self.typesize = Swift.max(typesize, 1)
        self.blocksize = blocksize
    }

    public var v3Configuration: JSON {
        .object(["name": "blosc", "configuration": .object(["cname": .string(cname), "clevel": .int(Int64(clevel)),
                 "shuffle": .string(shuffle.rawValue), "typesize": .int(Int64(typesize)), "blocksize": .int(Int64(blocksize))])])
    }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] { try bytes.withUnsafeBytes { try encode(raw: $0) } }

    public func encode(raw source: UnsafeRawBufferPointer) throws -> [UInt8] {
        let cap = source.count + Int(BLOSC_MAX_OVERHEAD)
        var r: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: cap) { dst, n in
            r = blosc_compress_ctx(clevel, shuffle.code, typesize, source.count, source.baseAddress, dst.baseAddress, cap, cname, blocksize, 1)
            n = r > 0 ? Int(r) : 0
        }
        guard r > 0 else { throw GyreCodecsError(.encode, "blosc: compression failed (\(r))") }
        return out
    }

    /// Decodes a byte range of the chunk with `blosc_getitem`, which decompresses only the
    /// blocks holding it. The header and the block offsets are checked against the buffer first
    /// (`blosc_getitem` trusts them).
    public var decodesRanges: Bool { true }

    public func decode(raw bytes: UnsafeRawBufferPointer, range: Range<Int>, decodedCount: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard destination.count == range.count, range.lowerBound >= 0, range.upperBound <= decodedCount else {
            throw GyreCodecsError(.invalidConfiguration, "blosc: range \(range) of a \(decodedCount)-byte chunk into \(destination.count) bytes")
        }
        let header = Int(BLOSC_MIN_HEADER_LENGTH)
        guard bytes.count >= header else {
            throw GyreCodecsError(.corrupt, "blosc: \(bytes.count) bytes is too short for a blosc header")
        }
        var nbytes = 0
        let valid = blosc_cbuffer_validate(bytes.baseAddress, bytes.count, &nbytes)
        guard valid == 0 else { throw GyreCodecsError(.corrupt, "blosc: the header does not describe a valid \(bytes.count)-byte buffer") }
        guard nbytes == decodedCount else { throw GyreCodecsError(.corrupt, "blosc: buffer holds \(nbytes) bytes, the chunk needs \(decodedCount)") }
        if range.isEmpty { return true }
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        let flags = bytes[2], itemSize = Int(bytes[3]), blocksize = u32(8)
        guard itemSize > 0, range.lowerBound % itemSize == 0, range.count % itemSize == 0,
              decodedCount / itemSize <= Int(Int32.max) else { return false }
        if flags & 0x02 == 0 {   // not stored as a plain copy: block offsets follow the header
            guard blocksize > 0 else { throw GyreCodecsError(.corrupt, "blosc: block size 0") }
            let blocks = (nbytes + blocksize - 1) / blocksize
            guard header + 4 * blocks <= bytes.count else {
                throw GyreCodecsError(.corrupt, "blosc: \(blocks) block offsets do not fit in \(bytes.count) bytes")
            }
            for j in 0..<blocks {
                let start = u32(header + 4 * j)
                guard start >= header + 4 * blocks, start < bytes.count else {
                    throw GyreCodecsError(.corrupt, "blosc: block \(j) starts at byte \(start), outside the \(bytes.count)-byte buffer")
                }
            }
        }
        if flags & 0x02 == 0, let done = try Self.gatherItems(bytes, range: range, into: destination) { return done }
        let r = blosc_getitem(bytes.baseAddress, Int32(range.lowerBound / itemSize), Int32(range.count / itemSize), destination.baseAddress)
        guard Int(r) == range.count else { throw GyreCodecsError(.corrupt, "blosc: decompressing bytes \(range) failed (\(r))") }
        return true
    }

    /// The header (16 bytes), the block offsets, and the compressed blocks that hold the
    /// ranges; a plain copy's header and the ranges themselves. Nil where `decode(raw:range:)`
    /// would not decode the ranges by parts (items not of the stream's type size).
    public func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], decodedCount: Int) throws -> StoredRanges? {
        let header = Int(BLOSC_MIN_HEADER_LENGTH)
        guard head.count >= header else { return .head(header) }
        func u32(_ at: Int) -> Int { Int(head[at]) | Int(head[at + 1]) << 8 | Int(head[at + 2]) << 16 | Int(head[at + 3]) << 24 }
        let flags = head[2], itemSize = Int(head[3]), nbytes = u32(4), blocksize = u32(8), cbytes = u32(12)
        guard nbytes == decodedCount else { throw GyreCodecsError(.corrupt, "blosc: buffer holds \(nbytes) bytes, the chunk needs \(decodedCount)") }
        guard cbytes >= header else { throw GyreCodecsError(.corrupt, "blosc: header says \(cbytes) compressed bytes, fewer than its own 16") }
        guard itemSize > 0, ranges.allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= nbytes && $0.lowerBound % itemSize == 0 && $0.count % itemSize == 0 }),
              nbytes / itemSize <= Int(Int32.max) else { return nil }
        if flags & 0x02 != 0 {   // a plain copy after the header
            guard cbytes >= header + nbytes else { throw GyreCodecsError(.corrupt, "blosc: a plain copy of \(nbytes) bytes in \(cbytes) bytes") }
            return .ranges(total: cbytes, [0..<header] + ranges.map { (header + $0.lowerBound)..<(header + $0.upperBound) })
        }
        guard blocksize > 0 else { throw GyreCodecsError(.corrupt, "blosc: block size 0") }
        let blocks = (nbytes + blocksize - 1) / blocksize
        let tableEnd = header + 4 * blocks
        guard tableEnd <= cbytes else { throw GyreCodecsError(.corrupt, "blosc: \(blocks) block offsets do not fit in \(cbytes) bytes") }
        guard head.count >= tableEnd else { return .head(tableEnd) }
        let starts = (0..<blocks).map { u32(header + 4 * $0) }
        for (j, st) in starts.enumerated() where st < tableEnd || st >= cbytes {
            throw GyreCodecsError(.corrupt, "blosc: block \(j) starts at byte \(st), outside the \(cbytes)-byte buffer")
        }
        // A block ends where the next one in the stream starts (or the stream ends).
        let sorted = starts.sorted()
        var needed: Set<Int> = []
        for r in ranges where !r.isEmpty { for j in (r.lowerBound / blocksize)...((r.upperBound - 1) / blocksize) { needed.insert(j) } }
        var out = [0..<tableEnd]
        for j in needed.sorted() {
            let st = starts[j]
            var lo = 0, hi = sorted.count
            while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= st { lo = mid + 1 } else { hi = mid } }
            out.append(st..<(lo < sorted.count ? sorted[lo] : cbytes))
        }
        return .ranges(total: cbytes, out)
    }

    /// A few items of a byte-shuffled, lz4-compressed stream split into one stream per byte of
    /// the type (blosc's usual layout for numbers), read without unshuffling whole blocks: byte
    /// j of item i of a block is byte i of the block's j-th stream, taken straight from a stream
    /// stored raw, or from the lz4 stream decompressed. Nil when the stream is laid
    /// out otherwise, or the range holds more than a few items a block (then blosc decodes the
    /// blocks whole). The header and block offsets are checked by the caller.
    static func gatherItems(_ bytes: UnsafeRawBufferPointer, range: Range<Int>, into destination: UnsafeMutableRawBufferPointer) throws -> Bool? {
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        let flags = bytes[2], typesize = Int(bytes[3]), nbytes = u32(4), blocksize = u32(8)
        // Byte shuffle, not bit shuffle, lz4 (compressor format 1), split streams.
        guard flags & 0x01 != 0, flags & 0x04 == 0, flags & 0x10 == 0, flags >> 5 == 1, (2...16).contains(typesize),
              blocksize % typesize == 0, blocksize / typesize >= 256, range.count <= 16 * typesize else { return nil }
        let header = 16, blocks = (nbytes + blocksize - 1) / blocksize
        // One stream's bytes, allocated once a call and never cleared (lz4 writes every byte read).
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: blocksize / typesize, alignment: 16)
        defer { scratch.deallocate() }
        var item = range.lowerBound / typesize
        let end = range.upperBound / typesize
        var out = 0
        while item < end {
            let block = item * typesize / blocksize
            // A last block shorter than the others is not split: blosc's own path.
            guard block < blocks - 1 || nbytes - block * blocksize == blocksize else { return nil }
            let bsize = blocksize
            let n = bsize / typesize, first = block * blocksize / typesize
            var at = u32(header + 4 * block)
            // Every item of this block the range holds, one stream (byte) at a time.
            let last = Swift.min(end, first + n)
            for j in 0..<typesize {
                guard at + 4 <= bytes.count else { throw GyreCodecsError(.corrupt, "blosc: block \(block)'s stream \(j) starts past the buffer") }
                let csize = u32(at)
                at += 4
                guard csize > 0, at + csize <= bytes.count else { throw GyreCodecsError(.corrupt, "blosc: block \(block)'s stream \(j) runs past the buffer") }
                let stream = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + csize)])
                if csize == n {
                    for k in item..<last { destination[out + (k - item) * typesize + j] = stream[k - first] }
                } else {
                    // The whole stream: lz4's fast loop decodes it faster than its partial
                    // mode decodes the part before the item.
                    let got = LZ4_decompress_safe(stream.baseAddress!.assumingMemoryBound(to: CChar.self), scratch.baseAddress!.assumingMemoryBound(to: CChar.self),
                                                  Int32(csize), Int32(n))
                    guard got == n else { throw GyreCodecsError(.corrupt, "blosc: block \(block)'s stream \(j) does not decompress (\(got))") }
                    for k in item..<last { destination[out + (k - item) * typesize + j] = scratch[k - first] }
                }
                at += csize
            }
            out += (last - item) * typesize
            item = last
        }
        return true
    }

    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard bytes.count >= Int(BLOSC_MIN_HEADER_LENGTH) else {
            throw GyreCodecsError(.corrupt, "blosc: \(bytes.count) bytes is too short for a blosc header")
        }
        var nbytes = 0, cbytes = 0, bsize = 0
        blosc_cbuffer_sizes(bytes.baseAddress, &nbytes, &cbytes, &bsize)
        guard cbytes == bytes.count else { throw GyreCodecsError(.corrupt, "blosc: header says \(cbytes) compressed bytes, have \(bytes.count)") }
        guard nbytes == destination.count else { throw GyreCodecsError(.corrupt, "blosc: buffer holds \(nbytes) bytes, the chunk needs \(destination.count)") }
        if nbytes == 0 { return true }
        let r = blosc_decompress_ctx(bytes.baseAddress, destination.baseAddress, nbytes, 1)
        guard Int(r) == nbytes else { throw GyreCodecsError(.corrupt, "blosc: decompression failed (\(r))") }
        return true
    }

    public func decode(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= Int(BLOSC_MIN_HEADER_LENGTH) else {
            throw GyreCodecsError(.corrupt, "blosc: \(bytes.count) bytes is too short for a blosc header")
        }
        var nbytes = 0, cbytes = 0, bsize = 0
        bytes.withUnsafeBytes { blosc_cbuffer_sizes($0.baseAddress, &nbytes, &cbytes, &bsize) }
        guard cbytes == bytes.count else {
            throw GyreCodecsError(.corrupt, "blosc: header says \(cbytes) compressed bytes, have \(bytes.count)")
        }
        guard nbytes < 1 << 40 else { throw GyreCodecsError(.corrupt, "blosc: header claims an absurd size of \(nbytes) bytes") }
        var r: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: nbytes) { dst, n in
            r = bytes.withUnsafeBytes { src in blosc_decompress_ctx(src.baseAddress, dst.baseAddress, nbytes, 1) }
            n = r > 0 ? Int(r) : 0
        }
        guard Int(r) == nbytes else { throw GyreCodecsError(.corrupt, "blosc: decompression failed (\(r))") }
        return out
    }
}
