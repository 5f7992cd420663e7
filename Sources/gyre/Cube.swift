import ArgumentParser
import Foundation
import Gyre

/// `gyre cube`: a STAC search stacked into a cube, reduced over time to a mosaic.
struct CubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cube",
        abstract: "Search a STAC API (or read items from a file), stack the items' assets into a (time, band, y, x) cube and write it, or its mosaic.",
        discussion: """
            The cube is lazy: each output chunk reads only the tiles of the COGs it needs. With \
            --method the time dimension is reduced (median: a cloudless mosaic; --groupby time.month: \
            one mosaic per month). Output: a Zarr store (the cube or the mosaic), a Cloud-Optimized GeoTIFF of the \
            mosaic (deflate, predictor 3, overviews), or a PNG of it \
            (three bands as red, green, blue, or one band in gray; --range or the 2nd to 98th percentile). \
            Example: gyre cube --stac http://127.0.0.1:8080 --collections sentinel-2-l2a --bbox 17.8,50.1,17.9,50.16 \
            --datetime 2020-01-01T00:00:00Z/2020-06-30T23:59:59Z --filter "eo:cloud_cover < 25" --assets B04,B03,B02 \
            --resolution 10 --crs EPSG:32633 --method median -o mosaic.png
            """)

    @Option(help: "A STAC API's root URL to search.") var stac: String?
    @Option(help: "A file of STAC items (an ItemCollection, a list, or one item per line) instead of a search.") var items: String?
    @Option(help: "Collection ids to search, comma-separated.") var collections: String?
    @Option(help: "west,south,east,north in longitude and latitude: the search's area and the cube's (unless --bounds).") var bbox: String?
    @Option(help: "An RFC 3339 instant or start/end interval.") var datetime: String?
    @Option(help: "A CQL2 text filter, e.g. \"eo:cloud_cover < 25\".") var filter: String?
    @Option(help: "Stop the search after this many items.") var maxItems: Int?
    @Option(help: "The assets to stack, comma-separated (one band each).") var assets: String
    @Option(help: "Pixel size in the CRS's units (default: the assets' finest).") var resolution: Double?
    @Option(help: "The cube's CRS, e.g. EPSG:32633 (default: the one most assets are in).") var crs: String?
    @Option(help: "west,south,east,north in the cube's CRS (default: --bbox carried into it).") var bounds: String?
    @Option(help: "nearest or bilinear.") var resampling = "nearest"
    @Option(help: "Reduce over time: median, mean, min, max, first (the first valid value).") var method: String?
    @Option(help: "With --method, one result per group, e.g. time.month.") var groupby: String?
    @Option(help: "Output chunk size along y and x.") var chunkSize = 1024
    @Flag(help: "Read the full resolution even when an overview would do (as stackstac).") var noOverviews = false
    @Option(help: "The PNG's value range, MIN,MAX (default: the 2nd and 98th percentiles).") var range: String?
    @Option(name: .shortAndLong, help: "Output: DIR.zarr (or any Zarr location), FILE.tif (a COG of the mosaic), or FILE.png (a picture of it).") var output: String
    @Flag(help: "Replace the output if it exists.") var overwrite = false
    @OptionGroup var storage: StorageFlags
    @Option(help: "A header for the STAC API, NAME=VALUE (repeatable; an API key, say).") var header: [String] = []

    func run() async throws {
        let storageOptions = try storage.options()
        guard (stac == nil) != (items == nil) else { throw CLIError("give --stac URL to search, or --items FILE, not both") }
        let names = assets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw CLIError("--assets: name at least one asset") }
        guard let how = Resampling(rawValue: resampling) else { throw CLIError("--resampling \(resampling): nearest or bilinear") }
        if let method, !["median", "mean", "min", "max", "first"].contains(method) { throw CLIError("--method \(method): median, mean, min, max or first") }
        if groupby != nil && method == nil { throw CLIError("--groupby needs --method") }
        let lower = output.lowercased()
        let png = lower.hasSuffix(".png"), tif = lower.hasSuffix(".tif") || lower.hasSuffix(".tiff")
        if (png || tif) && method == nil { throw CLIError("\(output): an image is a mosaic: give --method (median, say)") }
        if (png || tif) && groupby != nil { throw CLIError("\(output): --groupby gives several mosaics; write them to a Zarr store") }
        if FileManager.default.fileExists(atPath: output) && !overwrite { throw CLIError("\(output) already exists; pass --overwrite to replace it") }
        let ll = try bbox.map { try Specs.numbers($0, option: "--bbox", count: 4) }

        // The items.
        var found: [Item]
        do {
            if let stac {
                var s = STACSearch()
                s.collections = collections?.split(separator: ",").map(String.init)
                s.bbox = ll
                s.datetime = datetime
                s.filter = filter
                s.maxItems = maxItems
                for h in header {
                    let kv = h.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, !kv[0].isEmpty else { throw CLIError("--header \(h): NAME=VALUE") }
                    s.headers.append((kv[0], kv[1]))
                }
                found = try await s.items(stac)
            } else {
                found = try Self.readItems(items!)
            }
        } catch let e as any GyreErrorProtocol { throw CLIError(e.message) }
        guard !found.isEmpty else { throw CLIError("the search found no items") }
        FileHandle.standardError.write(Data("\(found.count) items\n".utf8))

        var o = StackOptions(assets: names)
        o.resampling = how
        o.resolution = resolution
        o.chunkSize = chunkSize
        o.overviews = !noOverviews
        o.storageOptions = storageOptions
        o.dtype = .float32
        do {
            if let crs { o.crs = try CRS(crs) }
            if let bounds { o.bounds = try Specs.numbers(bounds, option: "--bounds", count: 4) } else { o.boundsLatLon = ll }
            let cube = try await Cube.stack(found, options: o)
            var result = cube
            if let method {
                if let groupby {
                    let g = try cube.groupby(groupby)
                    switch method {
                    case "median": result = try g.median(skipna: true)
                    case "mean": result = try g.mean(skipna: true)
                    case "min": result = try g.min(skipna: true)
                    case "max": result = try g.max(skipna: true)
                    default: throw CLIError("--method first with --groupby is not there yet")
                    }
                } else {
                    result = try await Mosaic.reduce(cube, method: method)
                }
            }
            if tif {
                let loaded = try await result.variable.load()
                let crs = try CRS(cube.variable.attrs["crs"]?.stringValue ?? "")
                try COGWriter.write(loaded.data, to: output, epsg: crs.epsg, geographic: crs.isGeographic, transform: cube.variable.attrs["transform"]?.doubles,
                                    nodata: .nan, options: COGOptions())
                FileHandle.standardError.write(Data("\(output): \(loaded.shape[2]) x \(loaded.shape[1]) COG mosaic of \(cube.shape[0]) scenes\n".utf8))
            } else if png {
                let loaded = try await result.variable.load()
                let image = try Mosaic.rgb(loaded.data, range: try range.map { try Specs.numbers($0, option: "--range", count: 2) })
                try Data(try PNG.encode(image)).write(to: URL(fileURLWithPath: output))
                FileHandle.standardError.write(Data("\(output): \(image.width) x \(image.height) mosaic of \(cube.shape[0]) scenes\n".utf8))
            } else {
                if overwrite, FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
                let ds = try result.toDataset()
                let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
                defer { bar.finish() }
                try await ds.writeZarr(to: Dataset.writableStore(output, storageOptions: [:]), options: ZarrWriteOptions()) { bar.update($0) }
                FileHandle.standardError.write(Data("\(output): \(result.dims.joined(separator: ", ")) = \(result.shape.map(String.init).joined(separator: " x "))\n".utf8))
            }
        } catch let e as any GyreErrorProtocol { throw CLIError(e.message) }
    }

    /// Items from a file: an ItemCollection (FeatureCollection), a JSON list, or one item per line.
    static func readItems(_ path: String) throws -> [Item] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): no such file") }
        let text = String(decoding: data, as: UTF8.self)
        if let j = try? JSON.parse(Array(data), source: path) {
            if let fs = j["features"]?.array { return try fs.enumerated().map { try Item(json: $1, path: "\(path): feature \($0)") } }
            if let a = j.array { return try a.enumerated().map { try Item(json: $1, path: "\(path): item \($0)") } }
            return [try Item(json: j, path: path)]
        }
        return try text.split(separator: "\n").enumerated().filter { !$0.element.trimmingCharacters(in: .whitespaces).isEmpty }.map {
            try Item(json: try JSON.parse(Array($0.element.utf8), source: "\(path):\($0.offset + 1)"), path: "\(path):\($0.offset + 1)")
        }
    }
}
