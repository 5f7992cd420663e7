import Foundation
import GyreSTAC
import GyreStorage
import NIOHTTP1

/// A STAC API item search (POST /search), as pystac-client sends it.
public struct STACSearch: Sendable {
    public var collections: [String]?
    public var ids: [String]?
    /// West, south, east, north in longitude and latitude.
    public var bbox: [Double]?
    public var intersects: Geometry?
    /// An RFC 3339 instant or interval (`A/B`, `..` for an open end).
    public var datetime: String?
    /// A CQL2 filter, as text (`eo:cloud_cover < 25`).
    public var filter: String?
    /// Sort keys, each with + or - (`-properties.datetime`).
    public var sortby: [String]?
    /// Items per page.
    public var limit = 100
    /// Stop after this many items.
    public var maxItems: Int?
    /// Headers for every request (an API key, a bearer token).
    public var headers: [(String, String)] = []

    public init() {}

    /// The request body: the parameters checked (bbox, datetime, CQL2 parsed) before anything is sent.
    public func body() throws -> JSONObject {
        guard limit >= 1 else { throw GyreCubeError(.invalidArgument, "search limit \(limit): at least 1") }
        if let m = maxItems, m < 0 { throw GyreCubeError(.invalidArgument, "max items \(m) must not be negative") }
        var b = JSONObject()
        do {
            if let bbox { b["bbox"] = try BBox(bbox).json }
            if let intersects { b["intersects"] = intersects.json }
            if let datetime { _ = try TemporalInterval(parameter: datetime); b["datetime"] = .string(datetime) }
            if let filter { b["filter"] = try CQL2.parse(text: filter).json; b["filter-lang"] = "cql2-json" }
        } catch let e as any GyreErrorProtocol {
            throw GyreCubeError(.invalidArgument, e.message)
        }
        if let collections { b["collections"] = .array(collections.map { .string($0) }) }
        if let ids { b["ids"] = .array(ids.map { .string($0) }) }
        if let sortby {
            b["sortby"] = .array(sortby.map { raw -> JSON in
                var f = raw.trimmingCharacters(in: .whitespaces), dir = "asc"
                if f.hasPrefix("-") { dir = "desc"; f.removeFirst() } else if f.hasPrefix("+") { f.removeFirst() }
                return ["field": .string(f), "direction": .string(dir)]
            })
        }
        b["limit"] = .int(Int64(maxItems.map { Swift.max(1, Swift.min($0, limit)) } ?? limit))
        return b
    }

    /// Runs the search against the API at `root`, following `next` links (GET, or POST with
    /// their body, merged when they say so); `page` sees each page's features as they come.
    /// Returns the features (at most `maxItems`) and the number of pages.
    public func run(_ root: String, page: (([JSON]) -> Void)? = nil) async throws -> (features: [JSON], pages: Int) {
        let body = try body()
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        guard let u = URL(string: base), u.scheme == "http" || u.scheme == "https" else {
            throw GyreCubeError(.invalidArgument, "\(root) is not an http(s) URL")
        }
        var method = HTTPMethod.POST
        var url = base + "/search"
        var sent: JSONObject? = body
        var features: [JSON] = []
        var pages = 0
        var options = NetworkOptions()
        options.headers = headers
        options.attempts = 3
        while true {
            let requestHeaders: [(String, String)] = sent == nil ? [("Accept", "application/geo+json")] : [("Content-Type", "application/json"), ("Accept", "application/geo+json")]
            let reply = try await HTTPTransport.send(method, url, body: sent.map { Array(JSON.object($0).serialized) }, options: options, maxBody: 1 << 30) { requestHeaders }
            let shown = HTTPTransport.shown(url)
            let json: JSON
            do { json = try JSON.parse(reply.body, source: shown) } catch {
                throw GyreCubeError(.search, "\(shown): HTTP \(reply.status), and the body is not JSON: \(String(decoding: reply.body.prefix(200), as: UTF8.self))")
            }
            guard reply.status == 200 else {
                throw GyreCubeError(.search, "\(shown): HTTP \(reply.status): \(json["description"]?.string ?? String(json.text.prefix(300)))")
            }
            guard let fs = json["features"]?.array else { throw GyreCubeError(.search, "\(shown): the answer has no features (not an ItemCollection)") }
            pages += 1
            var taken = fs
            if let m = maxItems { taken = Array(fs.prefix(Swift.max(0, m - features.count))) }
            features += taken
            page?(taken)
            if let m = maxItems, features.count >= m { break }
            guard let next = json["links"]?.array?.first(where: { $0["rel"]?.string == "next" }), let href = next["href"]?.string else { break }
            guard pages < 1_000_000 else { throw GyreCubeError(.search, "stopped after a million pages; the server's next links may loop") }
            guard let nextURL = URL(string: href, relativeTo: URL(string: url)), nextURL.scheme == "http" || nextURL.scheme == "https" else {
                throw GyreCubeError(.search, "\(shown): a next link that is not an http(s) URL: \(href.prefix(200))")
            }
            // Headers (an API key) go only to the API's own host.
            if nextURL.host != u.host || nextURL.port != u.port { options.headers = [] }
            url = nextURL.absoluteString
            if next["method"]?.string == "POST" {
                method = .POST
                var b = (next["merge"]?.bool ?? false) ? body : [:]
                for (k, v) in next["body"]?.object ?? [:] { b[k] = v }
                sent = b
            } else {
                method = .GET
                sent = nil
            }
        }
        return (features, pages)
    }

    /// The matching items.
    public func items(_ root: String) async throws -> [Item] {
        try await run(root).features.enumerated().map { i, f in
            do { return try Item(json: f) } catch let e as any GyreErrorProtocol {
                throw GyreCubeError(.search, "\(root): item \(i) of the search: \(e.message)")
            }
        }
    }
}
