import GyreCore
import Foundation
import OrderedCollections

/// Generated STAC collections and items, so the demo server, the tests and the benchmarks need
/// no downloads: Sentinel-2-like scenes (110 km tiles, 2016 to 2024, cloud cover, platform,
/// MGRS tile, EPSG code, band assets) and a smaller Landsat-like collection.
public enum SampleCatalog {
    public static let sentinel2 = "sentinel-2-l2a"
    public static let landsat = "landsat-c2-l2"

    /// The two collections, with extents covering everything `items` generates.
    public static func collections() -> [STACCollection] {
        let span = TemporalInterval(start: try? Timestamp(rfc3339: "2016-01-01T00:00:00Z"), end: try? Timestamp(rfc3339: "2024-12-31T23:59:59Z"))
        let world = BBox(west: -180, south: -60, east: 180, north: 76)
        func collection(_ id: String, _ title: String, _ text: String, _ platforms: [String], _ gsd: Double) -> STACCollection {
            STACCollection(
                id: id, title: title, description: text, license: "proprietary",
                extent: Extent(bboxes: [world], intervals: [span]),
                summaries: ["platform": .array(platforms.map { .string($0) }), "gsd": [.double(gsd)],
                            "eo:cloud_cover": ["minimum": 0, "maximum": 100]])
        }
        return [
            collection(sentinel2, "Sentinel-2 Level-2A (generated)", "Generated Sentinel-2-like surface reflectance scenes for demos and tests.",
                       ["sentinel-2a", "sentinel-2b"], 10),
            collection(landsat, "Landsat Collection 2 Level-2 (generated)", "Generated Landsat-like scenes for demos and tests.",
                       ["landsat-8", "landsat-9"], 30),
        ]
    }

    /// `count` items, deterministic for a seed; every fifth goes to the Landsat-like collection
    /// unless `collection` names one. Ids are unique per seed.
    /// `startIndex` numbers the items from there (ids carry the number), for writing many in chunks.
    public static func items(count: Int, seed: UInt64 = 1, collection: String? = nil, startIndex: Int = 0) -> [Item] {
        var rng = Generator(seed: seed)
        let start = try! Timestamp(rfc3339: "2016-01-01T00:00:00Z").microseconds
        let span: Int64 = 9 * 365 * 86_400_000_000
        let bands = ["B02", "B03", "B04", "B08"]
        var out: [Item] = []
        out.reserveCapacity(count)
        for n in startIndex..<(startIndex + count) {
            let isLandsat = collection.map { $0 == landsat } ?? (n % 5 == 4)
            let c = collection ?? (isLandsat ? landsat : sentinel2)
            // Tiles on a 1-degree grid (like 110 km MGRS squares), land-ish latitudes.
            let lon = Double(Int.random(in: -180..<179, using: &rng)) + 0.5 * Double.random(in: 0..<1, using: &rng)
            let lat = Double(Int.random(in: -56..<74, using: &rng)) + 0.5 * Double.random(in: 0..<1, using: &rng)
            let size = isLandsat ? 1.8 : 0.99
            func r(_ v: Double) -> Double { (v * 1e4).rounded() / 1e4 }
            let (w, s, e, nn) = (r(lon), r(lat), r(min(lon + size, 180)), r(lat + size * 0.9))
            let ring = [Position(w, s), Position(e, s), Position(e, nn), Position(w, nn), Position(w, s)]
            let t = Timestamp(microseconds: start + Int64.random(in: 0..<span, using: &rng) / 1_000_000 * 1_000_000)
            let day = String(t.rfc3339.prefix(10)).replacingOccurrences(of: "-", with: "")
            let zone = Int((lon + 180) / 6) % 60 + 1
            let band = Array("CDEFGHJKLMNPQRSTUVWX")[min(19, max(0, Int((lat + 80) / 8)))]
            let tile = String(format: "%02d%@%@%@", zone, String(band), String(Array("ABCDEFGHJKLMNPQRSTUVWXYZ")[Int.random(in: 0..<24, using: &rng)]),
                              String(Array("ABCDEFGHJKLMNPQRSTUV")[Int.random(in: 0..<20, using: &rng)]))
            let cloud = (Double.random(in: 0..<1, using: &rng) * Double.random(in: 0..<1, using: &rng) * 10_000).rounded() / 100
            let platform = isLandsat ? (Bool.random(using: &rng) ? "landsat-8" : "landsat-9") : (Bool.random(using: &rng) ? "sentinel-2a" : "sentinel-2b")
            let id = isLandsat ? "LC0\(platform.last!)_\(tile)_\(day)_\(n)" : "S2\(platform.last!.uppercased())_\(tile)_\(day)_\(n)_L2A"
            var assets: [(String, Asset)] = []
            for b in bands {
                assets.append((b, Asset(href: "https://data.example.com/\(c)/\(id)/\(b).tif", title: "Band \(b)",
                                        type: "image/tiff; application=geotiff; profile=cloud-optimized", roles: ["data"])))
            }
            assets.append(("thumbnail", Asset(href: "https://data.example.com/\(c)/\(id)/thumbnail.jpg", title: "Thumbnail", type: "image/jpeg", roles: ["thumbnail"])))
            let properties: JSONObject = [
                "datetime": .string(t.rfc3339), "platform": .string(platform),
                "constellation": .string(isLandsat ? "landsat" : "sentinel-2"), "mission": .string(isLandsat ? "landsat" : "sentinel-2"),
                "instruments": isLandsat ? ["oli", "tirs"] : ["msi"], "gsd": .int(isLandsat ? 30 : 10),
                "eo:cloud_cover": .double(cloud), "s2:mgrs_tile": .string(tile),
                "proj:epsg": .int(Int64((lat >= 0 ? 32600 : 32700) + zone)),
                "view:sun_elevation": .double((Double.random(in: 10..<70, using: &rng) * 100).rounded() / 100),
            ]
            out.append(Item(id: id, collection: c, geometry: .polygon([ring]), bbox: [w, s, e, nn], properties: properties,
                            assets: OrderedDictionary(uniqueKeysWithValues: assets)))
        }
        return out
    }

    /// SplitMix64: small, fast, and the same sequence on every platform.
    typealias Generator = SplitMix64
}
