import GyreCore
/// A CQL2 expression (OGC 21-065), the one tree both encodings parse to: cql2-text
/// (`CQL2.parse(text:)`) and cql2-json (`CQL2.parse(json:)`). Its shape follows cql2-json:
/// literals, property references, and operations named by their cql2-json `op`
/// (`and`, `=`, `like`, `between`, `in`, `isNull`, `s_intersects`, `t_during`, `a_contains`,
/// `casei`, `+`...). Arity and operand kinds are checked when a tree is built, so a tree
/// that exists is well formed; backends turn it into parameterized SQL, and `matches(_:)`
/// evaluates it against an item in memory.
public indirect enum CQL2: Sendable, Hashable {
    case property(String)
    case string(String)
    case number(Double)
    case bool(Bool)
    /// A `TIMESTAMP('...')` (`isDate` false) or `DATE('...')` instant.
    case timestamp(Timestamp, isDate: Bool)
    /// An `INTERVAL(start, end)`; nil ends are open (`'..'`).
    case interval(CQL2?, CQL2?)
    case geometry(Geometry)
    case array([CQL2])
    case op(String, [CQL2])

    /// Logical operators, and the predicates that give a boolean.
    static let comparisons: Set<String> = ["=", "<>", "<", ">", "<=", ">="]
    public static let spatialOps: Set<String> = ["s_intersects", "s_disjoint", "s_within", "s_contains", "s_equals"]
    public static let temporalOps: Set<String> = ["t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedby",
                                                 "t_finishes", "t_intersects", "t_meets", "t_metby", "t_overlappedby", "t_overlaps",
                                                 "t_startedby", "t_starts"]
    public static let arrayOps: Set<String> = ["a_equals", "a_contains", "a_containedby", "a_overlaps"]
    static let arithmetic: Set<String> = ["+", "-", "*", "/"]
    /// The spatial operators CQL2 names that Gyre does not evaluate.
    static let unsupportedSpatial: Set<String> = ["s_touches", "s_overlaps", "s_crosses"]

    /// What a node gives, for checking operands.
    enum Kind { case boolean, scalar, temporal, spatial, array, any }

    var kind: Kind {
        switch self {
        case .property: return .any
        case .string, .number: return .scalar
        case .bool: return .boolean
        case .timestamp, .interval: return .temporal
        case .geometry: return .spatial
        case .array: return .array
        case .op(let name, _):
            if ["and", "or", "not", "like", "between", "in", "isNull"].contains(name) || Self.comparisons.contains(name)
                || Self.spatialOps.contains(name) || Self.temporalOps.contains(name) || Self.arrayOps.contains(name) { return .boolean }
            return .scalar
        }
    }

    /// Builds an operation, checking its arity and operands; `at` says where it was written
    /// ("column 14", "filter.args[1]") for the error.
    public static func make(_ rawName: String, _ args: [CQL2], at: String) throws -> CQL2 {
        let name = rawName.lowercased()
        func fail(_ what: String) -> GyreSTACError { GyreSTACError(.invalidFilter, "\(at): \(what)") }
        func arity(_ n: Int) throws {
            guard args.count == n else { throw fail("\(rawName) takes \(n) argument\(n == 1 ? "" : "s"), not \(args.count)") }
        }
        func operand(_ a: CQL2, _ allowed: Set<Kind>, _ what: String) throws {
            guard a.kind == .any || allowed.contains(a.kind) else { throw fail("\(rawName) needs \(what), not \(a.describe)") }
        }
        switch name {
        case "and", "or":
            guard args.count >= 2 else { throw fail("\(name) needs at least 2 operands") }
            for a in args { try operand(a, [.boolean], "boolean operands") }
        case "not":
            try arity(1); try operand(args[0], [.boolean], "a boolean operand")
        case _ where comparisons.contains(name):
            try arity(2)
            for a in args { try operand(a, [.scalar, .temporal, .boolean], "two scalar operands") }
            if args.contains(where: { if case .interval = $0 { return true }; return false }) { throw fail("\(rawName) compares instants, not intervals (use t_equals)") }
        case "like":
            try arity(2); try operand(args[0], [.scalar], "a string"); try operand(args[1], [.scalar], "a pattern string")
        case "between":
            // The pre-1.0 JSON form put the bounds in one array: {"args": [prop, [lo, hi]]}.
            if args.count == 2, case .array(let bounds) = args[1], bounds.count == 2 { return try make(rawName, [args[0]] + bounds, at: at) }
            try arity(3); for a in args { try operand(a, [.scalar], "numbers") }
        case "in":
            try arity(2)
            try operand(args[0], [.scalar, .temporal, .boolean], "a scalar")
            guard case .array(let list) = args[1], !list.isEmpty else { throw fail("in needs a non-empty list") }
        case "isnull":
            try arity(1)
        case "casei", "accenti":
            try arity(1); try operand(args[0], [.scalar], "a string")
        case _ where arithmetic.contains(name):
            try arity(2); for a in args { try operand(a, [.scalar], "numbers") }
        case _ where spatialOps.contains(name):
            try arity(2); for a in args { try operand(a, [.spatial], "geometries") }
        case _ where unsupportedSpatial.contains(name):
            throw fail("\(rawName) is not supported; use s_intersects, s_disjoint, s_within, s_contains or s_equals")
        case _ where temporalOps.contains(name):
            try arity(2); for a in args { try operand(a, [.temporal], "instants or intervals") }
        case _ where arrayOps.contains(name):
            try arity(2); for a in args { try operand(a, [.array], "arrays") }
        default:
            throw fail("unknown operator or function '\(rawName)'")
        }
        return .op(name == "isnull" ? "isNull" : name, args)
    }

    /// A short description for errors: "the string 'x'", "property eo:cloud_cover".
    package var describe: String {
        switch self {
        case .property(let p): return "property \(p)"
        case .string(let s): return "the string '\(s)'"
        case .number(let n): return "the number \(n)"
        case .bool(let b): return "\(b)"
        case .timestamp(let t, _): return "the instant \(t)"
        case .interval: return "an interval"
        case .geometry(let g): return "a \(g.typeName)"
        case .array: return "an array"
        case .op(let n, _): return "the result of \(n)"
        }
    }

    /// Every property the expression names.
    public var properties: Set<String> {
        switch self {
        case .property(let p): return [p]
        case .interval(let a, let b): return (a?.properties ?? []).union(b?.properties ?? [])
        case .array(let xs), .op(_, let xs): return xs.reduce(into: Set<String>()) { $0.formUnion($1.properties) }
        default: return []
        }
    }
}

// MARK: - cql2-json

extension CQL2 {
    /// Parses a cql2-json expression; errors name the place in it ("filter.args[1].args[0]").
    public static func parse(json: JSON, path: String = "filter") throws -> CQL2 {
        let e = try node(json, path)
        guard e.kind == .boolean || e.kind == .any else {
            throw GyreSTACError(.invalidFilter, "\(path): a filter must be a boolean expression, not \(e.describe)")
        }
        if case .property = e { throw GyreSTACError(.invalidFilter, "\(path): a filter must be a boolean expression, not a bare property") }
        return e
    }

    static func node(_ j: JSON, _ path: String, depth: Int = 0) throws -> CQL2 {
        func fail(_ what: String) -> GyreSTACError { GyreSTACError(.invalidFilter, "\(path): \(what)") }
        guard depth <= CQL2TextParser.maxDepth else { throw fail("nested deeper than \(CQL2TextParser.maxDepth) levels") }
        func node(_ j: JSON, _ path: String) throws -> CQL2 { try CQL2.node(j, path, depth: depth + 1) }
        switch j {
        case .string(let s): return .string(s)
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .null: throw fail("null is not a CQL2 value (use isNull)")
        case .array(let a): return .array(try a.enumerated().map { try node($1, "\(path)[\($0)]") })
        case .object(let o):
            if let op = o["op"] {
                guard let name = op.string else { throw fail("\"op\" must be a string") }
                let args = o["args"]?.array ?? []
                if o["args"] != nil && o["args"]?.array == nil { throw fail("\"args\" must be an array") }
                return try make(name, try args.enumerated().map { try node($1, "\(path).args[\($0)]") }, at: path)
            }
            if let p = o["property"] {
                guard let s = p.string, !s.isEmpty else { throw fail("\"property\" must be a non-empty string") }
                return .property(s)
            }
            if let t = o["timestamp"] {
                guard let s = t.string else { throw fail("\"timestamp\" must be a string") }
                return .timestamp(try Timestamp(rfc3339: s, what: "\(path).timestamp", allowDate: false), isDate: false)
            }
            if let d = o["date"] {
                guard let s = d.string, s.utf8.count == 10 else { throw fail("\"date\" must be a date string like 2020-01-31") }
                return .timestamp(try Timestamp(rfc3339: s, what: "\(path).date"), isDate: true)
            }
            if let i = o["interval"] {
                guard let a = i.array, a.count == 2 else { throw fail("\"interval\" must be [start, end]") }
                let ends = try a.enumerated().map { k, e -> CQL2? in
                    if e.string == ".." { return nil }
                    if let s = e.string {
                        return .timestamp(try Timestamp(rfc3339: s, what: "\(path).interval[\(k)]"), isDate: s.utf8.count == 10)
                    }
                    let n = try node(e, "\(path).interval[\(k)]")
                    switch n {
                    case .property, .timestamp: return n
                    default: throw fail("interval ends must be instants, properties or \"..\"")
                    }
                }
                return .interval(ends[0], ends[1])
            }
            if let b = o["bbox"] {
                return .geometry(try BBox(json: b, what: "\(path).bbox").geometry)
            }
            if o["type"] != nil { return .geometry(try Geometry(json: j, path: path)) }
            throw fail("an object must be an operation (\"op\"), a property, a timestamp, a date, an interval, a bbox or a GeoJSON geometry")
        }
    }

    /// The cql2-json encoding.
    public var json: JSON {
        switch self {
        case .property(let p): return ["property": .string(p)]
        case .string(let s): return .string(s)
        case .number(let n): return n == n.rounded() && abs(n) < 9e15 ? .int(Int64(n)) : .double(n)
        case .bool(let b): return .bool(b)
        case .timestamp(let t, let isDate): return isDate ? ["date": .string(String(t.rfc3339.prefix(10)))] : ["timestamp": .string(t.rfc3339)]
        case .interval(let a, let b):
            func end(_ e: CQL2?) -> JSON {
                guard let e else { return ".." }
                if case .timestamp(let t, let d) = e { return .string(d ? String(t.rfc3339.prefix(10)) : t.rfc3339) }
                return e.json
            }
            return ["interval": [end(a), end(b)]]
        case .geometry(let g): return g.json
        case .array(let xs): return .array(xs.map(\.json))
        case .op(let n, let args): return ["op": .string(n), "args": .array(args.map(\.json))]
        }
    }
}

extension CQL2 {
    /// A box that the geometry of every item this filter matches must meet, when the filter's
    /// shape gives one: a spatial predicate other than `s_disjoint` between the item's
    /// `geometry` and a literal (each implies that the two meet, so their boxes do), the
    /// smallest such box of an `and`'s terms, and the box around those of an `or` whose every
    /// term has one. Nil when a match may lie anywhere (`not`, `s_disjoint`, an `or` with a
    /// term that has no box, any other predicate alone). A backend's spatial index bounds a
    /// search by it, as it does a `bbox`, while the filter itself still decides every match.
    package var spatialBound: BBox? {
        guard case .op(let name, let a) = self else { return nil }
        switch name {
        case "and":
            var best: BBox?
            for b in a.compactMap(\.spatialBound) {
                guard let c = best else { best = b; continue }
                // Where two terms' boxes meet, matches lie in both; where they do not, nothing
                // matches, and either box bounds that.
                let meet = BBox(west: Swift.max(c.west, b.west), south: Swift.max(c.south, b.south),
                                east: Swift.min(c.east, b.east), north: Swift.min(c.north, b.north))
                best = meet.west <= meet.east && meet.south <= meet.north ? meet : c
            }
            return best
        case "or":
            var around: BBox?
            for t in a {
                guard let b = t.spatialBound else { return nil }
                around = around.map { c in
                    BBox(west: Swift.min(c.west, b.west), south: Swift.min(c.south, b.south),
                         east: Swift.max(c.east, b.east), north: Swift.max(c.north, b.north))
                } ?? b
            }
            return around
        case _ where CQL2.spatialOps.contains(name) && name != "s_disjoint" && a.count == 2:
            switch (a[0], a[1]) {
            case (.property("geometry"), .geometry(let g)), (.geometry(let g), .property("geometry")): return g.bbox
            default: return nil
            }
        default:
            return nil
        }
    }
}

extension CQL2 {
    /// Whether every item this filter matches passes a predicate that `leaf` accepts: a
    /// term of an `and`, or one in each term of an `or`, at any depth (never under `not`).
    func implies(_ leaf: (String, [CQL2]) -> Bool) -> Bool {
        guard case .op(let name, let a) = self else { return false }
        switch name {
        case "and": return a.contains { $0.implies(leaf) }
        case "or": return !a.isEmpty && a.allSatisfy { $0.implies(leaf) }
        default: return leaf(name, a)
        }
    }

    /// Whether the filter pins its matches to a few ids (`id = 'x'`, `id IN ('x', 'y')`), so
    /// the id index finds them.
    package var pinsIDs: Bool {
        implies { name, a in
            guard a.count == 2, case .property("id") = a[0] else { return false }
            switch (name, a[1]) {
            case ("=", .string): return true
            case ("in", .array(let list)): return list.allSatisfy { if case .string = $0 { return true }; return false }
            default: return false
            }
        }
    }

    /// Whether the filter bounds its matches' times: a comparison (not `<>`) or temporal
    /// predicate other than `t_disjoint` between `datetime`, `start_datetime` or
    /// `end_datetime` and a literal instant or interval, so a time index narrows the search.
    package var boundsTime: Bool {
        implies { name, a in
            guard name != "<>", name != "t_disjoint", Self.comparisons.contains(name) || Self.temporalOps.contains(name),
                  a.count >= 2 else { return false }
            let times: Set<String> = ["datetime", "start_datetime", "end_datetime"]
            func isTime(_ c: CQL2) -> Bool { if case .property(let p) = c { return times.contains(p) }; return false }
            func isLiteral(_ c: CQL2) -> Bool {
                switch c {
                case .timestamp, .interval, .string: return true
                default: return false
                }
            }
            return a.contains(where: isTime) && a.contains(where: isLiteral)
        }
    }
}
