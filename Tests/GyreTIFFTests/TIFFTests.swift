import Foundation
import Testing
@testable import GyreTIFF
import GyreArrays
import GyreStorage

/// TIFF's own codecs against simple reference implementations, and the directory parser on
/// hand-made bytes (the GDAL-written files are in the interop suite).
@Suite("TIFF: LZW, PackBits, predictors, directories")
struct TIFFTests {
    /// A plain TIFF LZW encoder (TIFF 6.0 section 13: Clear first, 9 to 12 bits MSB first, the
    /// width growing one code early, Clear when the table is full, EndOfInformation last).
    static func lzwEncode(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], acc: UInt64 = 0, bits = 0, width = 9
        func put(_ code: Int) {
            acc = acc << UInt64(width) | UInt64(code)
            bits += width
            while bits >= 8 { out.append(UInt8((acc >> UInt64(bits - 8)) & 0xFF)); bits -= 8 }
        }
        var table: [[UInt8]: Int] = [:]
        func reset() { table = [:]; for i in 0..<256 { table[[UInt8(i)]] = i } }
        reset()
        var next = 258
        put(256)
        var w: [UInt8] = []
        for b in data {
            let wc = w + [b]
            if table[wc] != nil { w = wc; continue }
            put(table[w]!)
            table[wc] = next
            next += 1
            // libtiff's encoder widens when the next free code no longer fits (the decoder,
            // one entry behind, widens one code early).
            if next >= 4094 { put(256); reset(); next = 258; width = 9 } else if next >= (1 << width) { width += 1 }
            w = [b]
        }
        if !w.isEmpty {
            put(table[w]!)
            next += 1
            if next < 4094 && next >= (1 << width) { width += 1 }
        }
        put(257)
        if bits > 0 { out.append(UInt8((acc << UInt64(8 - bits)) & 0xFF)) }
        return out
    }

    static func decode(_ f: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Int, _ src: [UInt8], size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        let n = try src.withUnsafeBytes { s in try out.withUnsafeMutableBytes { d in try f(s, d) } }
        return Array(out.prefix(n))
    }

    @Test("LZW decodes what a reference encoder wrote: text, long runs (code widths 9 to 12 and table resets), random bytes")
    func lzw() throws {
        var rng = SystemRandomNumberGenerator()
        let text = Array(String(repeating: "TOBEORNOTTOBEORTOBEORNOT#", count: 40).utf8)
        let runs = (0..<50_000).map { UInt8(($0 / 97) % 7) }
        let random = (0..<30_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for data in [text, runs, random, [UInt8](), [42]] {
            let encoded = Self.lzwEncode(data)
            let decoded = try Self.decode(TIFFCodec.lzw, encoded, size: data.count)
            #expect(decoded == data, "LZW round trip of \(data.count) bytes")
        }
        // Data longer than the block is an error, not an overrun.
        #expect(throws: TIFFDecodeFailure.self) { _ = try Self.decode(TIFFCodec.lzw, Self.lzwEncode(text), size: 10) }
        // A code before it is defined.
        #expect(throws: TIFFDecodeFailure.self) { _ = try Self.decode(TIFFCodec.lzw, [0x80, 0x3F, 0xF0, 0x00], size: 100) }
    }

    @Test("PackBits: the example of TIFF 6.0 section 9, and truncated data refused")
    func packBits() throws {
        let packed: [UInt8] = [0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7, 0xAA]
        let unpacked: [UInt8] = [0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0xAA, 0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0x22,
                                 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]
        #expect(try Self.decode(TIFFCodec.packBits, packed, size: 24) == unpacked)
        #expect(throws: TIFFDecodeFailure.self) { _ = try Self.decode(TIFFCodec.packBits, [0x05, 1, 2], size: 24) }
    }

    @Test("predictors 2 and 3 undo a reference differencing (several samples per pixel, 8 to 64 bits)")
    func predictors() throws {
        let rows = 3, width = 5, samples = 2
        // Horizontal, 16-bit: difference each sample from the one a pixel before.
        let values: [UInt16] = (0..<(rows * width * samples)).map { UInt16(($0 * 7919) % 65536) }
        var diffed = values
        for r in 0..<rows { for k in stride(from: width * samples - 1, through: samples, by: -1) { diffed[r * width * samples + k] = values[r * width * samples + k] &- values[r * width * samples + k - samples] } }
        diffed.withUnsafeMutableBytes { TIFFCodec.undoHorizontal($0, rows: rows, width: width, samples: samples, itemSize: 2) }
        #expect(diffed == values)
        // Floating point: bytes as planes, most significant first, then differenced bytewise.
        let floats: [Float] = (0..<(rows * width * samples)).map { Float($0) * 1.37 - 9 }
        var stored = [UInt8](repeating: 0, count: floats.count * 4)
        let wc = width * samples
        for r in 0..<rows {
            var planes = [UInt8](repeating: 0, count: wc * 4)
            for c in 0..<wc {
                let bits = floats[r * wc + c].bitPattern
                for b in 0..<4 { planes[b * wc + c] = UInt8((bits >> UInt32(8 * (3 - b))) & 0xFF) }
            }
            for k in stride(from: wc * 4 - 1, through: samples, by: -1) { planes[k] = planes[k] &- planes[k - samples] }
            for k in 0..<(wc * 4) { stored[r * wc * 4 + k] = planes[k] }
        }
        stored.withUnsafeMutableBytes { TIFFCodec.undoFloatingPoint($0, rows: rows, width: width, samples: samples, itemSize: 4) }
        let back = stored.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(back == floats)
    }

    /// A little-endian classic TIFF: 8x8 uint8, one strip, uncompressed, values 0...63.
    static func tinyTIFF(firstIFD: UInt32 = 8, extra: [(UInt16, UInt16, UInt32, UInt32)] = [], next: UInt32 = 0) -> [UInt8] {
        var b: [UInt8] = [0x49, 0x49, 42, 0]
        func u16(_ v: UInt16) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { b += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        u32(firstIFD)
        var entries: [(UInt16, UInt16, UInt32, UInt32)] = [(256, 3, 1, 8), (257, 3, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 8), (279, 4, 1, 64)]
        entries += extra
        entries.sort { $0.0 < $1.0 }
        let dataAt = UInt32(8 + 2 + entries.count * 12 + 4)
        u16(UInt16(entries.count))
        for (tag, type, count, value) in entries { u16(tag); u16(type); u32(count); u32(tag == 273 ? dataAt : value) }
        u32(next)
        b += (0..<64).map { UInt8($0) }
        return b
    }

    static func open(_ bytes: [UInt8]) async throws -> GeoTIFF {
        let store = MemoryStore()
        try await store.set("t.tif", bytes)
        return try await GeoTIFF.open(store: store, key: "t.tif", name: "t.tif")
    }

    @Test("directories: a hand-made file reads; bad headers, loops, directories and strips past the end are errors naming the file")
    func directories() async throws {
        let t = try await Self.open(Self.tinyTIFF())
        let a = try await t.array().read(region: [Slice(), Slice(), Slice()])
        let bytes = try a.rawBytes()
        #expect(a.shape == [1, 8, 8] && bytes == (0..<64).map { UInt8($0) })
        #expect(t.geo == nil && t.overviews.isEmpty)
        func fails(_ bytes: [UInt8], _ words: String...) async {
            do {
                let f = try await Self.open(bytes)
                _ = try await f.array().read(region: [Slice(), Slice(), Slice()])
                Issue.record("opened and read: expected \(words)")
            } catch {
                let s = "\(error)"
                #expect(s.contains("t.tif") && words.allSatisfy { s.contains($0) }, "\(s)")
            }
        }
        await fails(Array("GIF89a....".utf8), "not a TIFF")
        await fails([0x49, 0x49, 41, 0, 8, 0, 0, 0], "version 41")
        await fails(Self.tinyTIFF(firstIFD: 5000), "past the end")
        await fails(Self.tinyTIFF(next: 8), "loops")
        await fails(Array(Self.tinyTIFF().prefix(120)), "truncated")
        await fails(Self.tinyTIFF(extra: [(262, 3, 1, 1), (339, 3, 1, 9)]), "format 9")
        // An absurd entry count, an unknown compression.
        var absurd = Self.tinyTIFF()
        absurd[8] = 0xFF; absurd[9] = 0xFF
        await fails(absurd, "entries")
        var jpeg = Self.tinyTIFF()
        // The Compression entry is the fourth (tags sorted): its value at 10 + 3 * 12 + 8.
        jpeg[10 + 3 * 12 + 8] = 7
        await fails(jpeg, "JPEG")
    }

    @Test("hostile headers: GeoKey counts that lie, blocks of absurd size, images too large to index are errors, not traps")
    func hostile() throws {
        for dir: [Int64] in [[1, 1, 0, -1], [1, 1, 0, 1 << 62], [1, 1, 0, 3, 1024, 0, 1, 1]] {
            #expect(throws: GyreTIFFError.self) { _ = try GeoReference.read([TIFFTag.geoKeyDirectory: .integers(dir)], file: "t.tif") }
        }
        // Keys whose location, count or offset are out of range are skipped.
        let keys = try GeoReference.read([TIFFTag.geoKeyDirectory: .integers([1, 1, 0, 2, 3072, 34736, 1 << 40, 1 << 40, 1025, 0, 1, 2]),
                                          TIFFTag.modelPixelScale: .doubles([1, 1, 0]), TIFFTag.modelTiepoint: .doubles([0, 0, 0, 0, 0, 0])], file: "t.tif")
        #expect(keys?.epsg == nil && keys?.pixelIsPoint == true)
        func image(_ t: [UInt16: TIFFValue]) throws -> TIFFImage { try TIFFImage(t, index: 0, file: "t.tif") }
        let base: [UInt16: TIFFValue] = [TIFFTag.imageWidth: .integers([1 << 24]), TIFFTag.imageLength: .integers([1 << 24]), TIFFTag.bitsPerSample: .integers([64]),
                                         TIFFTag.sampleFormat: .integers([3]), TIFFTag.stripOffsets: .integers([8]), TIFFTag.stripByteCounts: .integers([8])]
        do { _ = try image(base); Issue.record("a 2^24 x 2^24 single strip opened") } catch let e as GyreTIFFError { #expect(e.message.contains("1 GiB"), "\(e.message)") }
        var wide = base
        wide[TIFFTag.imageWidth] = .integers([1 << 31])
        do { _ = try image(wide); Issue.record("a 2^31-wide image opened") } catch let e as GyreTIFFError { #expect(e.message.contains("impossible"), "\(e.message)") }
        var tiles = base
        tiles[TIFFTag.tileWidth] = .integers([16]); tiles[TIFFTag.tileLength] = .integers([16]); tiles[TIFFTag.samplesPerPixel] = .integers([60000])
        tiles[TIFFTag.planarConfiguration] = .integers([2]); tiles[TIFFTag.bitsPerSample] = .integers([8]); tiles[TIFFTag.sampleFormat] = .integers([1])
        do { _ = try image(tiles); Issue.record("2^32 tiles opened") } catch let e as GyreTIFFError { #expect(e.message.contains("t.tif"), "\(e.message)") }
    }
}
