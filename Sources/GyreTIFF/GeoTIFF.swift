import Foundation
import GyreArrays
import GyreChunks
import GyreStorage

/// One image of a TIFF file (the full-resolution image or an overview): its size, samples and
/// how its tiles or strips are stored.
public struct TIFFImage: Sendable {
    public let width: Int
    public let height: Int
    /// Samples per pixel: the bands.
    public let bands: Int
    public let dtype: DType
    /// Tiles (true) or strips.
    public let tiled: Bool
    /// A tile's width and height; for strips, the image's width and the rows per strip.
    public let blockWidth: Int
    public let blockHeight: Int
    /// Bands stored as separate planes (PlanarConfiguration 2) rather than pixel-interleaved.
    public let planar: Bool
    public let compression: TIFFCompression
    public let predictor: Int
    /// NewSubfileType: a reduced-resolution image (an overview), a transparency mask.
    public let reducedResolution: Bool
    public let mask: Bool
    let offsets: [Int64]
    let byteCounts: [Int64]

    public var blocksAcross: Int { (width + blockWidth - 1) / blockWidth }
    public var blocksDown: Int { (height + blockHeight - 1) / blockHeight }

    init(_ t: [UInt16: TIFFValue], index: Int, file: String) throws {
        let what = "\(file): image \(index)"
        func int(_ tag: UInt16) -> Int? { t[tag]?.integers?.first.map(Int.init) }
        func need(_ tag: UInt16, _ name: String) throws -> Int {
            guard let v = int(tag) else { throw GyreTIFFError(.format, "\(what): no \(name) tag (\(tag))") }
            return v
        }
        width = try need(TIFFTag.imageWidth, "ImageWidth")
        height = try need(TIFFTag.imageLength, "ImageLength")
        bands = int(TIFFTag.samplesPerPixel) ?? 1
        // At most 2^24 pixels a side (a 1 m grid of the whole equator is 2^25.3; coordinates of a
        // side are built whole) and 2^16 samples.
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24, bands > 0, bands < 1 << 16 else {
            throw GyreTIFFError(.format, "\(what): \(width) x \(height) pixels of \(bands) samples is impossible")
        }
        let bits = t[TIFFTag.bitsPerSample]?.integers ?? [1]
        guard let b = bits.first, bits.allSatisfy({ $0 == b }) else {
            throw GyreTIFFError(.unsupported, "\(what): samples of different sizes (\(bits) bits)")
        }
        let formats = t[TIFFTag.sampleFormat]?.integers ?? [1]
        guard let f = formats.first, formats.allSatisfy({ $0 == f }) else {
            throw GyreTIFFError(.unsupported, "\(what): samples of different formats (\(formats))")
        }
        switch (f, b) {
        case (1, 8): dtype = .uint8
        case (1, 16): dtype = .uint16
        case (1, 32): dtype = .uint32
        case (1, 64): dtype = .uint64
        case (2, 8): dtype = .int8
        case (2, 16): dtype = .int16
        case (2, 32): dtype = .int32
        case (2, 64): dtype = .int64
        case (3, 32): dtype = .float32
        case (3, 64): dtype = .float64
        default:
            throw GyreTIFFError(.unsupported, "\(what): \(b)-bit samples of format \(f) (1 unsigned, 2 signed, 3 float; 8 to 64 bits)")
        }
        let code = int(TIFFTag.compression) ?? 1
        guard let c = TIFFCompression(code: code) else {
            throw GyreTIFFError(.unsupported, "\(what): compression \(TIFFCompression.name(code)) (this reader decodes none, LZW, deflate, PackBits and zstd)")
        }
        compression = c
        predictor = int(TIFFTag.predictor) ?? 1
        guard [1, 2, 3].contains(predictor) else { throw GyreTIFFError(.unsupported, "\(what): predictor \(predictor)") }
        if predictor == 3, !dtype.isFloatingPoint { throw GyreTIFFError(.format, "\(what): the floating-point predictor on \(dtype) samples") }
        if predictor == 2, dtype.isFloatingPoint { throw GyreTIFFError(.unsupported, "\(what): the horizontal predictor on floating-point samples") }
        planar = (int(TIFFTag.planarConfiguration) ?? 1) == 2 && bands > 1
        let sub = int(TIFFTag.newSubfileType) ?? 0
        reducedResolution = sub & 1 != 0
        mask = sub & 4 != 0
        if let tw = int(TIFFTag.tileWidth), let th = int(TIFFTag.tileLength) {
            guard tw > 0, th > 0, tw % 16 == 0, th % 16 == 0, tw <= 1 << 16, th <= 1 << 16 else {
                throw GyreTIFFError(.format, "\(what): tiles of \(tw) x \(th) (TIFF wants positive multiples of 16)")
            }
            tiled = true
            blockWidth = tw
            blockHeight = th
            offsets = t[TIFFTag.tileOffsets]?.integers ?? []
            byteCounts = t[TIFFTag.tileByteCounts]?.integers ?? []
        } else {
            tiled = false
            blockWidth = width
            blockHeight = Swift.max(1, Swift.min(int(TIFFTag.rowsPerStrip) ?? height, height))
            offsets = t[TIFFTag.stripOffsets]?.integers ?? []
            byteCounts = t[TIFFTag.stripByteCounts]?.integers ?? []
        }
        // A block (a tile, or a strip: rows of the whole width) is decoded whole: at most 1 GiB.
        let itemBytes = dtype.itemSize
        let (rowBytes, o1) = (blockWidth * (planar ? 1 : bands)).multipliedReportingOverflow(by: itemBytes)
        let (blockBytes, o2) = rowBytes.multipliedReportingOverflow(by: blockHeight)
        guard !o1, !o2, blockBytes <= 1 << 30 else {
            throw GyreTIFFError(.unsupported, "\(what): \(tiled ? "tiles" : "strips") of \(blockWidth) x \(blockHeight) pixels of \(planar ? 1 : bands) samples (more than 1 GiB each)")
        }
        let (blocks, o3) = (((width + blockWidth - 1) / blockWidth) * ((height + blockHeight - 1) / blockHeight)).multipliedReportingOverflow(by: planar ? bands : 1)
        guard !o3, blocks < 1 << 32 else { throw GyreTIFFError(.format, "\(what): \(width) x \(height) pixels in blocks of \(blockWidth) x \(blockHeight) is impossible") }
        let expected = blocks
        guard offsets.count == expected, byteCounts.count == expected else {
            throw GyreTIFFError(.format, "\(what): \(offsets.count) \(tiled ? "tile" : "strip") offsets and \(byteCounts.count) byte counts for \(expected) \(tiled ? "tiles" : "strips")")
        }
    }
}

/// Where a GeoTIFF's pixels are on the Earth: the CRS as an EPSG code (when the GeoKeys name
/// one) and the affine transform of the full-resolution image, in rasterio's order (x = a*col
/// + b*row + c, y = d*col + e*row + f, for pixel corners).
public struct GeoReference: Sendable, Equatable {
    public var epsg: Int?
    public var transform: [Double]
    /// GTRasterTypeGeoKey said PixelIsPoint (the transform is shifted half a pixel to corners,
    /// as GDAL does).
    public var pixelIsPoint: Bool
    /// The GeoKeys as read (key id to value), for CRSs without an EPSG code.
    public var geoKeys: [Int: TIFFValue]

    static func read(_ t: [UInt16: TIFFValue], file: String) throws -> GeoReference? {
        var keys: [Int: TIFFValue] = [:]
        if let dir = t[TIFFTag.geoKeyDirectory]?.integers {
            guard dir.count >= 4, dir[3] >= 0, dir[3] <= Int64((dir.count - 4) / 4) else {
                throw GyreTIFFError(.format, "\(file): a GeoKeyDirectory of \(dir.count) values for \(dir.count >= 4 ? String(dir[3]) : "no") keys")
            }
            let doubles = t[TIFFTag.geoDoubleParams]?.doubles ?? []
            let ascii = t[TIFFTag.geoAsciiParams]?.text ?? ""
            for k in 0..<Int(dir[3]) {
                // GeoKey entries are SHORTs; anything outside 0...65535 is not a key.
                guard (4...7).allSatisfy({ (0...65535).contains(dir[$0 + 4 * k]) }) else { continue }
                let id = Int(dir[4 + 4 * k]), loc = Int(dir[5 + 4 * k]), count = Int(dir[6 + 4 * k]), value = Int(dir[7 + 4 * k])
                switch loc {
                case 0: keys[id] = .integers([Int64(value)])
                case Int(TIFFTag.geoDoubleParams):
                    guard value >= 0, count >= 0, value + count <= doubles.count else { continue }
                    keys[id] = .doubles(Array(doubles[value..<(value + count)]))
                case Int(TIFFTag.geoAsciiParams):
                    let u = Array(ascii.utf8)
                    guard value >= 0, count >= 0, value + count <= u.count else { continue }
                    var s = String(decoding: u[value..<(value + count)], as: UTF8.self)
                    if s.hasSuffix("|") { s.removeLast() }
                    keys[id] = .text(s)
                case Int(TIFFTag.geoKeyDirectory):
                    guard value >= 0, count >= 0, value + count <= dir.count else { continue }
                    keys[id] = .integers(Array(dir[value..<(value + count)]))
                default: continue
                }
            }
        }
        var transform: [Double]
        if let m = t[TIFFTag.modelTransformation]?.doubles, m.count >= 16 {
            transform = [m[0], m[1], m[3], m[4], m[5], m[7]]
        } else if let tie = t[TIFFTag.modelTiepoint]?.doubles, tie.count >= 6, let s = t[TIFFTag.modelPixelScale]?.doubles, s.count >= 2 {
            transform = [s[0], 0, tie[3] - tie[0] * s[0], 0, -s[1], tie[4] + tie[1] * s[1]]
        } else if keys.isEmpty {
            return nil
        } else {
            transform = [1, 0, 0, 0, 1, 0]
        }
        guard transform.allSatisfy(\.isFinite) else { throw GyreTIFFError(.format, "\(file): a transform with non-finite terms \(transform)") }
        let point = keys[1025]?.integers?.first == 2
        if point {
            transform[2] -= 0.5 * transform[0] + 0.5 * transform[1]
            transform[5] -= 0.5 * transform[3] + 0.5 * transform[4]
        }
        let model = keys[1024]?.integers?.first
        func code(_ id: Int) -> Int? {
            guard let v = keys[id]?.integers?.first, v > 0, v != 32767 else { return nil }
            return Int(v)
        }
        let epsg: Int? = model == 2 ? code(2048) : model == 1 ? code(3072) : (code(3072) ?? code(2048))
        return GeoReference(epsg: epsg, transform: transform, pixelIsPoint: point, geoKeys: keys)
    }
}

/// A TIFF or GeoTIFF file in any store, its directories read by byte range (a Cloud-Optimized
/// GeoTIFF's in one request), its pixels read tile by tile through the chunk engine.
public struct GeoTIFF: Sendable {
    public let name: String
    let store: any ReadableStore
    let key: String
    /// The full-resolution image.
    public let image: TIFFImage
    /// Reduced-resolution images, largest first.
    public let overviews: [TIFFImage]
    public let geo: GeoReference?
    /// GDAL's nodata value (GDAL_NODATA), for every band.
    public let nodata: Double?
    /// GDAL's per-band scale and offset (GDAL_METADATA), 1 and 0 where not given.
    public let scales: [Double]
    public let offsets: [Double]
    /// GDAL_METADATA items of the dataset (no sample) and of each band, by name.
    public let metadata: [String: String]
    public let bandMetadata: [[String: String]]
    public let littleEndian: Bool
    public let bigTIFF: Bool

    /// Opens `key` in `store`; only the directories are read.
    public static func open(store: any ReadableStore, key: String, name: String? = nil) async throws -> GeoTIFF {
        let shown = name ?? (key.isEmpty ? store.name : "\(store.name)/\(key)")
        let bytes = TIFFBytes(store: store, key: key, name: shown)
        var parser = TIFFParser(bytes)
        let dirs = try await parser.directories()
        var images: [TIFFImage] = []
        for (i, d) in dirs.enumerated() { images.append(try TIFFImage(d, index: i, file: shown)) }
        guard let main = images.indices.first(where: { !images[$0].mask && !images[$0].reducedResolution }) ?? images.indices.first else {
            throw GyreTIFFError(.format, "\(shown): no image")
        }
        let full = images[main]
        let overviews = images.enumerated().filter { $0.offset != main && $0.element.reducedResolution && !$0.element.mask
            && $0.element.bands == full.bands && $0.element.dtype == full.dtype && $0.element.width < full.width }
            .map(\.element).sorted { $0.width > $1.width }
        let t = dirs[main]
        let nodata: Double? = try t[TIFFTag.gdalNodata]?.text.map { s in
            let v = s.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let d = Double(v) ?? (v.lowercased() == "nan" ? .nan : nil) else {
                throw GyreTIFFError(.format, "\(shown): GDAL_NODATA '\(v)' is not a number")
            }
            return d
        }
        let (meta, perBand) = parseGDALMetadata(t[TIFFTag.gdalMetadata]?.text ?? "", bands: full.bands)
        let scales = (0..<full.bands).map { perBand[$0]["SCALE"].flatMap(Double.init) ?? 1 }
        let offsets = (0..<full.bands).map { perBand[$0]["OFFSET"].flatMap(Double.init) ?? 0 }
        return GeoTIFF(name: shown, store: store, key: key, image: full, overviews: overviews, geo: try GeoReference.read(t, file: shown),
                       nodata: nodata, scales: scales, offsets: offsets, metadata: meta, bandMetadata: perBand,
                       littleEndian: parser.littleEndian, bigTIFF: parser.big)
    }

    /// Opens a local file.
    public static func open(_ path: String) async throws -> GeoTIFF {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: path) else { throw GyreTIFFError(.notFound, "\(path): no such file") }
        return try await open(store: FileStore(path: dir), key: url.lastPathComponent, name: path)
    }

    /// The items of GDAL's metadata XML (`<Item name="SCALE" sample="0" role="scale">2</Item>`):
    /// the dataset's and each band's, by name.
    static func parseGDALMetadata(_ xml: String, bands: Int) -> ([String: String], [[String: String]]) {
        var meta: [String: String] = [:]
        var perBand = [[String: String]](repeating: [:], count: bands)
        var rest = xml[...]
        while let open = rest.range(of: "<Item") {
            guard let close = rest[open.upperBound...].range(of: ">"), let end = rest[close.upperBound...].range(of: "</Item>") else { break }
            let head = String(rest[open.upperBound..<close.lowerBound])
            let value = unescape(String(rest[close.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
            func attr(_ n: String) -> String? {
                guard let r = head.range(of: n + "=\"") else { return nil }
                guard let q = head[r.upperBound...].firstIndex(of: "\"") else { return nil }
                return unescape(String(head[r.upperBound..<q]))
            }
            guard let name = attr("name") else { continue }
            if let s = attr("sample"), let b = Int(s) {
                if b >= 0 && b < bands { perBand[b][name] = value }
            } else {
                meta[name] = value
            }
        }
        return (meta, perBand)
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The image at `level`: 0 the full resolution, 1... the overviews, largest first.
    public func image(level: Int) throws -> TIFFImage {
        guard level >= 0, level <= overviews.count else {
            throw GyreTIFFError(.invalidArgument, "\(name): overview level \(level) (the file has levels 0...\(overviews.count))")
        }
        return level == 0 ? image : overviews[level - 1]
    }

    /// The transform of the image at `level` (the full image's, scaled to its size).
    public func transform(level: Int) throws -> [Double]? {
        guard let t = geo?.transform else { return nil }
        let im = try image(level: level)
        let sx = Double(image.width) / Double(im.width), sy = Double(image.height) / Double(im.height)
        return [t[0] * sx, t[1] * sy, t[2], t[3] * sx, t[4] * sy, t[5]]
    }

    /// The pixels of the image at `level` as a chunked (band, y, x) array (tiles or strips as
    /// its chunks).
    public func array(level: Int = 0) throws -> TIFFArray { TIFFArray(file: self, image: try image(level: level), level: level) }
}

/// One image of a TIFF file as a chunked (band, y, x) array: each tile or strip a chunk (all
/// bands of it when the samples are interleaved, one band when planar), read through the
/// chunk engine by byte range.
public struct TIFFArray: ChunkedArraySource {
    public let file: GeoTIFF
    public let image: TIFFImage
    public let level: Int

    public var sourceName: String { level == 0 ? file.name : "\(file.name) (overview \(level))" }
    public var shape: [Int] { [image.bands, image.height, image.width] }
    public var dtype: DType { image.dtype }
    var chunkShape: [Int] { [image.planar ? 1 : image.bands, image.blockHeight, image.blockWidth] }
    public var chunks: [[Int]] { zip(shape, chunkShape).map { Self.regularChunks(extent: $0, chunk: $1) } }

    public func read(region: [Slice]) async throws -> AnyNDArray {
        let r = try resolve(region)
        let (forward, flip) = ChunkEngine.forward(r)
        let out = try AnyNDArray.uninitialized(r.map(\.count), dtype: dtype)
        if !out.shape.contains(0) {
            let dst = ReadDestination(base: out.unsafeRawBase, shape: out.shape, strides: NDArray<UInt8>.contiguousStrides(out.shape), dtype: dtype)
            try await ChunkEngine.read(TIFFChunkLocator(self), region: forward, into: dst)
        }
        return flip.allSatisfy({ $0 == .slice(.all) }) ? out : try out.index(flip)
    }

    public func read(region: [Slice], into destination: ReadDestination) async throws {
        let r = try resolve(region)
        let (forward, flip) = ChunkEngine.forward(r)
        guard flip.allSatisfy({ $0 == .slice(.all) }) else { return try destination.copy(from: try await read(region: region)) }
        try await ChunkEngine.read(TIFFChunkLocator(self), region: forward, into: destination)
    }

    func resolve(_ sel: [Slice]) throws -> [(start: Int, count: Int, step: Int)] {
        guard sel.count == 3 else { throw GyreTIFFError(.invalidArgument, "\(sourceName): \(sel.count) slices for a (band, y, x) array") }
        var out: [(start: Int, count: Int, step: Int)] = []
        for d in 0..<3 {
            do { out.append(try sel[d].resolve(extent: shape[d])) } catch {
                throw GyreTIFFError(.invalidArgument, "\(sourceName): dimension \(["band", "y", "x"][d]): \(error)")
            }
        }
        var n = dtype.itemSize, over = false
        for r in out { let (m, o) = n.multipliedReportingOverflow(by: r.count); n = m; over = over || o }
        guard !over, n < 1 << 40 else { throw GyreTIFFError(.invalidArgument, "\(sourceName): a read of more than 2^40 bytes") }
        return out
    }
}

/// The chunk engine's view of a TIFF image: the tile or strip at a grid position, its byte
/// range, and the decoder for its compression and predictor.
struct TIFFChunkLocator: ChunkLocator {
    let array: TIFFArray
    init(_ a: TIFFArray) { array = a }

    var name: String { array.sourceName }
    var shape: [Int] { array.shape }
    var chunkShape: [Int] { array.chunkShape }
    var itemSize: Int { array.dtype.itemSize }
    var groupShape: [Int]? { nil }
    var concurrency: Int { 16 }
    var fillElement: [UInt8] {
        // Tiles that are not stored (GDAL's sparse files) read as the nodata value, or zero.
        guard let v = array.file.nodata, array.dtype.holds(v) || (array.dtype.isFloatingPoint && v.isNaN) else {
            return [UInt8](repeating: 0, count: itemSize)
        }
        let one = try? AnyNDArray.float64(NDArray(scalar: v)).astype(array.dtype).rawBytes()
        return one.map { Array($0.prefix(itemSize)) } ?? [UInt8](repeating: 0, count: itemSize)
    }


    func locate(_ chunks: [[Int]]) async throws -> [ChunkLocation?] {
        let im = array.image
        let blockBytes = chunkShape.reduce(itemSize, *)
        return try chunks.map { c in
            let index = (im.planar ? c[0] * im.blocksAcross * im.blocksDown : 0) + c[1] * im.blocksAcross + c[2]
            let offset = im.offsets[index], count = im.byteCounts[index]
            if count == 0 && offset == 0 { return nil }
            guard offset > 0, count > 0, offset < Int64(Int.max >> 1), count <= Int64(blockBytes) * 4 + (1 << 20) else {
                throw GyreTIFFError(.format, "\(name): \(im.tiled ? "tile" : "strip") \(index): \(count) bytes at offset \(offset) for a block of \(blockBytes) (corrupt file?)")
            }
            let rows = im.tiled ? im.blockHeight : Swift.min(im.blockHeight, im.height - c[1] * im.blockHeight)
            let decoder = TIFFChunkDecoder(compression: im.compression, predictor: im.predictor, itemSize: itemSize, bigEndian: !array.file.littleEndian,
                                           samples: im.planar ? 1 : im.bands, rows: im.blockHeight, width: im.blockWidth, storedRows: rows,
                                           name: "\(name): \(im.tiled ? "tile" : "strip") \(index)")
            return ChunkLocation(.range(array.file.store, key: array.file.key, Int(offset)..<Int(offset + count)), decoder: decoder)
        }
    }

    func failure(chunk: [Int], _ message: String, cause: (any Error & Sendable)?) -> any Error {
        if let e = cause as? GyreTIFFError { return e }
        return GyreTIFFError(.decode, "\(name): block \(chunk): \(message)", cause: cause)
    }
}
