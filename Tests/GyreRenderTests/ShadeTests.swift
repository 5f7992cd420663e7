import Foundation
import Testing
import GyreArrays
import CDeflate
@testable import GyreRender

/// Shading rules on small aggregates worked out by hand, and PNG files decoded back.
@Suite("GyreRender: shading and PNG")
struct ShadeTests {
    static func countAgg(_ counts: [UInt32], width: Int, height: Int) throws -> Aggregate {
        let c = try Canvas(width: width, height: height, xRange: 0...1, yRange: 0...1)
        return Aggregate(canvas: c, reduction: .count, data: .uint32(try NDArray(shape: [height, width], counts)))
    }

    static let blackWhite = try! Colormap(name: "bw", colors: [RGB(0, 0, 0), RGB(255, 255, 255)])

    @Test("linear: empty pixels transparent, the smallest count first colour, the largest last")
    func linear() throws {
        let agg = try Self.countAgg([0, 1, 2, 3], width: 4, height: 1)
        let img = try shade(agg, ShadeOptions(cmap: Self.blackWhite, how: .linear))
        #expect(img[0, 0] == (0, 0, 0, 0))
        #expect(img[1, 0] == (0, 0, 0, 255))
        #expect(img[2, 0] == (127, 127, 127, 255))
        #expect(img[3, 0] == (255, 255, 255, 255))
    }

    @Test("span clips and log spreads log1p of the offset values")
    func spanAndLog() throws {
        let agg = try Self.countAgg([1, 5, 9, 40], width: 4, height: 1)
        let img = try shade(agg, ShadeOptions(cmap: Self.blackWhite, how: .linear, span: 5...9))
        #expect(img[0, 0].r == 0 && img[1, 0].r == 0)
        #expect(img[2, 0].r == 255 && img[3, 0].r == 255)
        let log = try shade(agg, ShadeOptions(cmap: Self.blackWhite, how: .log))
        // offset 1: log1p(0, 4, 8, 39) over log1p(39).
        let want = [0.0, 4, 8, 39].map { UInt8(Foundation.log1p($0) / Foundation.log1p(39) * 255) }
        #expect((0..<4).map { log[$0, 0].r } == want)
        #expect(throws: GyreRenderError.self) { try shade(agg, ShadeOptions(how: .eqHist, span: 1...2)) }
    }

    @Test("eq_hist gives each distinct count an equal share of the colours")
    func eqHist() throws {
        // Counts 1, 1, 2, 100: cdf at 1 is 0.5, at 2 0.75, at 100 1; span 0.5...1.
        let agg = try Self.countAgg([1, 1, 2, 100, 0], width: 5, height: 1)
        let img = try shade(agg, ShadeOptions(cmap: Self.blackWhite, how: .eqHist))
        #expect((0..<5).map { img[$0, 0].r } == [0, 0, 127, 255, 0])
        #expect(img[4, 0].a == 0)
    }

    @Test("categorical: colours mixed by count, alpha from the total")
    func categorical() throws {
        let c = try Canvas(width: 3, height: 1, xRange: 0...1, yRange: 0...1)
        let data = try NDArray<UInt32>(shape: [1, 3, 2], [2, 0, 1, 2, 0, 0])
        let agg = Aggregate(canvas: c, reduction: .countCategories(2), data: .uint32(data), categories: ["a", "b"])
        let key = [RGB(255, 0, 0), RGB(0, 0, 255)]
        let img = try shade(agg, ShadeOptions(how: .linear, colorKey: key))
        // Totals 2 and 3: alpha min_alpha and alpha; the empty pixel gets the mean colour, transparent.
        #expect(img[0, 0] == (255, 0, 0, 40))
        #expect(img[1, 0] == (85, 0, 170, 255))
        #expect(img[2, 0] == (127, 0, 127, 0))
        #expect(throws: GyreRenderError.self) { try shade(agg, ShadeOptions(colorKey: [RGB(1, 2, 3)])) }
    }

    @Test("colormaps by name, reversed, as colour lists; unknown names refused")
    func colormaps() throws {
        let fire = try Colormap.named("fire")
        #expect(fire.colors.count == 256)
        #expect(fire.colors.first == RGB(0, 0, 0) && fire.colors.last == RGB(255, 255, 255))
        #expect(try Colormap.named("fire_r").colors.first == RGB(255, 255, 255))
        #expect(try Colormap.named("viridis").colors.first?.description == "#440154")
        #expect(try Colormap.named("white,#ff0000").colors == [RGB(255, 255, 255), RGB(255, 0, 0)])
        #expect(throws: GyreRenderError.self) { try Colormap.named("nosuchmap") }
        #expect(throws: GyreRenderError.self) { try RGB(parsing: "#12345") }
        #expect(Colormap.defaultColorKey.count == 22)
    }

    /// The CRC-32 of PNG, bit by bit.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    /// Decodes an RGBA PNG of Gyre's (one IDAT; filters None, Sub, Up) into rows top first.
    static func decode(_ png: [UInt8]) throws -> (width: Int, height: Int, rows: [[UInt8]]) {
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var i = 8, width = 0, height = 0
        var idat: [UInt8] = []
        func be(_ at: Int) -> Int { Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3]) }
        while i < png.count {
            let n = be(i)
            let type = String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = png[(i + 8)..<(i + 8 + n)]
            #expect(UInt32(be(i + 8 + n)) == crc32(png[(i + 4)..<(i + 8 + n)]), "CRC of \(type)")
            if type == "IHDR" {
                width = be(i + 8)
                height = be(i + 12)
                #expect(Array(body.suffix(5)) == [8, 6, 0, 0, 0])
            }
            if type == "IDAT" { idat += body }
            i += 12 + n
        }
        let stride = width * 4
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        let d = libdeflate_alloc_decompressor()!
        defer { libdeflate_free_decompressor(d) }
        let r = idat.withUnsafeBytes { s in raw.withUnsafeMutableBytes { o in libdeflate_zlib_decompress(d, s.baseAddress, s.count, o.baseAddress, o.count, nil) } }
        #expect(r == LIBDEFLATE_SUCCESS)
        var rows: [[UInt8]] = []
        for y in 0..<height {
            let f = raw[y * (stride + 1)]
            var row = Array(raw[(y * (stride + 1) + 1)..<((y + 1) * (stride + 1))])
            for x in 0..<stride {
                switch f {
                case 0: break
                case 1: if x >= 4 { row[x] = row[x] &+ row[x - 4] }
                case 2: row[x] = row[x] &+ rows[y - 1][x]
                default: Issue.record("filter \(f) is not one Gyre writes")
                }
            }
            rows.append(row)
        }
        return (width, height, rows)
    }

    @Test("PNG: chunks with valid CRCs, rows top first, the pixels back exactly")
    func png() throws {
        var rng = SplitMix64(seed: 3)
        let w = 37, h = 11
        // Smooth rows (Sub wins), repeated rows (Up wins) and noise (None wins).
        var px = [UInt8](repeating: 0, count: w * h * 4)
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<4 {
                    let v: UInt8 = y < 4 ? UInt8((x * 3 + ch) & 0xff) : (y < 8 ? UInt8((y * 9 + ch) & 0xff) : UInt8(truncatingIfNeeded: rng.next()))
                    px[(y * w + x) * 4 + ch] = v
                }
            }
        }
        let img = RGBAImage(width: w, height: h, pixels: px)
        let file = try PNG.encode(img)
        let (dw, dh, rows) = try Self.decode(file)
        #expect(dw == w && dh == h)
        for (k, row) in rows.enumerated() {
            let src = h - 1 - k
            #expect(row == Array(px[(src * w * 4)..<((src + 1) * w * 4)]), "row \(k)")
        }
        #expect(throws: GyreRenderError.self) { try PNG.encode(RGBAImage(width: 0, height: 0, pixels: [])) }
    }
}
