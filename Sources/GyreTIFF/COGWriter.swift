import CDeflate
import CZstd
import Foundation
import GyreArrays

/// How `COGWriter` writes a Cloud-Optimized GeoTIFF.
public struct COGOptions: Sendable {
    public enum Compression: String, Sendable { case none, deflate, zstd }
    public enum OverviewResampling: String, Sendable { case nearest, average }
    public var blockSize = 512
    public var compression: Compression = .deflate
    /// deflate 1...12 (libdeflate), zstd 1...22.
    public var level = 6
    /// Horizontal differencing (2) for integers, floating-point (3) for floats; off with false.
    public var predictor = true
    /// Reduced-resolution images, halved until they fit one block (as GDAL's COG driver).
    public var overviews = true
    public var overviewResampling: OverviewResampling = .average
    /// BigTIFF: automatic (when the file could pass 4 GiB), or forced.
    public var bigTIFF: Bool? = nil
    public init() {}
}

/// Writes (band, y, x) rasters as Cloud-Optimized GeoTIFFs by GDAL's COG layout: the header
/// and GDAL's structural metadata, every directory (full resolution, then the overviews, each
/// with its tag values) before any pixel, then the tiles, smallest overview first, row by row,
/// each with a 4-byte size before it and its last 4 bytes repeated after (GDAL's block leader
/// and trailer). Georeferencing as GeoKeys (an EPSG code), pixel scale and tiepoint (or a
/// transformation for rotated grids), nodata as GDAL_NODATA. The file appears only complete.
public enum COGWriter {
    public static func write(_ data: AnyNDArray, to path: String, epsg: Int?, geographic: Bool = false, transform: [Double]?,
                             nodata: Double? = nil, options: COGOptions = COGOptions()) throws {
        guard data.ndim == 3, data.shape.allSatisfy({ $0 > 0 }) else { throw GyreTIFFError(.invalidArgument, "\(path): a (band, y, x) raster is needed, got shape \(data.shape)") }
        guard data.dtype.hasFixedLayout, data.dtype.isNumeric, !data.dtype.isBool else { throw GyreTIFFError(.invalidArgument, "\(path): dtype \(data.dtype) cannot be a GeoTIFF") }
        let b = options.blockSize
        guard b >= 16, b % 16 == 0, b <= 4096 else { throw GyreTIFFError(.invalidArgument, "\(path): block size \(b) (a multiple of 16 up to 4096)") }
        if let t = transform, t.count != 6 || !t.allSatisfy(\.isFinite) { throw GyreTIFFError(.invalidArgument, "\(path): transform \(t)") }
        let bands = data.shape[0]
        let item = data.dtype.itemSize
        // Levels: the image, then halves (rounded down) until one fits a block.
        var levels: [AnyNDArray] = [data.contiguous()]
        if options.overviews {
            while let last = levels.last, Swift.max(last.shape[1], last.shape[2]) > b, Swift.min(last.shape[1], last.shape[2]) >= 2 {
                levels.append(try halve(last, nodata: nodata, resampling: options.overviewResampling))
            }
        }
        // Every tile of every level, encoded (pixel-interleaved, edge tiles padded).
        let predictor = !options.predictor ? 1 : (data.dtype.isFloatingPoint ? 3 : 2)
        var tiles: [[[UInt8]]] = []
        for l in levels {
            let raw = try l.rawBytes()
            let h = l.shape[1], w = l.shape[2]
            let across = (w + b - 1) / b, down = (h + b - 1) / b
            var enc: [[UInt8]] = []
            for tr in 0..<down {
                for tc in 0..<across {
                    var tile = [UInt8](repeating: 0, count: b * b * bands * item)
                    raw.withUnsafeBytes { src in
                        tile.withUnsafeMutableBytes { dst in
                            for r in 0..<b {
                                let y = tr * b + r
                                guard y < h else { break }
                                for c in 0..<Swift.min(b, w - tc * b) {
                                    let x = tc * b + c
                                    for s in 0..<bands {
                                        let from = ((s * h + y) * w + x) * item, to = ((r * b + c) * bands + s) * item
                                        (dst.baseAddress! + to).copyMemory(from: src.baseAddress! + from, byteCount: item)
                                    }
                                }
                            }
                        }
                    }
                    if predictor == 2 { applyHorizontal(&tile, rows: b, width: b, samples: bands, itemSize: item) }
                    if predictor == 3 { applyFloatingPoint(&tile, rows: b, width: b, samples: bands, itemSize: item) }
                    enc.append(try compress(tile, options))
                }
            }
            tiles.append(enc)
        }
        let payload = tiles.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count + 8 } }
        let big = options.bigTIFF ?? (payload > (1 << 32) - (64 << 20))
        var w = Writer(big: big)
        // Header and GDAL's structural metadata (the ghost area).
        let ghost = "GDAL_STRUCTURAL_METADATA_SIZE=000000 bytes\nLAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\nBLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n "
        let body = ghost.utf8.count - "GDAL_STRUCTURAL_METADATA_SIZE=000000 bytes\n".utf8.count
        let ghostText = ghost.replacingOccurrences(of: "000000", with: String(format: "%06d", body))
        let headerSize = big ? 16 : 8
        let firstIFD = headerSize + ghostText.utf8.count
        // The directories' sizes, to know where the data start: two passes, the first with
        // zero offsets.
        func directories(dataStart: Int) -> [UInt8] {
            var out = Writer(big: big)
            var at = firstIFD
            var offsets: [[Int]] = []
            // Tile data: smallest level first.
            var p = dataStart
            var perLevel = [[Int]](repeating: [], count: levels.count)
            for li in stride(from: levels.count - 1, through: 0, by: -1) {
                for t in tiles[li] { perLevel[li].append(p + 4); p += 4 + t.count + 4 }
            }
            offsets = perLevel
            for (li, l) in levels.enumerated() {
                var tags: [Tag] = []
                let h = l.shape[1], wd = l.shape[2]
                if li > 0 { tags.append(Tag(254, .long([1]))) }
                tags.append(Tag(256, .long([wd])))
                tags.append(Tag(257, .long([h])))
                tags.append(Tag(258, .short([Int](repeating: item * 8, count: bands))))
                tags.append(Tag(259, .short([options.compression == .none ? 1 : options.compression == .deflate ? 8 : 50000])))
                tags.append(Tag(262, .short([1])))
                tags.append(Tag(277, .short([bands])))
                tags.append(Tag(284, .short([1])))
                if predictor != 1 { tags.append(Tag(317, .short([predictor]))) }
                tags.append(Tag(322, .short([b])))
                tags.append(Tag(323, .short([b])))
                tags.append(Tag(324, big ? .long8(offsets[li]) : .long(offsets[li])))
                tags.append(Tag(325, big ? .long8(tiles[li].map(\.count)) : .long(tiles[li].map(\.count))))
                if bands > 1 { tags.append(Tag(338, .short([Int](repeating: 0, count: bands - 1)))) }
                tags.append(Tag(339, .short([Int](repeating: l.dtype.isFloatingPoint ? 3 : (l.dtype.isSignedInteger ? 2 : 1), count: bands))))
                if li == 0, let t = transform {
                    if t[1] == 0 && t[3] == 0 {
                        tags.append(Tag(33550, .double([t[0], -t[4], 0])))
                        tags.append(Tag(33922, .double([0, 0, 0, t[2], t[5], 0])))
                    } else {
                        tags.append(Tag(34264, .double([t[0], t[1], 0, t[2], t[3], t[4], 0, t[5], 0, 0, 0, 0, 0, 0, 0, 1])))
                    }
                    var keys: [Int] = [1, 1, 0, 0]
                    func key(_ id: Int, _ v: Int) { keys += [id, 0, 1, v]; keys[3] += 1 }
                    key(1024, geographic ? 2 : 1)
                    key(1025, 1)
                    if let e = epsg { key(geographic ? 2048 : 3072, e) }
                    tags.append(Tag(34735, .short(keys)))
                }
                if let nd = nodata { tags.append(Tag(42113, .ascii(nd.isNaN ? "nan" : (nd == nd.rounded() && abs(nd) < 1e15 ? String(Int64(nd)) : "\(nd)")))) }
                tags.sort { $0.id < $1.id }
                let size = out.ifdSize(tags)
                let next = li + 1 < levels.count ? at + size : 0
                out.ifd(tags, at: at, next: next)
                at += size
            }
            return out.bytes
        }
        let provisional = directories(dataStart: 0)
        let dataStart = firstIFD + provisional.count
        let dirs = directories(dataStart: dataStart)
        precondition(dirs.count == provisional.count, "COG directories changed size between passes")
        // The file: header, ghost, directories, tiles.
        w.header(firstIFD: firstIFD)
        w.bytes += Array(ghostText.utf8)
        w.bytes += dirs
        for li in stride(from: levels.count - 1, through: 0, by: -1) {
            for t in tiles[li] {
                w.u32(t.count)
                w.bytes += t
                w.bytes += t.count >= 4 ? Array(t.suffix(4)) : t + [UInt8](repeating: 0, count: 4 - t.count)
            }
        }
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try Data(w.bytes).write(to: tmp)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(at: tmp, to: url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw GyreTIFFError(.invalidArgument, "\(path): cannot write: \(error.localizedDescription)")
        }
    }

    /// The next overview: half the size (rounded down), each pixel the mean of the valid
    /// pixels it covers (or the top-left one, for nearest).
    static func halve(_ a: AnyNDArray, nodata: Double?, resampling: COGOptions.OverviewResampling) throws -> AnyNDArray {
        let bands = a.shape[0], h = a.shape[1], w = a.shape[2]
        let nh = h / 2, nw = w / 2
        let v = try a.astype(.float64).doubles() ?? []
        var out = [Double](repeating: nodata ?? .nan, count: bands * nh * nw)
        for s in 0..<bands {
            for y in 0..<nh {
                for x in 0..<nw {
                    var sum = 0.0, n = 0
                    for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let p = v[(s * h + 2 * y + dy) * w + 2 * x + dx]
                        if p.isNaN || p == nodata { continue }
                        if resampling == .nearest { sum = p; n = 1; break }
                        sum += p
                        n += 1
                    }
                    if n > 0 { out[(s * nh + y) * nw + x] = sum / Double(n) }
                }
            }
        }
        let f = AnyNDArray.float64(try NDArray(shape: [bands, nh, nw], out))
        if a.dtype.isFloatingPoint { return try f.astype(a.dtype) }
        return try AnyNDArray.float64(try NDArray(shape: [bands, nh, nw], out.map { $0.isNaN ? 0 : ($0 + 0.5).rounded(.down) })).astype(a.dtype)
    }

    static func compress(_ tile: [UInt8], _ o: COGOptions) throws -> [UInt8] {
        switch o.compression {
        case .none: return tile
        case .deflate:
            guard let c = libdeflate_alloc_compressor(Int32(Swift.max(1, Swift.min(12, o.level)))) else { throw GyreTIFFError(.invalidArgument, "cannot allocate a deflate compressor") }
            defer { libdeflate_free_compressor(c) }
            let cap = libdeflate_zlib_compress_bound(c, tile.count)
            var out = [UInt8](repeating: 0, count: cap)
            let n = tile.withUnsafeBytes { s in out.withUnsafeMutableBytes { d in libdeflate_zlib_compress(c, s.baseAddress, s.count, d.baseAddress, cap) } }
            guard n > 0 else { throw GyreTIFFError(.invalidArgument, "deflate failed") }
            return Array(out.prefix(n))
        case .zstd:
            let cap = ZSTD_compressBound(tile.count)
            var out = [UInt8](repeating: 0, count: cap)
            let n = tile.withUnsafeBytes { s in out.withUnsafeMutableBytes { d in ZSTD_compress(d.baseAddress, cap, s.baseAddress, s.count, Int32(Swift.max(1, Swift.min(22, o.level)))) } }
            guard ZSTD_isError(n) == 0 else { throw GyreTIFFError(.invalidArgument, "zstd: \(String(cString: ZSTD_getErrorName(n)))") }
            return Array(out.prefix(n))
        }
    }

    /// Predictor 2: each sample less the one a pixel before it, row by row (wrapping).
    static func applyHorizontal(_ b: inout [UInt8], rows: Int, width: Int, samples: Int, itemSize: Int) {
        func run<T: FixedWidthInteger>(_: T.Type) {
            b.withUnsafeMutableBytes { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: T.self)
                let n = width * samples
                for r in 0..<rows {
                    let row = p + r * n
                    var k = n - 1
                    while k >= samples { row[k] = row[k] &- row[k - samples]; k -= 1 }
                }
            }
        }
        switch itemSize {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        default: run(UInt64.self)
        }
    }

    /// Predictor 3: each row's samples split into byte planes, most significant first, then
    /// each byte less the one `samples` before it.
    static func applyFloatingPoint(_ b: inout [UInt8], rows: Int, width: Int, samples: Int, itemSize: Int) {
        let wc = width * samples, rowBytes = wc * itemSize
        var tmp = [UInt8](repeating: 0, count: rowBytes)
        for r in 0..<rows {
            let base = r * rowBytes
            for c in 0..<wc { for byte in 0..<itemSize { tmp[(itemSize - 1 - byte) * wc + c] = b[base + c * itemSize + byte] } }
            var k = rowBytes - 1
            while k >= samples { tmp[k] = tmp[k] &- tmp[k - samples]; k -= 1 }
            for k in 0..<rowBytes { b[base + k] = tmp[k] }
        }
    }

    /// A tag's values.
    enum Values {
        case short([Int]), long([Int]), long8([Int]), double([Double]), ascii(String)
    }

    struct Tag {
        let id: Int
        let values: Values
        init(_ id: Int, _ v: Values) { self.id = id; values = v }
    }

    /// Little-endian TIFF or BigTIFF bytes.
    struct Writer {
        let big: Bool
        var bytes: [UInt8] = []

        mutating func u16(_ v: Int) { bytes += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        mutating func u32(_ v: Int) { for k in 0..<4 { bytes.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        mutating func u64(_ v: Int) { for k in 0..<8 { bytes.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        mutating func offset(_ v: Int) { if big { u64(v) } else { u32(v) } }

        mutating func header(firstIFD: Int) {
            bytes += [0x49, 0x49]
            if big { u16(43); u16(8); u16(0); u64(firstIFD) } else { u16(42); u32(firstIFD) }
        }

        static func encoded(_ v: Values) -> (type: Int, count: Int, data: [UInt8]) {
            var w = Writer(big: false)
            switch v {
            case .short(let a): for x in a { w.u16(x) }; return (3, a.count, w.bytes)
            case .long(let a): for x in a { w.u32(x) }; return (4, a.count, w.bytes)
            case .long8(let a): for x in a { w.u64(x) }; return (16, a.count, w.bytes)
            case .double(let a): for x in a { w.u64(Int(bitPattern: UInt(x.bitPattern))) }; return (12, a.count, w.bytes)
            case .ascii(let s): let u = Array(s.utf8) + [0]; return (2, u.count, u)
            }
        }

        /// A directory's bytes, its values that do not fit inline right after it.
        func ifdSize(_ tags: [Tag]) -> Int {
            let inline = big ? 8 : 4
            var size = (big ? 8 : 2) + tags.count * (big ? 20 : 12) + (big ? 8 : 4)
            for t in tags { let e = Self.encoded(t.values); if e.data.count > inline { size += (e.data.count + 1) & ~1 } }
            return size
        }

        mutating func ifd(_ tags: [Tag], at start: Int, next: Int) {
            let inline = big ? 8 : 4
            var extra: [UInt8] = []
            var extraAt = start + (big ? 8 : 2) + tags.count * (big ? 20 : 12) + (big ? 8 : 4)
            if big { u64(tags.count) } else { u16(tags.count) }
            for t in tags {
                let e = Self.encoded(t.values)
                u16(t.id)
                u16(e.type)
                if big { u64(e.count) } else { u32(e.count) }
                if e.data.count <= inline {
                    bytes += e.data + [UInt8](repeating: 0, count: inline - e.data.count)
                } else {
                    offset(extraAt)
                    let padded = e.data + ((e.data.count & 1) == 1 ? [0] : [])
                    extra += padded
                    extraAt += padded.count
                }
            }
            offset(next)
            bytes += extra
        }
    }
}
