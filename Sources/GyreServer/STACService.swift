import GyreCore
import Foundation
import GyreCatalog
import GyreSTAC
import Hummingbird
import Logging

/// What a STAC API server says about itself and how it guards writes.
public struct STACServerConfiguration: Sendable {
    public var id: String
    public var title: String
    public var description: String
    /// The key transactions need as `Authorization: Bearer KEY`. With none, the transaction
    /// extension is off: writes answer 403 and its conformance classes are not advertised.
    public var apiKey: String?
    /// The largest request body read (a POSTed ItemCollection, say).
    public var maxBodyBytes: Int
    /// How often `/search/stream` sends a keep-alive comment, in seconds.
    public var streamHeartbeat: Double
    /// How often `/search/stream` asks the catalog for new items while anyone listens, in seconds.
    public var streamPoll: Double
    /// Signed access to the datasets' data (`/api/sas/v1/...`, `--require-signing`).
    public var signing: SigningConfiguration
    /// Directories `POST /datasets` may register local paths under (URLs are always allowed).
    public var registerRoots: [String]

    public init(id: String = "gyre", title: String = "Gyre STAC API",
                description: String = "A STAC API served by Gyre", apiKey: String? = nil,
                maxBodyBytes: Int = 64 << 20, streamHeartbeat: Double = 15, streamPoll: Double = 0.5,
                signing: SigningConfiguration = SigningConfiguration(), registerRoots: [String] = []) {
        self.id = id; self.title = title; self.description = description; self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes; self.streamHeartbeat = streamHeartbeat; self.streamPoll = streamPoll
        self.signing = signing
        self.registerRoots = registerRoots
    }
}

/// A STAC API over a `CatalogBackend`: core, collections, OGC API Features, item search,
/// filter (CQL2 text and JSON), sort, fields, query, transactions, and `/search/stream`.
/// Links are built from a plain base URL (`http://127.0.0.1:8080`), never from the request.
public final class STACService: Sendable {
    public let backend: any CatalogBackend
    public let configuration: STACServerConfiguration
    /// The datasets served beside the catalog (`/datasets`).
    public let datasets: ServedDatasets
    let base: BaseURL
    let feed: ItemFeed
    /// Anonymous token requests, per client.
    let tokenLimiter: RateLimiter
    /// Where searches that only a scan answers are noted, each with its time (`SearchPath.scan`).
    let logger: Logger

    /// - Parameter baseURL: where clients reach the server; nil until `setBaseURL` (the CLI
    ///   sets it once the port is bound, so port 0 works).
    public init(backend: any CatalogBackend, configuration: STACServerConfiguration = .init(), baseURL: String? = nil,
                datasets: ServedDatasets = ServedDatasets(), logger: Logger = Logger(label: "gyre.search")) {
        self.backend = backend
        self.datasets = datasets
        self.logger = logger
        self.configuration = configuration
        self.base = BaseURL(baseURL ?? "http://127.0.0.1:8080")
        self.feed = ItemFeed(backend: backend, interval: configuration.streamPoll)
        self.tokenLimiter = RateLimiter(perMinute: configuration.signing.anonymousPerMinute)
    }

    public var baseURL: String { base.value }
    public func setBaseURL(_ url: String) { base.set(url) }

    public var transactionsEnabled: Bool { configuration.apiKey != nil }

    /// The conformance classes: each extension contributes its own.
    public var conformance: [String] {
        var c = [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/collections",
            "https://api.stacspec.org/v1.0.0/ogcapi-features",
            "https://api.stacspec.org/v1.0.0/item-search",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
        ]
        // Filter: CQL2 in both encodings and every operator class the evaluator and SQL implement.
        c += [
            "https://api.stacspec.org/v1.0.0/item-search#filter",
            "https://api.stacspec.org/v1.0.0/ogcapi-features#filter",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
            "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
            "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
            "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
            "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
            "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
            "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
            // The draft names some clients (stac-api-validator among them) still look for.
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
            "http://www.opengis.net/spec/cql2/1.0/conf/temporal-operators",
        ]
        c += [
            "https://api.stacspec.org/v1.0.0/item-search#sort",
            "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
            "https://api.stacspec.org/v1.0.0/item-search#fields",
            "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
            "https://api.stacspec.org/v1.0.0-rc.3/item-search#query",
            "https://api.stacspec.org/v1.0.0-rc.3/ogcapi-features#query",
        ]
        if transactionsEnabled {
            c += [
                "https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction",
                "https://api.stacspec.org/v1.0.0/collections/extensions/transaction",
                "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
                "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
            ]
        }
        return c
    }

    // MARK: Documents

    static let json = "application/json"
    static let geojson = "application/geo+json"

    func link(_ rel: String, _ path: String, _ type: String = STACService.json, title: String? = nil) -> JSON {
        var o: JSONObject = ["rel": .string(rel), "type": .string(type), "href": .string(baseURL + path)]
        if let title { o["title"] = .string(title) }
        return .object(o)
    }

    /// An id as one URL path segment.
    static func escape(_ id: String) -> String { PercentEncoding.encode(id, keeping: PercentEncoding.pathSegment) }

    func landing() async throws -> JSON {
        var links: [JSON] = [
            link("self", "/"), link("root", "/"),
            link("conformance", "/conformance", title: "Conformance classes"),
            link("alternate", "/explorer", "text/html", title: "The explorer (a map of the catalog and the datasets)"),
            link("data", "/collections", title: "Collections"),
            link("service-desc", "/api", "application/vnd.oai.openapi+json;version=3.0", title: "OpenAPI definition"),
            link("service-doc", "/api.html", "text/html", title: "API documentation"),

            link("http://www.opengis.net/def/rel/ogc/1.0/queryables", "/queryables", "application/schema+json", title: "Queryables"),
        ]
        for method in ["GET", "POST"] {
            if case .object(var search) = link("search", "/search", Self.geojson, title: "Item search (\(method))") {
                search["method"] = .string(method)
                links.append(.object(search))
            }
        }
        for c in try await backend.collections() {
            links.append(link("child", "/collections/\(Self.escape(c.id))", title: c.title ?? c.id))
        }
        return [
            "type": "Catalog", "id": .string(configuration.id), "title": .string(configuration.title),
            "description": .string(configuration.description), "stac_version": .string(stacVersion),
            "conformsTo": .array(conformance.map { .string($0) }), "links": .array(links),
        ]
    }

    static let structural: Set<String> = ["self", "root", "parent", "collection", "items", "child", "item",
                                          "http://www.opengis.net/def/rel/ogc/1.0/queryables"]

    /// A stored collection with the API's links (its stored non-structural links kept).
    func collectionJSON(_ c: STACCollection) -> JSON {
        guard case .object(var o) = c.json else { return c.json }
        let p = "/collections/\(Self.escape(c.id))"
        var links: [JSON] = [
            link("self", p, title: c.title ?? c.id), link("root", "/", title: configuration.title), link("parent", "/", title: configuration.title),
            link("items", p + "/items", Self.geojson, title: "Items"),
            link("http://www.opengis.net/def/rel/ogc/1.0/queryables", p + "/queryables", "application/schema+json", title: "Queryables"),
        ]
        links += c.links.filter { !Self.structural.contains($0.rel) }.map(\.json)
        o["links"] = .array(links)
        return .object(o)
    }

    /// A stored item with the API's links (its stored non-structural links kept).
    func itemJSON(_ item: Item) -> JSON {
        guard case .object(var o) = item.json else { return item.json }
        o["links"] = .array(itemLinks(collection: item.collection ?? "", id: item.id) + item.links.filter { !Self.structural.contains($0.rel) }.map(\.json))
        return .object(o)
    }

    /// The links the API gives an item.
    func itemLinks(collection: String, id: String) -> [JSON] {
        let c = "/collections/\(Self.escape(collection))"
        return [link("self", c + "/items/\(Self.escape(id))", Self.geojson), link("parent", c), link("collection", c), link("root", "/")]
    }

    /// Runs a search and writes the FeatureCollection with its `next` link. Items go out as
    /// stored, with the API's links spliced in; only a `fields` selection parses them.
    func searchPage(_ s: ParsedSearch, path: String) async throws -> [UInt8] {
        let started = ContinuousClock.now
        let page = try await backend.search(s.request)
        if case .scan(let why) = s.request.path {
            let ms = (ContinuousClock.now - started) / .milliseconds(1)
            logger.notice("search answered by a scan (\(why)): \(String(format: "%.1f", ms)) ms, \(page.records.count) items",
                          metadata: ["path": "\(path)", "filter": "\(s.request.filter.map { String($0.text.prefix(300)) } ?? "none")"])
        }
        var out: [UInt8] = []
        out.reserveCapacity(page.records.reduce(1024) { $0 + $1.text.utf8.count + 640 })
        out.append(contentsOf: #"{"type":"FeatureCollection","features":["#.utf8)
        for (n, r) in page.records.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            if s.fields == nil, FeatureWriter.write(r, links: itemLinks(collection: r.collection, id: r.id), structural: Self.structural, into: &out) {
                continue
            }
            let j = itemJSON(try r.item())
            (s.fields.map { $0.apply(j) } ?? j).write(into: &out)
        }
        var links: [JSON] = [link("root", "/")]
        if let q = s.query {
            links.insert(.object(["rel": "self", "type": .string(Self.geojson),
                                  "href": .string(baseURL + path + (q.pairs.isEmpty ? "" : "?" + q.encoded))]), at: 0)
            if let next = page.next {
                links.append(.object(["rel": "next", "type": .string(Self.geojson), "href": .string(baseURL + path + "?" + q.with("token", next))]))
            }
        } else if let body = s.body {
            links.insert(link("self", path, Self.geojson), at: 0)
            if let next = page.next {
                var b = body
                b["token"] = .string(next)
                links.append(.object(["rel": "next", "type": .string(Self.geojson), "href": .string(baseURL + path),
                                      "method": "POST", "body": .object(b), "merge": false]))
            }
        }
        if path.hasPrefix("/collections/") {
            let collection = String(path.dropLast("/items".count))
            links += [link("parent", collection), link("collection", collection)]
        }
        out.append(contentsOf: #"],"links":"#.utf8)
        JSON.array(links).write(into: &out)
        out.append(contentsOf: #","numberReturned":\#(page.records.count)}"#.utf8)
        return out
    }

    /// The queryables as a JSON Schema document.
    func queryablesJSON(collection: String?) async throws -> JSON {
        let qs = try await backend.queryables(collection: collection)
        var props = JSONObject()
        for q in qs {
            switch q.type {
            case "date-time": props[q.name] = ["type": "string", "format": "date-time"]
            case "geometry": props[q.name] = ["$ref": "https://geojson.org/schema/Geometry.json"]
            case "mixed": props[q.name] = [:]
            default: props[q.name] = ["type": .string(q.type)]
            }
            if q.name == "id" { props[q.name]?.setDescription("Item identifier") }
            if q.name == "collection" { props[q.name]?.setDescription("Collection identifier") }
        }
        let path = collection.map { "/collections/\(Self.escape($0))/queryables" } ?? "/queryables"
        return [
            "$schema": "https://json-schema.org/draft/2019-09/schema", "$id": .string(baseURL + path),
            "type": "object", "title": .string(collection.map { "Queryables of \($0)" } ?? "Queryables of \(configuration.title)"),
            "properties": .object(props), "additionalProperties": true,
        ]
    }
}

extension JSON {
    mutating func setDescription(_ text: String) {
        if case .object(var o) = self { o["description"] = .string(text); self = .object(o) }
    }
}

/// The server's base URL, set once the port is known.
final class BaseURL: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: String
    init(_ v: String) { _value = v.hasSuffix("/") ? String(v.dropLast()) : v }
    var value: String { lock.lock(); defer { lock.unlock() }; return _value }
    func set(_ v: String) { lock.lock(); _value = v.hasSuffix("/") ? String(v.dropLast()) : v; lock.unlock() }
}
