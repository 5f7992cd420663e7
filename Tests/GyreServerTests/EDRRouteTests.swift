import Foundation
import GyreArrays
import GyreCatalog
import GyreCore
import GyreData
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

@Suite("OGC API EDR at /edr: collections, position, area and cube queries")
struct EDRRouteTests {
    /// The sample cube: 10 days at 30 degrees (lon 15...345, lat -75...75), NaN over land.
    static let sample = try! SampleData.sst(days: 10, resolution: 30)

    func withEDR<T: Sendable>(limits: EvalLimits = EvalLimits(), _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Self.serveSample(limits: limits) { _, client, _ in try await body(client) }
    }

    /// A service over an empty catalog serving the sample as `sst` and a dataset without a
    /// grid as `plain`, driven in process (the EDR and tile tests share it).
    static func serveSample<T: Sendable>(limits: EvalLimits = EvalLimits(),
                                         _ body: @Sendable (ServedDataset, any TestClientProtocol, STACService) async throws -> T) async throws -> T {
        let dir = try DatasetRouteTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let served = try await ServedDataset(name: "sst", source: "generated", dataset: Self.sample, chunks: ["time": 4])
        let plain = try await ServedDataset(name: "plain", source: "generated",
                                            dataset: try Dataset(dataVars: ["v": try Variable(["i"], .float64(NDArray([1.0, 2])))]))
        let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([served, plain], limits: limits))
        let app = Application(router: service.router())
        return try await app.test(.router) { client in try await body(served, client, service) }
    }

    /// The sample's value of `name` at (time, lat, lon) positions, nil for NaN: the reference
    /// the answers are checked against.
    static func value(_ name: String, _ t: Int, _ yi: Int, _ xi: Int) throws -> Double? {
        let v = try sample.variables[name]!.data.scalar(at: [t, yi, xi]).doubleValue!
        return v.isNaN ? nil : Double(String(Float(v)))!
    }

    static func numbers(_ j: JSON?) -> [Double?] { (j?.array ?? []).map { $0.number } }

    @Test("Landing page, conformance, collections: extent, parameters and the three queries; datasets without a lon/lat grid are not collections")
    func metadata() async throws {
        try await withEDR { client in
            let (c0, landing) = try await get(client, "/edr")
            #expect(c0 == 200)
            #expect(landing["links"]?.array?.contains { $0["rel"]?.string == "data" } == true)
            let (c1, conf) = try await get(client, "/edr/conformance")
            #expect(c1 == 200)
            #expect(conf["conformsTo"]?.array?.contains("http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/core") == true)
            let (c2, list) = try await get(client, "/edr/collections")
            #expect(c2 == 200)
            let ids = list["collections"]?.array?.compactMap { $0["id"]?.string }
            #expect(ids == ["sst"])
            let (c3, c) = try await get(client, "/edr/collections/sst")
            #expect(c3 == 200)
            #expect(Self.numbers(c["extent"]?["spatial"]?["bbox"]?.array?.first) == [-180, -75, 180, 75])
            #expect(c["extent"]?["temporal"]?["interval"] == [["2001-01-01T00:00:00Z", "2001-01-10T00:00:00Z"]])
            #expect(c["parameter_names"]?["sst"]?["unit"]?["symbol"] == "degC")
            #expect(c["data_queries"]?["cube"]?["link"]?["variables"]?["query_type"] == "cube")
            let (c4, e) = try await get(client, "/edr/collections/plain")
            #expect(c4 == 404)
            #expect(e["description"]?.string?.contains("longitude and latitude") == true)
            #expect(try await get(client, "/edr/collections/nope").0 == 404)
        }
    }

    @Test("position: the nearest grid point (longitudes on the circle), a PointSeries over time with nulls over land, the values of the source")
    func position() async throws {
        try await withEDR { client in
            // -40 is 320 on the grid's 0-360 axis: nearest 315 (xi 10); lat 10: nearest 15 (yi 3).
            let (code, cov) = try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)")
            #expect(code == 200)
            #expect(cov["type"] == "Coverage")
            #expect(cov["domain"]?["domainType"] == "PointSeries")
            #expect(Self.numbers(cov["domain"]?["axes"]?["x"]?["values"]) == [-45])
            #expect(Self.numbers(cov["domain"]?["axes"]?["y"]?["values"]) == [15])
            #expect(cov["domain"]?["axes"]?["t"]?["values"]?.array?.count == 10)
            let range = try #require(cov["ranges"]?["sst"])
            #expect(range["axisNames"] == ["t"])
            #expect(Self.numbers(range["shape"]) == [10])
            #expect(Self.numbers(range["values"]) == (0..<10).map { try! Self.value("sst", $0, 3, 10) })
            #expect(cov["parameters"]?["err"]?["type"] == "Parameter")
            // Over land (Africa, lon 15 lat 15): every value null.
            let (_, land) = try await get(client, "/edr/collections/sst/position?coords=POINT(15%2015)&parameter-name=sst")
            #expect(land["ranges"]?["sst"]?["values"]?.array?.allSatisfy { $0 == .null } == true)
            #expect(land["ranges"]?["err"] == nil)
        }
    }

    @Test("position with datetime (instant: the nearest time; interval: ends included), several points, CSV and netCDF")
    func positionOptions() async throws {
        try await withEDR { client in
            let (_, one) = try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-01-03T10:00:00Z")
            #expect(one["domain"]?["domainType"] == "Point")
            #expect(one["domain"]?["axes"]?["t"]?["values"] == ["2001-01-03T00:00:00Z"])
            #expect(one["ranges"]?["sst"]?["axisNames"] == nil && one["ranges"]?["sst"]?["values"]?.array?.count == 1)
            let (_, list) = try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-01-02T00:00Z,2001-01-09")
            #expect(list["domain"]?["axes"]?["t"]?["values"] == ["2001-01-02T00:00:00Z", "2001-01-09T00:00:00Z"])
            let (_, span) = try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-01-03/2001-01-05")
            #expect(span["domain"]?["axes"]?["t"]?["values"] == ["2001-01-03T00:00:00Z", "2001-01-04T00:00:00Z", "2001-01-05T00:00:00Z"])
            #expect(Self.numbers(span["ranges"]?["sst"]?["values"]) == (2...4).map { try! Self.value("sst", $0, 3, 10) })
            let (_, open) = try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=../2001-01-02")
            #expect(open["domain"]?["axes"]?["t"]?["values"]?.array?.count == 2)
            let (_, multi) = try await get(client, "/edr/collections/sst/position?coords=MULTIPOINT((-40%2010),(100%20-20))")
            #expect(multi["type"] == "CoverageCollection")
            #expect(multi["coverages"]?.array?.count == 2)
            #expect(Self.numbers(multi["coverages"]?.array?.last?["domain"]?["axes"]?["x"]?["values"]) == [105])

            let csv = try await client.execute(uri: "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-01-01/2001-01-02&f=CSV", method: .get)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = String(buffer: csv.body).split(separator: "\n").map(String.init)
            #expect(lines.first == "time,lat,lon,sst,err")
            #expect(lines.count == 3)
            let first = try #require(lines.dropFirst().first?.split(separator: ",", omittingEmptySubsequences: false))
            #expect(first[0] == "2001-01-01T00:00:00Z" && first[1] == "15.0" && first[2] == "-45.0")
            #expect(Double(first[3]) == (try Self.value("sst", 0, 3, 10)))

            let nc = try await client.execute(uri: "/edr/collections/sst/position?coords=POINT(-40%2010)&f=NetCDF", method: .get)
            #expect(nc.status == .ok)
            #expect(nc.headers[.contentType] == "application/x-netcdf")
            #expect(Array(nc.body.readableBytesView.prefix(4)) == [0x89, 0x48, 0x44, 0x46])
        }
    }

    @Test("area: the polygon's bounding grid with null outside the polygon; cube: a bbox across the antimeridian, west to east")
    func areaAndCube() async throws {
        try await withEDR { client in
            // Triangle x/100 + y/80 <= 1 over lon 15, 45, 75 and lat 15, 45, 75 (its bounding box).
            let (code, area) = try await get(client, "/edr/collections/sst/area?coords=POLYGON((0%200,100%200,0%2080,0%200))&datetime=2001-01-02&parameter-name=sst")
            #expect(code == 200, "\(area)")
            #expect(area["domain"]?["domainType"] == "Grid")
            #expect(Self.numbers(area["domain"]?["axes"]?["x"]?["values"]) == [15, 45, 75])
            #expect(Self.numbers(area["domain"]?["axes"]?["y"]?["values"]) == [15, 45, 75])
            let r = try #require(area["ranges"]?["sst"])
            #expect(r["axisNames"] == ["y", "x"])
            #expect(Self.numbers(r["shape"]) == [3, 3])
            let inside: [[Bool]] = [[true, true, true], [true, false, false], [false, false, false]]
            var expected: [Double?] = []
            for yi in 0..<3 { for xi in 0..<3 { expected.append(inside[yi][xi] ? try Self.value("sst", 1, 3 + yi, xi) : nil) } }
            #expect(Self.numbers(r["values"]) == expected)

            let (c2, cube) = try await get(client, "/edr/collections/sst/cube?bbox=170,-20,-150,20&datetime=2001-01-01/2001-01-02")
            #expect(c2 == 200)
            #expect(Self.numbers(cube["domain"]?["axes"]?["x"]?["values"]) == [-165])
            #expect(Self.numbers(cube["domain"]?["axes"]?["y"]?["values"]) == [-15, 15])
            #expect(Self.numbers(cube["ranges"]?["err"]?["values"]) == [0, 1].flatMap { t in [2, 3].map { try! Self.value("err", t, $0, 6) } })
            let (_, wide) = try await get(client, "/edr/collections/sst/cube?bbox=-60,-20,60,20")
            #expect(Self.numbers(wide["domain"]?["axes"]?["x"]?["values"]) == [-45, -15, 15, 45])
        }
    }

    @Test("Bad queries get 400 saying what to fix; queries that match nothing 204; over the limits 413; the server keeps answering")
    func badQueries() async throws {
        try await withEDR(limits: EvalLimits(maxResultBytes: 4000)) { client in
            let cases: [(String, Int, String)] = [
                ("/edr/collections/sst/position", 400, "coords is missing"),
                ("/edr/collections/sst/position?coords=POINT(1)", 400, "expected a number"),
                ("/edr/collections/sst/position?coords=POINT(10%2095)", 400, "outside -90 to 90"),
                ("/edr/collections/sst/position?coords=POINT(10%2010%205)", 400, "three coordinates"),
                ("/edr/collections/sst/position?coords=LINESTRING(0%200,1%201)", 400, "not a geometry type"),
                ("/edr/collections/sst/position?coords=POLYGON((0%200,1%200,1%201,0%200))", 400, "POINT or MULTIPOINT"),
                ("/edr/collections/sst/area?coords=POLYGON((0%200,1%200,0%200))", 400, "at least 4 points"),
                ("/edr/collections/sst/cube?bbox=1,2,3", 400, "four numbers"),
                ("/edr/collections/sst/cube?bbox=0,20,10,10", 400, "north of north"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=yesterday", 400, "RFC 3339"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-02-01/2001-01-01", 400, "ends before"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&z=10", 400, "no vertical axis"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&parameter-name=wind", 400, "parameters are sst, err"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&f=xml", 400, "formats are CoverageJSON, CSV and NetCDF"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&crs=EPSG:3857", 400, "CRS84"),
                ("/edr/collections/sst/position?coords=POINT(-40%2010)&colour=red", 400, "unknown query parameter"),
                ("/edr/collections/sst/cube?bbox=-180,-90,180,90", 413, "limit of 4000"),
                ("/edr/collections/plain/position?coords=POINT(0%200)", 404, "not an EDR collection"),
            ]
            for (uri, status, text) in cases {
                let (code, body) = try await get(client, uri)
                #expect(code == status, "\(uri): \(body)")
                #expect(body["description"]?.string?.contains(text) == true, "\(uri): \(body)")
            }
            // Valid queries that match nothing: 204, no body.
            for uri in ["/edr/collections/sst/area?coords=POLYGON((0%200,1%200,1%201,0%200))",
                        "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2005-01-01/..",
                        "/edr/collections/sst/cube?bbox=0,1,1,2"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .noContent, "\(uri)")
                #expect(r.body.readableBytes == 0)
            }
            #expect(try await get(client, "/edr/collections/sst/position?coords=POINT(-40%2010)&datetime=2001-01-01").0 == 200)
        }
    }

    @Test("WKT: MULTIPOINT both ways, MULTIPOLYGON, holes and edges in the point-in-polygon test")
    func wkt() throws {
        guard case .points(let a) = try WKTGeometry.parse("MULTIPOINT (1 2, 3 4)"), case .points(let b) = try WKTGeometry.parse("multipoint((1 2),(3 4))") else {
            Issue.record("not points"); return
        }
        #expect(a == b && a.count == 2 && a[1] == .init(x: 3, y: 4))
        guard case .polygons(let p) = try WKTGeometry.parse("POLYGON((0 0,10 0,10 10,0 10,0 0),(4 4,6 4,6 6,4 6,4 4))") else { Issue.record("not a polygon"); return }
        #expect(WKTGeometry.contains(p, x: 2, y: 2))
        #expect(!WKTGeometry.contains(p, x: 5, y: 5))  // in the hole
        #expect(WKTGeometry.contains(p, x: 10, y: 5))  // on the edge
        #expect(WKTGeometry.contains(p, x: 4, y: 5))   // on the hole's edge
        #expect(!WKTGeometry.contains(p, x: 11, y: 5))
        guard case .polygons(let m) = try WKTGeometry.parse("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))") else { Issue.record("not polygons"); return }
        #expect(m.count == 2 && WKTGeometry.contains(m, x: 5.9, y: 5.5) && !WKTGeometry.contains(m, x: 3, y: 3))
        #expect(throws: GyreServerError.self) { try WKTGeometry.parse("POINT(1 2) trailing") }
        #expect(throws: GyreServerError.self) { try WKTGeometry.parse("POINT(1 nan)") }
    }
}
