import GyreCore
import Foundation
import GyreCatalog
import GyreSTAC

/// A URL query string as ordered name/value pairs: `+` is a space and `%XX` is decoded, as
/// HTML forms and Python's `requests` encode them.
struct QueryString: Sendable {
    var pairs: [(name: String, value: String)]

    init(_ raw: String?) throws {
        pairs = []
        guard let raw, !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(kv[0], what: "a query parameter name")
            let value = kv.count > 1 ? try Self.decode(kv[1], what: "the value of \(name)") : ""
            pairs.append((name, value))
        }
    }

    init(pairs: [(name: String, value: String)]) { self.pairs = pairs }

    static func decode(_ s: Substring, what: String) throws -> String {
        if !s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) { return String(s) }
        func bad() -> GyreServerError { GyreServerError(.badRequest, "\(what) is not valid percent-encoded UTF-8: \"\(s.prefix(80))\"") }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = [], bytes = s.utf8.makeIterator()
        out.reserveCapacity(s.utf8.count)
        while let b = bytes.next() {
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let h = bytes.next().flatMap(hex), let l = bytes.next().flatMap(hex) else { throw bad() }
                out.append(h << 4 | l)
            default: out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw bad() }
        return text
    }

    /// The first value of a parameter.
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// The query string again, with one parameter replaced (`token` for `next` links).
    func with(_ name: String, _ value: String) -> String {
        var out = pairs.filter { $0.name != name }
        out.append((name, value))
        return QueryString(pairs: out).encoded
    }

    /// The pairs encoded again.
    var encoded: String { pairs.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&") }

    static func encode(_ s: String) -> String { PercentEncoding.encode(s, keeping: PercentEncoding.queryValue) }
}

/// Percent-encoding of URL parts (RFC 3986), byte by byte: ASCII bytes of the set stay, every
/// other byte of the UTF-8 text becomes `%XX`.
enum PercentEncoding {
    /// A set of ASCII bytes, as a bit per byte value.
    struct Keep: Sendable {
        let low: UInt64, high: UInt64
        init(_ chars: String) {
            var l: UInt64 = 0, h: UInt64 = 0
            for b in chars.utf8 { if b < 64 { l |= 1 << b } else { h |= 1 << (b - 64) } }
            low = l; high = h
        }
        func contains(_ b: UInt8) -> Bool { b < 64 ? low & (1 << b) != 0 : b < 128 && high & (1 << (b - 64)) != 0 }
    }

    static let alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    /// One path segment: unreserved characters and the sub-delimiters, `:` and `@`, but not `/`
    /// (nor `;`, which some servers split on).
    static let pathSegment = Keep(alphanumerics + "-._~!$&'()*+,=:@")
    /// A query parameter's name or value: unreserved characters, and `,` and `:` (which bbox
    /// and datetime values are full of and which need no encoding there).
    static let queryValue = Keep(alphanumerics + "-._~,:")

    static func encode(_ s: String, keeping keep: Keep) -> String {
        if s.utf8.allSatisfy(keep.contains) { return s }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3)
        for b in s.utf8 {
            if keep.contains(b) { out.append(b) } else { out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The Fields extension's selection: which fields of each item to send.
struct FieldsSelection: Sendable, Equatable {
    /// nil when the client gave no `include` (so the whole item is the start); an empty array
    /// when it gave an empty or null one (so the default set is).
    var include: [String]?
    var exclude: [String]

    /// The fields sent when a client asks for fields but names none.
    static let defaults = ["type", "stac_version", "id", "collection", "geometry", "bbox", "links", "assets",
                           "properties.datetime", "properties.start_datetime", "properties.end_datetime"]

    /// GET form: `id,+geometry,-properties.foo`; an empty value asks for the default set.
    init(get text: String) {
        var inc: [String] = [], exc: [String] = []
        for raw in text.split(separator: ",") {
            let f = raw.trimmingCharacters(in: .whitespaces)
            if f.hasPrefix("-") { exc.append(String(f.dropFirst())) }
            else if f.hasPrefix("+") { inc.append(String(f.dropFirst())) }
            else if !f.isEmpty { inc.append(f) }
        }
        include = inc.isEmpty && !exc.isEmpty ? nil : inc
        exclude = exc
    }

    /// POST form: `{"include": [...], "exclude": [...]}`.
    init(post json: JSON) throws {
        guard let o = json.object else {
            throw GyreServerError(.badRequest, "fields must be an object with include and exclude arrays, not \(json.kind)")
        }
        func list(_ key: String) throws -> [String]? {
            guard let v = o[key], !v.isNull else { return nil }
            guard let a = v.array else { throw GyreServerError(.badRequest, "fields.\(key) must be an array of field names, not \(v.kind)") }
            return try a.map {
                guard let s = $0.string else { throw GyreServerError(.badRequest, "fields.\(key) must hold strings, not \($0.kind)") }
                return s
            }
        }
        let exc = try list("exclude") ?? []
        let inc = try list("include")
        // No include at all (key absent) with excludes: the whole item minus those. An include
        // that is empty or null, or nothing at all: the default set.
        if o["include"] == nil && !exc.isEmpty { include = nil } else { include = inc ?? [] }
        exclude = exc
    }

    /// What every item keeps when the client names fields to include: enough to stay a
    /// recognizable STAC Feature with its links. (The extension calls the sets hints; these
    /// four are kept unless excluded by name.)
    static let kept = ["type", "stac_version", "id", "links"]

    /// Applies the selection to one item's JSON.
    func apply(_ item: JSON) -> JSON {
        guard case .object(let full) = item else { return item }
        let explicit = include ?? []
        var out: JSONObject
        if let include {
            let paths = include.isEmpty ? Self.defaults : Self.kept + include
            out = [:]
            for path in paths { Self.copy(path.split(separator: ".").map(String.init), from: full, into: &out) }
        } else {
            out = full
        }
        // A field both included and excluded is included; excluding a parent of an included
        // field keeps that field.
        let included = Set(explicit)
        for path in exclude where !included.contains(path) {
            if included.contains(where: { $0.hasPrefix(path + ".") }) {
                // Drop the parent's other members, keep the included children.
                guard let parent = out[path]?.object else { continue }
                var kept = JSONObject()
                for inc in included where inc.hasPrefix(path + ".") {
                    let rest = inc.dropFirst(path.count + 1).split(separator: ".").map(String.init)
                    Self.copy(rest, from: parent, into: &kept)
                }
                out[path] = .object(kept)
                continue
            }
            Self.remove(path.split(separator: ".").map(String.init)[...], from: &out)
        }
        return .object(out)
    }

    private static func copy(_ path: [String], from src: JSONObject, into dst: inout JSONObject) {
        guard let first = path.first, let v = src[first] else { return }
        if path.count == 1 { dst[first] = v; return }
        guard case .object(let sub) = v else { return }
        var target = dst[first]?.object ?? [:]
        copy(Array(path.dropFirst()), from: sub, into: &target)
        if !target.isEmpty { dst[first] = .object(target) }
    }

    private static func remove(_ path: ArraySlice<String>, from o: inout JSONObject) {
        guard let first = path.first else { return }
        if path.count == 1 { o.removeValue(forKey: first); return }
        guard case .object(var sub) = o[first] else { return }
        remove(path.dropFirst(), from: &sub)
        o[first] = .object(sub)
    }
}

/// A parsed item search: the backend's request, the fields to send, and how to ask for the
/// next page (the GET query or the POST body).
struct ParsedSearch: Sendable {
    var request: SearchRequest
    var fields: FieldsSelection?
    var query: QueryString?
    var body: JSONObject?
}

/// Turns GET query strings and POST bodies into `SearchRequest`s, with 400s that name the
/// parameter at fault.
enum SearchParser {
    static func bad(_ message: String) -> GyreServerError { GyreServerError(.badRequest, message) }

    /// `limit`: an integer of at least 1; larger than the maximum is the maximum (OGC API
    /// Features asks servers to clamp rather than refuse).
    static func limit(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) || (t.hasPrefix("-") && t.dropFirst().allSatisfy { $0.isASCII && $0.isNumber } && t.count > 1) else {
            throw bad("limit must be a positive integer, not \"\(text.prefix(40))\"")
        }
        if t.hasPrefix("-") { throw bad("limit must be at least 1, not \(t.prefix(40))") }
        guard let n = Int(t) else { return SearchRequest.maxLimit }   // more digits than Int holds
        guard n >= 1 else { throw bad("limit must be at least 1, not \(n)") }
        return min(n, SearchRequest.maxLimit)
    }

    static func limit(json v: JSON) throws -> Int {
        switch v {
        case .int(let i):
            guard i >= 1 else { throw bad("limit must be at least 1, not \(i)") }
            return Int(min(i, Int64(SearchRequest.maxLimit)))
        case .double(let d) where d == d.rounded() && d >= 1:
            return d >= Double(SearchRequest.maxLimit) ? SearchRequest.maxLimit : Int(d)
        default:
            throw bad("limit must be a positive integer, not \(v.kind == "a number" ? v.text : v.kind)")
        }
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func strings(_ v: JSON, _ name: String) throws -> [String] {
        if let s = v.string { return list(s) }
        guard let a = v.array else { throw bad("\(name) must be an array of strings, not \(v.kind)") }
        return try a.map {
            guard let s = $0.string else { throw bad("\(name) must hold strings, not \($0.kind)") }
            return s
        }
    }

    static func bbox(_ text: String) throws -> BBox {
        let numbers = try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Double in
            let p = part.trimmingCharacters(in: .whitespaces)
            guard let d = Double(p), d.isFinite else { throw bad("bbox: \"\(p.prefix(40))\" is not a number (bbox=west,south,east,north)") }
            return d
        }
        return try BBox(numbers, what: "bbox")
    }

    static func filter(_ value: JSON, lang: String?, defaultLang: String) throws -> CQL2 {
        let lang = (lang ?? defaultLang).lowercased()
        switch lang {
        case "cql2-text":
            guard let s = value.string else { throw bad("filter: filter-lang is cql2-text but the filter is \(value.kind), not a string") }
            return try CQL2.parse(text: s)
        case "cql2-json":
            if let s = value.string {
                return try CQL2.parse(json: try JSON.parse(s, source: "filter"))
            }
            return try CQL2.parse(json: value)
        default:
            throw bad("filter-lang must be cql2-text or cql2-json, not \"\(lang.prefix(40))\"")
        }
    }

    static func checkCRS(_ crs: String?) throws {
        guard let crs else { return }
        guard crs == "http://www.opengis.net/def/crs/OGC/1.3/CRS84" || crs == "https://www.opengis.net/def/crs/OGC/1.3/CRS84" else {
            throw bad("filter-crs: only http://www.opengis.net/def/crs/OGC/1.3/CRS84 is supported, not \"\(crs.prefix(80))\"")
        }
    }

    static func and(_ a: CQL2?, _ b: CQL2?) -> CQL2? {
        switch (a, b) {
        case (nil, let x), (let x, nil): return x
        case (let x?, let y?): return .op("and", [x, y])
        }
    }

    /// GET `/search` or `/collections/{id}/items`.
    static func parse(query q: QueryString, collection: String? = nil) throws -> ParsedSearch {
        var r = SearchRequest()
        if let b = q["bbox"], !b.isEmpty { r.bbox = try bbox(b) }
        if let g = q["intersects"], !g.isEmpty {
            guard collection == nil else { throw bad("intersects is a parameter of /search, not of a collection's items (use bbox)") }
            r.intersects = try Geometry(json: try JSON.parse(g, source: "intersects"), path: "intersects")
        }
        if r.bbox != nil && r.intersects != nil { throw bad("bbox and intersects cannot be used together") }
        if let d = q["datetime"], !d.isEmpty { r.datetime = try TemporalInterval(parameter: d, allowDates: false) }
        if let collection { r.collections = [collection] } else if let c = q["collections"], !c.isEmpty { r.collections = list(c) }
        if let i = q["ids"], !i.isEmpty { r.ids = list(i) }
        if let l = q["limit"] { r.limit = try limit(l) }
        try checkCRS(q["filter-crs"])
        if let f = q["filter"], !f.isEmpty { r.filter = try filter(.string(f), lang: q["filter-lang"], defaultLang: "cql2-text") }
        if let qs = q["query"], !qs.isEmpty {
            r.filter = and(r.filter, try QueryExtension.filter(try JSON.parse(qs, source: "query")))
        }
        if let s = q["sortby"], !s.isEmpty { r.sortby = try SortKey.parse(s) }
        if let t = q["token"], !t.isEmpty { r.token = t }
        let fields = q["fields"].map { FieldsSelection(get: $0) }
        return ParsedSearch(request: r, fields: fields, query: q, body: nil)
    }

    /// POST `/search`: a JSON object body.
    static func parse(body: JSON) throws -> ParsedSearch {
        guard let o = body.object else { throw bad("the search body must be a JSON object, not \(body.kind)") }
        var r = SearchRequest()
        if let b = o["bbox"], !b.isNull { r.bbox = try BBox(json: b, what: "bbox") }
        if let g = o["intersects"], !g.isNull { r.intersects = try Geometry(json: g, path: "intersects") }
        if r.bbox != nil && r.intersects != nil { throw bad("bbox and intersects cannot be used together") }
        if let d = o["datetime"], !d.isNull {
            guard let s = d.string else { throw bad("datetime must be a string (an instant or start/end), not \(d.kind)") }
            r.datetime = try TemporalInterval(parameter: s, allowDates: false)
        }
        if let c = o["collections"], !c.isNull { r.collections = try strings(c, "collections") }
        if let i = o["ids"], !i.isNull { r.ids = try strings(i, "ids") }
        if let l = o["limit"], !l.isNull { r.limit = try limit(json: l) }
        if let crs = o["filter-crs"], !crs.isNull {
            guard let s = crs.string else { throw bad("filter-crs must be a string, not \(crs.kind)") }
            try checkCRS(s)
        }
        var lang: String?
        if let l = o["filter-lang"], !l.isNull {
            guard let s = l.string else { throw bad("filter-lang must be a string, not \(l.kind)") }
            lang = s
        }
        if let f = o["filter"], !f.isNull {
            r.filter = try filter(f, lang: lang ?? (f.string != nil ? "cql2-text" : nil), defaultLang: "cql2-json")
        }
        if let q = o["query"], !q.isNull { r.filter = and(r.filter, try QueryExtension.filter(q)) }
        if let s = o["sortby"], !s.isNull {
            if let text = s.string { r.sortby = try SortKey.parse(text) }
            else {
                guard let a = s.array else { throw bad("sortby must be an array of {field, direction}, not \(s.kind)") }
                r.sortby = try a.enumerated().map { n, e in
                    guard let field = e["field"]?.string, !field.isEmpty else { throw bad("sortby[\(n)].field must be a non-empty string") }
                    let dir = e["direction"]?.string?.lowercased() ?? "asc"
                    guard dir == "asc" || dir == "desc" else { throw bad("sortby[\(n)].direction must be asc or desc, not \"\(dir.prefix(20))\"") }
                    return SortKey(field, ascending: dir == "asc")
                }
            }
        }
        if let t = o["token"], !t.isNull {
            guard let s = t.string else { throw bad("token must be a string, not \(t.kind)") }
            r.token = s
        }
        var fields: FieldsSelection?
        if let f = o["fields"] {
            if f.isNull { throw bad("fields must be an object with include and exclude arrays, not null") }
            fields = try FieldsSelection(post: f)
        }
        return ParsedSearch(request: r, fields: fields, query: nil, body: o)
    }
}
