import Foundation
import GyreArrays
import GyreCatalog
import GyreCore
import GyreData
import GyreRender
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

@Suite("XYZ tiles of gridded variables at /tiles")
struct TileRouteTests {
    static let sample = EDRRouteTests.sample

    func withTiles<T: Sendable>(_ body: @Sendable (ServedDataset, any TestClientProtocol) async throws -> T) async throws -> T {
        try await withTiles { d, client, _ in try await body(d, client) }
    }

    func withTiles<T: Sendable>(_ body: @Sendable (ServedDataset, any TestClientProtocol, STACService) async throws -> T) async throws -> T {
        try await EDRRouteTests.serveSample(body)
    }

    /// Pixels that differ between two images, and the largest channel difference.
    static func difference(_ a: RGBAImage, _ b: RGBAImage) -> (pixels: Int, worst: Int) {
        var pixels = 0, worst = 0
        for p in 0..<(a.width * a.height) {
            var d = 0
            for c in 0..<4 { d = max(d, abs(Int(a.pixels[4 * p + c]) - Int(b.pixels[4 * p + c]))) }
            if d > 0 { pixels += 1 }
            worst = max(worst, d)
        }
        return (pixels, worst)
    }

    /// The whole world at zoom `z` rendered directly on one canvas of 256 * 2^z pixels: the
    /// grid at time `t`, longitudes brought to -180...180 with copies one turn east and west,
    /// projected to Web Mercator, regridded by the quadmesh rule and shaded.
    static func world(z: Int, t: Int, span: ClosedRange<Double>) throws -> RGBAImage {
        let sst = try sample.variables["sst"]!.data
        let lat = try sample.variables["lat"]!.data.doubles()!, lon = try sample.variables["lon"]!.data.doubles()!
        var cols: [(Int, Double)] = []
        for (i, l) in lon.enumerated() {
            let base = l >= 180 ? l - 360 : l
            for s in [-360.0, 0, 360] where abs(base + s) <= 180 + 60 { cols.append((i, base + s)) }
        }
        cols.sort { $0.1 < $1.1 }
        var values: [Double] = []
        for r in lat.indices { for (i, _) in cols { values.append(try sst.scalar(at: [t, r, i]).doubleValue!) } }
        let g = try GridValues(values: values, x: cols.map { WebMercator.x(longitude: $0.1) }, y: lat.map { WebMercator.y(latitude: $0) })
        let n = 256 << z
        let canvas = try Canvas(width: n, height: n, xRange: -WebMercator.extent...WebMercator.extent, yRange: -WebMercator.extent...WebMercator.extent)
        return try shade(try canvas.quadmesh(g, rectilinear: true), ShadeOptions(cmap: try Colormap.named("viridis"), how: .linear, span: span))
    }

    /// The 256 x 256 block of tile (x, y) of a world image (row 0 of the image at the bottom).
    static func block(_ world: RGBAImage, z: Int, x: Int, y: Int) -> RGBAImage {
        let n = 256 << z
        var px: [UInt8] = []
        let rowStart = n - 256 * (y + 1)
        for row in rowStart..<(rowStart + 256) {
            let i = (row * n + 256 * x) * 4
            px += world.pixels[i..<(i + 256 * 4)]
        }
        return RGBAImage(width: 256, height: 256, pixels: px)
    }

    @Test("a tile equals its block of the world rendered directly at that zoom, at two time steps; edges, antimeridian and poles")
    func tilesEqualDirectRendering() async throws {
        try await withTiles { served, client, service in
            for (z, t, label) in [(1, 0, "2001-01-01"), (2, 4, "2001-01-05")] {
                let world = try Self.world(z: z, t: t, span: 0...30)
                for x in 0..<(1 << z) {
                    for y in 0..<(1 << z) {
                        await Task.yield()
                        let query = try QueryString("range=0,30&time=\(label)")
                        let tile = try await service.gridTile(served, variable: "sst", z: z, x: x, y: y, query: query)
                        let d = Self.difference(tile, Self.block(world, z: z, x: x, y: y))
                        #expect(d.pixels == 0, "tile \(z)/\(x)/\(y) at \(label): \(d.pixels) pixels differ from the direct rendering (by up to \(d.worst))")
                        let r = try await client.execute(uri: "/tiles/sst/sst/\(z)/\(x)/\(y).png?range=0,30&time=\(label)", method: .get)
                        #expect(r.status == .ok && r.headers[.contentType] == "image/png", "\(z)/\(x)/\(y): \(r.status)")
                        #expect(Array(r.body.readableBytesView) == (try PNG.encode(tile)), "the route answers the tile's PNG")
                    }
                }
            }
            // Two time steps give different pixels.
            let a = try await service.gridTile(served, variable: "sst", z: 1, x: 0, y: 0, query: try QueryString("range=0,30&time=2001-01-01"))
            let b = try await service.gridTile(served, variable: "sst", z: 1, x: 0, y: 0, query: try QueryString("range=0,30&time=2001-01-05"))
            #expect(Self.difference(a, b).pixels > 1000)
            // Both sides of the antimeridian and the rows at the latitude limit hold data.
            let world3 = try Self.world(z: 3, t: 0, span: 0...30)
            for (x, y) in [(0, 3), (7, 3), (3, 0), (3, 7)] {
                let tile = try await service.gridTile(served, variable: "sst", z: 3, x: x, y: y, query: try QueryString("range=0,30"))
                let d = Self.difference(tile, Self.block(world3, z: 3, x: x, y: y))
                #expect(d.pixels == 0, "tile 3/\(x)/\(y): \(d.pixels) pixels differ (by up to \(d.worst))")
                // The antimeridian tiles and the northern one hold data (the southern one is the sample's Antarctica: land, NaN).
                let opaque = stride(from: 3, to: tile.pixels.count, by: 4).filter { tile.pixels[$0] == 255 }.count
                #expect(y == 7 || opaque > 10_000, "tile 3/\(x)/\(y): \(opaque) pixels with data")
            }
        }
    }

    @Test("the default colour range is the slice's own; ETag and If-None-Match; the cache keeps tiles")
    func rangeAndCaching() async throws {
        try await withTiles { served, client, service in
            let sst = try Self.sample.variables["sst"]!.data
            var lo = Double.infinity, hi = -Double.infinity
            for r in 0..<6 { for c in 0..<12 { let v = try sst.scalar(at: [0, r, c]).doubleValue!; if v.isFinite { lo = min(lo, v); hi = max(hi, v) } } }
            let r = try await client.execute(uri: "/tiles/sst/sst/0/0/0.png", method: .get)
            #expect(r.status == .ok)
            let tile = try await service.gridTile(served, variable: "sst", z: 0, x: 0, y: 0, query: try QueryString(nil))
            #expect(Self.difference(tile, Self.block(try Self.world(z: 0, t: 0, span: lo...hi), z: 0, x: 0, y: 0)).pixels == 0)
            #expect(r.body == ByteBuffer(bytes: try PNG.encode(tile)))
            let etag = try #require(r.headers[.eTag])
            let again = try await client.execute(uri: "/tiles/sst/sst/0/0/0.png", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            let other = try await client.execute(uri: "/tiles/sst/sst/0/0/0.png?cmap=fire", method: .get)
            #expect(other.status == .ok && other.headers[.eTag] != etag)
            #expect(served.tiles.count == 2)
        }
    }

    @Test("bad tiles, variables, ranges and parameters are 400; unknown datasets 404")
    func refusals() async throws {
        try await withTiles { _, client in
            for uri in ["/tiles/sst/sst/-1/0/0.png", "/tiles/sst/sst/25/0/0.png", "/tiles/sst/sst/2/4/0.png", "/tiles/sst/sst/2/0/4.png",
                        "/tiles/sst/sst/1/0/x.png", "/tiles/sst/sst/1/0/0.jpg", "/tiles/sst/nope/0/0/0.png", "/tiles/sst/sst/0/0/0.png?range=5,1",
                        "/tiles/sst/sst/0/0/0.png?range=a,b", "/tiles/sst/sst/0/0/0.png?cmap=nosuch", "/tiles/sst/sst/0/0/0.png?how=sideways",
                        "/tiles/sst/sst/0/0/0.png?depth=3", "/tiles/plain/v/0/0/0.png", "/tiles/sst/sst/0/0/0.png?how=eq_hist&range=1,2"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .badRequest, "\(uri): \(r.status) \(String(buffer: r.body))")
            }
            #expect(try await client.execute(uri: "/tiles/nope/sst/0/0/0.png", method: .get).status == .notFound)
            // The server still answers.
            #expect(try await client.execute(uri: "/tiles/sst/sst/0/0/0.png?range=0,30", method: .get).status == .ok)
        }
    }
}

/// Tiles of a point dataset: re-aggregated at each zoom.
@Suite("XYZ tiles of point datasets")
struct PointTileRouteTests {
    static func serve<T: Sendable>(_ body: @Sendable (any TestClientProtocol, [Double], [Double], [Double]) async throws -> T) async throws -> T {
        var rng = SplitMix64(seed: 3)
        var lon: [Double] = [], lat: [Double] = [], v: [Double] = []
        for _ in 0..<5000 {
            lon.append(Double.random(in: -200...200, using: &rng))   // some beyond ±180, wrapped
            lat.append(Double.random(in: -90...90, using: &rng))    // some beyond the Web Mercator limit, dropped
            v.append(Double.random(in: 0...10, using: &rng))
        }
        let ds = try Dataset(dataVars: ["temp": try Variable(["obs"], .float64(NDArray(v)))],
                             coords: ["lon": try Variable(["obs"], .float64(NDArray(lon)), attrs: ["units": "degrees_east"]),
                                      "lat": try Variable(["obs"], .float64(NDArray(lat)), attrs: ["units": "degrees_north"])])
        let dir = try DatasetRouteTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let served = try await ServedDataset(name: "obs", source: "generated", dataset: ds)
        let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([served]))
        let (x, y, values) = (lon, lat, v)
        return try await Application(router: service.router()).test(.router) { client in try await body(client, x, y, values) }
    }

    static func mercator(_ lon: [Double], _ lat: [Double], _ v: [Double]?) throws -> Points {
        var xs: [Double] = [], ys: [Double] = []
        for i in lon.indices {
            var l = (lon[i] + 180).truncatingRemainder(dividingBy: 360)
            if l < 0 { l += 360 }
            let ok = abs(lat[i]) <= WebMercator.maxLatitude
            xs.append(ok ? WebMercator.x(longitude: l - 180) : .nan)
            ys.append(ok ? WebMercator.y(latitude: lat[i]) : .nan)
        }
        return try Points(x: xs, y: ys, values: v)
    }

    @Test("a point tile equals the points binned on that tile's window and shaded; mean of a variable; bad parameters are 400")
    func pointTiles() async throws {
        try await Self.serve { client, lon, lat, v in
            let r = try await client.execute(uri: "/tiles/obs/lon/1/0/0.png", method: .get)
            #expect(r.status == .ok)
            let canvas = try WebMercator.canvas(z: 1, x: 0, y: 0)
            let counts = try await canvas.points(try Self.mercator(lon, lat, nil), reduction: .count)
            let want = try PNG.encode(try shade(counts, ShadeOptions(cmap: try Colormap.named("fire"), how: .eqHist)))
            #expect(Array(buffer: r.body) == want)
            let m = try await client.execute(uri: "/tiles/obs/temp/2/1/1.png?how=linear&range=0,10&cmap=viridis", method: .get)
            #expect(m.status == .ok)
            let c2 = try WebMercator.canvas(z: 2, x: 1, y: 1)
            let mean = try await c2.points(try Self.mercator(lon, lat, v), reduction: .mean, usesValues: true)
            #expect(Array(buffer: m.body) == (try PNG.encode(try shade(mean, ShadeOptions(cmap: try Colormap.named("viridis"), how: .linear, span: 0...10)))))
            let meta = try JSON.parse(Array(buffer: try await client.execute(uri: "/tiles/obs/temp", method: .get).body))
            #expect(meta["kind"]?.string == "points" && meta["agg"]?.string == "mean")
            for uri in ["/tiles/obs/nope/0/0/0.png", "/tiles/obs/temp/0/0/0.png?agg=bogus", "/tiles/obs/temp/0/0/0.png?range=0,1",
                        "/tiles/obs/lon/0/0/0.png?agg=mean", "/tiles/obs/temp/0/0/0.png?time=3", "/tiles/obs/temp/0/0/0.png?agg=count_cat"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .badRequest, "\(uri)")
            }
            #expect(try await client.execute(uri: "/tiles/obs/temp/0/0/0.png?agg=max&how=log", method: .get).status == .ok)
        }
    }
}
