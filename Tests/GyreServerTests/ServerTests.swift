import GyreCore
import Foundation
import GyreCatalog
import GyreSTAC
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

/// A fresh SQLite catalog with the generated collections and `count` items, served by a
/// service with (or without) an API key; the router is driven in process.
func withService<T: Sendable>(items count: Int = 300, apiKey: String? = "secret",
                              _ body: @Sendable (STACService, [Item], any TestClientProtocol) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
    for c in SampleCatalog.collections() { try await db.putCollection(c) }
    let items = SampleCatalog.items(count: count, seed: 7)
    try await db.putItems(items)
    let service = STACService(backend: db, configuration: .init(apiKey: apiKey, streamHeartbeat: 0.2, streamPoll: 0.05), baseURL: "http://test.local")
    let app = Application(router: service.router())
    return try await app.test(.router) { client in try await body(service, items, client) }
}

func json(_ r: TestResponse) throws -> JSON { try JSON.parse(r.body.readableBytesView, source: "response") }

func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (Int, JSON) {
    let r = try await client.execute(uri: uri, method: .get)
    return (r.status.code, try json(r))
}

func post(_ client: any TestClientProtocol, _ uri: String, _ body: String, method: HTTPRequest.Method = .post,
          key: String? = "secret") async throws -> (Int, JSON?) {
    var headers: HTTPFields = [.contentType: "application/json"]
    if let key { headers[.authorization] = "Bearer \(key)" }
    let r = try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
    return (r.status.code, r.body.readableBytes > 0 ? try json(r) : nil)
}

/// The ids a brute-force pass over the items selects, in the API's default order
/// (datetime descending, then collection, then id).
func bruteForce(_ items: [Item], _ request: SearchRequest) -> [String] {
    let f = request.asFilter
    return items.filter { f.matches($0) }
        .sorted { a, b in
            let ta = (try? a.timeRange().start.microseconds) ?? 0, tb = (try? b.timeRange().start.microseconds) ?? 0
            if ta != tb { return ta > tb }
            if a.collection != b.collection { return (a.collection ?? "") < (b.collection ?? "") }
            return a.id < b.id
        }.map(\.id)
}

/// Follows `next` links (GET hrefs, or POST bodies) to the end; returns the ids in order.
func pages(_ client: any TestClientProtocol, first: (Int, JSON), maxPages: Int = 500) async throws -> [String] {
    var (status, page) = first
    var ids: [String] = []
    for _ in 0..<maxPages {
        #expect(status == 200, "\(page.text.prefix(300))")
        ids += (page["features"]?.array ?? []).compactMap { $0["id"]?.string }
        guard let next = page["links"]?.array?.first(where: { $0["rel"]?.string == "next" }) else { return ids }
        let href = next["href"]!.string!.replacingOccurrences(of: "http://test.local", with: "")
        if next["method"]?.string == "POST" {
            let (s, j) = try await post(client, href, next["body"]!.text, key: nil)
            (status, page) = (s, j ?? .null)
        } else {
            (status, page) = try await get(client, href)
        }
    }
    Issue.record("more than \(maxPages) pages")
    return ids
}

@Suite("STAC API server") struct ServerTests {
    @Test func landingConformanceAndCollections() async throws {
        try await withService(items: 20) { service, _, client in
            let (s, landing) = try await get(client, "/")
            #expect(s == 200)
            #expect(landing["type"] == "Catalog")
            let rels = (landing["links"]?.array ?? []).compactMap { $0["rel"]?.string }
            for rel in ["self", "root", "conformance", "data", "service-desc", "service-doc", "search", "child",
                        "http://www.opengis.net/def/rel/ogc/1.0/queryables"] {
                #expect(rels.contains(rel), "landing page lacks a \(rel) link")
            }
            #expect(rels.filter { $0 == "child" }.count == 2)
            let (_, conf) = try await get(client, "/conformance")
            let classes = conf["conformsTo"]?.array?.compactMap(\.string) ?? []
            #expect(classes.contains("https://api.stacspec.org/v1.0.0/item-search#filter"))
            #expect(classes.contains("https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction"))

            let (_, cs) = try await get(client, "/collections")
            #expect(cs["collections"]?.array?.count == 2)
            let (s2, c) = try await get(client, "/collections/\(SampleCatalog.sentinel2)")
            #expect(s2 == 200)
            let self_ = c["links"]?.array?.first { $0["rel"] == "self" }
            #expect(self_?["href"]?.string == "http://test.local/collections/sentinel-2-l2a")
            let (s404, e) = try await get(client, "/collections/nope")
            #expect(s404 == 404)
            #expect(e["code"] == "NotFound")
            #expect(e["description"]?.string?.contains("nope") == true)
            let (s404b, _) = try await get(client, "/no/such/path")
            #expect(s404b == 404)

            let (_, api) = try await get(client, "/api")
            #expect(api["openapi"]?.string?.hasPrefix("3.0") == true)
            for p in ["/search", "/collections/{collectionId}/items/{itemId}", "/search/stream", "/datasets/{name}/zarr/{key}", "/datasets/{name}/eval"] {
                #expect(api["paths"]?[p] != nil, "OpenAPI lacks \(p)")
            }
            let (_, q) = try await get(client, "/queryables")
            #expect(q["properties"]?["eo:cloud_cover"]?["type"] == "number")
            #expect(q["properties"]?["datetime"]?["format"] == "date-time")
            #expect(service.conformance.count == Set(service.conformance).count)
        }
    }

    /// Searches over GET and POST, paged through `next` links, against a brute-force filter
    /// over the same items.
    @Test func searchesMatchBruteForce() async throws {
        try await withService(items: 400) { _, items, client in
            let cases: [(get: String, post: String, request: SearchRequest)] = [
                ("bbox=-10,35,30,60&limit=7", #"{"bbox":[-10,35,30,60],"limit":7}"#,
                 SearchRequest(bbox: BBox(west: -10, south: 35, east: 30, north: 60))),
                ("datetime=2018-01-01T00:00:00Z/2019-06-30T23:59:59Z&collections=sentinel-2-l2a&limit=25",
                 #"{"datetime":"2018-01-01T00:00:00Z/2019-06-30T23:59:59Z","collections":["sentinel-2-l2a"],"limit":25}"#,
                 SearchRequest(datetime: try TemporalInterval(parameter: "2018-01-01T00:00:00Z/2019-06-30T23:59:59Z"), collections: ["sentinel-2-l2a"])),
                ("datetime=../2017-01-01T00:00:00Z&filter=eo:cloud_cover%20%3C%2025&limit=5",
                 #"{"datetime":"../2017-01-01T00:00:00Z","filter":{"op":"<","args":[{"property":"eo:cloud_cover"},25]},"limit":5}"#,
                 SearchRequest(datetime: try TemporalInterval(parameter: "../2017-01-01T00:00:00Z"), filter: try CQL2.parse(text: "eo:cloud_cover < 25"))),
                ("bbox=170,-60,-170,76&limit=3", #"{"bbox":[170,-60,-170,76],"limit":3}"#,
                 SearchRequest(bbox: BBox(west: 170, south: -60, east: -170, north: 76))),
                ("filter=platform%20IN%20('landsat-9')%20AND%20S_INTERSECTS(geometry,POLYGON((0%200,60%200,60%2060,0%2060,0%200)))&filter-lang=cql2-text&limit=4",
                 #"{"filter":"platform IN ('landsat-9') AND S_INTERSECTS(geometry,POLYGON((0 0,60 0,60 60,0 60,0 0)))","filter-lang":"cql2-text","limit":4}"#,
                 SearchRequest(filter: try CQL2.parse(text: "platform IN ('landsat-9') AND S_INTERSECTS(geometry,POLYGON((0 0,60 0,60 60,0 60,0 0)))"))),
                ("query=%7B%22eo:cloud_cover%22:%7B%22gte%22:90%7D,%22gsd%22:%7B%22eq%22:10%7D%7D&limit=2",
                 #"{"query":{"eo:cloud_cover":{"gte":90},"gsd":{"eq":10}},"limit":2}"#,
                 SearchRequest(filter: try CQL2.parse(text: "\"eo:cloud_cover\" >= 90 AND gsd = 10"))),
                ("intersects=%7B%22type%22:%22Point%22,%22coordinates%22:[" + "\(items[3].bbox![0] + 0.1),\(items[3].bbox![1] + 0.1)" + "]%7D",
                 #"{"intersects":{"type":"Point","coordinates":["# + "\(items[3].bbox![0] + 0.1),\(items[3].bbox![1] + 0.1)" + "]}}",
                 SearchRequest(intersects: .point(Position(items[3].bbox![0] + 0.1, items[3].bbox![1] + 0.1)))),
                ("ids=\(items[5].id),\(items[9].id),nope", #"{"ids":[""# + items[5].id + #"",""# + items[9].id + #"","nope"]}"#,
                 SearchRequest(ids: [items[5].id, items[9].id, "nope"])),
            ]
            for c in cases {
                let expected = bruteForce(items, c.request)
                #expect(!expected.isEmpty, "case \(c.get) selects nothing; it tests nothing")
                let viaGet = try await pages(client, first: try await get(client, "/search?" + c.get))
                #expect(viaGet == expected, "GET /search?\(c.get)")
                let (s, j) = try await post(client, "/search", c.post, key: nil)
                let viaPost = try await pages(client, first: (s, j ?? .null))
                #expect(viaPost == expected, "POST /search \(c.post)")
            }
            // The items of one collection, paged.
            var r = SearchRequest(collections: [SampleCatalog.landsat])
            r.filter = try CQL2.parse(text: "eo:cloud_cover > 50")
            let expected = bruteForce(items, r)
            let got = try await pages(client, first: try await get(client, "/collections/landsat-c2-l2/items?filter=eo:cloud_cover%3E50&limit=6"))
            #expect(got == expected)
            // Sorting by a property, ascending.
            let (_, sorted) = try await get(client, "/search?sortby=%2Bproperties.eo:cloud_cover&limit=50")
            let clouds = sorted["features"]?.array?.compactMap { $0["properties"]?["eo:cloud_cover"]?.number } ?? []
            #expect(clouds.count == 50 && clouds == clouds.sorted())
        }
    }

    @Test func fieldsSelectWhatIsSent() async throws {
        try await withService(items: 10) { _, _, client in
            func first(_ uri: String) async throws -> JSONObject {
                let (s, j) = try await get(client, uri)
                #expect(s == 200)
                return j["features"]?.array?.first?.object ?? [:]
            }
            let all = try await first("/search?limit=1")
            #expect(all["properties"]?["eo:cloud_cover"] != nil && all["geometry"] != nil)
            let noGeometry = try await first("/search?limit=1&fields=-geometry")
            #expect(noGeometry["geometry"] == nil && noGeometry["assets"] != nil && noGeometry["properties"]?["platform"] != nil)
            let defaults = try await first("/search?limit=1&fields=")
            #expect(defaults["properties"]?.object?.keys.elements == ["datetime"] && defaults["assets"] != nil)
            let one = try await first("/search?limit=1&fields=properties.eo:cloud_cover")
            #expect(Set(one.keys) == ["type", "stac_version", "id", "links", "properties"])
            #expect(one["properties"]?.object?.keys.elements == ["eo:cloud_cover"])
            let both = try await first("/search?limit=1&fields=%2Bgeometry,-geometry")
            #expect(both["geometry"] != nil)
            let (s, j) = try await post(client, "/search", #"{"limit":1,"fields":{"include":["properties"],"exclude":["properties.platform"]}}"#, key: nil)
            #expect(s == 200)
            let p = j?["features"]?.array?.first?["properties"]?.object
            #expect(p?["platform"] == nil && p?["gsd"] != nil)
        }
    }

    /// Bad input of every kind gets a 400 whose description names the fault; SQL
    /// metacharacters stay values.
    @Test func badInputGets400() async throws {
        try await withService(items: 30) { _, _, client in
            let gets: [(String, String)] = [
                ("/search?bbox=1,2,3", "bbox"),
                ("/search?bbox=a,b,c,d", "bbox"),
                ("/search?bbox=0,10,5,5", "bbox"),
                ("/search?datetime=2020-13-01T00:00:00Z", "datetime"),
                ("/search?datetime=1985-04-12", "datetime"),
                ("/search?datetime=2021-01-01T00:00:00Z/2020-01-01T00:00:00Z", "datetime"),
                ("/search?datetime=../..", "datetime"),
                ("/search?limit=0", "limit"),
                ("/search?limit=-1", "limit"),
                ("/search?limit=ten", "limit"),
                ("/search?filter=eo:cloud_cover%20%3C", "cql2-text"),
                ("/search?filter=nosuchprop%20%3D%201", "nosuchprop"),
                ("/search?filter=x&filter-lang=sql", "filter-lang"),
                ("/search?filter-crs=EPSG:3857&filter=id%3D'a'", "filter-crs"),
                ("/search?intersects=%7B%22type%22:%22Polygon%22,%22coordinates%22:[[[0,0],[1,1]]]%7D", "intersects"),
                ("/search?intersects=%7Bnot%20json", "intersects"),
                ("/search?bbox=0,0,1,1&intersects=%7B%22type%22:%22Point%22,%22coordinates%22:[0,0]%7D", "bbox and intersects"),
                ("/search?query=%7B%22eo:cloud_cover%22:%7B%22approx%22:1%7D%7D", "approx"),
                ("/search?sortby=-", "sortby"),
                ("/search?sortby=nosuchprop", "nosuchprop"),
                ("/search?token=garbage!!", "token"),
                ("/search?ids=%ZZ", "percent"),
            ]
            for (uri, word) in gets {
                let (s, e) = try await get(client, uri)
                #expect(s == 400, "\(uri) gave \(s): \(e.text.prefix(200))")
                #expect(e["code"] == "BadRequest")
                let d = e["description"]?.string ?? ""
                #expect(d.lowercased().contains(word.lowercased()), "\(uri): \(d)")
            }
            let posts: [(String, String)] = [
                ("{\"limit\": 5", "JSON"),
                ("[1,2]", "object"),
                ("", "empty"),
                (#"{"bbox":"1,2,3,4"}"#, "bbox"),
                (#"{"collections":"a","ids":[1]}"#, "ids"),
                (#"{"limit":1e9}"#, ""),
                (#"{"limit":2.5}"#, "limit"),
                (#"{"filter":{"op":"=","args":[{"property":"gsd"}]}}"#, "2 argument"),
                (#"{"filter":{"op":"between","args":[{"property":"gsd"},"a","b","c"]}}"#, "between"),
                (#"{"fields":null}"#, "fields"),
                (#"{"sortby":[{"field":"id","direction":"up"}]}"#, "direction"),
                (#"{"intersects":{"type":"Point","coordinates":[0]}}"#, "intersects"),
                (#"{"datetime":5}"#, "datetime"),
            ]
            for (body, word) in posts {
                let (s, e) = try await post(client, "/search", body, key: nil)
                if word.isEmpty { #expect(s == 200, "a huge limit is clamped, not refused"); continue }
                #expect(s == 400, "\(body) gave \(s)")
                let d = e?["description"]?.string ?? ""
                #expect(d.lowercased().contains(word.lowercased()), "\(body): \(d)")
            }
            // SQL metacharacters are values, everywhere: nothing matches, nothing breaks.
            let hostile = "x' OR '1'='1'; DROP TABLE items; --"
            let enc = hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            for uri in ["/search?ids=\(enc)", "/search?collections=\(enc)", "/collections/\(enc)/items", "/collections/\(enc)",
                        "/search?filter=id%20%3D%20'\(hostile.replacingOccurrences(of: "'", with: "''").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)'"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect([200, 404].contains(r.status.code), "\(uri) gave \(r.status.code)")
                if r.status.code == 200 { #expect(try json(r)["features"]?.array?.isEmpty == true) }
            }
            let (s, all) = try await get(client, "/search?limit=100")
            #expect(s == 200 && all["features"]?.array?.count == 30, "the items are all still there")
            // A huge limit is clamped to the maximum rather than refused.
            let (sHuge, _) = try await get(client, "/search?limit=99999999999999999999999")
            #expect(sHuge == 200)
        }
    }

    @Test func transactionsNeedTheKey() async throws {
        let item = SampleCatalog.items(count: 1, seed: 99, collection: SampleCatalog.sentinel2)[0]
        let body = item.json.text
        try await withService(items: 5) { _, _, client in
            let url = "/collections/sentinel-2-l2a/items"
            #expect(try await post(client, url, body, key: nil).0 == 401)
            #expect(try await post(client, url, body, key: "wrong").0 == 401)
            #expect(try await get(client, "\(url)/\(item.id)").0 == 404)
            let (created, j) = try await post(client, url, body)
            #expect(created == 201, "\(j?.text ?? "")")
            #expect(try await post(client, url, body).0 == 409)
            let (s, got) = try await get(client, "\(url)/\(item.id)")
            #expect(s == 200 && got["properties"]?["eo:cloud_cover"] == item.properties["eo:cloud_cover"])

            var changed = item
            changed.properties["eo:cloud_cover"] = 1.5
            changed.properties["note"] = "replaced"
            #expect(try await post(client, "\(url)/\(item.id)", changed.json.text, method: .put).0 == 204)
            #expect(try await get(client, "\(url)/\(item.id)").1["properties"]?["note"] == "replaced")
            #expect(try await post(client, "\(url)/\(item.id)", #"{"properties":{"note":null,"added":true}}"#, method: .patch).0 == 204)
            let patched = try await get(client, "\(url)/\(item.id)").1
            #expect(patched["properties"]?["note"] == nil && patched["properties"]?["added"] == true && patched["properties"]?["eo:cloud_cover"] == 1.5)
            // The change is searchable at once.
            let (_, found) = try await get(client, "/search?filter=added%20%3D%20true")
            #expect(found["features"]?.array?.map { $0["id"] } == [.string(item.id)])

            var other = item
            other.collection = SampleCatalog.landsat
            #expect(try await post(client, url, other.json.text).0 == 400, "an item naming another collection")
            #expect(try await post(client, "/collections/nope/items", body).0 == 404)
            #expect(try await post(client, "\(url)/other-id", body, method: .put).0 == 400)
            #expect(try await post(client, url, #"{"type":"Feature","id":"x"}"#).0 == 400)

            #expect(try await post(client, "\(url)/\(item.id)", "", method: .delete).0 == 204)
            #expect(try await get(client, "\(url)/\(item.id)").0 == 404)

            // Collections: create, conflict, patch, delete with its items.
            var c = SampleCatalog.collections()[0]
            c.id = "extra"
            #expect(try await post(client, "/collections", c.json.text).0 == 201)
            #expect(try await post(client, "/collections", c.json.text).0 == 409)
            // Six clients creating one collection at once: one 201, five 409 (the check and the
            // write are one statement).
            var race = SampleCatalog.collections()[0]
            race.id = "race"
            let body = race.json.text
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await post(client, "/collections", body).0 } }
                var out: [Int] = []
                for try await s in group { out.append(s) }
                return out.sorted()
            }
            #expect(statuses == [201, 409, 409, 409, 409, 409])
            #expect(try await post(client, "/collections/extra", #"{"title":"Patched"}"#, method: .patch).0 == 204)
            #expect(try await get(client, "/collections/extra").1["title"] == "Patched")
            #expect(try await post(client, "/collections/extra", "", method: .delete).0 == 204)
            #expect(try await get(client, "/collections/extra").0 == 404)
        }
        // Without a key the server is read-only.
        try await withService(items: 1, apiKey: nil) { service, _, client in
            let (status, _) = try await post(client, "/collections/sentinel-2-l2a/items", body)
            #expect(status == 403)
            #expect(!service.conformance.contains { $0.contains("transaction") })
        }
    }

    /// `/search/stream` sends the items that match as they are written, and only those.
    @Test func streamSendsMatchingItemsAsTheyArrive() async throws {
        let fresh = SampleCatalog.items(count: 40, seed: 1234, collection: SampleCatalog.sentinel2)
        let matching = fresh.filter { ($0.properties["eo:cloud_cover"]?.number ?? 100) < 20 }
        try #require(matching.count >= 2 && matching.count < fresh.count)
        try await withService(items: 5) { service, _, client in
            let collected = Task {
                try await client.execute(uri: "/search/stream?filter=eo:cloud_cover%3C20&limit=2", method: .get)
            }
            // Wait for the subscription, then write everything through the API.
            for _ in 0..<500 where await service.feed.count == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            try #require(await service.feed.count == 1, "the stream never subscribed")
            let fc = ItemCollection(features: fresh).json.text
            #expect(try await post(client, "/collections/sentinel-2-l2a/items", fc).0 == 201)
            let response = try await collected.value
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let text = String(buffer: response.body)
            let ids = text.split(separator: "\n").filter { $0.hasPrefix("data: ") }
                .compactMap { try? JSON.parse(String($0.dropFirst(6)))["id"]?.string }
            #expect(ids == matching.prefix(2).map(\.id))
            for _ in 0..<200 where await service.feed.count != 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            #expect(await service.feed.count == 0, "a finished stream unsubscribes")
            // Items another writer puts straight into the catalog (as `gyre stac ingest` would)
            // arrive too: the feed reads the catalog's changes, not only this server's writes.
            let more = SampleCatalog.items(count: 6, seed: 4321, collection: SampleCatalog.landsat)
            let viaIngest = Task {
                try await client.execute(uri: "/search/stream?collections=landsat-c2-l2&limit=6", method: .get)
            }
            for _ in 0..<500 where await service.feed.count == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
            try #require(await service.feed.count == 1, "the second stream never subscribed")
            try await service.backend.putItems(Array(more.prefix(3)))
            try await service.backend.putItems(Array(more.suffix(3)))
            let streamed = String(buffer: try await viaIngest.value.body).split(separator: "\n").filter { $0.hasPrefix("data: ") }
                .compactMap { try? JSON.parse(String($0.dropFirst(6)))["id"]?.string }
            #expect(streamed == more.map(\.id))
            // A bad filter is refused before streaming starts.
            let bad = try await client.execute(uri: "/search/stream?filter=nosuch%3D1", method: .get)
            #expect(bad.status.code == 400)
        }
    }

    @Test func fieldsSelectionUnit() throws {
        let item: JSON = ["type": "Feature", "stac_version": "1.1.0", "id": "a", "geometry": .null, "links": [],
                          "assets": ["x": ["href": "h"]], "properties": ["datetime": "2020-01-01T00:00:00Z", "a": 1, "b": ["c": 2, "d": 3]]]
        #expect(FieldsSelection(get: "properties.b.c").apply(item)["properties"] == ["b": ["c": 2]])
        #expect(FieldsSelection(get: "-properties.b.d,-assets").apply(item)["properties"]?["b"] == ["c": 2])
        #expect(FieldsSelection(get: "-properties.b.d,-assets").apply(item)["assets"] == nil)
        let post = try FieldsSelection(post: ["include": ["properties"], "exclude": ["properties.a"]])
        #expect(post.apply(item)["properties"]?.object?.keys.elements == ["datetime", "b"])
        #expect(throws: GyreServerError.self) { try FieldsSelection(post: ["include": "id"]) }
    }

    @Test("stored items go out with the API's links spliced in, byte for byte what parsing and writing them gives")
    func featureWriterMatchesTheModelPath() async throws {
        let service = STACService(backend: try SQLiteCatalog(path: ":memory:"), baseURL: "http://test.local")
        var items = SampleCatalog.items(count: 40, seed: 3)
        // Stored links of every kind, none at all, an empty list, escapes and non-ASCII text.
        items[0].links = []
        items[1].links = [Link(rel: "self", href: "https://elsewhere/x.json"), Link(rel: "license", href: "https://l", title: "Lizenz \"ä\" \u{1F30D}"),
                          Link(rel: "parent", href: "../c.json"), Link(rel: "via", href: "https://v", extra: ["method": "GET"])]
        items[2].properties["note"] = .string("links: [\"not\", {\"a\": \"}\"}] \\ end")
        items[3].id = "weird id/with?chars#%"
        items[4].properties["links"] = ["rel": "nested, not the item's"]
        for item in items {
            let text = item.json.text
            let record = StoredItem(collection: item.collection!, id: item.id, text: text)
            var fast: [UInt8] = []
            #expect(FeatureWriter.write(record, links: service.itemLinks(collection: record.collection, id: record.id),
                                        structural: STACService.structural, into: &fast))
            #expect(String(decoding: fast, as: UTF8.self) == service.itemJSON(try record.item()).text, "\(item.id)")
        }
        // Spaced-out text keeps its spacing.
        let spaced = StoredItem(collection: "c", id: "i", text: #" { "id" : "i" , "links" : [ { "rel" : "self" , "href" : "x" } ] } "#)
        var out: [UInt8] = []
        #expect(FeatureWriter.write(spaced, links: [], structural: STACService.structural, into: &out))
        #expect(String(decoding: out, as: UTF8.self) == #" { "id" : "i" , "links" : [] } "#)
        // Text that is not one whole object with a list of link objects is left to the parser.
        for bad in [#"{"id":"a"}"#, #"{"id":"a","links":[{"rel":"x"}"#, #"{"id":"a"} {"#, #"["a"]"#, #"{"links":[],"links":[]}"#, #"{"li\u006eks":[]}"#,
                    #"{"links":{"rel":"x"}}"#, #"{"links":[{"href":"x"}]}"#, #"{"id":"a","links":[{"rel":"x"}]"#, ""] {
            out = [1]
            #expect(!FeatureWriter.write(StoredItem(collection: "c", id: "a", text: bad), links: [], structural: STACService.structural, into: &out), "\(bad)")
            #expect(out == [1])
        }
    }

    @Test("percent-encoding of path segments and query values agrees with Foundation's on ASCII and encodes UTF-8 bytes")
    func percentEncoding() {
        var path = CharacterSet.urlPathAllowed
        path.remove(charactersIn: "/?#%;")
        var query = CharacterSet(charactersIn: PercentEncoding.alphanumerics)
        query.insert(charactersIn: "-._~,:")
        let ascii = String((32..<127).map { Character(UnicodeScalar(UInt8($0))) })
        for s in [ascii, "S2A_31UUF_20201228", "a b/c?d#e%f;g", "", "eo:cloud_cover < 25", "5,45,15,55"] {
            #expect(PercentEncoding.encode(s, keeping: PercentEncoding.pathSegment) == s.addingPercentEncoding(withAllowedCharacters: path), "\(s)")
            #expect(PercentEncoding.encode(s, keeping: PercentEncoding.queryValue) == s.addingPercentEncoding(withAllowedCharacters: query), "\(s)")
        }
        for s in ["Zürich é", "\u{1F30D}/x", "\u{0}\u{7F}"] {
            let e = PercentEncoding.encode(s, keeping: PercentEncoding.queryValue)
            #expect(e.utf8.allSatisfy { $0 < 128 } && e.removingPercentEncoding == s, "\(s) -> \(e)")
        }
        #expect(PercentEncoding.encode("é", keeping: PercentEncoding.pathSegment) == "%C3%A9")
        // Decoding agrees with Foundation's (after + becomes a space), and refuses what it refuses.
        for raw in ["a+b%20c", "%E2%82%AC%2C+x", "plain", "%41%62", "", "%", "%4", "%zz", "%C3", "%FF%FE", "a%2"] {
            let want = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            let got = try? QueryString.decode(Substring(raw), what: "x")
            #expect(got == want, "\(raw)")
        }
    }
}
