import GyreCore
import Foundation
import GRDB
import GyreCatalog
import GyreSTAC
import Logging
import PostgresNIO
import Testing

/// Items with every kind of value a filter meets: numbers, strings, missing and mistyped
/// properties, arrays, points and polygons (one cut at the antimeridian), instants and ranges.
enum Fixtures {
    static func collection(_ id: String) -> STACCollection {
        STACCollection(id: id, description: "test collection \(id)",
                       extent: Extent(bboxes: [BBox(west: -180, south: -90, east: 180, north: 90)], intervals: [TemporalInterval(start: nil, end: nil)]))
    }

    static func items(_ n: Int, seed: UInt64 = 7) throws -> [Item] {
        var rng = SplitMix64(seed: seed)
        let platforms = ["sentinel-2a", "Sentinel-2B", "landsat-8", "Montréal-sat"]
        return try (0..<n).map { k in
            let lon = Double(rng.next() % 3500) / 10 - 175, lat = Double(rng.next() % 1600) / 10 - 80
            let geometry: JSON
            switch k % 4 {
            case 0: geometry = ["type": "Point", "coordinates": [.double(lon), .double(lat)]]
            case 3 where k % 8 == 3:
                geometry = ["type": "MultiPolygon", "coordinates": [[[[178, .double(lat)], [180, .double(lat)], [180, .double(lat + 2)], [178, .double(lat + 2)], [178, .double(lat)]]],
                                                                    [[[-180, .double(lat)], [-178, .double(lat)], [-178, .double(lat + 2)], [-180, .double(lat + 2)], [-180, .double(lat)]]]]]
            default:
                let d = Double(1 + k % 5)
                geometry = ["type": "Polygon", "coordinates": [[[.double(lon), .double(lat)], [.double(lon + d), .double(lat)], [.double(lon + d / 2), .double(lat + d)], [.double(lon), .double(lat)]]]]
            }
            let g = try Geometry(json: geometry)
            let b = g.bbox!
            var props: JSONObject = ["platform": .string(platforms[k % platforms.count]), "instruments": k % 3 == 0 ? ["msi", "oli"] : ["msi"]]
            let day = Int(rng.next() % 365)
            let t = Timestamp(microseconds: (Int64(1_577_836_800) + Int64(day) * 86_400 + Int64(k % 86_400)) * 1_000_000)
            if k % 10 == 9 {
                props["datetime"] = .null
                props["start_datetime"] = .string(t.rfc3339)
                props["end_datetime"] = .string(Timestamp(microseconds: t.microseconds + 20 * 86_400_000_000).rfc3339)
            } else {
                props["datetime"] = .string(t.rfc3339)
            }
            switch k % 7 {
            case 0: break                                          // no cloud cover
            case 1: props["eo:cloud_cover"] = "unknown"            // a string where numbers are usual
            default: props["eo:cloud_cover"] = .double(Double(rng.next() % 1000) / 10)
            }
            if k % 5 == 0 { props["gsd"] = .int(Int64(10 * (1 + k % 3))) }
            props["view:off_nadir"] = .double(Double(k % 9))
            return try Item(json: [
                "type": "Feature", "stac_version": "1.1.0", "id": .string(String(format: "item-%04d", k)),
                "collection": k % 3 == 2 ? "landsat" : "s2",
                "geometry": geometry, "bbox": [.double(b.west), .double(b.south), .double(b.east), .double(b.north)],
                "properties": .object(props), "links": [["rel": "license", "href": "https://example.test/license"]],
                "assets": ["data": ["href": .string("s3://bucket/\(k).tif"), "roles": ["data"]]],
            ])
        }
    }


    /// The order searches return by default: datetime descending, then collection, then id.
    /// With `ascending`, oldest first, then collection, then id.
    static func sorted(_ items: [Item], ascending: Bool = false) -> [Item] {
        items.sorted { a, b in
            let ta = try! a.timeRange().start, tb = try! b.timeRange().start
            if ta != tb { return ascending ? ta < tb : ta > tb }
            if a.collection != b.collection { return a.collection! < b.collection! }
            return a.id < b.id
        }
    }
}

/// The backends every catalog test runs on. PostgreSQL runs where `scripts/setup` started it
/// (`GYRE_TEST_POSTGRES` names the admin URL; each test gets a fresh database).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static let adminURL = ProcessInfo.processInfo.environment["GYRE_TEST_POSTGRES"] ?? "postgresql://gyre:gyre@127.0.0.1:5432/postgres"

    /// Runs `body` with an empty catalog of this kind, removed afterwards. For PostgreSQL,
    /// `settings` are set on the database first (`ALTER DATABASE ... SET`).
    func with<T>(settings: [String] = [], maxConnections: Int? = nil, _ body: (any CatalogBackend) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(try SQLiteCatalog(path: ":memory:"))
        case .postgres:
            let name = "gyre_test_\(UInt64.random(in: 0..<UInt64.max))"
            try await PostgresAdmin.execute(Self.adminURL, "CREATE DATABASE \(name)")
            for setting in settings { try await PostgresAdmin.execute(Self.adminURL, "ALTER DATABASE \(name) SET \(setting)") }
            let url = Self.adminURL.replacingOccurrences(of: #"/[^/]*$"#, with: "/\(name)", options: .regularExpression)
            do {
                let result = try await body(try await PostgresCatalog(url: url, maxConnections: maxConnections))
                try await PostgresAdmin.execute(Self.adminURL, "DROP DATABASE \(name) WITH (FORCE)")
                return result
            } catch {
                try? await PostgresAdmin.execute(Self.adminURL, "DROP DATABASE \(name) WITH (FORCE)")
                throw error
            }
        }
    }
}

/// Creating and dropping test databases, on the server scripts/setup starts (or the one
/// GYRE_TEST_POSTGRES names). Without one, every PostgreSQL test fails at once saying so.
enum PostgresAdmin {
    struct SetupError: Error, CustomStringConvertible { let description: String }

    static func execute(_ url: String, _ sql: String) async throws {
        guard let c = URLComponents(string: url), let host = c.host, let user = c.user else {
            throw SetupError(description: "GYRE_TEST_POSTGRES=\(url) is not postgresql://user:password@host:port/database")
        }
        let config = PostgresConnection.Configuration(host: host, port: c.port ?? 5432, username: user, password: c.password,
                                                      database: String(c.path.dropFirst()), tls: .disable)
        let logger = Logger(label: "test")
        let connection: PostgresConnection
        do { connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger) } catch {
            throw SetupError(description: "the PostgreSQL catalog tests need the server that scripts/setup starts (or GYRE_TEST_POSTGRES): "
                             + "cannot connect to \(host):\(c.port ?? 5432) as \(user): \(String(reflecting: error))")
        }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

@Suite("Catalog backends (SQLite, PostgreSQL): search against a brute-force filter")
struct CatalogBackendTests {
    static func catalog<T>(_ kind: Backend, _ items: [Item], settings: [String] = [], maxConnections: Int? = nil,
                           _ body: (any CatalogBackend) async throws -> T) async throws -> T {
        try await kind.with(settings: settings, maxConnections: maxConnections) { c in
            try await c.putCollection(Fixtures.collection("s2"))
            try await c.putCollection(Fixtures.collection("landsat"))
            try await c.putItems(items)
            return try await body(c)
        }
    }

    /// Every page of a search, by following its tokens.
    /// Runs `body` with the path of a SQLite catalog file holding both test collections and
    /// `items`, closed and removed afterwards.
    static func sqliteFile(_ items: [Item], _ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("catalog.db").path
        do {
            let c = try SQLiteCatalog(path: path)
            try await c.putCollection(Fixtures.collection("s2"))
            try await c.putCollection(Fixtures.collection("landsat"))
            try await c.putItems(items)
        }
        try await body(path)
    }

    static func all(_ c: any CatalogBackend, _ r: SearchRequest) async throws -> [String] {
        var r = r, out: [String] = [], pages = 0
        while true {
            let page = try await c.search(r)
            // Each record names the collection and id of the item its text holds.
            let items = try page.items
            #expect(items.map(\.id) == page.records.map(\.id) && items.map(\.collection) == page.records.map(\.collection))
            out += page.records.map(\.id)
            pages += 1
            guard let next = page.next, pages < 1000 else { return out }
            r.token = next
        }
    }

    static let filters = [
        "eo:cloud_cover < 25", "NOT eo:cloud_cover < 25", "eo:cloud_cover IS NULL", "eo:cloud_cover BETWEEN 10 AND 40",
        "eo:cloud_cover < 30 AND platform = 'sentinel-2a'", "platform LIKE 'sentinel%' OR gsd >= 20", "NOT (gsd = 10)",
        "CASEI(platform) = 'sentinel-2b'", "ACCENTI(platform) LIKE 'Montreal%'", "platform IN ('landsat-8', 'sentinel-2a')",
        "platform NOT IN ('landsat-8')", "gsd IS NOT NULL AND gsd * 2 > 30", "eo:cloud_cover > view:off_nadir * 10",
        "S_INTERSECTS(geometry, POLYGON((-20 -20, 40 -20, 40 30, -20 30, -20 -20)))",
        "S_INTERSECTS(geometry, BBOX(170, -90, -170, 90))", "S_DISJOINT(geometry, BBOX(-100, -50, 100, 50))",
        "S_WITHIN(geometry, BBOX(0, 0, 90, 45))", "S_CONTAINS(geometry, POINT(10 10))",
        "T_INTERSECTS(datetime, INTERVAL('2020-03-01', '2020-03-31'))", "T_BEFORE(datetime, TIMESTAMP('2020-02-01T00:00:00Z'))",
        "T_AFTER(datetime, INTERVAL('..', '2020-11-01'))", "T_DURING(datetime, INTERVAL('2020-05-01T00:00:00Z', '2020-07-01T00:00:00Z'))",
        "datetime >= TIMESTAMP('2020-06-01T00:00:00Z')", "end_datetime < '2020-02-15T00:00:00Z'",
        "A_CONTAINS(instruments, ('oli'))", "A_EQUALS(instruments, ('msi'))", "A_OVERLAPS(instruments, ('oli', 'tirs'))",
        "id = 'item-0007' OR collection = 'landsat' AND eo:cloud_cover < 5", "TRUE", "NOT (platform = 'x' OR eo:cloud_cover >= 0)",
        // Spatial terms that bound the search's spatial index (`SearchRequest.filterBound`).
        "eo:cloud_cover < 60 AND platform LIKE 'sentinel%' AND S_INTERSECTS(geometry, POLYGON((-60 -40, 30 -40, 30 50, -60 50, -60 -40)))",
        "S_INTERSECTS(geometry, BBOX(-120, -60, -40, 10)) OR S_WITHIN(geometry, BBOX(20, 0, 100, 60))",
        "S_INTERSECTS(geometry, BBOX(-50, -50, 50, 50)) AND S_INTERSECTS(geometry, BBOX(0, 0, 90, 60))",
        "S_INTERSECTS(geometry, BBOX(-90, -45, 90, 45)) AND NOT S_INTERSECTS(geometry, BBOX(0, 0, 40, 40))",
        "S_CONTAINS(POLYGON((-100 -60, 100 -60, 100 60, -100 60, -100 -60)), geometry) AND eo:cloud_cover >= 20",
        "S_INTERSECTS(geometry, BBOX(-20, -20, 40, 30)) OR eo:cloud_cover < 5",
    ]

    /// Every filter above, and bbox, intersects, datetime, ids and collections searches.
    static func evaluatorRequests() throws -> [SearchRequest] {
        var requests: [SearchRequest] = Self.filters.map { SearchRequest(limit: 7, filter: try! CQL2.parse(text: $0)) }
        requests.append(SearchRequest(bbox: try BBox([-30, -10, 60, 40]), limit: 9))
        requests.append(SearchRequest(bbox: try BBox([175, -90, -175, 90]), limit: 9))
        requests.append(SearchRequest(bbox: try BBox([-180, -90, 180, 90]), collections: ["s2"], limit: 8))
        requests.append(SearchRequest(datetime: try TemporalInterval(parameter: "2020-04-01T00:00:00Z/2020-04-30T23:59:59Z"), limit: 5))
        requests.append(SearchRequest(datetime: try TemporalInterval(parameter: "../2020-01-10"), collections: ["landsat"], limit: 50))
        requests.append(SearchRequest(ids: ["item-0001", "item-0100", "nope"], limit: 10))
        requests.append(SearchRequest(intersects: try Geometry(json: JSON.parse(#"{"type":"Point","coordinates":[179,0]}"#)), limit: 10))
        requests.append(SearchRequest(bbox: try BBox([-180, -45, 0, 45]), collections: ["s2"], limit: 11,
                                      filter: try CQL2.parse(text: "eo:cloud_cover < 50 OR eo:cloud_cover IS NULL")))
        // The ids path: the id index drives, an area and a filter's spatial terms only test.
        requests.append(SearchRequest(bbox: try BBox([-90, -60, 90, 60]), ids: ["item-0001", "item-0002", "item-0003", "item-0150", "item-0151"], limit: 2))
        requests.append(SearchRequest(limit: 3, filter: try CQL2.parse(text:
            "id IN ('item-0004', 'item-0005', 'item-0006', 'item-0100', 'item-0200') AND S_INTERSECTS(geometry, BBOX(-120, -60, 120, 60))")))
        requests.append(SearchRequest(collections: ["s2"], limit: 4, filter: try CQL2.parse(text: "id = 'item-0010' OR id = 'item-0011' OR id = 'item-0012'")))
        return requests
    }

    @Test("each filter, bbox, datetime, ids and collections select exactly what the evaluator selects, page after page", arguments: Backend.allCases)
    func againstEvaluator(_ kind: Backend) async throws {
        let items = try Fixtures.items(240)
        try await Self.catalog(kind, items) { c in
            let ordered = Fixtures.sorted(items)
            let requests = try Self.evaluatorRequests()
            for r in requests {
                let reference = r.asFilter
                let want = ordered.filter { reference.matches($0) }.map(\.id)
                let got = try await Self.all(c, r)
                #expect(got == want, "\(reference.text): \(got.count) items, expected \(want.count)")
            }
            // Several filters must actually select something, or the comparison proves little.
            let selective = try Self.filters.filter { f in let e = try CQL2.parse(text: f); let n = items.filter { e.matches($0) }.count; return n > 0 && n < items.count }
            #expect(selective.count >= Self.filters.count - 3)
        }
    }

    @Test("the planner's path follows the request's shape: ids, then an area, a time interval, collections, else the sort order or a scan")
    func searchPaths() throws {
        func path(bbox: [Double]? = nil, datetime: String? = nil, collections: [String]? = nil, ids: [String]? = nil,
                  filter: String? = nil, sortby: [SortKey] = []) throws -> SearchPath {
            try SearchRequest(bbox: bbox.map { try BBox($0) }, datetime: datetime.map { try TemporalInterval(parameter: $0) }, collections: collections,
                              ids: ids, filter: filter.map { try CQL2.parse(text: $0) }, sortby: sortby).path
        }
        let box = try BBox([0, 0, 5, 5])
        #expect(try path(bbox: [0, 0, 5, 5], ids: ["a"]) == .ids)
        #expect(try path(bbox: [0, 0, 5, 5], filter: "id IN ('a', 'b') AND eo:cloud_cover < 5") == .ids)
        #expect(try path(bbox: [0, 0, 5, 5], datetime: "2020-01-01T00:00:00Z/..", collections: ["s2"]) == .spatial(box))
        #expect(try path(filter: "eo:cloud_cover < 10 AND S_INTERSECTS(geometry, POLYGON((0 0, 5 0, 5 5, 0 5, 0 0)))") == .spatial(box))
        #expect(try path(bbox: [0, 0, 5, 5], sortby: [SortKey("eo:cloud_cover", ascending: true)]) == .spatial(box))
        #expect(try path(datetime: "2020-01-01T00:00:00Z/2020-02-01T00:00:00Z", filter: "eo:cloud_cover < 10") == .temporal)
        #expect(try path(filter: "datetime > TIMESTAMP('2024-01-01T00:00:00Z') AND platform = 'x'") == .temporal)
        #expect(try path(bbox: [-180, -90, 180, 90], collections: ["s2"]) == .collections)
        #expect(try path() == .sortOrder)
        #expect(try path(bbox: [-180, -90, 180, 90]) == .sortOrder)
        #expect(try path(filter: "eo:cloud_cover < 10 AND platform = 'x'").isScan)
        #expect(try path(filter: "eo:cloud_cover < 10 OR S_INTERSECTS(geometry, BBOX(0, 0, 5, 5))").isScan)
        #expect(try path(sortby: [SortKey("eo:cloud_cover", ascending: true)]).isScan)
        #expect(try path(collections: ["s2"], sortby: [SortKey("eo:cloud_cover", ascending: true)]).isScan)
        #expect(try !path(collections: ["s2"], filter: "eo:cloud_cover < 10").isScan)
    }

    @Test("SQLite: a filter's spatial term drives the search through the R*Tree in time windows, as a bbox does; ids drive the id index; property terms are tested in the start-time index")
    func filterBoundPlan() async throws {
        try await Self.sqliteFile(try Fixtures.items(60)) { path in
            var config = Configuration()
            config.prepareDatabase { db in try SQLiteFunctions.register(db) }
            let q = try DatabaseQueue(path: path, configuration: config)
            try await q.read { db in
                let names: Set<String> = ["eo:cloud_cover", "platform"]
                func plan(_ filter: String) throws -> (windowed: Bool, details: String) {
                    let r = SearchRequest(limit: 10, filter: try CQL2.parse(text: filter))
                    let first = try SQLiteSearch.windows(r, db)?.first
                    let sql = try SQLiteSearch.build(r, queryables: names, window: first).sql
                    let rows = try GRDB.Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql.text, arguments: StatementArguments(sql.parameters.map(SQLiteSearch.bind)))
                    return (first != nil, rows.map { $0["detail"] as String }.joined(separator: " | "))
                }
                let bounded = try plan("eo:cloud_cover < 10 AND platform = 'sentinel-2b' AND S_INTERSECTS(geometry, POLYGON((0 0, 5 0, 5 5, 0 5, 0 0)))")
                #expect(bounded.windowed, "\(bounded.details)")
                #expect(bounded.details.contains("items_space_time VIRTUAL TABLE INDEX"), "\(bounded.details)")
                // Rows are fetched by the rowids the R*Tree gives, never scanned.
                #expect(bounded.details.hasPrefix("SEARCH items USING INTEGER PRIMARY KEY"), "\(bounded.details)")
                #expect(!bounded.details.components(separatedBy: " | ").contains { $0 == "SCAN items" || $0.hasPrefix("SCAN items USING") }, "\(bounded.details)")
                let unbounded = try plan("eo:cloud_cover < 10 OR S_INTERSECTS(geometry, POLYGON((0 0, 5 0, 5 5, 0 5, 0 0)))")
                #expect(!unbounded.windowed, "\(unbounded.details)")
                // A scan of the start-time order tests the properties in the index (migration v7)
                // and reads the table for the matches only.
                let scan = try plan("eo:cloud_cover < 10 AND platform = 'sentinel-2b'")
                #expect(!scan.windowed && scan.details.hasPrefix("SCAN items USING INDEX items_datetime_properties"), "\(scan.details)")
                // On the ids path the id index finds the rows; the area only tests them.
                let byIDs = try plan("id IN ('item-0001', 'item-0002') AND S_INTERSECTS(geometry, POLYGON((0 0, 5 0, 5 5, 0 5, 0 0)))")
                #expect(!byIDs.windowed && byIDs.details.contains("USING INDEX items_id"), "\(byIDs.details)")
                #expect(!byIDs.details.contains("items_space_time"), "\(byIDs.details)")
            }
        }
    }

    @Test("spatial searches in time order, both directions, page through ties in datetime", arguments: Backend.allCases)
    func spatialTimeOrder(_ kind: Backend) async throws {
        // Few distinct start times, so most pages end inside a run of equal datetimes and the
        // tie-breaking keys decide what comes next. In the second set the span is 64 days and
        // items sit where SQLite's time windows (a 64th of the span, doubling) begin and end.
        let day: Int64 = 86_400_000_000, t0: Int64 = 1_577_836_800_000_000
        let edges = [0, 1, 3, 7, 57, 61, 63, 64].map { Timestamp(microseconds: t0 + $0 * day).rfc3339 }
        for times in [["2019-05-01T00:00:00Z", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", "2021-07-04T12:00:00Z", "2022-03-01T00:00:00Z"], edges] {
        let items = try Fixtures.items(200, seed: 7).enumerated().map { k, item -> Item in
            var i = item
            i.properties["datetime"] = .string(times[(k * 7) % times.count])
            i.properties["start_datetime"] = nil
            i.properties["end_datetime"] = nil
            return i
        }
        try await Self.catalog(kind, items) { c in
            let cases: [SearchRequest] = [
                SearchRequest(bbox: try BBox([-120, -60, 120, 60]), limit: 3),
                SearchRequest(bbox: try BBox([-120, -60, 120, 60]), limit: 4, sortby: [SortKey("datetime", ascending: true)]),
                SearchRequest(bbox: try BBox([-180, -80, 0, 80]), datetime: try TemporalInterval(parameter: "2020-01-01T00:00:00Z/2021-12-31T00:00:00Z"),
                              limit: 5, filter: try CQL2.parse(text: "eo:cloud_cover < 60")),
                SearchRequest(intersects: try Geometry(json: JSON.parse(#"{"type":"Polygon","coordinates":[[[0,-70],[170,-70],[170,70],[0,70],[0,-70]]]}"#)),
                              collections: ["s2"], limit: 2, sortby: [SortKey("datetime", ascending: true), SortKey("id", ascending: false)]),
                SearchRequest(bbox: try BBox([150, 70, 160, 75]), limit: 10),   // probably empty: no limit + 1 matches at all
                // A filter's spatial terms bound the search as a bbox does.
                SearchRequest(limit: 3, filter: try CQL2.parse(text: "S_INTERSECTS(geometry, POLYGON((-120 -60, 120 -60, 120 60, -120 60, -120 -60))) AND eo:cloud_cover < 70")),
                SearchRequest(limit: 4, filter: try CQL2.parse(text: "S_INTERSECTS(geometry, BBOX(-170, -80, -10, 80)) OR S_INTERSECTS(geometry, BBOX(10, -80, 170, 80))"),
                              sortby: [SortKey("datetime", ascending: true)]),
                SearchRequest(limit: 45, filter: try CQL2.parse(text: "S_WITHIN(geometry, BBOX(-170, -80, 170, 80))")),
                // Pages long enough to span several time windows.
                SearchRequest(bbox: try BBox([-170, -80, 170, 80]), limit: 45),
                SearchRequest(bbox: try BBox([-170, -80, 170, 80]), limit: 45, sortby: [SortKey("datetime", ascending: true)]),
            ]
            for r in cases {
                let reference = r.asFilter
                let keys = r.sortby.isEmpty ? [SortKey("datetime", ascending: false)] : r.sortby
                let want = items.filter { reference.matches($0) }.sorted { a, b in
                    for k in keys {
                        let (x, y) = k.field == "id" ? (a.id, b.id) : (a.properties["datetime"]!.string!, b.properties["datetime"]!.string!)
                        if x != y { return k.ascending ? x < y : x > y }
                    }
                    return a.collection! != b.collection! ? a.collection! < b.collection! : a.id < b.id
                }.map(\.id)
                let got = try await Self.all(c, r)
                #expect(got == want, "\(reference.text) sorted by \(keys.map(\.field)): \(got.count) items, expected \(want.count)")
                #expect(r.limit >= 10 || want.count > 3 * r.limit, "\(reference.text) should span several pages")
            }
        }
        }
    }

    @Test("sortby on properties, ascending and descending, pages without repeats or gaps", arguments: Backend.allCases)
    func sorting(_ kind: Backend) async throws {
        let items = try Fixtures.items(60)
        try await Self.catalog(kind, items) { c in
            let got = try await Self.all(c, SearchRequest(limit: 4, sortby: [SortKey("view:off_nadir", ascending: true), SortKey("id", ascending: false)]))
            let want = items.sorted { a, b in
                let x = a.properties["view:off_nadir"]!.number!, y = b.properties["view:off_nadir"]!.number!
                return x != y ? x < y : a.id > b.id
            }.map(\.id)
            #expect(got == want)
            let byCloud = try await Self.all(c, SearchRequest(limit: 5, sortby: [SortKey("properties.eo:cloud_cover", ascending: false)]))
            #expect(Set(byCloud).count == items.count && byCloud.count == items.count)
        }
    }

    @Test("PostgreSQL: after a bulk ingest the statistics are refreshed and the spatial index rebuilt, and searches answer the same")
    func postgresAnalyze() async throws {
        let items = try Fixtures.items(120)
        try await Self.catalog(.postgres, items) { c in
            let pg = try #require(c as? PostgresCatalog)
            let r = SearchRequest(bbox: try BBox([-100, -60, 100, 60]), limit: 7)
            let before = try await Self.all(c, r)
            try await pg.analyze(afterIngesting: items.count)
            #expect(try await Self.all(c, r) == before)
            #expect(before == Fixtures.sorted(items).filter { r.asFilter.matches($0) }.map(\.id))
        }
    }

    @Test("PostgreSQL: searches that come round again run as named prepared statements, and generic plans select what the evaluator selects")
    func postgresPreparedStatements() async throws {
        let items = try Fixtures.items(240)
        // One connection, so the statements the catalog prepared are the ones this session
        // lists; generic plans forced, where PostgreSQL would otherwise choose them only after
        // five executions and only when they look no dearer.
        try await Self.catalog(.postgres, items, settings: ["plan_cache_mode = force_generic_plan"], maxConnections: 1) { c in
            let pg = try #require(c as? PostgresCatalog)
            var requests = try Self.evaluatorRequests()
            requests.append(SearchRequest(bbox: try BBox([-120, -60, 120, 60]), limit: 4, sortby: [SortKey("datetime", ascending: true)]))
            for r in requests {
                let reference = r.asFilter
                let want = Fixtures.sorted(items, ascending: r.sortby.first?.ascending ?? false).filter { reference.matches($0) }.map(\.id)
                for round in 0..<2 {
                    let got = try await Self.all(c, r)
                    #expect(got == want, "\(reference.text), round \(round): \(got.count) items, expected \(want.count)")
                }
            }
            let rows = try await pg.run("listing prepared statements", SQLFragment("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'gyre_%'"))
            let prepared = try rows.map { try $0.decode((String, Int64, Int64).self) }
            #expect(prepared.count == pg.statements.count)
            #expect(prepared.count >= requests.count, "each search's first page at least")
            #expect(prepared.allSatisfy { $0.1 > 0 && $0.2 == 0 }, "every prepared search ran on its generic plan")
        }
    }

    @Test("prepared statement names: given on a text's second sighting, one per text and parameter types, and no more than the capacity")
    func preparedStatementNames() {
        let s = PreparedStatements(capacity: 2)
        let a = SQLFragment("SELECT ?", [.int(1)]), a2 = SQLFragment("SELECT ?", [.int(2)]), b = SQLFragment("SELECT ?", [.text("x")])
        let c = SQLFragment("SELECT 1 WHERE ?", [.int(1)]), d = SQLFragment("SELECT 2 WHERE ?", [.int(1)])
        #expect(s.name(for: PreparedStatements.key(a)) == nil)
        let n = s.name(for: PreparedStatements.key(a2))
        #expect(n != nil && s.name(for: PreparedStatements.key(a)) == n, "the same text and types, other values: one name")
        #expect(s.name(for: PreparedStatements.key(b)) == nil && s.name(for: PreparedStatements.key(b)) != n, "other parameter types: another statement")
        #expect(s.count == 2)
        #expect(s.name(for: PreparedStatements.key(c)) == nil && s.name(for: PreparedStatements.key(c)) == nil, "past the capacity texts run unnamed")
        #expect(s.name(for: PreparedStatements.key(d)) == nil && s.count == 2)
    }

    @Test("SQLite: a catalog from before migration v4 (start times in seconds in the R*Tree) is migrated and its spatial searches in time order select the same")
    func sqliteMigrationV4() async throws {
        let items = try Fixtures.items(150)
        try await Self.sqliteFile(items) { path in
            // Back to what v3 left: start times in seconds, v4 not applied.
            do {
                let q = try DatabaseQueue(path: path)
                try await q.write { db in
                    try db.execute(sql: "UPDATE items_space_time SET mint = mint * 86400, maxt = maxt * 86400")
                    try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v4%'")
                }
                let mint = try await q.read { db in try Double.fetchOne(db, sql: "SELECT min(mint) FROM items_space_time") } ?? 0
                #expect(mint > 1e9, "the R*Tree holds seconds again")
            }
            let c = try SQLiteCatalog(path: path)
            for r in [SearchRequest(bbox: try BBox([-120, -60, 120, 60]), limit: 6),
                      SearchRequest(bbox: try BBox([-180, -80, 0, 80]), limit: 5, sortby: [SortKey("datetime", ascending: true)])] {
                let want = Fixtures.sorted(items, ascending: r.sortby.first?.ascending ?? false).filter { r.asFilter.matches($0) }.map(\.id)
                #expect(want.count > 3 * r.limit)
                #expect(try await Self.all(c, r) == want)
            }
        }
    }

    @Test("PostgreSQL: migration 4 replaces the (geometry, datetime) index with one led by the 30-day period, which spatial searches in time order use and which selects the same")
    func postgresMigration4() async throws {
        let items = try Fixtures.items(240)
        // Sequential scans off, so 240 rows still go through an index; one connection, so the
        // index statistics this session flushes are those of the searches below.
        try await Self.catalog(.postgres, items, settings: ["enable_seqscan = off"], maxConnections: 1) { c in
            let pg = try #require(c as? PostgresCatalog)
            func indexes() async throws -> [String: String] {
                let rows = try await pg.run("listing indexes", SQLFragment("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'gyre_items'"))
                return Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
            }
            // Back to what migration 3 left.
            for sql in ["CREATE INDEX gyre_items_geometry_time ON gyre_items USING gist (geometry, datetime)",
                        "DROP INDEX gyre_items_period_geometry_time", "DELETE FROM gyre_migrations WHERE version = 4"] {
                _ = try await pg.run("undoing migration 4", SQLFragment(sql))
            }
            #expect(try await indexes()["gyre_items_period_geometry_time"] == nil)
            try await pg.migrate()
            let after = try await indexes()
            #expect(after["gyre_items_geometry_time"] == nil)
            let def = try #require(after["gyre_items_period_geometry_time"])
            #expect(def.contains("gist") && def.contains("(datetime / '2592000000000'::bigint)") && def.hasSuffix("geometry, datetime)"), "\(def)")

            for r in [SearchRequest(bbox: try BBox([-120, -60, 120, 60]), limit: 6),
                      SearchRequest(intersects: try Geometry(json: ["type": "Polygon", "coordinates": [[[-180, -80], [0, -80], [0, 80], [-180, 80], [-180, -80]]]]),
                                    limit: 5, sortby: [SortKey("datetime", ascending: true)])] {
                let want = Fixtures.sorted(items, ascending: r.sortby.first?.ascending ?? false).filter { r.asFilter.matches($0) }.map(\.id)
                #expect(want.count > 3 * r.limit)
                #expect(try await Self.all(c, r) == want)
            }
            _ = try await pg.run("flushing statistics", SQLFragment("SELECT pg_stat_force_next_flush()"))
            let scans = try await pg.run("reading index statistics", SQLFragment("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'gyre_items_period_geometry_time'"))
            #expect(try scans.first?.decode(Int64.self) ?? 0 > 0, "the spatial searches read the new index")
        }
    }

    @Test("SQLite: time windows of a spatial search are sized from the area and the catalog's density, then from the matches found")
    func sqliteWindowLengths() throws {
        let day: Int64 = 86_400_000_000
        #expect(SQLiteSearch.globeFraction(try BBox([-180, -90, 180, 90])) == 1)
        #expect(abs(SQLiteSearch.globeFraction(try BBox([5, 45, 15, 55])) - 100.0 / 64_800) < 1e-12)
        #expect(abs(SQLiteSearch.globeFraction(try BBox([170, -10, -170, 10])) - 400.0 / 64_800) < 1e-12, "across the antimeridian")
        // 1,000 items a day over the globe: 22 wanted in the whole globe take 2 * 22 / 1,000 of a day.
        let span = 1_000 * day
        #expect(SQLiteSearch.firstLength(span: span, count: 1_000_000, area: 1, wanted: 22) == 44 * day / 1_000)
        #expect(SQLiteSearch.firstLength(span: span, count: 1_000_000, area: 0.01, wanted: 22) == 44 * day / 10)
        #expect(SQLiteSearch.firstLength(span: span, count: 1_000_000, area: 0, wanted: 22) == SQLiteSearch.firstLength(span: span, count: 1_000_000, area: 1e-4, wanted: 22),
                "a point counts as 1/10,000 of the globe")
        #expect(SQLiteSearch.firstLength(span: span, count: 1_000_000_000_000, area: 1, wanted: 1) == 1_000_000, "at least a second")
        #expect(SQLiteSearch.firstLength(span: .max, count: 1, area: 0, wanted: 1000) == 1 << 62, "no overflow")
        #expect(SQLiteSearch.firstLength(span: 0, count: 1, area: 1, wanted: 1) == 1_000_000, "one instant")
        // Then: nothing found multiplies by 8; a rate seen sizes the next for 1.5 times what is needed, within 2 and 16 times the last.
        #expect(SQLiteSearch.nextLength(after: day, covered: day, found: 0, needed: 11) == 8 * day)
        #expect(SQLiteSearch.nextLength(after: day, covered: 2 * day, found: 2, needed: 8) == 12 * day)
        #expect(SQLiteSearch.nextLength(after: day, covered: day, found: 10, needed: 1) == 2 * day)
        #expect(SQLiteSearch.nextLength(after: day, covered: 100 * day, found: 1, needed: 10) == 16 * day)
        #expect(SQLiteSearch.nextLength(after: 1 << 61, covered: .max, found: 0, needed: 10) == 1 << 62)
    }

    @Test("a bbox of the whole globe selects every item with a geometry and none without, in either order, page after page", arguments: Backend.allCases)
    func wholeGlobe(_ kind: Backend) async throws {
        var items = try Fixtures.items(60)
        for k in 0..<4 {
            var i = items[k * 7]
            i.id = "no-geometry-\(k)"
            i.geometry = nil
            i.bbox = nil
            items.append(i)
        }
        try await Self.catalog(kind, items) { c in
            for ascending in [false, true] {
                let r = SearchRequest(bbox: try BBox([-180, -90, 180, 90]), limit: 7, sortby: [SortKey("datetime", ascending: ascending)])
                #expect(r.areaIsWholeGlobe)
                let want = Fixtures.sorted(items, ascending: ascending).filter { r.asFilter.matches($0) }.map(\.id)
                #expect(want.count == 60 && !want.contains { $0.hasPrefix("no-geometry") })
                #expect(try await Self.all(c, r) == want)
            }
            // With an intersects geometry as well, the bbox is one area among two, searched as such.
            let both = SearchRequest(bbox: try BBox([-180, -90, 180, 90]), intersects: try BBox([-180, -45, 0, 45]).geometry, limit: 5)
            #expect(!both.areaIsWholeGlobe)
            #expect(try await Self.all(c, both) == Fixtures.sorted(items).filter { both.asFilter.matches($0) }.map(\.id))
        }
    }

    @Test("datetime searches bound the start time by the longest span: an item written later with a far longer span is found, with and without an area", arguments: Backend.allCases)
    func longestSpanBound(_ kind: Backend) async throws {
        var items = try Fixtures.items(80)
        try await Self.catalog(kind, items) { c in
            let june = try TemporalInterval(parameter: "2020-06-01T00:00:00Z/2020-06-30T23:59:59Z")
            let requests = [SearchRequest(datetime: june, limit: 4), SearchRequest(bbox: try BBox([-180, -80, 180, 80]), datetime: june, limit: 4),
                            SearchRequest(bbox: try BBox([-180, -80, 180, 80]), datetime: june, limit: 3, sortby: [SortKey("datetime", ascending: true)])]
            func check(_ what: String) async throws {
                for r in requests {
                    let want = Fixtures.sorted(items, ascending: r.sortby.first?.ascending ?? false).filter { r.asFilter.matches($0) }.map(\.id)
                    #expect(try await Self.all(c, r) == want, "\(what): \(r.asFilter.text)")
                }
            }
            try await check("as ingested")
            // An item rewritten to start 17 months before June and end in it.
            var long = items[5]
            long.properties["datetime"] = .null
            long.properties["start_datetime"] = .string("2019-01-01T00:00:00Z")
            long.properties["end_datetime"] = .string("2020-06-15T00:00:00Z")
            items[5] = long
            try await c.putItems([long])
            try await check("after a longer span")
            #expect(requests.allSatisfy { $0.asFilter.matches(long) })
        }
    }

    @Test("PostgreSQL: migration 5 records the longest span of the items already there")
    func postgresMigration5() async throws {
        let items = try Fixtures.items(50)
        try await Self.catalog(.postgres, items) { c in
            let pg = try #require(c as? PostgresCatalog)
            func longest() async throws -> Int64? { try await pg.run("reading the span", SQLFragment("SELECT longest FROM gyre_span")).first?.decode(Int64.self) }
            #expect(try await longest() == 20 * 86_400_000_000, "the fixtures' ranges are 20 days")
            for sql in ["DROP TABLE gyre_span", "DELETE FROM gyre_migrations WHERE version = 5"] { _ = try await pg.run("undoing migration 5", SQLFragment(sql)) }
            try await pg.migrate()
            #expect(try await longest() == 20 * 86_400_000_000)
        }
    }

    @Test("SQLite: migration v5 records the longest span of the items already there")
    func sqliteMigrationV5() async throws {
        try await Self.sqliteFile(try Fixtures.items(50)) { path in
            let q = try DatabaseQueue(path: path)
            #expect(try await q.read { db in try Int64.fetchOne(db, sql: "SELECT longest FROM span") } == 20 * 86_400_000_000)
            try await q.write { db in
                try db.execute(sql: "DROP TABLE span")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v5%'")
            }
            _ = try SQLiteCatalog(path: path)
            #expect(try await q.read { db in try Int64.fetchOne(db, sql: "SELECT longest FROM span") } == 20 * 86_400_000_000)
        }
    }

    @Test("paging tokens stay valid while items are added", arguments: Backend.allCases)
    func stablePaging(_ kind: Backend) async throws {
        let items = try Fixtures.items(50)
        try await Self.catalog(kind, items) { c in
            let first = try await c.search(SearchRequest(limit: 10))
            // New items, newer than everything and older than everything.
            var extra = try Fixtures.items(4, seed: 99).enumerated().map { k, item -> Item in
                var i = item
                i.id = "new-\(k)"
                i.properties["datetime"] = .string(k % 2 == 0 ? "2030-01-01T00:00:00Z" : "2000-01-01T00:00:00Z")
                return i
            }
            try await c.putItems(extra)
            var r = SearchRequest(limit: 10, token: first.next)
            var rest: [String] = []
            while true {
                let p = try await c.search(r)
                rest += try p.items.map(\.id)
                guard let n = p.next else { break }
                r.token = n
            }
            let old = Fixtures.sorted(items).map(\.id)
            #expect(try first.items.map(\.id) == Array(old.prefix(10)))
            #expect(rest == Array(old.dropFirst(10)) + ["new-1", "new-3"].sorted(), "the older new items come last; nothing repeats")
            extra.removeAll()
            await #expect(throws: GyreCatalogError.self) { try await c.search(SearchRequest(limit: 10, token: "garbage")) }
        }
    }

    @Test("ingest is idempotent, refuses orphans, and deletes", arguments: Backend.allCases)
    func writes(_ kind: Backend) async throws {
        let items = try Fixtures.items(20)
        try await Self.catalog(kind, items) { c in
            try await c.putItems(items)
            var changed = items[3]
            changed.properties["eo:cloud_cover"] = 99.5
            try await c.putItems([changed])
            #expect(try await Self.all(c, SearchRequest(limit: 100)).count == 20)
            #expect(try await c.item(collection: changed.collection!, id: changed.id)?.properties["eo:cloud_cover"] == 99.5)
            var orphan = items[0]
            orphan.collection = "modis"
            orphan.id = "orphan"
            await #expect {
                try await c.putItems([items[1], orphan])
            } throws: { e in
                guard let e = e as? GyreCatalogError else { return false }
                return e.code == .conflict && e.message.contains("'orphan'") && e.message.contains("'modis'")
            }
            #expect(try await c.item(collection: "s2", id: "orphan") == nil)
            #expect(try await c.deleteItem(collection: items[0].collection!, id: items[0].id))
            #expect(try await !c.deleteItem(collection: items[0].collection!, id: items[0].id))
            #expect(try await Self.all(c, SearchRequest(limit: 100)).count == 19)
            #expect(try await c.deleteCollection("landsat"))
            let expectedLeft = items.dropFirst().filter { $0.collection == "s2" }.count
            try #require(expectedLeft > 0 && expectedLeft < 19)
            #expect(try await Self.all(c, SearchRequest(limit: 100)).count == expectedLeft)
            let left = try await c.search(SearchRequest(limit: 100))
            #expect(try left.items.count == expectedLeft && left.items.allSatisfy { $0.collection == "s2" })
            #expect(try await c.collections().map(\.id) == ["s2"])
        }
    }

    @Test("registered datasets: kept in order, a taken name refused, forgotten once", arguments: Backend.allCases)
    func registeredDatasets(_ kind: Backend) async throws {
        try await kind.with { c in
            #expect(try await c.registeredDatasets().isEmpty)
            #expect(try await c.registerDataset(name: "b", registration: ["source": "s3://bucket/b.zarr"]))
            #expect(try await c.registerDataset(name: "a", registration: ["source": "/data/a.nc", "metadata": ["x": "1"]]))
            #expect(try await !c.registerDataset(name: "b", registration: ["source": "other"]))
            let all = try await c.registeredDatasets()
            #expect(all.map(\.name) == ["b", "a"])
            #expect(all[0].registration["source"] == "s3://bucket/b.zarr" && all[1].registration["metadata"]?["x"] == "1")
            #expect(try await c.unregisterDataset("b"))
            #expect(try await !c.unregisterDataset("b"))
            #expect(try await c.registeredDatasets().map(\.name) == ["a"])
        }
    }

    @Test("createCollection creates once: of eight clients creating one collection at once, exactly one succeeds", arguments: Backend.allCases)
    func createOnce(_ kind: Backend) async throws {
        try await kind.with { c in
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for k in 0..<8 {
                    var col = Fixtures.collection("race")
                    col.title = "client \(k)"
                    group.addTask { [col] in try await c.createCollection(col) }
                }
                var n = 0
                for try await ok in group where ok { n += 1 }
                return n
            }
            #expect(created == 1)
            #expect(try await c.collections().map(\.id) == ["race"])
            // An existing collection is left as it was; putCollection still replaces it.
            let before = try #require(try await c.collection("race")?.title)
            var other = Fixtures.collection("race")
            other.title = "replaced"
            #expect(try await !c.createCollection(other))
            #expect(try await c.collection("race")?.title == before)
            try await c.putCollection(other)
            #expect(try await c.collection("race")?.title == "replaced")
        }
    }

    @Test("changes: what was written after a cursor, in write order, updates included", arguments: Backend.allCases)
    func changes(_ kind: Backend) async throws {
        let items = try Fixtures.items(12)
        try await Self.catalog(kind, Array(items.prefix(5))) { c in
            let now = try await c.changes(after: nil, limit: 0)
            #expect(now.items.isEmpty)
            #expect(try await c.changes(after: now.cursor, limit: 100).items.isEmpty)
            try await c.putItems(Array(items[5..<9]))
            var updated = items[0]
            updated.properties["eo:cloud_cover"] = 42.5
            try await c.putItems([updated])
            try await c.putItems(Array(items[9..<12]))
            var seen: [Item] = [], cursor = now.cursor
            while true {
                let page = try await c.changes(after: cursor, limit: 3)
                seen += page.items
                if page.items.isEmpty { break }
                #expect(page.cursor > cursor)
                cursor = page.cursor
            }
            #expect(seen.map(\.id) == items[5..<9].map(\.id) + [items[0].id] + items[9..<12].map(\.id))
            #expect(seen[4].properties["eo:cloud_cover"] == 42.5)
            #expect(try await c.changes(after: nil, limit: 0).cursor == cursor)
        }
    }

    @Test("queryables come from the items; unknown properties and hostile strings are refused or bound, never spliced", arguments: Backend.allCases)
    func queryablesAndInjection(_ kind: Backend) async throws {
        let items = try Fixtures.items(30)
        try await Self.catalog(kind, items) { c in
            let q = try await c.queryables(collection: nil)
            #expect(q.contains(Queryable(name: "eo:cloud_cover", type: "mixed")) && q.contains(Queryable(name: "gsd", type: "integer")))
            #expect(q.contains(Queryable(name: "datetime", type: "date-time")))
            await #expect {
                try await c.search(SearchRequest(filter: try CQL2.parse(text: "cloudiness < 5")))
            } throws: { ($0 as? GyreCatalogError)?.message.contains("unknown property 'cloudiness'") == true }
            for hostile in ["'; DROP TABLE items; --", "x' OR '1'='1", "\" OR 1=1 --", "%' --"] {
                let f = CQL2.op("=", [.property("platform"), .string(hostile)])
                #expect(try await c.search(SearchRequest(ids: [hostile], limit: 5)).items.isEmpty)
                #expect(try await c.search(SearchRequest(collections: [hostile], limit: 5)).items.isEmpty)
                #expect(try await c.search(SearchRequest(limit: 5, filter: f)).items.isEmpty)
            }
            #expect(try await Self.all(c, SearchRequest(limit: 100)).count == 30, "the table is still there")
            // A property written after a search (which cached the names) is usable at once.
            var tagged = items[0]
            tagged.properties["fresh:tag"] = "yes"
            try await c.putItems([tagged])
            let found = try await c.search(SearchRequest(limit: 5, filter: try CQL2.parse(text: "\"fresh:tag\" = 'yes'")))
            #expect(try found.items.map(\.id) == [tagged.id])
        }
    }
}
