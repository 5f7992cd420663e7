import CDeflate
import CZstd
import GyreArrays
import GyreChunks

/// TIFF's compressions this reader decodes.
public enum TIFFCompression: Int, Sendable {
    case none = 1
    case lzw = 5
    case deflate = 8
    case packBits = 32773
    case zstd = 50000

    init?(code: Int) {
        if code == 32946 { self = .deflate; return }  // the old code for deflate
        self.init(rawValue: code)
    }

    static func name(_ code: Int) -> String {
        switch code {
        case 2: return "CCITT RLE"
        case 3, 4: return "CCITT fax"
        case 6, 7: return "JPEG"
        case 34712: return "JPEG 2000"
        case 34887: return "LERC"
        case 34925: return "LZMA"
        case 50001: return "WebP"
        case 50002: return "JPEG XL"
        default: return "code \(code)"
        }
    }
}

/// Decompression, predictors and sample layout of TIFF tiles and strips.
enum TIFFCodec {
    /// Decompresses `src` into `dst` (the tile's or strip's decoded size); returns how many
    /// bytes it produced.
    static func decompress(_ compression: TIFFCompression, _ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        switch compression {
        case .none:
            let n = Swift.min(src.count, dst.count)
            if n > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
            return n
        case .deflate:
            guard let d = libdeflate_alloc_decompressor() else { throw TIFFDecodeFailure("cannot allocate a decompressor") }
            defer { libdeflate_free_decompressor(d) }
            var produced = 0
            switch libdeflate_zlib_decompress(d, src.baseAddress, src.count, dst.baseAddress, dst.count, &produced) {
            case LIBDEFLATE_SUCCESS: return produced
            case LIBDEFLATE_INSUFFICIENT_SPACE: throw TIFFDecodeFailure("deflate stream decodes to more than the \(dst.count) bytes of the tile")
            default:
                throw TIFFDecodeFailure("corrupt or truncated deflate stream (\(src.count) bytes)")
            }
        case .zstd:
            let r = ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count)
            if ZSTD_isError(r) != 0 { throw TIFFDecodeFailure("zstd: \(String(cString: ZSTD_getErrorName(r)))") }
            return r
        case .lzw: return try lzw(src, into: dst)
        case .packBits: return try packBits(src, into: dst)
        }
    }

    /// PackBits (TIFF 6.0, section 9): a header byte n, then n+1 literal bytes (n >= 0) or
    /// one byte repeated 1-n times (n in -127...-1); -128 is skipped.
    static func packBits(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        var i = 0, o = 0
        while i < src.count && o < dst.count {
            let n = Int(Int8(bitPattern: src[i]))
            i += 1
            if n >= 0 {
                let k = n + 1
                guard i + k <= src.count else { throw TIFFDecodeFailure("PackBits: a literal run of \(k) bytes past the end of the data") }
                let m = Swift.min(k, dst.count - o)
                for j in 0..<m { dst[o + j] = src[i + j] }
                i += k
                o += m
            } else if n != -128 {
                guard i < src.count else { throw TIFFDecodeFailure("PackBits: a repeat without its byte") }
                let k = Swift.min(1 - n, dst.count - o)
                for j in 0..<k { dst[o + j] = src[i] }
                i += 1
                o += k
            }
        }
        return o
    }

    /// TIFF's LZW (TIFF 6.0, section 13): codes of 9 to 12 bits, most significant bit first,
    /// Clear 256, EndOfInformation 257, the code width growing one code early (at 511, 1023
    /// and 2047). The dictionary is kept as (prefix code, last byte, length) so each code's
    /// string is written backwards straight into the output.
    static func lzw(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        if src.count >= 2 && src[0] == 0 && (src[1] & 0x01) != 0 {
            throw TIFFDecodeFailure("LZW: the old (pre-TIFF 6) bit order, which this reader does not decode")
        }
        var prefix = [UInt16](repeating: 0, count: 4096)
        var suffix = [UInt8](repeating: 0, count: 4096)
        var length = [UInt16](repeating: 0, count: 4096)
        var first = [UInt8](repeating: 0, count: 4096)
        for c in 0..<256 { suffix[c] = UInt8(c); first[c] = UInt8(c); length[c] = 1 }
        var next = 258, width = 9
        var bitBuffer: UInt64 = 0, bits = 0, i = 0, o = 0
        var previous = -1
        func write(_ code: Int) throws {
            let n = Int(length[code])
            guard o + n <= dst.count else { throw TIFFDecodeFailure("LZW: data decodes past the \(dst.count) bytes of the tile") }
            var c = code
            var k = o + n - 1
            while k >= o {
                dst[k] = suffix[c]
                c = Int(prefix[c])
                k -= 1
            }
            o += n
        }
        while true {
            while bits < width {
                guard i < src.count else { return o }  // no EndOfInformation: what is there
                bitBuffer = bitBuffer << 8 | UInt64(src[i])
                i += 1
                bits += 8
            }
            let code = Int((bitBuffer >> UInt64(bits - width)) & ((1 << UInt64(width)) - 1))
            bits -= width
            if code == 257 { return o }
            if code == 256 {
                next = 258
                width = 9
                previous = -1
                continue
            }
            if previous < 0 {
                guard code < 256 else { throw TIFFDecodeFailure("LZW: code \(code) right after a Clear") }
                try write(code)
                previous = code
                continue
            }
            guard code <= next, next < 4096 || code < next else { throw TIFFDecodeFailure("LZW: code \(code) before it was defined (\(next))") }
            if next < 4096 {
                // The new entry: the previous string and the first byte of this one (of the
                // previous string when this code is the one being defined).
                let head = code < next ? first[code] : first[previous]
                prefix[next] = UInt16(previous)
                suffix[next] = head
                length[next] = length[previous] + 1
                first[next] = first[previous]
                next += 1
            }
            try write(code)
            previous = code
            if next + 1 >= (1 << width) && width < 12 { width += 1 }
        }
    }

    /// Undoes the horizontal differencing predictor (2) in place: per row of `width` pixels of
    /// `samples` samples, each sample adds the one a pixel before it (wrapping integers).
    static func undoHorizontal(_ b: UnsafeMutableRawBufferPointer, rows: Int, width: Int, samples: Int, itemSize: Int) {
        func run<T: FixedWidthInteger>(_: T.Type) {
            let p = b.baseAddress!.assumingMemoryBound(to: T.self)
            let rowLength = width * samples
            for r in 0..<rows {
                let row = p + r * rowLength
                var k = samples
                while k < rowLength { row[k] = row[k] &+ row[k - samples]; k += 1 }
            }
        }
        switch itemSize {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        case 8: run(UInt64.self)
        default: break
        }
    }

    /// Undoes the floating-point predictor (3) (Adobe's TIFF Technical Note 3): each row holds
    /// the samples' bytes as planes, most significant first, differenced bytewise pixel to
    /// pixel; the result is in native byte order whatever the file's.
    static func undoFloatingPoint(_ b: UnsafeMutableRawBufferPointer, rows: Int, width: Int, samples: Int, itemSize: Int) {
        let wc = width * samples
        let rowBytes = wc * itemSize
        var tmp = [UInt8](repeating: 0, count: rowBytes)
        for r in 0..<rows {
            let row = b.baseAddress!.assumingMemoryBound(to: UInt8.self) + r * rowBytes
            var k = samples
            while k < rowBytes { row[k] = row[k] &+ row[k - samples]; k += 1 }
            tmp.withUnsafeMutableBufferPointer { t in
                t.baseAddress!.update(from: row, count: rowBytes)
                for c in 0..<wc {
                    for byte in 0..<itemSize {
                        // Little-endian hosts: the plane of byte `byte` is (itemSize - 1 - byte).
                        row[c * itemSize + byte] = t[(itemSize - 1 - byte) * wc + c]
                    }
                }
            }
        }
    }

}

struct TIFFDecodeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One tile or strip as a chunk of the (band, y, x) array: decompressed, the predictor undone,
/// the byte order made native, and pixel-interleaved samples split into band planes.
struct TIFFChunkDecoder: ChunkDecoder {
    let compression: TIFFCompression
    let predictor: Int
    let itemSize: Int
    let bigEndian: Bool
    /// Samples in each stored pixel (all bands for chunky data, 1 for planar).
    let samples: Int
    /// The stored block: rows and columns (a strip is the image's width; the last strip may
    /// hold fewer rows).
    let rows: Int
    let width: Int
    /// Rows actually stored (the last strip's).
    let storedRows: Int
    let name: String

    func decode(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
        let blockBytes = rows * width * samples * itemSize
        precondition(destination.count == blockBytes, "TIFF chunk of \(destination.count) bytes for a block of \(blockBytes)")
        let want = storedRows * width * samples * itemSize
        if samples == 1 {
            try decodeBlock(stored, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<want]))
            if want < blockBytes { (destination.baseAddress! + want).initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes - want) }
            return
        }
        // Pixel-interleaved: decode whole, then each sample's plane.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: blockBytes, alignment: 64)
        defer { scratch.deallocate() }
        try decodeBlock(stored, into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
        if want < blockBytes { (scratch.baseAddress! + want).initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes - want) }
        let pixels = rows * width
        func split<T>(_: T.Type) {
            let s = scratch.baseAddress!.assumingMemoryBound(to: T.self)
            let d = destination.baseAddress!.assumingMemoryBound(to: T.self)
            for b in 0..<samples {
                let plane = d + b * pixels
                for p in 0..<pixels { plane[p] = s[p * samples + b] }
            }
        }
        switch itemSize {
        case 1: split(UInt8.self)
        case 2: split(UInt16.self)
        case 4: split(UInt32.self)
        default: split(UInt64.self)
        }
    }

    /// Decompresses exactly `out.count` bytes and undoes the predictor and byte order.
    func decodeBlock(_ stored: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws {
        let n: Int
        do { n = try TIFFCodec.decompress(compression, stored, into: out) } catch let f as TIFFDecodeFailure {
            throw GyreTIFFError(.decode, "\(name): \(f.description)")
        }
        guard n == out.count else {
            throw GyreTIFFError(.decode, "\(name): decoded to \(n) bytes, the block holds \(out.count) (truncated or corrupt)")
        }
        switch predictor {
        case 3:
            TIFFCodec.undoFloatingPoint(out, rows: storedRows, width: width, samples: samples, itemSize: itemSize)
        case 2:
            if bigEndian { ByteOrder.swapInPlace(out, itemSize: itemSize) }
            TIFFCodec.undoHorizontal(out, rows: storedRows, width: width, samples: samples, itemSize: itemSize)
        default:
            if bigEndian { ByteOrder.swapInPlace(out, itemSize: itemSize) }
        }
    }
}
