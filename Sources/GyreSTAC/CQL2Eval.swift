import GyreCore
import Foundation

/// CQL2 evaluated against one item in memory, with SQL's three-valued logic: a comparison
/// with a missing property or a value of another type is unknown, NOT unknown is unknown, and
/// only true matches. This is the reference the SQL backends are tested against, and what
/// `/search/stream` applies to items as they arrive.
extension CQL2 {
    public func matches(_ item: Item) -> Bool { (try? truth(item)) == .some(true) }

    /// True, false or unknown (nil).
    func truth(_ item: Item) throws -> Bool? {
        guard case .op(let name, let a) = self else {
            if case .bool(let b) = self { return b }
            if case .property = self, case .bool(let b) = value(item) { return b }
            return nil
        }
        switch name {
        case "and":
            var unknown = false
            for x in a { switch try x.truth(item) { case false?: return false; case nil: unknown = true; default: break } }
            return unknown ? nil : true
        case "or":
            var unknown = false
            for x in a { switch try x.truth(item) { case true?: return true; case nil: unknown = true; default: break } }
            return unknown ? nil : false
        case "not": return try a[0].truth(item).map { !$0 }
        case "isNull":
            if case .null = a[0].value(item) { return true }
            return false
        case _ where CQL2.comparisons.contains(name):
            guard let c = compare(a[0].value(item), a[1].value(item)) else { return nil }
            switch name {
            case "=": return c == 0
            case "<>": return c != 0
            case "<": return c < 0
            case ">": return c > 0
            case "<=": return c <= 0
            default: return c >= 0
            }
        case "between":
            let v = a[0].value(item)
            guard let lo = compare(v, a[1].value(item)), let hi = compare(v, a[2].value(item)) else { return nil }
            return lo >= 0 && hi <= 0
        case "in":
            let v = a[0].value(item)
            guard case .array(let list) = a[1] else { return nil }
            var unknown = false
            for x in list {
                switch compare(v, x.value(item)) { case 0?: return true; case nil: unknown = true; default: break }
            }
            return unknown ? nil : false
        case "like":
            guard case .string(let s) = a[0].value(item), case .string(let p) = a[1].value(item) else { return nil }
            return CQL2.like(s, p)
        case _ where CQL2.spatialOps.contains(name):
            guard case .geometry(let x) = a[0].value(item), case .geometry(let y) = a[1].value(item) else { return nil }
            switch name {
            case "s_intersects": return x.intersects(y)
            case "s_disjoint": return !x.intersects(y)
            case "s_within": return x.within(y)
            case "s_contains": return x.contains(y)
            default: return x.within(y) && y.within(x)
            }
        case _ where CQL2.temporalOps.contains(name):
            guard let x = a[0].value(item).span, let y = a[1].value(item).span else { return nil }
            return CQL2.temporal(name, x, y)
        case _ where CQL2.arrayOps.contains(name):
            guard case .array(let x) = a[0].value(item), case .array(let y) = a[1].value(item) else { return nil }
            func has(_ list: [Value], _ v: Value) -> Bool { list.contains { compare($0, v) == 0 } }
            switch name {
            case "a_equals": return x.count == y.count && zip(x, y).allSatisfy { compare($0, $1) == 0 }
            case "a_contains": return y.allSatisfy { has(x, $0) }
            case "a_containedby": return x.allSatisfy { has(y, $0) }
            default: return x.contains { has(y, $0) }
            }
        default:
            return nil
        }
    }

    /// The relation of two time spans (instants are spans of zero length), Allen's relations as
    /// CQL2 names them.
    static func temporal(_ name: String, _ x: (Int64, Int64), _ y: (Int64, Int64)) -> Bool {
        let (s1, e1) = x, (s2, e2) = y
        switch name {
        case "t_after": return s1 > e2
        case "t_before": return e1 < s2
        case "t_contains": return s1 < s2 && e1 > e2
        case "t_disjoint": return e1 < s2 || s1 > e2
        case "t_during": return s1 > s2 && e1 < e2
        case "t_equals": return s1 == s2 && e1 == e2
        case "t_finishedby": return s1 < s2 && e1 == e2
        case "t_finishes": return s1 > s2 && e1 == e2
        case "t_intersects": return s1 <= e2 && e1 >= s2
        case "t_meets": return e1 == s2
        case "t_metby": return s1 == e2
        case "t_overlappedby": return s1 > s2 && s1 < e2 && e1 > e2
        case "t_overlaps": return s1 < s2 && e1 > s2 && e1 < e2
        case "t_startedby": return s1 == s2 && e1 > e2
        default: return s1 == s2 && e1 < e2   // t_starts
        }
    }

    /// SQL LIKE: `%` any run, `_` one character, `\` escapes the next character.
    public static func like(_ s: String, _ pattern: String) -> Bool {
        let t = Array(s), p = Array(pattern)
        var memo = [Int: Bool]()
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (p.count + 1) + j
            if let m = memo[key] { return m }
            var r: Bool
            if j == p.count { r = i == t.count }
            else if p[j] == "%" { r = match(i, j + 1) || (i < t.count && match(i + 1, j)) }
            else if p[j] == "\\", j + 1 < p.count { r = i < t.count && t[i] == p[j + 1] && match(i + 1, j + 2) }
            else if p[j] == "_" { r = i < t.count && match(i + 1, j + 1) }
            else { r = i < t.count && t[i] == p[j] && match(i + 1, j + 1) }
            memo[key] = r
            return r
        }
        return match(0, 0)
    }

    /// What an operand evaluates to.
    enum Value {
        case null
        case string(String)
        case number(Double)
        case bool(Bool)
        case time(Int64, Int64)
        case geometry(Geometry)
        case array([Value])

        var span: (Int64, Int64)? {
            switch self {
            case .time(let s, let e): return (s, e)
            case .string(let s): return (try? Timestamp(rfc3339: s)).map { ($0.microseconds, $0.microseconds) }
            default: return nil
            }
        }

        init(_ j: JSON) {
            switch j {
            case .null: self = .null
            case .bool(let b): self = .bool(b)
            case .int, .double: self = .number(j.number!)
            case .string(let s): self = .string(s)
            case .array(let a): self = .array(a.map(Value.init))
            case .object: self = .null
            }
        }
    }

    func value(_ item: Item) -> Value {
        switch self {
        case .property(let p): return CQL2.property(p, of: item)
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .bool(let b): return .bool(b)
        case .timestamp(let t, let isDate): return .time(t.microseconds, isDate ? t.microseconds + 86_400_000_000 - 1 : t.microseconds)
        case .interval(let a, let b):
            func end(_ e: CQL2?, _ last: Bool) -> Int64? {
                guard let e else { return last ? Int64.max : Int64.min }
                guard let s = e.value(item).span else { return nil }
                return last ? s.1 : s.0
            }
            guard let s = end(a, false), let e = end(b, true) else { return .null }
            return .time(s, e)
        case .geometry(let g): return .geometry(g)
        case .array(let xs): return .array(xs.map { $0.value(item) })
        case .op(let name, let a):
            switch name {
            case "casei", "accenti":
                guard case .string(let s) = a[0].value(item) else { return .null }
                return .string(name == "casei" ? CQL2.casei(s) : CQL2.accenti(s))
            case "+", "-", "*", "/":
                guard case .number(let x) = a[0].value(item), case .number(let y) = a[1].value(item) else { return .null }
                switch name {
                case "+": return .number(x + y)
                case "-": return .number(x - y)
                case "*": return .number(x * y)
                default: return y == 0 ? .null : .number(x / y)
                }
            default:
                return (try? truth(item)).flatMap { $0 }.map { .bool($0) } ?? .null
            }
        }
    }

    /// Case folding for `casei`, as the SQL backends register it.
    public static func casei(_ s: String) -> String { s.lowercased() }
    /// Accents removed for `accenti`.
    public static func accenti(_ s: String) -> String { s.folding(options: .diacriticInsensitive, locale: nil) }

    /// An item's queryable: `id`, `collection`, `geometry`, `datetime` (its whole time range),
    /// `start_datetime`, `end_datetime`, and its properties by name.
    static func property(_ p: String, of item: Item) -> Value {
        switch p {
        case "id": return .string(item.id)
        case "collection": return item.collection.map { .string($0) } ?? .null
        case "geometry": return item.geometry.map { .geometry($0) } ?? .null
        case "datetime", "start_datetime", "end_datetime":
            guard let r = try? item.timeRange() else { return .null }
            switch p {
            case "datetime": return .time(r.start.microseconds, r.end.microseconds)
            case "start_datetime": return .time(r.start.microseconds, r.start.microseconds)
            default: return .time(r.end.microseconds, r.end.microseconds)
            }
        default:
            return item.properties[p].map(Value.init) ?? .null
        }
    }

    /// Ordering of two scalars of one type (times compare by their start; a string compared
    /// with a time is read as RFC 3339); nil when either is null or the types differ.
    func compare(_ x: Value, _ y: Value) -> Int? {
        switch (x, y) {
        case (.number(let a), .number(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.time, .time), (.time, .string), (.string, .time):
            guard let a = x.span?.0, let b = y.span?.0 else { return nil }
            return a < b ? -1 : (a > b ? 1 : 0)
        default: return nil
        }
    }
}
