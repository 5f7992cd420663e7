import Foundation
import GyreCore
import GyreRender
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

/// The explorer's page and the routes it reads: / by content negotiation, Leaflet from the
/// system path (and nothing else from there), colormaps, a tile layer's metadata, and plots of
/// expressions, with 4xx answers for bad requests.
@Suite("Explorer page, colormaps, tile-layer metadata and plots")
struct ExplorerRouteTests {
    static func body(_ r: TestResponse) -> [UInt8] { Array(buffer: r.body) }
    static func json(_ r: TestResponse) throws -> JSON { try JSON.parse(Self.body(r)) }

    @Test("/ gives a browser the explorer and an API client the landing page; the page's script, style and Leaflet are served, other paths are not")
    func page() async throws {
        try await EDRRouteTests.serveSample { _, client, _ in
            let browser = try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])
            #expect(browser.status == .ok)
            #expect(browser.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(decoding: Self.body(browser), as: UTF8.self).contains("<title>Gyre explorer</title>"))
            for accept in [nil, "*/*", "application/json", "application/json, text/html"] {
                let api = try await client.execute(uri: "/", method: .get, headers: accept.map { [.accept: $0] } ?? [:])
                #expect(api.status == .ok)
                #expect(try Self.json(api)["conformsTo"] != nil, "Accept: \(accept ?? "none")")
            }
            let landing = try Self.json(try await client.execute(uri: "/?f=json", method: .get, headers: [.accept: "text/html"]))
            #expect(landing["links"]?.array?.contains { $0["href"]?.string == "http://test.local/explorer" } == true)
            let js = try await client.execute(uri: "/explorer/explorer.js", method: .get)
            #expect(js.status == .ok && js.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(String(decoding: Self.body(js), as: UTF8.self).contains("window.gyreExplorer"))
            #expect(try await client.execute(uri: "/explorer/explorer.css", method: .get).status == .ok)
            let leaflet = try await client.execute(uri: "/explorer/leaflet/leaflet.js", method: .get)
            #expect(leaflet.status == .ok, "Leaflet: install libjs-leaflet (scripts/setup does)")
            #expect(String(decoding: Self.body(leaflet), as: UTF8.self).contains("Leaflet"))
            #expect(try await client.execute(uri: "/explorer/leaflet/images/marker-icon.png", method: .get).status == .ok)
            for path in ["/explorer/leaflet/leaflet.esm.js", "/explorer/leaflet/..%2F..%2F..%2Fetc%2Fpasswd", "/explorer/leaflet/images/..%2F..%2Fleaflet.js"] {
                #expect(try await client.execute(uri: path, method: .get).status == .notFound, "\(path)")
            }
        }
    }

    @Test("/colormaps lists the maps and /colormaps/NAME gives its 256 colours; an unknown name is 404")
    func colormaps() async throws {
        try await EDRRouteTests.serveSample { _, client, _ in
            let list = try Self.json(try await client.execute(uri: "/colormaps", method: .get))
            #expect(list["colormaps"]?.array?.contains("fire") == true)
            let viridis = try Self.json(try await client.execute(uri: "/colormaps/viridis", method: .get))
            let colors = viridis["colors"]?.array?.compactMap(\.string) ?? []
            #expect(colors.count == 256)
            #expect(colors.first == (try Colormap.named("viridis")).colors[0].description)
            #expect(try await client.execute(uri: "/colormaps/nope", method: .get).status == .notFound)
        }
    }

    @Test("/tiles/NAME/VAR describes the layer: the other dimensions with their labels, the default range, the bounds; tiles taken at a label differ")
    func layer() async throws {
        try await EDRRouteTests.serveSample { _, client, _ in
            let meta = try Self.json(try await client.execute(uri: "/tiles/sst/sst", method: .get))
            let dims = meta["dims"]?.array ?? []
            #expect(dims.count == 1 && dims.first?["name"]?.string == "time" && dims.first?["size"]?.number == 10)
            let labels = dims.first?["labels"]?.array?.compactMap(\.string) ?? []
            #expect(labels.first == "2001-01-01" && labels.count == 10)
            let range = meta["range"]?.array?.compactMap(\.number) ?? []
            #expect(range.count == 2 && range[0] < range[1])
            #expect(meta["tiles"]?.string == "/tiles/sst/sst/{z}/{x}/{y}.png")
            #expect(meta["units"]?.string == "degC")
            // The labels are what the tiles take.
            let a = try await client.execute(uri: "/tiles/sst/sst/1/0/0.png?time=\(labels[0])&range=0,30", method: .get)
            let b = try await client.execute(uri: "/tiles/sst/sst/1/0/0.png?time=\(labels[9])&range=0,30", method: .get)
            #expect(a.status == .ok && b.status == .ok)
            #expect(Self.body(a) != Self.body(b))
            // A position instead of a label: `time=@9` is the tenth step.
            let c = try await client.execute(uri: "/tiles/sst/sst/1/0/0.png?time=@9&range=0,30", method: .get)
            #expect(c.status == .ok && Self.body(c) == Self.body(b))
            for bad in ["@10", "@-1", "@x"] {
                #expect(try await client.execute(uri: "/tiles/sst/sst/1/0/0.png?time=\(bad)", method: .get).status == .badRequest, "\(bad)")
            }
            #expect(try await client.execute(uri: "/tiles/sst/nope", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/tiles/plain/v", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/tiles/missing/v", method: .get).status == .notFound)
        }
    }

    @Test("/datasets/NAME/plot draws an expression's result as PNG or SVG; what cannot be drawn is a 400 that says why")
    func plot() async throws {
        try await EDRRouteTests.serveSample { _, client, _ in
            let png = try await client.execute(uri: "/datasets/sst/plot?expr=" + "sst.mean('time')".addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&width=400&height=300", method: .get)
            #expect(png.status == .ok && png.headers[.contentType] == "image/png")
            let bytes = Self.body(png)
            #expect(bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            #expect(bytes.count > 1000)
            // IHDR: width and height.
            #expect(Array(bytes[16..<24]) == [0, 0, 1, 144, 0, 0, 1, 44])
            let svg = try await client.execute(uri: "/datasets/sst/plot?format=svg&expr=" + "sst.isel(lat=1, lon=2)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, method: .get)
            #expect(svg.status == .ok && svg.headers[.contentType] == "image/svg+xml")
            #expect(String(decoding: Self.body(svg), as: UTF8.self).contains("<polyline"))
            for (query, says) in [("expr=sst", "select or reduce"), ("expr=1%2B1", "plain value"), ("", "expr is missing"),
                                  ("expr=sst.mean()&format=jpg", "png and svg"), ("expr=sst.mean('time')&width=5", "100...4096"),
                                  ("expr=sst.mean('time')&range=3,1", "MIN < MAX"), ("expr=sst.mean('time')&what=1", "unknown plot parameter"),
                                  ("expr=nope.mean()", "nope")] {
                let r = try await client.execute(uri: "/datasets/sst/plot?" + query, method: .get)
                #expect(r.status == .badRequest, "\(query)")
                #expect(String(decoding: Self.body(r), as: UTF8.self).contains(says), "\(query): \(String(decoding: Self.body(r), as: UTF8.self))")
            }
            // The server keeps serving.
            #expect(try await client.execute(uri: "/datasets/sst/plot?expr=sst.mean('time')", method: .get).status == .ok)
        }
    }
}
