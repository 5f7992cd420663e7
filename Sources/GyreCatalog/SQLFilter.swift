import GyreCore
import GyreSTAC

/// A piece of SQL with its parameters. Values only ever travel as parameters: the text holds
/// `?` placeholders, column names and operators Gyre wrote itself.
public struct SQLFragment: Sendable {
    public var text: String
    public var parameters: [SQLParameter]
    public init(_ text: String, _ parameters: [SQLParameter] = []) { self.text = text; self.parameters = parameters }

    static func + (a: SQLFragment, b: SQLFragment) -> SQLFragment { SQLFragment(a.text + b.text, a.parameters + b.parameters) }
    static func joined(_ parts: [SQLFragment], _ separator: String) -> SQLFragment {
        SQLFragment(parts.map(\.text).joined(separator: separator), parts.flatMap(\.parameters))
    }
}

extension SQLFragment {
    /// Keyset paging: the rows after `last` in the order of `keys` (expression, ascending), as
    /// an OR of equal prefixes, plus the bound on the first key that the OR implies, which lets
    /// an index walk start at the last page's end. `last` holds one value fragment per key.
    static func keyset(_ keys: [(SQLFragment, Bool)], after last: [SQLFragment]) -> [SQLFragment] {
        var ors: [SQLFragment] = []
        for i in keys.indices {
            var ands = (0..<i).map { keys[$0].0 + SQLFragment(" = ") + last[$0] }
            ands.append(keys[i].0 + SQLFragment(keys[i].1 ? " > " : " < ") + last[i])
            ors.append(SQLFragment("(") + SQLFragment.joined(ands, " AND ") + SQLFragment(")"))
        }
        return [SQLFragment("(") + SQLFragment.joined(ors, " OR ") + SQLFragment(")"),
                keys[0].0 + SQLFragment(keys[0].1 ? " >= " : " <= ") + last[0]]
    }
}

/// Paging tokens travel in URLs as unpadded base64url (RFC 4648 section 5).
enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let values: [UInt8] = {
        var v = [UInt8](repeating: 255, count: 256)
        for (n, c) in alphabet.enumerated() { v[Int(c)] = UInt8(n) }
        return v
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var w = UInt32(bytes[i]) << 16
            if n > 1 { w |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { w |= UInt32(bytes[i + 2]) }
            for k in 0...n { out.append(alphabet[Int((w >> (18 - 6 * UInt32(k))) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil when the text has a character outside the alphabet or a length no encoding has.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [], w: UInt32 = 0, bits = 0
        out.reserveCapacity(text.utf8.count * 3 / 4)
        for c in text.utf8 {
            let v = values[Int(c)]
            guard v != 255 else { return nil }
            w = w << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((w >> UInt32(bits)) & 255))
            }
        }
        return bits < 6 ? out : nil
    }
}

/// A bound SQL value.
public enum SQLParameter: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case double(Double)
}

/// The SQL dialect a backend speaks, for the parts where SQLite and PostgreSQL differ.
protocol SQLDialect {
    /// A property's JSON value as a number, text or boolean (NULL when absent or of another type).
    func number(_ property: String) -> SQLFragment
    func string(_ property: String) -> SQLFragment
    func boolean(_ property: String) -> SQLFragment
    /// The property's raw JSON value (NULL when absent or JSON null), for isNull.
    func json(_ property: String) -> SQLFragment
    /// The property's value when it is an array (as JSON), NULL otherwise.
    func array(_ property: String) -> SQLFragment
    /// A string function Gyre registers (casei, accenti), a LIKE, an array relation, a spatial relation.
    func call(_ function: String, _ args: [SQLFragment]) -> SQLFragment
    func like(_ value: SQLFragment, _ pattern: SQLFragment) -> SQLFragment
    func arrayRelation(_ op: String, _ a: SQLFragment, _ b: SQLFragment) -> SQLFragment
    func spatial(_ op: String, _ geometryColumn: String, _ literal: Geometry) -> SQLFragment
    /// A JSON array literal, to compare with a property's array.
    func jsonLiteral(_ value: JSON) -> SQLFragment
    /// A string parsed as an RFC 3339 instant in microseconds (NULL when it is not one).
    func timeOf(_ text: SQLFragment) -> SQLFragment
}

/// What an operand compiles to: SQL of a known type.
enum Typed {
    case number(SQLFragment)
    case string(SQLFragment)
    case boolean(SQLFragment)
    /// A time span as two microsecond expressions.
    case time(SQLFragment, SQLFragment)
    /// A property of unknown type: each typed reading of it.
    case property(String)
    case geometry(Geometry)
    case geometryColumn
    case array(SQLFragment)
}

/// Compiles a CQL2 tree to a SQL boolean expression over the items table (columns `id`,
/// `collection`, `datetime` and `end_datetime` in microseconds, `geometry`, `properties`).
/// Comparisons are typed: a property compared with a number is read as a number and is NULL
/// (unknown) when it holds something else, as the in-memory evaluator has it.
struct SQLFilterCompiler {
    let dialect: any SQLDialect
    /// Names a filter may use beyond the core fields; nil accepts any.
    let queryables: Set<String>?

    func fail(_ what: String) -> GyreCatalogError { GyreCatalogError(.badRequest, "filter: \(what)") }

    func compile(_ e: CQL2) throws -> SQLFragment {
        switch e {
        case .bool(let b): return SQLFragment(b ? "1=1" : "1=0")
        case .property(let p): return SQLFragment("(") + dialect.boolean(try checked(p)) + SQLFragment(" = 1)")
        case .op(let name, let a):
            switch name {
            case "and", "or":
                return SQLFragment("(") + SQLFragment.joined(try a.map(compile), " \(name.uppercased()) ") + SQLFragment(")")
            case "not":
                return SQLFragment("(NOT ") + (try compile(a[0])) + SQLFragment(")")
            case "isNull":
                switch try operand(a[0]) {
                case .property(let p): return SQLFragment("(") + dialect.json(p) + SQLFragment(" IS NULL)")
                case .number(let f), .string(let f), .boolean(let f), .array(let f): return SQLFragment("(") + f + SQLFragment(" IS NULL)")
                case .time, .geometry, .geometryColumn: return SQLFragment("1=0")
                }
            case _ where ["=", "<>", "<", ">", "<=", ">="].contains(name):
                return try comparison(name, try operand(a[0]), try operand(a[1]))
            case "between":
                let x = try operand(a[0])
                let lo = try comparison(">=", x, try operand(a[1])), hi = try comparison("<=", x, try operand(a[2]))
                return SQLFragment("(") + lo + SQLFragment(" AND ") + hi + SQLFragment(")")
            case "in":
                guard case .array(let list) = a[1] else { throw fail("in needs a list") }
                let x = try operand(a[0])
                let terms = try list.map { try comparison("=", x, try operand($0)) }
                return SQLFragment("(") + SQLFragment.joined(terms, " OR ") + SQLFragment(")")
            case "like":
                return dialect.like(try stringOf(try operand(a[0])), try stringOf(try operand(a[1])))
            case _ where CQL2.spatialOps.contains(name):
                let x = try operand(a[0]), y = try operand(a[1])
                switch (x, y) {
                case (.geometryColumn, .geometry(let g)): return dialect.spatial(name, "geometry", g)
                case (.geometry(let g), .geometryColumn):
                    let flipped = ["s_within": "s_contains", "s_contains": "s_within"][name] ?? name
                    return dialect.spatial(flipped, "geometry", g)
                case (.geometry(let g), .geometry(let h)):
                    return SQLFragment(spatialRelation(name, g, h) ? "1=1" : "1=0")
                default: throw fail("\(name) compares the item geometry with a geometry literal")
                }
            case _ where CQL2.temporalOps.contains(name):
                guard case .time(let s1, let e1) = try timeOf(try operand(a[0])), case .time(let s2, let e2) = try timeOf(try operand(a[1])) else {
                    throw fail("\(name) needs instants or intervals")
                }
                return temporal(name, s1, e1, s2, e2)
            case _ where CQL2.arrayOps.contains(name):
                return dialect.arrayRelation(name, try arrayOf(try operand(a[0])), try arrayOf(try operand(a[1])))
            default:
                throw fail("\(name) does not give a boolean")
            }
        default:
            throw fail("\(e.describe) is not a boolean expression")
        }
    }

    func checked(_ p: String) throws -> String {
        if let q = queryables, !q.contains(p), !Queryable.core.contains(where: { $0.name == p }) {
            throw fail("unknown property '\(p)'; see /queryables for the properties items have")
        }
        guard !p.contains("\""), !p.contains("\\"), !p.contains("\u{0}") else { throw fail("property name '\(p)' has a character Gyre does not accept in names") }
        return p
    }

    func operand(_ e: CQL2) throws -> Typed {
        switch e {
        case .property(let p):
            switch try checked(p) {
            case "id": return .string(SQLFragment("id"))
            case "collection": return .string(SQLFragment("collection"))
            case "geometry": return .geometryColumn
            case "datetime": return .time(SQLFragment("datetime"), SQLFragment("end_datetime"))
            case "start_datetime": return .time(SQLFragment("datetime"), SQLFragment("datetime"))
            case "end_datetime": return .time(SQLFragment("end_datetime"), SQLFragment("end_datetime"))
            default: return .property(p)
            }
        case .string(let s): return .string(SQLFragment("?", [.text(s)]))
        case .number(let n): return .number(SQLFragment("?", [.double(n)]))
        case .bool(let b): return .boolean(SQLFragment(b ? "1" : "0"))
        case .timestamp(let t, let isDate):
            let end = isDate ? t.microseconds + 86_400_000_000 - 1 : t.microseconds
            return .time(SQLFragment("?", [.int(t.microseconds)]), SQLFragment("?", [.int(end)]))
        case .interval(let a, let b):
            func end(_ e: CQL2?, last: Bool) throws -> SQLFragment {
                guard let e else { return SQLFragment("?", [.int(last ? Int64.max : Int64.min)]) }
                guard case .time(let s, let t) = try timeOf(try operand(e)) else { throw fail("interval ends must be instants or time properties") }
                return last ? t : s
            }
            return .time(try end(a, last: false), try end(b, last: true))
        case .geometry(let g): return .geometry(g)
        case .array(let xs):
            return .array(dialect.jsonLiteral(.array(try xs.map { x -> JSON in
                switch x {
                case .string(let s): return .string(s)
                case .number(let n): return .double(n)
                case .bool(let b): return .bool(b)
                default: throw fail("array literals hold strings, numbers and booleans")
                }
            })))
        case .op(let name, let a):
            switch name {
            case "casei", "accenti": return .string(dialect.call("gyre_\(name)", [try stringOf(try operand(a[0]))]))
            case "+", "-", "*", "/":
                let x = try numberOf(try operand(a[0])), y = try numberOf(try operand(a[1]))
                if name == "/" { return .number(SQLFragment("(CASE WHEN ") + y + SQLFragment(" = 0 THEN NULL ELSE ") + x + SQLFragment(" * 1.0 / ") + y + SQLFragment(" END)")) }
                return .number(SQLFragment("(") + x + SQLFragment(" \(name) ") + y + SQLFragment(")"))
            default:
                return .boolean(SQLFragment("(CASE WHEN ") + (try compile(e)) + SQLFragment(" THEN 1 WHEN NOT ") + (try compile(e)) + SQLFragment(" THEN 0 END)"))
            }
        }
    }

    func stringOf(_ t: Typed) throws -> SQLFragment {
        switch t {
        case .string(let f): return f
        case .property(let p): return dialect.string(p)
        default: throw fail("expected a string")
        }
    }

    func numberOf(_ t: Typed) throws -> SQLFragment {
        switch t {
        case .number(let f): return f
        case .property(let p): return dialect.number(p)
        default: throw fail("expected a number")
        }
    }

    func arrayOf(_ t: Typed) throws -> SQLFragment {
        switch t {
        case .array(let f): return f
        case .property(let p): return dialect.array(p)
        default: throw fail("expected an array")
        }
    }

    func timeOf(_ t: Typed) throws -> Typed {
        switch t {
        case .time: return t
        case .string(let f): let x = dialect.timeOf(f); return .time(x, x)
        case .property(let p): let x = dialect.timeOf(dialect.string(p)); return .time(x, x)
        default: throw fail("expected an instant or an interval")
        }
    }

    /// A typed comparison; a property compared with a property is compared as numbers, or as
    /// strings, or as booleans, whichever both hold (NULL, unknown, when none).
    func comparison(_ op: String, _ x: Typed, _ y: Typed) throws -> SQLFragment {
        func cmp(_ a: SQLFragment, _ b: SQLFragment) -> SQLFragment { SQLFragment("(") + a + SQLFragment(" \(op) ") + b + SQLFragment(")") }
        switch (x, y) {
        case (.number(let a), .number(let b)), (.string(let a), .string(let b)), (.boolean(let a), .boolean(let b)): return cmp(a, b)
        case (.property(let p), .number(let b)): return cmp(dialect.number(p), b)
        case (.number(let a), .property(let p)): return cmp(a, dialect.number(p))
        case (.property(let p), .string(let b)): return cmp(dialect.string(p), b)
        case (.string(let a), .property(let p)): return cmp(a, dialect.string(p))
        case (.property(let p), .boolean(let b)): return cmp(dialect.boolean(p), b)
        case (.boolean(let a), .property(let p)): return cmp(a, dialect.boolean(p))
        case (.property(let p), .property(let q)):
            return SQLFragment("COALESCE(") + cmp(dialect.number(p), dialect.number(q)) + SQLFragment(", ") + cmp(dialect.string(p), dialect.string(q))
                + SQLFragment(", ") + cmp(dialect.boolean(p), dialect.boolean(q)) + SQLFragment(")")
        case (.time, _), (_, .time):
            // Instants compare by their start; a string on the other side is read as RFC 3339.
            guard case .time(let s1, _) = try timeOf(x), case .time(let s2, _) = try timeOf(y) else { return SQLFragment("NULL") }
            return cmp(s1, s2)
        default:
            // Different types never compare: unknown.
            return SQLFragment("NULL")
        }
    }

    func temporal(_ name: String, _ s1: SQLFragment, _ e1: SQLFragment, _ s2: SQLFragment, _ e2: SQLFragment) -> SQLFragment {
        func c(_ a: SQLFragment, _ op: String, _ b: SQLFragment) -> SQLFragment { a + SQLFragment(" \(op) ") + b }
        func all(_ parts: SQLFragment...) -> SQLFragment { SQLFragment("(") + SQLFragment.joined(parts, " AND ") + SQLFragment(")") }
        switch name {
        case "t_after": return all(c(s1, ">", e2))
        case "t_before": return all(c(e1, "<", s2))
        case "t_contains": return all(c(s1, "<", s2), c(e1, ">", e2))
        case "t_disjoint": return SQLFragment("(") + c(e1, "<", s2) + SQLFragment(" OR ") + c(s1, ">", e2) + SQLFragment(")")
        case "t_during": return all(c(s1, ">", s2), c(e1, "<", e2))
        case "t_equals": return all(c(s1, "=", s2), c(e1, "=", e2))
        case "t_finishedby": return all(c(s1, "<", s2), c(e1, "=", e2))
        case "t_finishes": return all(c(s1, ">", s2), c(e1, "=", e2))
        case "t_intersects": return all(c(s1, "<=", e2), c(e1, ">=", s2))
        case "t_meets": return all(c(e1, "=", s2))
        case "t_metby": return all(c(s1, "=", e2))
        case "t_overlappedby": return all(c(s1, ">", s2), c(s1, "<", e2), c(e1, ">", e2))
        case "t_overlaps": return all(c(s1, "<", s2), c(e1, ">", s2), c(e1, "<", e2))
        case "t_startedby": return all(c(s1, "=", s2), c(e1, ">", e2))
        default: return all(c(s1, "=", s2), c(e1, "<", e2))
        }
    }
}

/// A CQL2 spatial relation between two geometries, exactly.
func spatialRelation(_ name: String, _ a: Geometry, _ b: Geometry) -> Bool {
    switch name {
    case "s_intersects": return a.intersects(b)
    case "s_disjoint": return !a.intersects(b)
    case "s_within": return a.within(b)
    case "s_contains": return a.contains(b)
    default: return a.within(b) && b.within(a)
    }
}
