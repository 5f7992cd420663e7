import Foundation
import GyreArrays
import GyreCatalog
import GyreCore
import GyreData
import GyreSTAC
import GyreStorage

/// `gyre publish`: a recipe's result as a STAC collection in a catalog, with a Zarr asset
/// (`application/vnd+zarr`, `xarray:open_kwargs`), the datacube extension (`cube:dimensions`,
/// `cube:variables`) and extents computed from the data; and the dataset registered in the
/// catalog database, so `gyre serve --catalog` serves it.
public enum RecipePublisher {
    public static let datacube = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"
    public static let xarrayAssets = "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json"

    /// Storage options that are no secret and that a reader needs (the endpoint, anonymous
    /// access, the region); keys, secrets and tokens are never published.
    static func publicOptions(_ o: [String: String]) -> [String: String] {
        o.filter { ["endpoint_url", "anon", "region", "region_name", "addressing"].contains($0.key) }
    }

    /// The collection describing the target of `r` (opened to compute its extents).
    public static func collection(for r: Recipe) async throws -> STACCollection {
        let ds: Dataset
        do { ds = try await Dataset.open(r.target, storageOptions: r.targetOptions) } catch {
            throw GyreRecipesError(.target, "\(r.target): the target does not open (\(error)); run the recipe first")
        }
        let id = r.catalog["collection"]?.string ?? r.name
        guard !id.isEmpty, id.utf8.count <= 200, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw GyreRecipesError(.recipe, "catalog.collection '\(id)': a collection id is letters, digits, '-', '_' and '.'")
        }
        var dims = JSONObject()
        var bbox: [Double] = [-180, -90, 180, 90]
        var interval: [JSON] = [.null, .null]
        var lonRange: (Double, Double)?, latRange: (Double, Double)?
        for (name, size) in ds.sizes {
            guard let c = ds.variables[name], c.dims == [name] else { dims[name] = ["type": "other", "extent": [.null, .null]]; _ = size; continue }
            let attrs = c.attrs
            let units = attrs["units"]?.stringValue?.lowercased() ?? ""
            let standard = attrs["standard_name"]?.stringValue?.lowercased() ?? ""
            let values = try c.data
            if case .datetime64(let unit) = values.dtype, values.count > 0 {
                let ticks = (try? values.astype(.int64).scalars.compactMap { s -> Int64? in if case .int(let i) = s { return i }; return nil }) ?? []
                let valid = ticks.filter { $0 != Int64.min }
                if let lo = valid.min(), let hi = valid.max() {
                    let a = stamp(lo, unit), b = stamp(hi, unit)
                    interval = [.string(a), .string(b)]
                    var d: JSONObject = ["type": "temporal", "extent": [.string(a), .string(b)]]
                    if let step = regularStep(valid.map(Double.init)) { d["step"] = .string(duration(step, unit)) }
                    dims[name] = .object(d)
                }
                continue
            }
            let nums = values.scalars.compactMap { $0.doubleValue }.filter { $0.isFinite }
            guard let lo = nums.min(), let hi = nums.max() else { dims[name] = ["type": "other"]; continue }
            let isLon = ["lon", "longitude", "x"].contains(name.lowercased()) || standard == "longitude" || units.hasPrefix("degrees_e")
            let isLat = ["lat", "latitude", "y"].contains(name.lowercased()) || standard == "latitude" || units.hasPrefix("degrees_n")
            var d: JSONObject = isLon || isLat ? ["type": "spatial", "axis": isLon ? "x" : "y", "reference_system": 4326] : ["type": "other"]
            d["extent"] = [.double(lo), .double(hi)]
            if let step = regularStep(nums) { d["step"] = .double(step) } else if !(isLon || isLat) { d["values"] = .array(nums.prefix(1000).map { .double($0) }) }
            if let u = attrs["units"]?.stringValue, !(isLon || isLat) { d["unit"] = .string(u) }
            dims[name] = .object(d)
            if isLon { lonRange = (lo, hi) }
            if isLat { latRange = (lo, hi) }
        }
        if let (w, e) = lonRange, let (s, n) = latRange {
            // Longitudes in 0..360 become -180..180 where they fit; a full circle is the world.
            var west = w, east = e
            if east > 180 { if west >= 180 { west -= 360; east -= 360 } else { west = -180; east = 180 } }
            bbox = [Swift.max(-180, west), Swift.max(-90, s), Swift.min(180, east), Swift.min(90, n)]
        }
        var vars = JSONObject()
        for (name, v) in ds.dataVars {
            var o: JSONObject = ["type": "data", "dimensions": .array(v.dims.map { .string($0) })]
            if let u = v.attrs["units"]?.stringValue { o["unit"] = .string(u) }
            if let d = v.attrs["long_name"]?.stringValue ?? v.attrs["description"]?.stringValue { o["description"] = .string(d) }
            vars[name] = .object(o)
        }
        for (name, v) in ds.coords where v.dims != [name] {
            vars[name] = ["type": "auxiliary", "dimensions": .array(v.dims.map { .string($0) })]
        }
        var openKwargs: JSONObject = ["engine": "zarr", "consolidated": true, "chunks": .object([:])]
        if r.format == .v2 { openKwargs["zarr_format"] = 2 }
        var asset: JSONObject = ["href": .string(r.target), "type": "application/vnd+zarr", "roles": ["data", "zarr"],
                                 "title": .string("\(r.name): Zarr store"), "xarray:open_kwargs": .object(openKwargs)]
        let shown = publicOptions(r.targetOptions)
        if !shown.isEmpty {
            var so = JSONObject()
            for (k, v) in shown.sorted(by: { $0.key < $1.key }) { so[k] = v == "true" ? .bool(true) : v == "false" ? .bool(false) : .string(v) }
            asset["xarray:storage_options"] = .object(so)
        }
        var json: JSONObject = [
            "type": "Collection", "stac_version": .string(GyreSTAC.stacVersion), "stac_extensions": [.string(datacube), .string(xarrayAssets)],
            "id": .string(id),
            "title": .string(r.catalog["title"]?.string ?? ds.attrs["title"]?.stringValue ?? id),
            "description": .string(r.catalog["description"]?.string ?? ds.attrs["summary"]?.stringValue ?? "\(r.name): written by a Gyre recipe to \(r.target)"),
            "license": .string(r.catalog["license"]?.string ?? "other"),
            "extent": ["spatial": ["bbox": [.array(bbox.map { .double($0) })]], "temporal": ["interval": [.array(interval)]]],
            "links": [],
            "cube:dimensions": .object(dims), "cube:variables": .object(vars),
            "assets": ["zarr": .object(asset)],
        ]
        if let k = r.catalog["keywords"] { json["keywords"] = k }
        if let p = r.catalog["providers"] { json["providers"] = p }
        do { return try STACCollection(json: .object(json), path: "the collection of recipe '\(r.name)'") } catch {
            throw GyreRecipesError(.recipe, "the collection for '\(r.name)' is not valid STAC: \(error)")
        }
    }

    /// Writes the collection (created or replaced) and registers the dataset for serving.
    public static func publish(_ r: Recipe, to catalog: any CatalogBackend) async throws -> STACCollection {
        let c = try await collection(for: r)
        try await catalog.putCollection(c)
        var reg: JSONObject = ["name": .string(c.id), "source": .string(r.target), "description": .string(c.description)]
        if !r.targetOptions.isEmpty {
            // The server reads the store with the recipe's options (kept in the catalog
            // database, never in the public collection).
            reg["storage_options"] = .object(JSONObject(uniqueKeysWithValues: r.targetOptions.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))
        }
        _ = try await catalog.unregisterDataset(c.id)
        _ = try await catalog.registerDataset(name: c.id, registration: .object(reg))
        return c
    }

    static func stamp(_ t: Int64, _ unit: TimeUnit) -> String {
        // Whole seconds are written as such (RFC 3339 without a fraction of zeros).
        let perSecond = unit.nanoseconds < 1_000_000_000 ? 1_000_000_000 / unit.nanoseconds : 1
        let s = perSecond > 1 && t % perSecond == 0 ? formatDatetime64(t / perSecond, unit: .seconds) : formatDatetime64(t, unit: unit)
        return (s.contains("T") ? s : s + "T00:00:00") + "Z"
    }

    /// The step between values when it is the same throughout (to 1e-6 of it).
    static func regularStep(_ v: [Double]) -> Double? {
        guard v.count >= 2 else { return nil }
        let d = v[1] - v[0]
        guard d != 0 else { return nil }
        for i in 1..<v.count where abs((v[i] - v[i - 1]) - d) > abs(d) * 1e-6 { return nil }
        return d
    }

    /// An ISO 8601 duration for a step of `ticks` in `unit`.
    static func duration(_ ticks: Double, _ unit: TimeUnit) -> String {
        let seconds = ticks * Double(unit.nanoseconds) / 1e9
        if seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return "P\(Int(seconds / 86_400))D" }
        if seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "PT\(Int(seconds / 3600))H" }
        return "PT\(seconds)S"
    }
}
