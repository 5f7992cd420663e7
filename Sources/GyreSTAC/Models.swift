import GyreCore
import OrderedCollections

/// The STAC version Gyre writes.
public let stacVersion = "1.1.0"

/// The rules for one field, shared by the readers that build models and the checks that only
/// look; `path` names the object and is made only for an error.
enum FieldCheck {
    static func fail(_ path: () -> String, _ key: String, _ what: String) -> GyreSTACError {
        GyreSTACError(.invalidSTAC, "\(path()): \"\(key)\" \(what)")
    }

    static func object(_ json: JSON, _ path: () -> String) throws -> JSONObject {
        guard let o = json.object else { throw GyreSTACError(.invalidSTAC, "\(path()) must be a JSON object, not \(json.kind)") }
        return o
    }

    /// A string, or nil when absent or null.
    static func string(_ v: JSON?, _ key: String, _ path: () -> String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw fail(path, key, "must be a string, not \(v.kind)") }
        return s
    }

    static func requiredString(_ v: JSON?, _ key: String, _ path: () -> String) throws -> String {
        guard let s = try string(v, key, path) else { throw fail(path, key, "is required") }
        return s
    }

    /// An array of strings, or nil when absent or null.
    static func strings(_ v: JSON?, _ key: String, _ path: () -> String) throws -> [JSON]? {
        guard let v, !v.isNull else { return nil }
        guard let a = v.array else { throw fail(path, key, "must be an array of strings, not \(v.kind)") }
        for e in a where e.string == nil { throw fail(path, key, "must hold strings, not \(e.kind)") }
        return a
    }

    /// An object, or nil when absent or null.
    static func object(_ v: JSON?, _ key: String, _ path: () -> String) throws -> JSONObject? {
        guard let v, !v.isNull else { return nil }
        guard let o = v.object else { throw fail(path, key, "must be an object, not \(v.kind)") }
        return o
    }
}

/// Takes the known fields out of a JSON object, with errors that name the object and field;
/// what is left over are the object's other fields (extensions), kept as they came.
struct FieldReader {
    var rest: JSONObject
    let path: String
    /// The document's keys in their order.
    let keys: [String]

    init(_ json: JSON, path: String) throws {
        rest = try FieldCheck.object(json, { path })
        keys = rest.keys.elements
        self.path = path
    }

    func fail(_ key: String, _ what: String) -> GyreSTACError { FieldCheck.fail({ path }, key, what) }

    mutating func take(_ key: String) -> JSON? {
        guard let v = rest.removeValue(forKey: key) else { return nil }
        return v
    }

    mutating func string(_ key: String) throws -> String? { try FieldCheck.string(take(key), key, { path }) }

    mutating func requiredString(_ key: String) throws -> String { try FieldCheck.requiredString(take(key), key, { path }) }

    mutating func strings(_ key: String) throws -> [String]? {
        try FieldCheck.strings(take(key), key, { path })?.compactMap(\.string)
    }

    mutating func object(_ key: String) throws -> JSONObject? { try FieldCheck.object(take(key), key, { path }) }

    mutating func links() throws -> [Link]? {
        guard let v = take("links") else { return nil }
        guard let a = v.array else { throw fail("links", "must be an array, not \(v.kind)") }
        return try a.enumerated().map { try Link(json: $1, path: "\(path).links[\($0)]") }
    }

    mutating func assets() throws -> OrderedDictionary<String, Asset>? {
        guard let o = try object("assets") else { return nil }
        var out = OrderedDictionary<String, Asset>()
        for (k, v) in o { out[k] = try Asset(json: v, path: "\(path).assets.\(k)") }
        return out
    }
}

/// Writes fields in order, skipping absent optional ones.
struct FieldWriter {
    var o = JSONObject()
    mutating func put(_ key: String, _ v: JSON?) { if let v { o[key] = v } }
    mutating func put(_ key: String, _ s: String?) { if let s { o[key] = .string(s) } }
    mutating func put(_ key: String, _ a: [String]?) { if let a { o[key] = .array(a.map { .string($0) }) } }
    mutating func merge(_ extra: JSONObject) { for (k, v) in extra where o[k] == nil { o[k] = v } }
    /// The object with the keys of `order` first, in that order (a read document's own order).
    func ordered(_ order: [String]) -> JSON {
        guard !order.isEmpty else { return .object(o) }
        var out = JSONObject()
        for k in order { if let v = o[k] { out[k] = v } }
        for (k, v) in o where out[k] == nil { out[k] = v }
        return .object(out)
    }
}

/// A link (`rel`, `href` and what else it carries).
public struct Link: Sendable, Hashable {
    public var rel: String
    public var href: String
    public var type: String?
    public var title: String?
    /// Other fields (`method`, `body`, `merge`, `headers` for paging links, extensions).
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(rel: String, href: String, type: String? = nil, title: String? = nil, extra: JSONObject = [:]) {
        self.rel = rel; self.href = href; self.type = type; self.title = title; self.extra = extra
    }

    public init(json: JSON, path: String = "link") throws {
        try Link.check(json, at: { path })
        var r = try FieldReader(json, path: path)
        rel = try r.requiredString("rel")
        href = try r.requiredString("href")
        type = try r.string("type")
        title = try r.string("title")
        extra = r.rest
        keyOrder = r.keys
    }

    /// A link's rules, checked without building one.
    static func check(_ json: JSON, at path: () -> String) throws {
        let o = try FieldCheck.object(json, path)
        _ = try FieldCheck.requiredString(o["rel"], "rel", path)
        _ = try FieldCheck.requiredString(o["href"], "href", path)
        _ = try FieldCheck.string(o["type"], "type", path)
        _ = try FieldCheck.string(o["title"], "title", path)
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("rel", rel); w.put("href", href); w.put("type", type); w.put("title", title)
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// An asset: the file an item or collection points at.
public struct Asset: Sendable, Hashable {
    public var href: String
    public var title: String?
    public var description: String?
    public var type: String?
    public var roles: [String]?
    /// Other fields (`eo:bands`, `raster:bands`, `file:size`...).
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(href: String, title: String? = nil, description: String? = nil, type: String? = nil, roles: [String]? = nil, extra: JSONObject = [:]) {
        self.href = href; self.title = title; self.description = description; self.type = type; self.roles = roles; self.extra = extra
    }

    public init(json: JSON, path: String = "asset") throws {
        try Asset.check(json, at: { path })
        var r = try FieldReader(json, path: path)
        href = try r.requiredString("href")
        title = try r.string("title")
        description = try r.string("description")
        type = try r.string("type")
        roles = try r.strings("roles")
        extra = r.rest
        keyOrder = r.keys
    }

    /// An asset's rules, checked without building one.
    static func check(_ json: JSON, at path: () -> String) throws {
        let o = try FieldCheck.object(json, path)
        _ = try FieldCheck.requiredString(o["href"], "href", path)
        _ = try FieldCheck.string(o["title"], "title", path)
        _ = try FieldCheck.string(o["description"], "description", path)
        _ = try FieldCheck.string(o["type"], "type", path)
        _ = try FieldCheck.strings(o["roles"], "roles", path)
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("href", href); w.put("title", title); w.put("description", description); w.put("type", type); w.put("roles", roles)
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// A provider of a collection's data.
public struct Provider: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var roles: [String]?
    public var url: String?
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(name: String, description: String? = nil, roles: [String]? = nil, url: String? = nil, extra: JSONObject = [:]) {
        self.name = name; self.description = description; self.roles = roles; self.url = url; self.extra = extra
    }

    public init(json: JSON, path: String = "provider") throws {
        var r = try FieldReader(json, path: path)
        name = try r.requiredString("name")
        description = try r.string("description")
        roles = try r.strings("roles")
        url = try r.string("url")
        extra = r.rest
        keyOrder = r.keys
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("name", name); w.put("description", description); w.put("roles", roles); w.put("url", url)
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// A collection's spatial and temporal extent: boxes (the first covers everything) and
/// intervals (open ends nil).
public struct Extent: Sendable, Hashable {
    /// Setting it rewrites `spatialJSON`.
    public var bboxes: [BBox] { didSet { spatialJSON = Self.spatial(bboxes) } }
    /// Setting it rewrites `temporalJSON`.
    public var intervals: [TemporalInterval] { didSet { temporalJSON = Self.temporal(intervals) } }
    /// The `spatial` and `temporal` objects as written (numbers and times as they came).
    public private(set) var spatialJSON: JSON
    public private(set) var temporalJSON: JSON
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(bboxes: [BBox], intervals: [TemporalInterval], extra: JSONObject = [:]) {
        self.bboxes = bboxes; self.intervals = intervals; self.extra = extra
        spatialJSON = Self.spatial(bboxes); temporalJSON = Self.temporal(intervals)
    }

    static func spatial(_ b: [BBox]) -> JSON { ["bbox": .array(b.map(\.json))] }
    static func temporal(_ i: [TemporalInterval]) -> JSON {
        ["interval": .array(i.map { [$0.start.map { .string($0.rfc3339) } ?? .null, $0.end.map { .string($0.rfc3339) } ?? .null] })]
    }

    public init(json: JSON, path: String = "extent") throws {
        var r = try FieldReader(json, path: path)
        let spatialField = r.rest["spatial"], temporalField = r.rest["temporal"]
        guard let spatial = try r.object("spatial"), let boxes = spatial["bbox"]?.array, !boxes.isEmpty else {
            throw r.fail("spatial", "must be an object with a non-empty \"bbox\" array of boxes")
        }
        bboxes = try boxes.enumerated().map { try BBox(json: $1, what: "\(path).spatial.bbox[\($0)]") }
        guard let temporal = try r.object("temporal"), let ints = temporal["interval"]?.array, !ints.isEmpty else {
            throw r.fail("temporal", "must be an object with a non-empty \"interval\" array")
        }
        intervals = try ints.enumerated().map { k, v in
            let what = "\(path).temporal.interval[\(k)]"
            guard let a = v.array, a.count == 2 else { throw GyreSTACError(.invalidSTAC, "\(what) must be [start, end] (strings or null)") }
            let ends = try a.map { e -> Timestamp? in
                if e.isNull { return nil }
                guard let s = e.string else { throw GyreSTACError(.invalidSTAC, "\(what) must hold strings or null, not \(e.kind)") }
                return try Timestamp(rfc3339: s, what: what)
            }
            if let s = ends[0], let e = ends[1], s > e { throw GyreSTACError(.invalidSTAC, "\(what) starts after it ends") }
            return TemporalInterval(start: ends[0], end: ends[1])
        }
        spatialJSON = spatialField!; temporalJSON = temporalField!
        extra = r.rest
        keyOrder = r.keys
    }

    public var json: JSON {
        var o: JSONObject = ["spatial": spatialJSON, "temporal": temporalJSON]
        for (k, v) in extra where o[k] == nil { o[k] = v }
        return FieldWriter(o: o).ordered(keyOrder)
    }
}

/// A STAC Item: a GeoJSON Feature with a time, assets and links.
public struct Item: Sendable, Hashable {
    public var id: String
    public var collection: String?
    /// The footprint; setting it rewrites `geometryJSON`.
    public var geometry: Geometry? { didSet { geometryJSON = geometry?.json ?? .null } }
    /// The geometry as written, numbers as they came (10 stays 10, 10.0 stays 10.0).
    public private(set) var geometryJSON: JSON
    /// The bbox (4 or 6 numbers); required when there is a geometry. Setting it rewrites `bboxJSON`.
    public var bbox: [Double]? { didSet { bboxJSON = bbox.map { JSON.array($0.map { .double($0) }) } } }
    /// The bbox as written.
    public private(set) var bboxJSON: JSON?
    public var properties: JSONObject
    public var links: [Link]
    public var assets: OrderedDictionary<String, Asset>
    public var stacVersion: String
    public var stacExtensions: [String]?
    /// Top-level fields STAC does not define.
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(id: String, collection: String? = nil, geometry: Geometry?, bbox: [Double]? = nil, properties: JSONObject,
                links: [Link] = [], assets: OrderedDictionary<String, Asset> = [:], stacExtensions: [String]? = nil, extra: JSONObject = [:]) {
        self.id = id; self.collection = collection; self.geometry = geometry
        geometryJSON = geometry?.json ?? .null
        let b = bbox ?? geometry?.bbox.map { [$0.west, $0.south, $0.east, $0.north] }
        self.bbox = b
        bboxJSON = b.map { JSON.array($0.map { .double($0) }) }
        self.properties = properties; self.links = links; self.assets = assets
        self.stacVersion = GyreSTAC.stacVersion; self.stacExtensions = stacExtensions; self.extra = extra
    }

    /// Reads and checks an item: every field STAC requires, with its type; `datetime`, or
    /// `start_datetime` and `end_datetime` when it is null, as RFC 3339; the geometry; the bbox
    /// (the rules are `ItemFields`').
    public init(json: JSON, path: String? = nil) throws {
        let checked = try ItemFields(json: json, source: { path })
        // Checked: what follows only takes the fields out.
        var r = try FieldReader(json, path: checked.label(source: path))
        _ = r.take("type")
        id = checked.id; _ = r.take("id")
        stacVersion = try r.requiredString("stac_version")
        stacExtensions = try r.strings("stac_extensions")
        collection = checked.collection; _ = r.take("collection")
        geometryJSON = r.take("geometry") ?? .null
        geometry = checked.geometry
        bboxJSON = r.take("bbox").flatMap { $0.isNull ? nil : $0 }
        bbox = bboxJSON?.array?.compactMap(\.number)
        properties = checked.properties; _ = r.take("properties")
        links = try r.links() ?? []
        assets = try r.assets() ?? [:]
        extra = r.rest
        keyOrder = r.keys
    }

    /// The item's time as a range: `datetime` twice, or `start_datetime` ... `end_datetime`.
    public func timeRange(path: String? = nil) throws -> (start: Timestamp, end: Timestamp) {
        try ItemFields.timeRange(properties, path: { path ?? "item '\(id)'" })
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("type", "Feature"); w.put("stac_version", stacVersion); w.put("stac_extensions", stacExtensions)
        w.put("id", id); w.put("collection", collection)
        w.put("geometry", geometryJSON)
        w.put("bbox", bboxJSON)
        w.put("properties", .object(properties))
        w.put("links", .array(links.map(\.json)))
        w.put("assets", .object(JSONObject(uniqueKeysWithValues: assets.map { ($0.key, $0.value.json) })))
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// An item document checked by every rule `Item(json:)` applies, with what a catalog stores of
/// it taken out, but without building the model: its links and assets stay JSON, and the names
/// in errors are made only for an error. Bulk ingest reads millions of items this way.
public struct ItemFields: Sendable {
    public var id: String
    public var collection: String?
    public var geometry: Geometry?
    public var properties: JSONObject
    /// The item's time as a range: `datetime` twice, or `start_datetime` ... `end_datetime`.
    public var start: Timestamp, end: Timestamp

    package init(id: String, collection: String?, geometry: Geometry?, properties: JSONObject, start: Timestamp, end: Timestamp) {
        self.id = id; self.collection = collection; self.geometry = geometry; self.properties = properties; self.start = start; self.end = end
    }

    /// `source` names the document in errors ("items.ndjson line 7"); the item's id is added.
    public init(json: JSON, source: () -> String?) throws {
        func path() -> String { Self.label(json, source: source()) }
        let o = try FieldCheck.object(json, path)
        guard let type = try FieldCheck.string(o["type"], "type", path), type == "Feature" else { throw FieldCheck.fail(path, "type", "must be \"Feature\"") }
        id = try FieldCheck.requiredString(o["id"], "id", path)
        guard !id.isEmpty else { throw FieldCheck.fail(path, "id", "must not be empty") }
        _ = try FieldCheck.requiredString(o["stac_version"], "stac_version", path)
        _ = try FieldCheck.strings(o["stac_extensions"], "stac_extensions", path)
        collection = try FieldCheck.string(o["collection"], "collection", path)
        guard let g = o["geometry"] else { throw FieldCheck.fail(path, "geometry", "is required (a GeoJSON geometry or null)") }
        geometry = g.isNull ? nil : try Geometry(json: g, at: { "\(path()).geometry" })
        if let b = o["bbox"], !b.isNull {
            guard let a = b.array else { throw FieldCheck.fail(path, "bbox", "must be an array of numbers") }
            var numbers: [Double] = []
            numbers.reserveCapacity(a.count)
            for v in a {
                guard let d = v.number else { throw FieldCheck.fail(path, "bbox", "must hold numbers, not \(v.kind)") }
                numbers.append(d)
            }
            _ = try BBox(numbers, what: "\(path()).bbox")
        } else if geometry != nil {
            throw FieldCheck.fail(path, "bbox", "is required when the geometry is not null")
        }
        guard let props = try FieldCheck.object(o["properties"], "properties", path) else { throw FieldCheck.fail(path, "properties", "is required (an object)") }
        properties = props
        if let l = o["links"] {
            guard let a = l.array else { throw FieldCheck.fail(path, "links", "must be an array, not \(l.kind)") }
            for (k, link) in a.enumerated() { try Link.check(link, at: { "\(path()).links[\(k)]" }) }
        } else {
            throw FieldCheck.fail(path, "links", "is required (an array)")
        }
        guard let assets = o["assets"] else { throw FieldCheck.fail(path, "assets", "is required (an object)") }
        for (k, asset) in try FieldCheck.object(assets, "assets", path) ?? [:] { try Asset.check(asset, at: { "\(path()).assets.\(k)" }) }
        (start, end) = try Self.timeRange(props, path: path)
    }

    /// How errors name an item: its source and id, whichever are known.
    func label(source: String?) -> String { Self.label(.object(["id": .string(id)]), source: source) }

    static func label(_ json: JSON, source: String?) -> String {
        let idHint = json["id"]?.string.map { "item '\($0)'" }
        return source.map { p in idHint.map { "\(p) (\($0))" } ?? p } ?? idHint ?? "item"
    }

    static func timeRange(_ properties: JSONObject, path: () -> String) throws -> (start: Timestamp, end: Timestamp) {
        func stamp(_ key: String) throws -> Timestamp? {
            guard let v = properties[key], !v.isNull else { return nil }
            guard let s = v.string else { throw GyreSTACError(.invalidSTAC, "\(path()): properties.\(key) must be a string, not \(v.kind)") }
            return try Timestamp(rfc3339: s, what: "\(path()): properties.\(key)", allowDate: false)
        }
        let start = try stamp("start_datetime"), end = try stamp("end_datetime")
        if (start == nil) != (end == nil) {
            throw GyreSTACError(.invalidSTAC, "\(path()): properties.start_datetime and end_datetime go together")
        }
        if let start, let end, start > end { throw GyreSTACError(.invalidSTAC, "\(path()): properties.start_datetime is after end_datetime") }
        guard properties["datetime"] != nil else {
            throw GyreSTACError(.invalidSTAC, "\(path()): properties.datetime is required (null only with start_datetime and end_datetime)")
        }
        if let t = try stamp("datetime") { return (start ?? t, end ?? t) }
        guard let start, let end else {
            throw GyreSTACError(.invalidSTAC, "\(path()): properties.datetime is null, so start_datetime and end_datetime are required")
        }
        return (start, end)
    }
}

/// A STAC Catalog: an id, a description and links.
public struct Catalog: Sendable, Hashable {
    public var id: String
    public var title: String?
    public var description: String
    public var links: [Link]
    public var stacVersion: String
    public var stacExtensions: [String]?
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(id: String, title: String? = nil, description: String, links: [Link] = [], extra: JSONObject = [:]) {
        self.id = id; self.title = title; self.description = description; self.links = links
        stacVersion = GyreSTAC.stacVersion; stacExtensions = nil; self.extra = extra
    }

    public init(json: JSON, path: String? = nil) throws {
        let path = path ?? json["id"]?.string.map { "catalog '\($0)'" } ?? "catalog"
        var r = try FieldReader(json, path: path)
        guard try r.string("type") == "Catalog" else { throw r.fail("type", "must be \"Catalog\"") }
        id = try r.requiredString("id")
        stacVersion = try r.requiredString("stac_version")
        stacExtensions = try r.strings("stac_extensions")
        title = try r.string("title")
        description = try r.requiredString("description")
        guard json["links"] != nil else { throw r.fail("links", "is required (an array)") }
        links = try r.links() ?? []
        extra = r.rest
        keyOrder = r.keys
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("type", "Catalog"); w.put("stac_version", stacVersion); w.put("stac_extensions", stacExtensions)
        w.put("id", id); w.put("title", title); w.put("description", description)
        w.put("links", .array(links.map(\.json)))
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// A STAC Collection: a catalog with a license, an extent and what describes its items.
public struct STACCollection: Sendable, Hashable {
    public var id: String
    public var title: String?
    public var description: String
    public var keywords: [String]?
    public var license: String
    public var providers: [Provider]?
    public var extent: Extent
    public var summaries: JSONObject?
    public var links: [Link]
    public var assets: OrderedDictionary<String, Asset>?
    public var stacVersion: String
    public var stacExtensions: [String]?
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(id: String, title: String? = nil, description: String, license: String = "other", extent: Extent,
                keywords: [String]? = nil, providers: [Provider]? = nil, summaries: JSONObject? = nil, links: [Link] = [], extra: JSONObject = [:]) {
        self.id = id; self.title = title; self.description = description; self.license = license; self.extent = extent
        self.keywords = keywords; self.providers = providers; self.summaries = summaries; self.links = links; self.assets = nil
        stacVersion = GyreSTAC.stacVersion; stacExtensions = nil; self.extra = extra
    }

    public init(json: JSON, path: String? = nil) throws {
        let path = path ?? json["id"]?.string.map { "collection '\($0)'" } ?? "collection"
        var r = try FieldReader(json, path: path)
        guard try r.string("type") == "Collection" else { throw r.fail("type", "must be \"Collection\"") }
        id = try r.requiredString("id")
        guard !id.isEmpty else { throw r.fail("id", "must not be empty") }
        stacVersion = try r.requiredString("stac_version")
        stacExtensions = try r.strings("stac_extensions")
        title = try r.string("title")
        description = try r.requiredString("description")
        keywords = try r.strings("keywords")
        license = try r.requiredString("license")
        if let p = r.take("providers"), !p.isNull {
            guard let a = p.array else { throw r.fail("providers", "must be an array") }
            providers = try a.enumerated().map { try Provider(json: $1, path: "\(path).providers[\($0)]") }
        } else { providers = nil }
        guard let e = r.take("extent") else { throw r.fail("extent", "is required") }
        extent = try Extent(json: e, path: "\(path).extent")
        summaries = try r.object("summaries")
        guard json["links"] != nil else { throw r.fail("links", "is required (an array)") }
        links = try r.links() ?? []
        assets = try r.assets()
        extra = r.rest
        keyOrder = r.keys
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("type", "Collection"); w.put("stac_version", stacVersion); w.put("stac_extensions", stacExtensions)
        w.put("id", id); w.put("title", title); w.put("description", description); w.put("keywords", keywords)
        w.put("license", license)
        w.put("providers", providers.map { JSON.array($0.map(\.json)) })
        w.put("extent", extent.json)
        w.put("summaries", summaries.map { JSON.object($0) })
        w.put("links", .array(links.map(\.json)))
        w.put("assets", assets.map { JSON.object(JSONObject(uniqueKeysWithValues: $0.map { ($0.key, $0.value.json) })) })
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// A GeoJSON FeatureCollection of items, as searches return them.
public struct ItemCollection: Sendable, Hashable {
    public var features: [Item]
    public var links: [Link]
    public var numberMatched: Int?
    public var numberReturned: Int?
    public var extra: JSONObject
    /// The key order of the document it was read from, kept when written back.
    var keyOrder: [String] = []

    public init(features: [Item], links: [Link] = [], numberMatched: Int? = nil, extra: JSONObject = [:]) {
        self.features = features; self.links = links; self.numberMatched = numberMatched
        numberReturned = features.count; self.extra = extra
    }

    public init(json: JSON, path: String = "item collection") throws {
        var r = try FieldReader(json, path: path)
        guard try r.string("type") == "FeatureCollection" else { throw r.fail("type", "must be \"FeatureCollection\"") }
        guard let f = r.take("features"), let a = f.array else { throw r.fail("features", "is required (an array of items)") }
        features = try a.enumerated().map { try Item(json: $1, path: "\(path).features[\($0)]") }
        links = try r.links() ?? []
        numberMatched = r.take("numberMatched")?.number.map { Int($0) }
        numberReturned = r.take("numberReturned")?.number.map { Int($0) }
        extra = r.rest
        keyOrder = r.keys
    }

    public var json: JSON {
        var w = FieldWriter()
        w.put("type", "FeatureCollection")
        w.put("features", .array(features.map(\.json)))
        w.put("links", .array(links.map(\.json)))
        w.put("numberMatched", numberMatched.map { JSON.int(Int64($0)) })
        w.put("numberReturned", numberReturned.map { JSON.int(Int64($0)) })
        w.merge(extra)
        return w.ordered(keyOrder)
    }
}

/// Any STAC object a file may hold, told apart by its `type`.
public enum STACObject: Sendable, Hashable {
    case catalog(Catalog)
    case collection(STACCollection)
    case item(Item)
    case itemCollection(ItemCollection)

    public init(json: JSON, path: String = "document") throws {
        switch json["type"]?.string {
        case "Catalog": self = .catalog(try Catalog(json: json))
        case "Collection": self = .collection(try STACCollection(json: json))
        case "Feature": self = .item(try Item(json: json))
        case "FeatureCollection": self = .itemCollection(try ItemCollection(json: json, path: path))
        case let t?: throw GyreSTACError(.invalidSTAC, "\(path): \"type\" is \"\(t)\", not Catalog, Collection, Feature or FeatureCollection")
        case nil: throw GyreSTACError(.invalidSTAC, "\(path): no \"type\" string, so not a STAC object")
        }
    }

    public var json: JSON {
        switch self {
        case .catalog(let c): return c.json
        case .collection(let c): return c.json
        case .item(let i): return i.json
        case .itemCollection(let c): return c.json
        }
    }
}

/// A STAC object read from and written to `JSON`; Codable through that same value, so decoding
/// checks what `init(json:)` checks.
public protocol JSONRepresentable: Codable {
    init(json: JSON) throws
    var json: JSON { get }
}

extension JSONRepresentable {
    public init(from decoder: Decoder) throws { try self.init(json: JSON(from: decoder)) }
    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

extension Item: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: nil) } }
extension STACCollection: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: nil) } }
extension Catalog: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: nil) } }
extension ItemCollection: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: "item collection") } }
extension Link: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: "link") } }
extension Asset: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: "asset") } }
extension Provider: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: "provider") } }
extension Extent: JSONRepresentable { public init(json: JSON) throws { try self.init(json: json, path: "extent") } }
