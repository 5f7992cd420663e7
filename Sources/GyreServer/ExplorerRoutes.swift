import Foundation
import GyreArrays
import GyreCore
import GyreData
import GyreRender
import Hummingbird
import NIOCore

/// The explorer in the browser (plain HTML, CSS and JavaScript, with Leaflet from Debian's
/// libjs-leaflet served from its system path), and the small routes it reads beside the STAC,
/// dataset, tile and EDR APIs: colormaps, a tile layer's metadata, and quick plots of an
/// expression's result.
extension STACService {
    /// Where Leaflet's files are: `GYRE_LEAFLET_DIR`, else Debian's libjs-leaflet path.
    static var leafletDirectory: String {
        ProcessInfo.processInfo.environment["GYRE_LEAFLET_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/javascript/leaflet"
    }

    /// Whether a request to `/` asks for a page (a browser) rather than the landing JSON.
    static func wantsPage(_ request: Request) -> Bool {
        if let f = (try? QueryString(request.uri.query))?["f"] { return f == "html" }
        let accept = request.headers[.accept] ?? ""
        guard let html = accept.range(of: "text/html") else { return false }
        // A browser lists text/html first; a client that also takes JSON before it gets JSON.
        if let json = accept.range(of: "json") { return html.lowerBound < json.lowerBound }
        return true
    }

    func addExplorerRoutes(to router: Router<GyreRequestContext>) {
        router.get("/explorer") { _, _ in Self.html(ExplorerAssets.page) }
        router.get("/explorer/explorer.js") { _, _ in Self.asset(ExplorerAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/explorer/explorer.css") { _, _ in Self.asset(ExplorerAssets.style, type: "text/css; charset=utf-8") }
        router.get("/explorer/leaflet/{file}") { _, context in try Self.leaflet(try Self.parameter(context, "file")) }
        router.get("/explorer/leaflet/images/{file}") { _, context in try Self.leaflet("images/" + (try Self.parameter(context, "file"))) }

        router.get("/colormaps") { request, _ in
            Self.respondJSON(["colormaps": .array(Colormap.names.map { .string($0) })], request)
        }
        router.get("/colormaps/{name}") { request, context in
            let name = try Self.parameter(context, "name")
            let cmap: Colormap
            do { cmap = try Colormap.named(name) } catch { throw GyreServerError(.notFound, "\(error)") }
            return Self.respondJSON(["name": .string(cmap.name), "colors": .array(cmap.colors.map { .string($0.description) })], request)
        }

        router.get("/tiles/{name}/{variable}") { request, context in
            let d = try self.requireDataset(context)
            try self.authorizeData(request, collection: d.name)
            return Self.respondJSON(try await self.tileLayer(d, variable: try Self.parameter(context, "variable")), request)
        }

        router.get("/datasets/{name}/plot") { request, context in
            let d = try self.requireDataset(context)
            try self.authorizeData(request, collection: d.name)
            return try await self.plot(d, query: try QueryString(request.uri.query))
        }
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// One of Leaflet's files (its script, style sheet, source maps and marker images).
    static func leaflet(_ file: String) throws -> Response {
        let allowed = ["leaflet.js", "leaflet.css", "leaflet.js.map", "leaflet.css.map",
                       "images/layers.png", "images/layers-2x.png", "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png"]
        guard allowed.contains(file) else { throw GyreServerError(.notFound, "the explorer serves Leaflet's \(allowed), not '\(file.prefix(80))'") }
        let path = leafletDirectory + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GyreServerError(.notFound, "\(path) is missing: install Debian's libjs-leaflet (scripts/setup does), or set GYRE_LEAFLET_DIR")
        }
        let type = file.hasSuffix(".js") ? "text/javascript; charset=utf-8" : file.hasSuffix(".css") ? "text/css; charset=utf-8"
            : file.hasSuffix(".png") ? "image/png" : "application/json"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// What a tile layer of a variable needs: its tile URL template, the other dimensions with
    /// their labels (the values tiles take as `DIM=`), the colour range tiles use by default
    /// (of the first step), the grid's bounds, and the variable's name and units.
    func tileLayer(_ d: ServedDataset, variable: String) async throws -> JSON {
        let grid: EDRGrid, v: Variable
        switch try tileSource(d, variable: variable) {
        case .grid(let g, let gv): (grid, v) = (g, gv)
        case .points(let layout, let v):
            let b = try await d.points.bounds {
                let lon = try await d.dataset.variables[layout.lon]!.load().data.doubles() ?? []
                let lat = try await d.dataset.variables[layout.lat]!.load().data.doubles() ?? []
                let fx = lon.filter(\.isFinite), fy = lat.filter(\.isFinite)
                return [fx.min() ?? -180, fy.min() ?? -90, fx.max() ?? 180, fy.max() ?? 90]
            }
            return [
                "dataset": .string(d.name), "variable": .string(variable), "kind": "points",
                "long_name": v.attrs["long_name"]?.stringValue.map { .string($0) } ?? .string(variable),
                "units": v.attrs["units"]?.stringValue.map { .string($0) } ?? .null,
                "dims": .array([]), "range": .null, "bounds": .array(b.map { .double($0) }),
                "agg": .string(variable == layout.lon || variable == layout.lat ? "count" : "mean"),
                "tiles": .string("/tiles/\(Self.escape(d.name))/\(Self.escape(variable))/{z}/{x}/{y}.png"),
                "colormaps": .array(Colormap.names.map { .string($0) }),
            ]
        }
        var dims: [JSON] = []
        var region: [Slice] = []
        for dim in v.dims {
            if dim == grid.x || dim == grid.y { region.append(.all); continue }
            region.append(Slice(0, 1))
            var labels: [JSON] = []
            // Labels for the slider (up to a million; past that, and without a coordinate,
            // the explorer asks for positions, `DIM=@N`).
            if let c = d.dataset.variables[dim], c.dims == [dim], c.count <= 1_000_000 {
                let data = try await c.load().data
                switch data {
                case .datetime64(let t, let unit): labels = t.elements.map { .string(formatDatetimeCompact($0, unit: unit)) }
                case .cftime(let t, let cal): labels = t.elements.map { .string(CFDate.isoformat(ticks: $0, calendar: cal)) }
                default: labels = (data.doubles() ?? []).map { .double($0) }
                }
            }
            dims.append(["name": .string(dim), "size": .int(Int64(v.sizes[dim] ?? 0)), "labels": .array(labels)])
        }
        let range = try await d.tiles.defaultRange(variable, region: region) { try await Self.valueRange(v, region) }
        let xs = grid.xValues.map(grid.lon), ys = grid.yValues
        let bounds: [JSON] = [.double(xs.min() ?? -180), .double(ys.min() ?? -90), .double(xs.max() ?? 180), .double(ys.max() ?? 90)]
        return [
            "dataset": .string(d.name), "variable": .string(variable), "kind": "grid",
            "long_name": v.attrs["long_name"]?.stringValue.map { .string($0) } ?? .string(variable),
            "units": v.attrs["units"]?.stringValue.map { .string($0) } ?? .null,
            "dims": .array(dims),
            "range": range.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null,
            "bounds": .array(bounds),
            "tiles": .string("/tiles/\(Self.escape(d.name))/\(Self.escape(variable))/{z}/{x}/{y}.png"),
            "colormaps": .array(Colormap.names.map { .string($0) }),
        ]
    }

    /// `/datasets/{name}/plot?expr=EXPR`: `gyre plot` of an expression's result, computed within
    /// the server's limits: `format=png` (the default) or `svg`, `cmap=`, `range=MIN,MAX`,
    /// `width=`, `height=`, `title=`.
    func plot(_ d: ServedDataset, query: QueryString) async throws -> Response {
        guard let expr = query["expr"] else {
            throw GyreServerError(.badRequest, "expr is missing: /datasets/\(d.name)/plot?expr=sst.mean('time')")
        }
        var options = PlotOptions()
        var svg = false
        for (name, value) in query.pairs {
            switch name {
            case "expr": break
            case "format":
                guard value == "png" || value == "svg" else { throw GyreServerError(.badRequest, "format=\(value.prefix(40)): the formats are png and svg") }
                svg = value == "svg"
            case "cmap": options.cmap = try Self.colormapParameter(value)
            case "range": options.range = try Self.rangeParameter(value)
            case "width", "height":
                guard let n = Int(value), (100...4096).contains(n) else { throw GyreServerError(.badRequest, "\(name)=\(value.prefix(40)) must be an integer in 100...4096") }
                if name == "width" { options.width = n } else { options.height = n }
            case "title": options.title = String(value.prefix(200))
            case "token", "sig", "se", "sp", "sr", "st": break
            default: throw GyreServerError(.badRequest, "unknown plot parameter '\(name.prefix(80))': use expr, format, cmap, range, width, height or title")
            }
        }
        let font: Font?
        if svg { font = nil } else {
            do { font = try Font.standard() } catch { throw GyreServerError(.internalError, "\(error)") }
        }
        let figure: Figure
        switch try await d.compute(expr, limits: datasets.limits) {
        case .value(let j):
            throw GyreServerError(.badRequest, "'\(expr.prefix(200))' is a plain value (\(j)), not an array to plot")
        case .dataset(let result, let arrayName, _):
            do { figure = try await Plot.figure(result, variable: arrayName, options: options, font: font) } catch let e as GyreRenderError {
                throw GyreServerError(.badRequest, "\(e)")
            }
        }
        let bytes = svg ? Array(try figure.svg().utf8) : try PNG.encode(figure.raster(font: font!))
        return Response(status: .ok, headers: [.contentType: svg ? "image/svg+xml" : "image/png", .contentLength: String(bytes.count),
                                               .accessControlAllowOrigin: "*"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
