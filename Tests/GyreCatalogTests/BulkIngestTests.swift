import GyreCore
import Foundation
import GRDB
import GyreCatalog
import GyreSTAC
import Testing

/// `CatalogIngest`: newline-delimited files loaded in batches, parsed on all cores, with the
/// catalogs' deferred index maintenance, on both backends.
@Suite("Bulk ingest of newline-delimited items (SQLite, PostgreSQL)")
struct BulkIngestTests {
    /// A directory with `items.ndjson` holding `lines` (one string per line), removed afterwards.
    static func file(_ lines: [String], _ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("items.ndjson").path
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        try await body(path)
    }

    static func lines(_ items: [Item]) -> [String] { items.map(\.json.text) }

    static func withCollections(_ kind: Backend, _ body: (any CatalogBackend) async throws -> Void) async throws {
        try await kind.with { c in
            try await c.putCollection(Fixtures.collection("s2"))
            try await c.putCollection(Fixtures.collection("landsat"))
            try await body(c)
        }
    }

    /// The names of the catalog's indexes on its items table.
    static func indexes(_ c: any CatalogBackend) async throws -> Set<String> {
        if let pg = c as? PostgresCatalog {
            let rows = try await pg.run("listing indexes", SQLFragment("SELECT indexname FROM pg_indexes WHERE tablename = 'gyre_items'"))
            return Set(try rows.map { try $0.decode(String.self) })
        }
        let sqlite = try #require(c as? SQLiteCatalog)
        return Set(try await sqlite.writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'") })
    }

    /// For SQLite: what `rtreecheck` says of the R*Tree, how many boxes it holds and how many
    /// wait outside it for a bulk load's build (nil for PostgreSQL).
    static func rtree(_ c: any CatalogBackend) async throws -> (check: String, boxes: Int, pending: Int)? {
        guard let sqlite = c as? SQLiteCatalog else { return nil }
        return try await sqlite.writer.read { db in
            (try String.fetchOne(db, sql: "SELECT rtreecheck('items_space_time')") ?? "",
             try Int.fetchOne(db, sql: "SELECT count(*) FROM items_space_time") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM items_pending_box") ?? -1)
        }
    }

    static func stored(_ c: any CatalogBackend, _ items: [Item]) async throws -> [Item?] {
        var out: [Item?] = []
        for i in items { out.append(try await c.item(collection: i.collection!, id: i.id)) }
        return out
    }

    @Test("a load with indexes deferred stores every item as written, rebuilds the indexes, searches as the evaluator does, and a second run changes nothing",
          arguments: Backend.allCases)
    func deferredLoad(_ kind: Backend) async throws {
        let items = try Fixtures.items(300)
        try await Self.withCollections(kind) { c in
            let before = try await Self.indexes(c)
            #expect(before.count >= 4)
            // Blank lines are skipped; the last line has no newline.
            var lines = Self.lines(items)
            lines.insert("", at: 10)
            lines.insert("   ", at: 50)
            try await Self.file(lines) { path in
                let n = try await CatalogIngest.ndjson([path], into: c, batch: 64, parallelism: 3, deferIndexesFrom: 1)
                #expect(n == items.count)
                #expect(try await Self.indexes(c) == before)
                if let t = try await Self.rtree(c) {
                    #expect(t.check == "ok" && t.boxes == items.count && t.pending == 0, "the R*Tree built in one go: \(t)")
                }
                #expect(try await Self.stored(c, items) == items.map { Optional($0) })
                if let pg = c as? PostgresCatalog {
                    // Rewritten newest first (`PostgresCatalog.cluster`), from an order that was not.
                    #expect(Fixtures.sorted(items).map(\.id) != items.map(\.id))
                    let order = "SELECT count(*) FROM (SELECT datetime, lag(datetime) OVER (ORDER BY ctid) AS before FROM gyre_items) t WHERE datetime > before"
                    #expect(try await pg.run("checking the order", SQLFragment(order)).first?.decode(Int64.self) == 0)
                    let marked = "SELECT count(*) FROM pg_index WHERE indisclustered AND indexrelid = 'gyre_items_order'::regclass"
                    #expect(try await pg.run("checking the order", SQLFragment(marked)).first?.decode(Int64.self) == 1)
                }
                for r in try CatalogBackendTests.evaluatorRequests() {
                    #expect(try await CatalogBackendTests.all(c, r) == Fixtures.sorted(items).filter { r.asFilter.matches($0) }.map(\.id), "\(r.asFilter)")
                }
                let cursor = try await c.changes(after: nil, limit: 1).cursor
                // Again: the same catalog, every item written once more (a new change each).
                #expect(try await CatalogIngest.ndjson([path], into: c, batch: 64, parallelism: 3, deferIndexesFrom: 1) == items.count)
                #expect(try await CatalogBackendTests.all(c, SearchRequest(limit: 1000)).count == items.count)
                #expect(try await Self.stored(c, items) == items.map { Optional($0) })
                #expect(try await c.changes(after: cursor, limit: 1000).items.count == items.count)
                #expect(try await Self.indexes(c) == before)
                if let t = try await Self.rtree(c) { #expect(t.check == "ok" && t.boxes == items.count && t.pending == 0, "\(t)") }
            }
        }
    }

    /// A load smaller than the catalog keeps its indexes; a larger one drops some, and `r`
    /// still selects what the evaluator selects. Returns the indexes there were, with the
    /// larger load left unfinished.
    static func beginLoads(_ c: any CatalogBackend, _ items: [Item], _ r: SearchRequest) async throws -> Set<String> {
        let all = try await Self.indexes(c)
        #expect(try await !c.beginBulkLoad(items: 10), "smaller than the catalog: indexes kept")
        #expect(try await Self.indexes(c) == all)
        try await c.finishBulkLoad(written: 0)
        #expect(try await c.beginBulkLoad(items: 1000))
        let left = try await Self.indexes(c)
        #expect(left.count < all.count && left.isSubset(of: all))
        // Searches stay correct without them.
        #expect(try await CatalogBackendTests.all(c, r) == Fixtures.sorted(items).filter { r.asFilter.matches($0) }.map(\.id))
        return all
    }

    @Test("beginBulkLoad drops the deferrable indexes only when the load is at least the catalog's size; a load that never finished has them rebuilt when the catalog opens",
          arguments: Backend.allCases)
    func unfinishedLoad(_ kind: Backend) async throws {
        let items = try Fixtures.items(40)
        switch kind {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-ingest-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("catalog.db").path
            let all: Set<String>
            // Written during the load: new items (their boxes wait for the R*Tree's build),
            // one of them again without a geometry, and an old item moved.
            var latest = try Fixtures.items(80)
            latest[45].geometry = nil
            latest[3].geometry = latest[60].geometry
            let spatial = [SearchRequest(bbox: try BBox([-100, -60, 100, 60]), limit: 200),
                           SearchRequest(bbox: try BBox([-180, -90, 0, 90]), limit: 3),
                           SearchRequest(intersects: latest[60].geometry, limit: 200)]
            func matches(_ c: any CatalogBackend) async throws {
                for r in spatial {
                    #expect(try await CatalogBackendTests.all(c, r) == Fixtures.sorted(latest).filter { r.asFilter.matches($0) }.map(\.id), "\(r.asFilter)")
                }
            }
            do {
                let c = try SQLiteCatalog(path: path)
                try await c.putCollection(Fixtures.collection("s2"))
                try await c.putCollection(Fixtures.collection("landsat"))
                try await c.putItems(items)
                all = try await Self.beginLoads(c, items, SearchRequest(datetime: try TemporalInterval(parameter: "2020-03-01T00:00:00Z/2020-06-30T00:00:00Z"), limit: 5))
                try await c.putItems(Array(latest[40...]) + [latest[3]])
                var first = latest[45]
                first.geometry = items[0].geometry
                try await c.putItems([first])
                try await c.putItems([latest[45]])
                // Searches find the items whose boxes wait.
                let t = try #require(try await Self.rtree(c))
                #expect(t.check == "ok" && t.boxes == 40 && t.pending == 39, "\(t)")
                #expect(try await c.writer.read { db in try Int64.fetchAll(db, sql: "SELECT above FROM rtree_pending") } == [40], "one mark, after the items there were")
                try await matches(c)
            }
            // The process "died" before finishBulkLoad.
            let reopened = try SQLiteCatalog(path: path)
            #expect(try await Self.indexes(reopened) == all)
            let t = try #require(try await Self.rtree(reopened))
            #expect(t.check == "ok" && t.boxes == 79 && t.pending == 0, "the R*Tree built when the catalog opened: \(t)")
            try await matches(reopened)
        case .postgres:
            try await Self.withCollections(kind) { c in
                let pg = try #require(c as? PostgresCatalog)
                try await c.putItems(items)
                _ = try await pg.run("analyzing", SQLFragment("ANALYZE gyre_items"))
                let all = try await Self.beginLoads(c, items, SearchRequest(bbox: try BBox([-100, -60, 100, 60]), limit: 7))
                // What opening the catalog does for a load that never finished.
                try await pg.ensureIndexes()
                #expect(try await Self.indexes(c) == all)
            }
        }
    }

    @Test("a bad item in the middle of a file names the file and line; the batches before it stay, its batch and those after are not written",
          arguments: Backend.allCases)
    func badItem(_ kind: Backend) async throws {
        let items = try Fixtures.items(250)
        var noTime = items[136]
        noTime.properties["datetime"] = nil
        var orphan = items[136]
        orphan.collection = "modis"
        let cases: [(line: String, message: [String])] = [
            (noTime.json.text, ["items.ndjson line 137", "datetime"]),
            (#"{"type": "Feature", "id": "x", "#, ["items.ndjson line 137"]),
            (orphan.json.text, ["items.ndjson line 137", "'\(orphan.id)'", "'modis'"]),
        ]
        for (bad, message) in cases {
            try await Self.withCollections(kind) { c in
                let all = try await Self.indexes(c)
                var lines = Self.lines(items)
                lines[136] = bad
                try await Self.file(lines) { path in
                    await #expect {
                        _ = try await CatalogIngest.ndjson([path], into: c, batch: 50, parallelism: 2, deferIndexesFrom: 1)
                    } throws: { e in
                        let m = (e as? any GyreErrorProtocol)?.message ?? "\(e)"
                        return message.allSatisfy { m.contains($0) } && m.contains(path)
                    }
                    // Batches of 50 lines: lines 1-100 are in, 101-250 are not.
                    let stored = try await Self.stored(c, items)
                    #expect(stored[..<100].allSatisfy { $0 != nil })
                    #expect(stored[100...].allSatisfy { $0 == nil })
                    #expect(try await CatalogBackendTests.all(c, SearchRequest(limit: 1000)).count == 100)
                    #expect(try await Self.indexes(c) == all, "indexes rebuilt after the failure")
                }
            }
        }
    }

    @Test("PostgreSQL: every kind of geometry goes as 2D EWKB and is stored as PostGIS reads its GeoJSON made 2D; heights stay in the item")
    func geometries() async throws {
        let geometries: [String] = [
            #"{"type":"Point","coordinates":[10.5,-3.25]}"#,
            #"{"type":"Point","coordinates":[10.5,-3.25,120.0]}"#,
            #"{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}"#,
            #"{"type":"LineString","coordinates":[[1,2],[3,4],[5,0]]}"#,
            #"{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8],[9,9]]]}"#,
            #"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}"#,
            #"{"type":"Polygon","coordinates":[[[0,0,1],[4,0,2],[4,4,3],[0,0,1]]]}"#,
            #"{"type":"MultiPolygon","coordinates":[[[[178,0],[180,0],[180,2],[178,0]]],[[[-180,0],[-178,0],[-180,2],[-180,0]]]]}"#,
            #"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,1]},{"type":"LineString","coordinates":[[0,0],[1,1]]}]}"#,
            #"{"type":"LineString","coordinates":[[0,0],[1,1,5]]}"#,
        ]
        var items: [Item] = []
        for (k, g) in geometries.enumerated() {
            let geometry = try Geometry(json: JSON.parse(g))
            let b = try #require(geometry.bbox)
            items.append(try Item(json: [
                "type": "Feature", "stac_version": "1.1.0", "id": .string("g\(k)"), "collection": "s2",
                "geometry": try JSON.parse(g), "bbox": [.double(b.west), .double(b.south), .double(b.east), .double(b.north)],
                "properties": ["datetime": "2020-01-01T00:00:00Z", "note": .string("tab\there, a \\ backslash,\nnewline")],
                "links": [], "assets": [:],
            ]))
        }
        try await Self.withCollections(.postgres) { c in
            let pg = try #require(c as? PostgresCatalog)
            try await c.putItems(items)
            for (item, g) in zip(items, geometries) {
                let rows = try await pg.run("comparing", SQLFragment(
                    "SELECT ST_Equals(geometry, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(?::text), 4326))) AND ST_AsText(geometry) = ST_AsText(ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(?::text), 4326))), ST_SRID(geometry), properties ->> 'note' FROM gyre_items WHERE id = ?",
                    [.text(g), .text(g), .text(item.id)]))
                let row = try #require(rows.first)
                let (same, srid, note) = try row.decode((Bool, Int, String).self)
                #expect(same, "\(g)")
                #expect(srid == 4326)
                #expect(note == "tab\there, a \\ backslash,\nnewline")
            }
            #expect(try await Self.stored(c, items) == items.map { Optional($0) })
        }
    }

    @Test("a batch's queryables are every (collection, property, type) of its items, however the properties vary from item to item")
    func batchQueryables() async throws {
        let items = try Fixtures.items(300)
        var wanted = Set<String>()
        for item in items {
            for (name, value) in item.properties where !value.isNull {
                let type: String
                switch value {
                case .string: type = "string"
                case .int: type = "integer"
                case .double: type = "number"
                case .bool: type = "boolean"
                case .array: type = "array"
                default: type = "object"
                }
                wanted.insert("\(item.collection!) \(name) \(type)")
            }
        }
        try await Self.file(Self.lines(items)) { path in
            var batches: [NDJSONLines] = []
            try await StaticCatalog.streamLines(path, batch: 1000) { batches.append($0) }
            let lines = try #require(batches.first)
            for format in [ItemBatch.Format.sqlite, .postgresCopy] {
                let batch = try ItemBatch(lines: lines, range: 0..<lines.count, format: format)
                let got = batch.queryables.map { "\($0.collection) \($0.name) \($0.type)" }
                #expect(batch.count == items.count && got.count == Set(got).count && Set(got) == wanted)
            }
        }
    }

    @Test("COPY text escapes every backslash, tab, newline and carriage return at every offset, and nothing else")
    func copyTextEscapes() {
        func reference(_ b: [UInt8]) -> [UInt8] {
            b.flatMap { c -> [UInt8] in
                switch c {
                case 0x5C: return [0x5C, 0x5C]
                case 0x09: return [0x5C, 0x74]
                case 0x0A: return [0x5C, 0x6E]
                case 0x0D: return [0x5C, 0x72]
                default: return [c]
                }
            }
        }
        var rng = SplitMix64(seed: 11)
        let alphabet: [UInt8] = [0x5C, 0x09, 0x0A, 0x0D, 0x00, 0x1F, 0x20, 0x21, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, 0x41, 0x3C, 0xDC]
        for n in 0..<2_000 {
            let count = n < 64 ? n : Int.random(in: 0..<300, using: &rng)
            // Mostly plain text with a few special bytes, or special bytes throughout.
            let dense = Bool.random(using: &rng)
            let bytes = (0..<count).map { _ in dense || Int.random(in: 0..<40, using: &rng) == 0 ? alphabet.randomElement(using: &rng)! : UInt8(ascii: "a") }
            var out: [UInt8] = [1, 2]
            CopyText.field(bytes, into: &out)
            #expect(out == [1, 2] + reference(bytes), "\(bytes)")
        }
    }

    @Test("NDJSONLines: lines across the file's 8 MB reads, blank ones, carriage returns and a last line without a newline come out whole and numbered")
    func linesAcrossReads() async throws {
        var rng = SplitMix64(seed: 7)
        var lines: [String] = []
        for k in 0..<14_000 {
            switch Int.random(in: 0..<50, using: &rng) {
            case 0: lines.append("")
            case 1: lines.append(" \t\r")
            default:
                let body = String(repeating: "x", count: Int.random(in: 0..<1500, using: &rng))
                lines.append("{\"n\":\(k),\"pad\":\"\(body)\"}" + (k % 3 == 0 ? "\r" : ""))
            }
        }
        let wanted = lines.enumerated().filter { !$0.element.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }.map { ($0.offset + 1, $0.element) }
        try await Self.file(lines) { path in
            #expect(((try FileManager.default.attributesOfItem(atPath: path))[.size] as? Int ?? 0) > 9 << 20)
            var got: [(Int, String)] = [], sizes: [Int] = []
            try await StaticCatalog.streamLines(path, batch: 999) { batch in
                sizes.append(batch.count)
                for l in batch.lines { got.append((l.number, String(decoding: batch.bytes[l.start..<l.end], as: UTF8.self))) }
            }
            #expect(sizes.dropLast().allSatisfy { $0 == 999 } && sizes.reduce(0, +) == wanted.count)
            #expect(got.count == wanted.count)
            for (g, w) in zip(got, wanted) where g != w {
                Issue.record("line \(w.0): got line \(g.0) of \(g.1.count) bytes, wanted \(w.1.count) bytes")
                break
            }
        }
    }

    @Test("NDJSONLines: batches of non-blank lines with their numbers, parsed in parts in order; the earliest bad line is the one reported")
    func lines() async throws {
        let items = try Fixtures.items(300)
        var lines = Self.lines(items)
        lines.insert("", at: 0)
        lines.insert("\t ", at: 5)
        try await Self.file(lines) { path in
            var batches: [NDJSONLines] = []
            try await StaticCatalog.streamLines(path, batch: 8) { batches.append($0) }
            #expect(batches.map(\.count) == Array(repeating: 8, count: 37) + [4])
            #expect(batches[0].lines.map(\.number) == [2, 3, 4, 5, 7, 8, 9, 10])
            #expect(batches[0].span == "\(path) lines 2-10")
            #expect(try await batches[0].items(parallelism: 3) == Array(items[0..<8]))
        }
        // One batch of 300 lines parsed in four parts: lines 200 and 280 are bad, in parts three
        // and four; the error is line 200's.
        lines = Self.lines(items)
        lines[199] = "not json"
        lines[279] = "{}"
        try await Self.file(lines) { path in
            var batches: [NDJSONLines] = []
            try await StaticCatalog.streamLines(path, batch: 1000) { batches.append($0) }
            let batch = try #require(batches.first)
            #expect(batches.count == 1 && batch.count == 300)
            let parts = try await batch.parts(parallelism: 4) { lines, range in range }
            #expect(parts.count == 4 && parts.first?.lowerBound == 0 && parts.last?.upperBound == 300)
            await #expect {
                _ = try await batch.items(parallelism: 4)
            } throws: { e in
                ((e as? any GyreErrorProtocol)?.message ?? "").contains("\(path) line 200")
            }
        }
    }
}
