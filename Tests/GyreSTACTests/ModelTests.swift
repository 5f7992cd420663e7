import GyreCore
import Foundation
import GyreSTAC
import Testing

@Suite("STAC models")
struct ModelTests {
    static let item = #"""
    {"type":"Feature","stac_version":"1.0.0","stac_extensions":["https://stac-extensions.github.io/eo/v1.1.0/schema.json"],"id":"S2B_T33UUP_20200615","collection":"sentinel-2-l2a","geometry":{"type":"Polygon","coordinates":[[[13,52],[14.5,52],[14.5,53.0],[13,53.0],[13,52]]]},"bbox":[13,52,14.5,53.0],"properties":{"datetime":"2020-06-15T10:10:31.024Z","eo:cloud_cover":12.5,"platform":"sentinel-2b","s2:tile":{"utm":33,"band":"U"}},"links":[{"rel":"self","href":"https://x.test/items/S2B","type":"application/geo+json","x-extra":[1,2]}],"assets":{"B04":{"href":"s3://b/B04.tif","type":"image/tiff; application=geotiff","roles":["data"],"eo:bands":[{"name":"B04","common_name":"red"}],"raster:scale":0.0001}},"x-vendor":{"z":null,"a":1}}
    """#

    @Test("an item with extensions round-trips field for field, numbers as written")
    func itemRoundTrip() throws {
        let json = try JSON.parse(Self.item)
        let item = try Item(json: json)
        #expect(item.id == "S2B_T33UUP_20200615" && item.collection == "sentinel-2-l2a")
        #expect(item.properties["eo:cloud_cover"] == .double(12.5))
        #expect(item.assets["B04"]?.extra["eo:bands"] != nil && item.links[0].extra["x-extra"] != nil)
        #expect(item.extra["x-vendor"] == ["z": nil, "a": 1])
        #expect(item.json == json)
        #expect(item.json.text == json.text, "key order kept")
        let r = try item.timeRange()
        #expect(r.start == r.end && r.start.rfc3339 == "2020-06-15T10:10:31.024Z")
        // Codable goes through the same checks.
        let decoded = try JSONDecoder().decode(Item.self, from: Data(Self.item.utf8))
        // (Foundation's decoder keeps neither key order nor 53.0 apart from 53.)
        #expect(decoded.id == item.id && decoded.properties.count == 4 && decoded.assets["B04"]?.roles == ["data"])
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Item.self, from: Data(#"{"type":"Feature"}"#.utf8)) }
    }

    @Test("a broken item names the item and the field", arguments: [
        ("type", JSON.string("Feature2"), "\"type\" must be \"Feature\""),
        ("geometry", JSON.int(3), "geometry must be an object"),
        ("bbox", JSON.null, "\"bbox\" is required when the geometry is not null"),
        ("properties", JSON.string("x"), "\"properties\" must be an object"),
        ("links", JSON.object([:]), "\"links\" must be an array"),
        ("assets", JSON.array([]), "\"assets\" must be an object"),
        ("stac_version", JSON.null, "\"stac_version\" is required"),
        ("id", JSON.int(5), "\"id\" must be a string"),
    ])
    func brokenItem(key: String, value: JSON, want: String) throws {
        var o = try JSON.parse(Self.item).object!
        o[key] = value
        #expect {
            _ = try Item(json: .object(o), path: "items.ndjson line 7")
        } throws: { e in
            guard let e = e as? GyreSTACError else { return false }
            return e.code == .invalidSTAC || e.code == .invalidGeometry ? e.message.hasPrefix("items.ndjson line 7") && e.message.contains(want) : false
        }
    }

    @Test("datetime rules: null needs a start and an end; times must be RFC 3339")
    func datetimes() throws {
        var o = try JSON.parse(Self.item).object!
        var p = o["properties"]!.object!
        p["datetime"] = nil
        o["properties"] = .object(p)
        #expect(throws: GyreSTACError.self) { try Item(json: .object(o)) }
        p["start_datetime"] = "2020-01-01T00:00:00Z"; p["end_datetime"] = "2020-02-01T00:00:00Z"
        o["properties"] = .object(p)
        #expect(throws: GyreSTACError.self, "datetime must still be present, as null") { try Item(json: .object(o)) }
        p["datetime"] = .null
        o["properties"] = .object(p)
        let r = try Item(json: .object(o)).timeRange()
        #expect(r.start.rfc3339 == "2020-01-01T00:00:00Z" && r.end.rfc3339 == "2020-02-01T00:00:00Z")
        p["datetime"] = "2020-13-01T00:00:00Z"
        o["properties"] = .object(p)
        #expect {
            _ = try Item(json: .object(o))
        } throws: { e in (e as? GyreSTACError)?.message.contains("properties.datetime") == true }
    }

    @Test("collections, catalogs and item collections read, check and write back")
    func others() throws {
        let c = #"{"type":"Collection","stac_version":"1.1.0","id":"s2","description":"Sentinel-2","license":"proprietary","extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[["2015-06-27T10:25:31Z",null]]}},"links":[],"summaries":{"platform":["sentinel-2a","sentinel-2b"]},"item_assets":{"B04":{"type":"image/tiff"}}}"#
        let cj = try JSON.parse(c)
        let col = try STACCollection(json: cj)
        #expect(col.extent.intervals[0].end == nil && col.extra["item_assets"] != nil)
        #expect(col.json == cj)
        var bad = cj.object!
        bad["extent"] = ["spatial": ["bbox": [[0, 0, 1]]], "temporal": ["interval": [[nil, nil]]]]
        #expect { _ = try STACCollection(json: .object(bad)) } throws: { ($0 as? GyreSTACError)?.message.contains("collection 's2'.extent.spatial.bbox[0]") == true }
        bad["extent"] = nil
        #expect { _ = try STACCollection(json: .object(bad)) } throws: { ($0 as? GyreSTACError)?.message.contains("\"extent\" is required") == true }

        let cat = try JSON.parse(#"{"type":"Catalog","stac_version":"1.1.0","id":"root","description":"d","links":[{"rel":"child","href":"./s2/collection.json"}]}"#)
        #expect(try Catalog(json: cat).json == cat)
        let fc = JSON.object(["type": "FeatureCollection", "features": [try JSON.parse(Self.item)], "links": [], "numberMatched": 1, "numberReturned": 1])
        #expect(try ItemCollection(json: fc).json == fc)
        guard case .itemCollection(let ic) = try STACObject(json: fc) else { Issue.record("not an item collection"); return }
        #expect(ic.features.count == 1)
        #expect(throws: GyreSTACError.self) { try STACObject(json: ["type": "Topology"]) }
    }
}

@Suite("Static catalogs")
struct StaticCatalogTests {
    @Test("written with relative links, read back through them: the same items, other links kept")
    func writeAndRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-static-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var item = try Item(json: JSON.parse(ModelTests.item))
        item.links.append(Link(rel: "license", href: "https://example.test/l"))
        var second = item
        second.id = "second"
        let extent = Extent(bboxes: [BBox(west: -180, south: -90, east: 180, north: 90)], intervals: [TemporalInterval(start: nil, end: nil)])
        let col = STACCollection(id: "sentinel-2-l2a", description: "S2", extent: extent)
        try StaticCatalog.write(catalog: Catalog(id: "root", description: "r"), collections: [col], items: [item, second], to: dir,
                                baseURL: "https://stac.example.test/")
        let back = try StaticCatalog.read([dir + "/catalog.json"])
        #expect(back.catalogs.count == 1 && back.collections.map(\.collection.id) == ["sentinel-2-l2a"])
        #expect(back.items.map(\.item.id).sorted() == ["S2B_T33UUP_20200615", "second"])
        let read = back.items.first { $0.item.id == "second" }!.item
        #expect(read.properties == item.properties && read.assets == item.assets && read.geometry == item.geometry)
        #expect(read.links.map(\.rel) == ["self", "root", "parent", "collection", "license"])
        #expect(read.links[0].href == "https://stac.example.test/sentinel-2-l2a/second/second.json")
        // The root is written last and not overwritten by accident; ids cannot escape.
        #expect(throws: GyreSTACError.self) { try StaticCatalog.write(catalog: Catalog(id: "root", description: "r"), collections: [], items: [], to: dir) }
        var evil = item
        evil.id = "../../etc"
        #expect(throws: GyreSTACError.self) {
            try StaticCatalog.write(catalog: Catalog(id: "root", description: "r"), collections: [col], items: [evil], to: dir + "2")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "2/catalog.json"))
        try? FileManager.default.removeItem(atPath: dir + "2")
    }
}
