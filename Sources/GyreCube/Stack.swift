import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreGeo
import GyreSTAC
import GyreStorage
import GyreTIFF
import OrderedCollections

/// How `Cube.stack` builds its cube.
public struct StackOptions: Sendable {
    /// The assets to stack, one band each, in this order.
    public var assets: [String]
    /// The output CRS (default: the one most assets are in).
    public var crs: CRS?
    /// Pixel size in the output CRS's units (default: the finest of the assets').
    public var resolution: Double?
    /// West, south, east, north in the output CRS (default: the union of the assets).
    public var bounds: [Double]?
    /// The same in longitude and latitude (used when `bounds` is nil).
    public var boundsLatLon: [Double]?
    /// Widen the bounds to whole multiples of the resolution (stackstac's `snap_bounds`).
    public var snapBounds = true
    public var resampling: Resampling = .nearest
    /// Output chunks along y and x.
    public var chunkSize = 1024
    /// float64 (as stackstac) or float32.
    public var dtype: DType = .float64
    /// Read the overview a coarser resolution needs (as GDAL's warper and odc-stac do), or
    /// always the full resolution (as stackstac does).
    public var overviews = true
    /// GDAL's approximate transformer's error, in source pixels (0: every pixel exact).
    public var errorThreshold = 0.125
    /// Storage options for the assets' hrefs (s3://, https://).
    public var storageOptions: [String: String] = [:]

    public init(assets: [String]) { self.assets = assets }
}

/// Where one asset's pixels are: its href, CRS, transform and size (from the item's `proj:`
/// fields, or its file's header when it has none), and its nodata value.
public struct StackAsset: Sendable {
    public let item: String
    public let key: String
    public let href: String
    public let grid: Grid
    public let nodata: Double?
}

/// STAC items to a lazy (time, band, y, x) cube, as stackstac and odc-stac make one.
public enum Cube {
    /// The items' assets placed on one grid: a lazy DataArray (time, band, y, x) of
    /// `options.dtype`, NaN where no asset has a value, chunked (1, 1, chunkSize, chunkSize);
    /// each chunk reads only the tiles of the one asset it needs, reprojected when the asset's
    /// CRS is not the cube's. Items are ordered by datetime (ties in the given order); items
    /// with no asset inside the bounds are left out.
    public static func stack(_ items: [Item], options: StackOptions) async throws -> DataArray {
        guard !options.assets.isEmpty else { throw GyreCubeError(.invalidArgument, "no assets named to stack") }
        guard options.chunkSize >= 16, options.chunkSize <= 1 << 16 else { throw GyreCubeError(.invalidArgument, "chunk size \(options.chunkSize)") }
        guard options.dtype == .float64 || options.dtype == .float32 else { throw GyreCubeError(.invalidArgument, "dtype \(options.dtype): float32 or float64") }
        let tiffs = TIFFCache(storageOptions: options.storageOptions)
        if let r = options.resolution, !(r > 0 && r.isFinite) { throw GyreCubeError(.invalidArgument, "resolution \(r) must be positive") }
        // Each item's time and assets, with their grids.
        var rows: [(item: Item, time: Timestamp, text: String, assets: [StackAsset?])] = []
        for item in items {
            guard let dt = item.properties["datetime"]?.string ?? item.properties["start_datetime"]?.string else {
                throw GyreCubeError(.items, "item '\(item.id)': no datetime (nor start_datetime)")
            }
            let t: Timestamp
            do { t = try Timestamp(rfc3339: dt, what: "item '\(item.id)' datetime") } catch let e as any GyreErrorProtocol {
                throw GyreCubeError(.items, e.message)
            }
            var assets: [StackAsset?] = []
            for key in options.assets {
                guard let a = item.assets[key] else { assets.append(nil); continue }
                assets.append(try await Self.asset(item: item, key: key, a, tiffs: tiffs))
            }
            guard assets.contains(where: { $0 != nil }) else {
                throw GyreCubeError(.items, "item '\(item.id)' has none of the assets \(options.assets.joined(separator: ", ")) (it has \(item.assets.keys.joined(separator: ", ")))")
            }
            rows.append((item, t, dt, assets))
        }
        guard !rows.isEmpty else { throw GyreCubeError(.items, "no items to stack") }
        // The grid.
        let all = rows.flatMap { $0.assets.compactMap { $0 } }
        let crs: CRS
        if let c = options.crs { crs = c } else {
            var counts: [CRS: Int] = [:]
            for a in all { counts[a.grid.crs, default: 0] += 1 }
            crs = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key.description > $1.key.description) }!.key
        }
        var footprints: [Int: [Double]] = [:]
        for (i, a) in all.enumerated() { footprints[i] = try Self.footprint(a.grid, in: crs) }
        let resolution: Double
        if let r = options.resolution {
            guard r > 0, r.isFinite else { throw GyreCubeError(.invalidArgument, "resolution \(r) must be positive") }
            resolution = r
        } else {
            let same = all.filter { $0.grid.crs == crs }
            guard !same.isEmpty else { throw GyreCubeError(.invalidArgument, "no asset is in \(crs): give the resolution") }
            resolution = same.map { Swift.min(abs($0.grid.transform.a), abs($0.grid.transform.e)) }.min()!
            guard resolution > 0, resolution.isFinite else {
                throw GyreCubeError(.invalidArgument, "the assets' pixel size in \(crs) is \(resolution) (rotated or broken proj:transform): give the resolution")
            }
        }
        var bounds: [Double]
        if let b = options.bounds {
            bounds = b
        } else if let ll = options.boundsLatLon {
            bounds = try Self.footprintOf(ll, from: try CRS(epsg: 4326), to: crs)
        } else {
            let f = Array(footprints.values)
            bounds = [f.map { $0[0] }.min()!, f.map { $0[1] }.min()!, f.map { $0[2] }.max()!, f.map { $0[3] }.max()!]
        }
        guard bounds.count == 4, bounds.allSatisfy(\.isFinite), bounds[0] < bounds[2], bounds[1] < bounds[3] else {
            throw GyreCubeError(.invalidArgument, "bounds \(bounds): need west < east and south < north")
        }
        let unsnapped = bounds
        if options.snapBounds {
            bounds = [(bounds[0] / resolution).rounded(.down) * resolution, (bounds[1] / resolution).rounded(.down) * resolution,
                      (bounds[2] / resolution).rounded(.up) * resolution, (bounds[3] / resolution).rounded(.up) * resolution]
        }
        // stackstac's shape: the span over the resolution, rounded to the nearest.
        let w = (bounds[2] - bounds[0] + resolution / 2) / resolution, h = (bounds[3] - bounds[1] + resolution / 2) / resolution
        guard w.isFinite, h.isFinite, w >= 1, h >= 1, w * h < 1e11 else {
            throw GyreCubeError(.invalidArgument, "a grid of \(w) x \(h) pixels for bounds \(bounds) at \(resolution)")
        }
        let width = Int(w), height = Int(h)
        let grid = Grid(crs: crs, transform: .northUp(west: bounds[0], north: bounds[3], xres: resolution, yres: resolution), width: width, height: height)
        // Assets that overlap the bounds (strictly, as stackstac); items with none are left out.
        var index = 0
        var kept: [(item: Item, time: Timestamp, text: String, assets: [StackAsset?])] = []
        for r in rows {
            var assets = r.assets
            for k in assets.indices where assets[k] != nil {
                let f = footprints[index]!
                index += 1
                if !(f[0] < unsnapped[2] && f[2] > unsnapped[0] && f[1] < unsnapped[3] && f[3] > unsnapped[1]) { assets[k] = nil }
            }
            if assets.contains(where: { $0 != nil }) { kept.append((r.item, r.time, r.text, assets)) }
        }
        guard !kept.isEmpty else { throw GyreCubeError(.items, "none of the \(rows.count) items has an asset inside the bounds \(unsnapped) (\(crs))") }
        // Ordered by datetime (stackstac sorts the strings, which is the same order for times
        // written alike), ties kept in order.
        let order = kept.indices.sorted { (kept[$0].time, $0) < (kept[$1].time, $1) }
        kept = order.map { kept[$0] }
        let source = StackSource(grid: grid, assets: kept.map(\.assets), bands: options.assets, options: options, tiffs: tiffs)
        var coords: OrderedDictionary<String, Variable> = [:]
        coords["time"] = try Variable(["time"], .datetime64(NDArray(kept.map { $0.time.microseconds }), TimeUnit.microseconds))
        coords["band"] = try Variable(["band"], AnyNDArray(options.assets))
        let t = grid.transform
        coords["x"] = try Variable(["x"], .float64(NDArray((0..<width).map { t.c + (Double($0) + 0.5) * t.a })))
        coords["y"] = try Variable(["y"], .float64(NDArray((0..<height).map { t.f + (Double($0) + 0.5) * t.e })))
        coords["id"] = try Variable(["time"], AnyNDArray(kept.map { $0.item.id }))
        var sr: Attributes = ["crs_wkt": .string(crs.wkt), "spatial_ref": .string(crs.wkt),
                              "GeoTransform": .string(t.gdalGeoTransform)]
        if let e = crs.epsg { sr["epsg"] = .int(Int64(e)) }
        coords["spatial_ref"] = try Variable([], .int64(NDArray(scalar: 0)), attrs: sr)
        let attrs: Attributes = ["grid_mapping": .string("spatial_ref"), "resolution": .double(resolution),
                                 "transform": .doubles(t.terms), "crs": .string(crs.description)]
        let v = try Variable(["time", "band", "y", "x"], lazy: LazyArray(source), attrs: attrs)
        return try DataArray(v, coords: coords, name: "cube")
    }

    /// An asset's grid: the item's `proj:` fields (the asset's own, else the item's), or the
    /// file's header when it has none.
    static func asset(item: Item, key: String, _ a: Asset, tiffs: TIFFCache) async throws -> StackAsset {
        func field(_ name: String) -> JSON? { a.extra[name] ?? item.properties[name] }
        let what = "item '\(item.id)', asset '\(key)'"
        var nodata: Double? = nil
        if let bands = field("raster:bands")?.array, let first = bands.first?.object, let n = first["nodata"] {
            nodata = n.number ?? (n.string == "nan" ? .nan : nil)
        }
        let code = field("proj:code")?.string ?? field("proj:epsg")?.integer.map { "EPSG:\($0)" } ?? field("proj:wkt2")?.string
        if let code, let tj = field("proj:transform")?.array, let sj = field("proj:shape")?.array {
            let t = tj.compactMap(\.number), s = sj.compactMap(\.integer)
            guard t.count == tj.count, t.count == 6 || t.count == 9, s.count == 2, sj.count == 2, s[0] > 0, s[1] > 0, s[0] <= 1 << 24, s[1] <= 1 << 24 else {
                throw GyreCubeError(.items, "\(what): proj:transform \(JSON.array(tj).text) and proj:shape \(JSON.array(sj).text): 6 or 9 numbers and two positive sizes")
            }
            guard abs(t[0]) > 0, abs(t[4]) > 0 || abs(t[1]) > 0, t.allSatisfy(\.isFinite) else {
                throw GyreCubeError(.items, "\(what): proj:transform \(t) has no pixel size")
            }
            let crs: CRS
            do { crs = try CRS(code) } catch let e as GyreGeoError { throw GyreCubeError(.items, "\(what): proj CRS \(code): \(e.message)") }
            let affine: Affine
            do { affine = try Affine(Array(t.prefix(6))) } catch let e as GyreGeoError { throw GyreCubeError(.items, "\(what): proj:transform: \(e.message)") }
            return StackAsset(item: item.id, key: key, href: a.href, grid: Grid(crs: crs, transform: affine, width: Int(s[1]), height: Int(s[0])), nodata: nodata)
        }
        // No projection fields: the file's header says.
        let tiff: GeoTIFF
        do { tiff = try await tiffs.open(a.href) } catch {
            throw GyreCubeError(.items, "\(what): no proj: fields (proj:code or proj:epsg, proj:transform, proj:shape) and its file cannot be read: \(error)")
        }
        guard let g = tiff.geo, let epsg = g.epsg else { throw GyreCubeError(.items, "\(what): no proj: fields and \(a.href) names no EPSG CRS") }
        return StackAsset(item: item.id, key: key, href: a.href,
                          grid: Grid(crs: try CRS(epsg: epsg), transform: try Affine(g.transform), width: tiff.image.width, height: tiff.image.height),
                          nodata: nodata ?? tiff.nodata)
    }

    /// A grid's corners carried into `crs`: west, south, east, north (no densifying, as stackstac).
    static func footprint(_ g: Grid, in crs: CRS) throws -> [Double] {
        let t = g.transform
        let corners = [t.apply(col: 0, row: 0), t.apply(col: Double(g.width), row: 0), t.apply(col: 0, row: Double(g.height)), t.apply(col: Double(g.width), row: Double(g.height))]
        let b = [corners.map(\.x).min()!, corners.map(\.y).min()!, corners.map(\.x).max()!, corners.map(\.y).max()!]
        return g.crs == crs ? b : try footprintOf(b, from: g.crs, to: crs)
    }

    static func footprintOf(_ b: [Double], from: CRS, to: CRS) throws -> [Double] {
        guard b.count == 4 else { throw GyreCubeError(.invalidArgument, "bounds \(b): need 4 numbers") }
        let p = try CoordinateTransform(from: from, to: to).transform([(b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])])
        guard p.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { throw GyreCubeError(.invalidArgument, "bounds \(b) in \(from) do not transform to \(to)") }
        return [p.map(\.x).min()!, p.map(\.y).min()!, p.map(\.x).max()!, p.map(\.y).max()!]
    }
}

/// Opened GeoTIFFs by href, each opened once (its directories read once).
final class TIFFCache: @unchecked Sendable {
    let storageOptions: [String: String]
    private let lock = NSLock()
    private var opened: [String: Task<GeoTIFF, any Error>] = [:]

    init(storageOptions: [String: String]) { self.storageOptions = storageOptions }

    func open(_ href: String) async throws -> GeoTIFF {
        let task = lock.withLock { () -> Task<GeoTIFF, any Error> in
            if let t = opened[href] { return t }
            let options = storageOptions
            let t = Task { () throws -> GeoTIFF in
                if StoreResolver.scheme(href) != nil {
                    let (parent, key) = try StoreResolver.file(href, options: options)
                    return try await GeoTIFF.open(store: parent, key: key, name: HTTPTransport.shown(href))
                }
                return try await GeoTIFF.open(href.hasPrefix("file://") ? String(href.dropFirst(7)) : href)
            }
            opened[href] = t
            return t
        }
        do { return try await task.value } catch {
            // A failed open is not kept: the next read tries again.
            lock.withLock { if opened[href] == task { opened[href] = nil } }
            throw error
        }
    }
}

/// The cube's values: for each (time, band) the asset's pixels warped onto the output window.
struct StackSource: ChunkedArraySource {
    let grid: Grid
    let assets: [[StackAsset?]]
    let bands: [String]
    let options: StackOptions
    let tiffs: TIFFCache

    var sourceName: String { "stack of \(assets.count) items" }
    var shape: [Int] { [assets.count, bands.count, grid.height, grid.width] }
    var dtype: DType { options.dtype }
    var chunks: [[Int]] {
        [[Int](repeating: 1, count: assets.count), [Int](repeating: 1, count: bands.count),
         Self.regularChunks(extent: grid.height, chunk: options.chunkSize), Self.regularChunks(extent: grid.width, chunk: options.chunkSize)]
    }

    func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == 4 else { throw GyreCubeError(.invalidArgument, "\(sourceName): \(region.count) slices for (time, band, y, x)") }
        var r: [(start: Int, count: Int, step: Int)] = []
        for d in 0..<4 { r.append(try region[d].resolve(extent: shape[d])) }
        let times = (0..<r[0].count).map { r[0].start + $0 * r[0].step }, bs = (0..<r[1].count).map { r[1].start + $0 * r[1].step }
        // The dense window the y and x slices span (read once, then stepped through).
        func span(_ s: (start: Int, count: Int, step: Int)) -> Range<Int> {
            guard s.count > 0 else { return 0..<0 }
            let a = s.start, b = s.start + (s.count - 1) * s.step
            return Swift.min(a, b)..<(Swift.max(a, b) + 1)
        }
        let ys = span(r[2]), xs = span(r[3])
        let plane = ys.count * xs.count
        let pairs = times.flatMap { t in bs.map { (t, $0) } }
        let planes = try await Bounded.map(count: pairs.count, limit: 4) { k -> [Double] in
            let (t, b) = pairs[k]
            guard let a = assets[t][b], plane > 0 else { return [Double](repeating: .nan, count: plane) }
            return try await warp(a, rows: ys, cols: xs)
        }
        var out = [Double](repeating: .nan, count: pairs.count * plane)
        for (k, p) in planes.enumerated() { out.replaceSubrange((k * plane)..<((k + 1) * plane), with: p) }
        var arr = AnyNDArray.float64(try NDArray(shape: [times.count, bs.count, ys.count, xs.count], out))
        if r[2].step != 1 || r[3].step != 1 {
            arr = try arr.index([.slice(.all), .slice(.all),
                                 .slice(Slice(r[2].start - ys.lowerBound, nil, step: r[2].step)), .slice(Slice(r[3].start - xs.lowerBound, nil, step: r[3].step))])
            arr = try arr.index([.slice(.all), .slice(.all), .slice(Slice(0, r[2].count)), .slice(Slice(0, r[3].count))]).contiguous()
        }
        return try arr.astype(options.dtype)
    }

    /// One asset on the output window `rows` x `cols`: NaN where it has no value.
    func warp(_ a: StackAsset, rows: Range<Int>, cols: Range<Int>) async throws -> [Double] {
        let t = grid.transform
        let window = Grid(crs: grid.crs, transform: Affine(t.a, t.b, t.c + Double(cols.lowerBound) * t.a + Double(rows.lowerBound) * t.b,
                                                            t.d, t.e, t.f + Double(cols.lowerBound) * t.d + Double(rows.lowerBound) * t.e),
                          width: cols.count, height: rows.count)
        let n = rows.count * cols.count
        var out = [Double](repeating: .nan, count: n)
        let toSource = try CoordinateTransform(from: grid.crs, to: a.grid.crs)
        // The overview this resolution needs (the largest whose shrink factor is at most the
        // output's), unless the full resolution is asked for.
        let tiff: GeoTIFF
        do { tiff = try await tiffs.open(a.href) } catch {
            throw GyreCubeError(.read, "item '\(a.item)', asset '\(a.key)' (\(a.href)): \(error)", cause: error)
        }
        var level = 0
        var src = a.grid
        if options.overviews, !tiff.overviews.isEmpty {
            let s = try Warp.scales(dst: window, src: a.grid, through: toSource)
            let factor = 1 / Swift.max(s.x, s.y)
            for (k, o) in tiff.overviews.enumerated() where Double(tiff.image.width) / Double(o.width) <= factor * (1 + 1e-6) { level = k + 1 }
            if level > 0 {
                let o = tiff.overviews[level - 1]
                src = Grid(crs: a.grid.crs, transform: a.grid.transform.scaled(x: Double(a.grid.width) / Double(o.width), y: Double(a.grid.height) / Double(o.height)),
                           width: o.width, height: o.height)
            }
        }
        guard tiff.image.bands == 1 else {
            throw GyreCubeError(.read, "item '\(a.item)', asset '\(a.key)' (\(a.href)): \(tiff.image.bands) bands; a stacked asset is one band")
        }
        guard tiff.image.width == a.grid.width, tiff.image.height == a.grid.height else {
            throw GyreCubeError(.read, "item '\(a.item)', asset '\(a.key)': proj:shape says \(a.grid.height) x \(a.grid.width), \(a.href) is \(tiff.image.height) x \(tiff.image.width)")
        }
        var (px, py) = try Warp.sourcePixels(of: window, rows: 0..<rows.count, cols: 0..<cols.count, in: src, through: toSource,
                                             errorThreshold: options.errorThreshold)
        // The source window those positions need (one pixel more around for bilinear).
        let pad = options.resampling == .bilinear ? 1 : 0
        let fx = px.filter(\.isFinite), fy = py.filter(\.isFinite)
        guard let x0 = fx.min(), let x1 = fx.max(), let y0 = fy.min(), let y1 = fy.max() else { return out }
        func clamp(_ v: Double, _ n: Int) -> Int { Int(Swift.min(Swift.max(v.rounded(.down), -1), Double(n) + 1)) }
        let c0 = Swift.max(0, clamp(x0, src.width) - pad), c1 = Swift.min(src.width, clamp(x1, src.width) + 1 + pad)
        let r0 = Swift.max(0, clamp(y0, src.height) - pad), r1 = Swift.min(src.height, clamp(y1, src.height) + 1 + pad)
        guard c0 < c1, r0 < r1 else { return out }
        let values: AnyNDArray
        do {
            values = try await tiff.array(level: level).read(region: [Slice(0, 1), Slice(r0, r1), Slice(c0, c1)])
        } catch {
            throw GyreCubeError(.read, "item '\(a.item)', asset '\(a.key)' (\(a.href)): \(error)", cause: error)
        }
        let v = try values.astype(.float64).doubles() ?? []
        // Positions outside the window are outside the image; inside, relative to the window.
        let w = c1 - c0, h = r1 - r0
        for k in 0..<n {
            let x = px[k], y = py[k]
            if !(x >= 0 && y >= 0 && x + 1e-10 <= Double(src.width) && y + 1e-10 <= Double(src.height)) { px[k] = -1; py[k] = -1; continue }
            px[k] = x - Double(c0)
            py[k] = y - Double(r0)
        }
        let nodata = a.nodata ?? tiff.nodata
        v.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                // The four nearest for bilinear, at any scale, as stackstac's warped VRT reads.
                Warp.sample(s, bands: 1, width: w, height: h, nodata: nodata, x: px, y: py, resampling: options.resampling, scale: (1, 1), into: o)
            }
        }
        if !tiff.image.dtype.isFloatingPoint {
            // Computed in the asset's integer type, as GDAL's warper writes it; a value that
            // lands on nodata is masked like nodata.
            for k in 0..<n where !out[k].isNaN {
                let r = (out[k] + 0.5).rounded(.down)
                out[k] = nodata == r ? .nan : r
            }
        } else if let nd = nodata {
            for k in 0..<n where out[k] == nd { out[k] = .nan }
        }
        return out
    }
}
