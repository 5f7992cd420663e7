import Foundation
import GyreCore

/// A kerchunk reference set: Zarr keys, each standing for inline bytes, a whole file, or a
/// byte range of a file (the kerchunk reference specification, versions 0 and 1). Target URLs
/// are kept once each in `urls` (keys point into it), so a set of millions of chunks of a
/// few thousand files stays small.
public struct ReferenceSet: Sendable {
    public enum Entry: Sendable, Equatable {
        /// The value itself (metadata JSON, small chunks, inlined coordinates).
        case inline([UInt8])
        /// A whole target file (`urls[url]`).
        case whole(url: Int)
        /// `length` bytes at `offset` of `urls[url]`.
        case range(url: Int, offset: Int, length: Int)
    }

    /// Distinct target URLs (paths, `file://`, `s3://`, `http(s)://`), templates expanded.
    public private(set) var urls: [String] = []
    private var urlIndex: [String: Int] = [:]
    /// The references by Zarr key.
    public var entries: [String: Entry] = [:]

    public init() {}

    /// The index of a target URL, added if new.
    public mutating func url(_ u: String) -> Int {
        if let i = urlIndex[u] { return i }
        urls.append(u)
        urlIndex[u] = urls.count - 1
        return urls.count - 1
    }

    public subscript(key: String) -> Entry? {
        get { entries[key] }
        set { entries[key] = newValue }
    }

    /// Sets an inline JSON value (metadata).
    public mutating func setJSON(_ key: String, _ value: JSON) { entries[key] = .inline(value.serialized) }

    /// A JSON value held inline, parsed.
    public func json(_ key: String, source: String) throws -> JSON? {
        guard case .inline(let b)? = entries[key] else { return nil }
        do { return try JSON.parse(b, source: "\(source) '\(key)'") } catch {
            throw GyreReferencesError(.format, "\(source): the value of '\(key)' is not JSON: \(error)")
        }
    }

    /// Copies every entry of `other` under `prefix` (its URLs added to this set's).
    public mutating func merge(_ other: ReferenceSet, prefix: String = "") {
        let map = other.urls.map { url($0) }
        for (k, e) in other.entries {
            switch e {
            case .inline: entries[prefix + k] = e
            case .whole(let u): entries[prefix + k] = .whole(url: map[u])
            case .range(let u, let o, let n): entries[prefix + k] = .range(url: map[u], offset: o, length: n)
            }
        }
    }
}

// MARK: Reading

extension ReferenceSet {
    /// The most references a document may generate (`gen` included): 2^31.
    public static let maxEntries = 1 << 31

    /// Parses a kerchunk references document: version 1 (`version`, `templates`, `gen`,
    /// `refs`) or version 0 (the mapping itself). Values are inline strings (`base64:` for
    /// bytes), `[url]` or `[url, offset, length]`; URLs may use `{{template}}` names.
    /// Errors name `source` and the key at fault.
    public static func parse(_ bytes: [UInt8], source: String) throws -> ReferenceSet {
        let doc: JSON
        do { doc = try JSON.parse(bytes, source: source) } catch {
            throw GyreReferencesError(.format, "\(source): not a JSON document: \(error)")
        }
        guard let top = doc.object else { throw GyreReferencesError(.format, "\(source): references must be a JSON object, not \(doc.kind)") }
        var set = ReferenceSet()
        var templates: [String: String] = [:]
        let refs: JSONObject
        if let v = top["version"] {
            guard v.integer == 1 else { throw GyreReferencesError(.format, "\(source): references version \(v) (Gyre reads versions 0 and 1)") }
            for k in top.keys where !["version", "templates", "gen", "refs"].contains(k) {
                throw GyreReferencesError(.format, "\(source): unknown top-level key '\(k)' in version 1 references (version, templates, gen, refs)")
            }
            if let t = top["templates"], !t.isNull {
                guard let o = t.object else { throw GyreReferencesError(.format, "\(source): 'templates' must be an object of strings") }
                for (k, v) in o {
                    guard let s = v.string else { throw GyreReferencesError(.format, "\(source): template '\(k)' is \(v.kind), not a string") }
                    templates[k] = s
                }
            }
            guard let r = top["refs"]?.object ?? (top["refs"] == nil ? [:] : nil) else {
                throw GyreReferencesError(.format, "\(source): 'refs' must be an object")
            }
            refs = r
            if let g = top["gen"], !g.isNull {
                guard let items = g.array else { throw GyreReferencesError(.format, "\(source): 'gen' must be a list") }
                for (i, item) in items.enumerated() { try set.generate(item, templates: templates, source: "\(source): gen[\(i)]") }
            }
        } else {
            // Version 0 is any mapping: it must at least hold Zarr metadata.
            let zarrKeys: Set<String> = [".zgroup", ".zarray", ".zmetadata", "zarr.json"]
            guard top.keys.contains(where: { zarrKeys.contains(String($0.split(separator: "/").last ?? "")) }) else {
                throw GyreReferencesError(.format, "\(source): not a netCDF file, Zarr store or kerchunk references (JSON without 'version' and 'refs', and without Zarr metadata keys such as .zgroup, .zarray or zarr.json)")
            }
            refs = top
        }
        for (key, value) in refs {
            try set.add(key, value, templates: templates, source: source)
        }
        return set
    }

    mutating func add(_ key: String, _ value: JSON, templates: [String: String], source: String) throws {
        func fail(_ why: String) -> GyreReferencesError { GyreReferencesError(.format, "\(source): key '\(key)': \(why)") }
        switch value {
        case .string(let s):
            if s.hasPrefix("base64:") {
                guard let d = Data(base64Encoded: String(s.dropFirst(7)), options: [.ignoreUnknownCharacters]) else { throw fail("bad base64 data") }
                entries[key] = .inline([UInt8](d))
            } else {
                entries[key] = .inline(Array(s.utf8))
            }
        case .object, .int, .double, .bool:
            // Metadata written as JSON rather than as a string of it.
            entries[key] = .inline(value.serialized)
        case .array(let a):
            guard a.count == 1 || a.count == 3 else { throw fail("a reference is [url] or [url, offset, length], not \(a.count) items") }
            guard let raw = a[0].string, !raw.isEmpty else { throw fail("the url is \(a[0].kind), not a string") }
            let u = try Self.render(raw, templates, [:], what: "\(source): key '\(key)'")
            if a.count == 1 { entries[key] = .whole(url: url(u)); return }
            guard let o = a[1].integer, let n = a[2].integer, o >= 0, n >= 0, o <= Int64(1) << 53, n <= Int64(1) << 40 else {
                throw fail("offset and length must be non-negative integers (got \(a[1]), \(a[2]))")
            }
            entries[key] = .range(url: url(u), offset: Int(o), length: Int(n))
        case .null:
            throw fail("a null reference")
        }
        guard entries.count <= Self.maxEntries else { throw GyreReferencesError(.format, "\(source): more than \(Self.maxEntries) references") }
    }

    /// Expands one `gen` item: the product of its dimensions (each `{start, stop, step}` or a
    /// list of values, the first one outermost), each combination rendering `key`, `url` and,
    /// when present, `offset` and `length`.
    mutating func generate(_ item: JSON, templates: [String: String], source: String) throws {
        guard let o = item.object else { throw GyreReferencesError(.format, "\(source): not an object") }
        for k in o.keys where !["key", "url", "offset", "length", "dimensions"].contains(k) {
            throw GyreReferencesError(.format, "\(source): unknown key '\(k)' (key, url, offset, length, dimensions)")
        }
        guard let key = o["key"]?.string, let urlT = o["url"]?.string else {
            throw GyreReferencesError(.format, "\(source): needs string 'key' and 'url' templates")
        }
        func text(_ j: JSON?) throws -> String? {
            guard let j, !j.isNull else { return nil }
            if let s = j.string { return s }
            if let i = j.integer { return String(i) }
            throw GyreReferencesError(.format, "\(source): offset and length must be templates or integers, not \(j.kind)")
        }
        let offsetT = try text(o["offset"]), lengthT = try text(o["length"])
        guard (offsetT == nil) == (lengthT == nil) else { throw GyreReferencesError(.format, "\(source): 'offset' and 'length' go together") }
        var dims: [(String, [Int64])] = []
        var total = 1
        for (name, d) in o["dimensions"]?.object ?? [:] {
            var values: [Int64]
            if let list = d.array {
                values = try list.map { v in
                    guard let i = v.integer else { throw GyreReferencesError(.format, "\(source): dimension '\(name)': values must be integers") }
                    return i
                }
            } else if let r = d.object {
                let start = r["start"]?.integer ?? 0, step = r["step"]?.integer ?? 1
                guard let stop = r["stop"]?.integer, step != 0 else {
                    throw GyreReferencesError(.format, "\(source): dimension '\(name)' needs 'stop' and a non-zero 'step'")
                }
                let count = step > 0 ? Swift.max(0, (stop - start + step - 1) / step) : Swift.max(0, (start - stop - step - 1) / -step)
                guard count <= Int64(Self.maxEntries) else { throw GyreReferencesError(.format, "\(source): dimension '\(name)' has \(count) values") }
                values = (0..<count).map { start + $0 * step }
            } else {
                throw GyreReferencesError(.format, "\(source): dimension '\(name)' must be {start, stop, step} or a list")
            }
            let (p, overflow) = total.multipliedReportingOverflow(by: values.count)
            guard !overflow, p <= Self.maxEntries else { throw GyreReferencesError(.format, "\(source): generates more than \(Self.maxEntries) references") }
            total = p
            dims.append((name, values))
        }
        var index = [Int](repeating: 0, count: dims.count)
        for _ in 0..<total {
            var vars: [String: Int64] = [:]
            for (d, i) in zip(dims, index) { vars[d.0] = d.1[i] }
            let what = "\(source) (\(vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))"
            let k = try Self.render(key, templates, vars, what: what)
            let u = try Self.render(urlT, templates, vars, what: what)
            if let offsetT, let lengthT {
                guard let off = Int(try Self.render(offsetT, templates, vars, what: what)), let len = Int(try Self.render(lengthT, templates, vars, what: what)),
                      off >= 0, len >= 0 else {
                    throw GyreReferencesError(.format, "\(what): offset and length do not render to non-negative integers")
                }
                entries[k] = .range(url: url(u), offset: off, length: len)
            } else {
                entries[k] = .whole(url: url(u))
            }
            var d = dims.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < dims[d].1.count { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Renders `{{ expression }}` parts of a template: a template name, or integer arithmetic
    /// (+ - * / // % and parentheses) over the generator's dimension names.
    static func render(_ template: String, _ templates: [String: String], _ vars: [String: Int64], what: @autoclosure () -> String) throws -> String {
        guard template.contains("{{") else { return template }
        var out = "", rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw GyreReferencesError(.format, "\(what()): '{{' without '}}' in '\(template)'")
            }
            let expr = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let t = templates[expr] { out += t } else {
                do { out += String(try TemplateExpression.evaluate(expr, vars)) } catch let e as GyreReferencesError {
                    throw GyreReferencesError(.format, "\(what()): in '\(template)': \(e.message)")
                }
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

/// Integer arithmetic in `gen` templates, as Jinja evaluates it for integers.
enum TemplateExpression {
    static func evaluate(_ text: String, _ vars: [String: Int64]) throws -> Int64 {
        var p = Parser(chars: Array(text.utf8), vars: vars)
        let v = try p.sum()
        p.space()
        guard p.at == p.chars.count else { throw GyreReferencesError(.format, "cannot evaluate '\(text)' (unknown name or syntax)") }
        return v
    }

    struct Parser {
        let chars: [UInt8]
        let vars: [String: Int64]
        var at = 0
        mutating func space() { while at < chars.count, chars[at] == 0x20 { at += 1 } }
        mutating func peek(_ s: String) -> Bool {
            space()
            let b = Array(s.utf8)
            return at + b.count <= chars.count && Array(chars[at..<at + b.count]) == b
        }
        mutating func sum() throws -> Int64 {
            var v = try product()
            while true {
                if peek("+") { at += 1; v = v &+ (try product()) } else if peek("-") { at += 1; v = v &- (try product()) } else { return v }
            }
        }
        mutating func product() throws -> Int64 {
            var v = try unary()
            while true {
                if peek("//") { at += 2; v = try div(v, try unary()) } else if peek("*") { at += 1; v = v &* (try unary()) }
                else if peek("/") { at += 1; v = try div(v, try unary()) } else if peek("%") {
                    at += 1
                    let d = try unary()
                    guard d != 0 else { throw GyreReferencesError(.format, "modulo by zero") }
                    v = ((v % d) + d) % d
                } else { return v }
            }
        }
        func div(_ a: Int64, _ b: Int64) throws -> Int64 {
            guard b != 0 else { throw GyreReferencesError(.format, "division by zero") }
            let q = a / b
            return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
        }
        mutating func unary() throws -> Int64 {
            if peek("-") { at += 1; return 0 &- (try unary()) }
            if peek("(") {
                at += 1
                let v = try sum()
                guard peek(")") else { throw GyreReferencesError(.format, "missing ')'") }
                at += 1
                return v
            }
            space()
            let start = at
            while at < chars.count, chars[at] == 0x5F || (chars[at] >= 0x30 && chars[at] <= 0x39) || (chars[at] | 0x20 >= 0x61 && chars[at] | 0x20 <= 0x7A) { at += 1 }
            let word = String(decoding: chars[start..<at], as: UTF8.self)
            if let n = Int64(word) { return n }
            if let v = vars[word] { return v }
            throw GyreReferencesError(.format, word.isEmpty ? "expected a number or a name" : "unknown name '\(word)'")
        }
    }
}

// MARK: Writing

extension ReferenceSet {
    /// The set as a version 1 document: keys sorted, metadata and small values inline (UTF-8
    /// text as is, other bytes as `base64:`), URLs used more than once named by templates.
    public func document(templates useTemplates: Bool = true) -> [UInt8] {
        var uses = [Int](repeating: 0, count: urls.count)
        for e in entries.values {
            switch e {
            case .whole(let u), .range(let u, _, _): uses[u] += 1
            case .inline: break
            }
        }
        var names: [String?] = urls.map { _ in nil }
        var templates = JSONObject()
        if useTemplates {
            var n = 0
            for (i, u) in urls.enumerated() where uses[i] > 1 && !u.contains("{") && !u.contains("}") {
                let name = "u\(n)"
                n += 1
                names[i] = name
                templates[name] = .string(u)
            }
        }
        func shown(_ u: Int) -> JSON { .string(names[u].map { "{{\($0)}}" } ?? urls[u]) }
        var refs = JSONObject()
        refs.reserveCapacity(entries.count)
        for key in entries.keys.sorted() {
            switch entries[key]! {
            case .inline(let b):
                if let s = String(validating: b, as: UTF8.self), !b.contains(0) {
                    refs[key] = .string(s.hasPrefix("base64:") ? "base64:" + Data(b).base64EncodedString() : s)
                } else {
                    refs[key] = .string("base64:" + Data(b).base64EncodedString())
                }
            case .whole(let u): refs[key] = .array([shown(u)])
            case .range(let u, let o, let n): refs[key] = .array([shown(u), .int(Int64(o)), .int(Int64(n))])
            }
        }
        var top: JSONObject = ["version": 1]
        if !templates.isEmpty { top["templates"] = .object(templates) }
        top["refs"] = .object(refs)
        return JSON.object(top).serialized
    }
}
