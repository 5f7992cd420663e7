import GyreCore
/// cql2-text: a recursive-descent parser to the `CQL2` tree and a writer back to text.
extension CQL2 {
    /// Parses cql2-text (`eo:cloud_cover < 25 AND S_INTERSECTS(geometry, POLYGON((...)))`).
    /// Errors give the column where the text stops making sense and what was expected there.
    public static func parse(text: String) throws -> CQL2 {
        var p = try CQL2TextParser(text)
        let e = try p.boolean()
        guard p.peek.kind == .end else { throw p.fail("expected AND, OR or the end of the filter, found \(p.peek.describe)") }
        if case .property = e { throw p.fail("a filter must be a boolean expression, not a bare property", at: 0) }
        guard e.kind == .boolean || e.kind == .any else { throw p.fail("a filter must be a boolean expression, not \(e.describe)", at: 0) }
        return e
    }
}

struct CQL2Token {
    enum Kind: Equatable { case identifier, quotedIdentifier, string, number, symbol, end }
    var kind: Kind
    var text: String
    var offset: Int

    var describe: String {
        switch kind {
        case .end: return "the end of the filter"
        case .string: return "'\(text)'"
        case .quotedIdentifier: return "\"\(text)\""
        default: return "'\(text)'"
        }
    }
    func isWord(_ w: String) -> Bool { kind == .identifier && text.caseInsensitiveCompare(w) }
}

private extension String {
    func caseInsensitiveCompare(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

struct CQL2TextParser {
    let source: String
    let scalars: [Unicode.Scalar]
    var tokens: [CQL2Token] = []
    var pos = 0
    /// Nesting so far (parentheses, NOT, unary minus, function calls): bounded, so hostile
    /// input gets an error rather than exhausting the stack.
    var depth = 0
    static let maxDepth = 128

    mutating func enter() throws {
        depth += 1
        guard depth <= CQL2TextParser.maxDepth else { throw fail("nested deeper than \(CQL2TextParser.maxDepth) levels") }
    }

    static let reserved: Set<String> = ["and", "or", "not", "like", "between", "in", "is", "null", "true", "false"]

    init(_ text: String) throws {
        source = text
        scalars = Array(text.unicodeScalars)
        try tokenize()
    }

    var peek: CQL2Token { tokens[pos] }
    var peek2: CQL2Token { tokens[Swift.min(pos + 1, tokens.count - 1)] }
    mutating func next() -> CQL2Token { let t = tokens[pos]; if pos < tokens.count - 1 { pos += 1 }; return t }

    func fail(_ what: String, at offset: Int? = nil) -> GyreSTACError {
        GyreSTACError(.invalidFilter, "cql2-text, column \((offset ?? peek.offset) + 1): \(what)")
    }
    var here: String { "column \(peek.offset + 1)" }

    mutating func tokenize() throws {
        var i = 0
        let s = scalars
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" }
        func isIdent(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c.properties.numericType != nil || c == "_" || c == ":" || c == "." }
        while i < s.count {
            let c = s[i]
            if c.properties.isWhitespace { i += 1; continue }
            let start = i
            if isIdentStart(c) {
                while i < s.count, isIdent(s[i]) { i += 1 }
                tokens.append(CQL2Token(kind: .identifier, text: String(String.UnicodeScalarView(s[start..<i])), offset: start))
            } else if c == "\"" || c == "'" {
                var out = String.UnicodeScalarView()
                i += 1
                while true {
                    guard i < s.count else {
                        throw GyreSTACError(.invalidFilter, "cql2-text, column \(start + 1): unterminated \(c == "'" ? "string" : "quoted property name")")
                    }
                    if s[i] == c {
                        if i + 1 < s.count, s[i + 1] == c { out.append(c); i += 2; continue }
                        i += 1
                        break
                    }
                    out.append(s[i]); i += 1
                }
                tokens.append(CQL2Token(kind: c == "'" ? .string : .quotedIdentifier, text: String(out), offset: start))
            } else if c.properties.numericType != nil && ("0"..."9").contains(c) || (c == "." && i + 1 < s.count && ("0"..."9").contains(s[i + 1])) {
                while i < s.count, ("0"..."9").contains(s[i]) || s[i] == "." { i += 1 }
                if i < s.count, s[i] == "e" || s[i] == "E" {
                    i += 1
                    if i < s.count, s[i] == "+" || s[i] == "-" { i += 1 }
                    while i < s.count, ("0"..."9").contains(s[i]) { i += 1 }
                }
                tokens.append(CQL2Token(kind: .number, text: String(String.UnicodeScalarView(s[start..<i])), offset: start))
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if ["<>", "<=", ">=", "!="].contains(two) {
                    tokens.append(CQL2Token(kind: .symbol, text: two == "!=" ? "<>" : two, offset: start)); i += 2
                } else if "=<>(),+-*/[]".unicodeScalars.contains(c) {
                    tokens.append(CQL2Token(kind: .symbol, text: String(c), offset: start)); i += 1
                } else {
                    throw GyreSTACError(.invalidFilter, "cql2-text, column \(start + 1): unexpected character '\(c)'")
                }
            }
        }
        tokens.append(CQL2Token(kind: .end, text: "", offset: s.count))
    }

    mutating func expect(_ symbol: String, _ what: String) throws {
        guard peek.kind == .symbol, peek.text == symbol else { throw fail("expected '\(symbol)' \(what), found \(peek.describe)") }
        _ = next()
    }

    // boolean := and (OR and)*
    mutating func boolean() throws -> CQL2 {
        try enter()
        defer { depth -= 1 }
        let at = here
        var terms = [try conjunction()]
        while peek.isWord("or") { _ = next(); terms.append(try conjunction()) }
        return terms.count == 1 ? terms[0] : try CQL2.make("or", terms, at: at)
    }

    mutating func conjunction() throws -> CQL2 {
        let at = here
        var terms = [try negation()]
        while peek.isWord("and") { _ = next(); terms.append(try negation()) }
        return terms.count == 1 ? terms[0] : try CQL2.make("and", terms, at: at)
    }

    mutating func negation() throws -> CQL2 {
        try enter()
        defer { depth -= 1 }
        if peek.isWord("not") {
            let at = here
            _ = next()
            return try CQL2.make("not", [try negation()], at: at)
        }
        return try predicate()
    }

    // predicate := additive [comparison | [NOT] LIKE | [NOT] BETWEEN | [NOT] IN | IS [NOT] NULL]
    mutating func predicate() throws -> CQL2 {
        let lhs = try additive()
        let at = here
        if peek.kind == .symbol, CQL2.comparisons.contains(peek.text) {
            let op = next().text
            return try CQL2.make(op, [lhs, try additive()], at: at)
        }
        var negated = false
        if peek.isWord("not"), peek2.isWord("like") || peek2.isWord("between") || peek2.isWord("in") { _ = next(); negated = true }
        var result: CQL2?
        if peek.isWord("like") {
            _ = next(); result = try CQL2.make("like", [lhs, try additive()], at: at)
        } else if peek.isWord("between") {
            _ = next()
            let low = try additive()
            guard peek.isWord("and") else { throw fail("expected AND in BETWEEN, found \(peek.describe)") }
            _ = next()
            result = try CQL2.make("between", [lhs, low, try additive()], at: at)
        } else if peek.isWord("in") {
            _ = next()
            result = try CQL2.make("in", [lhs, try list("after IN")], at: at)
        } else if peek.isWord("is") {
            _ = next()
            let not = peek.isWord("not")
            if not { _ = next() }
            guard peek.isWord("null") else { throw fail("expected NULL after IS\(not ? " NOT" : ""), found \(peek.describe)") }
            _ = next()
            let e = try CQL2.make("isNull", [lhs], at: at)
            return not ? try CQL2.make("not", [e], at: at) : e
        }
        if let r = result { return negated ? try CQL2.make("not", [r], at: at) : r }
        return lhs
    }

    /// A parenthesized, comma-separated list, always an array.
    mutating func list(_ context: String) throws -> CQL2 {
        try enter()
        defer { depth -= 1 }
        try expect("(", context)
        var items: [CQL2] = []
        if peek.kind == .symbol, peek.text == ")" { _ = next(); return .array(items) }
        while true {
            items.append(peek.kind == .symbol && peek.text == "(" ? try list("for a nested list") : try additive())
            if peek.kind == .symbol, peek.text == "," { _ = next(); continue }
            try expect(")", "to close the list")
            return .array(items)
        }
    }

    mutating func additive() throws -> CQL2 {
        var e = try multiplicative()
        while peek.kind == .symbol, peek.text == "+" || peek.text == "-" {
            let at = here
            let op = next().text
            e = try CQL2.make(op, [e, try multiplicative()], at: at)
        }
        return e
    }

    mutating func multiplicative() throws -> CQL2 {
        var e = try unary()
        while peek.kind == .symbol, peek.text == "*" || peek.text == "/" {
            let at = here
            let op = next().text
            e = try CQL2.make(op, [e, try unary()], at: at)
        }
        return e
    }

    mutating func unary() throws -> CQL2 {
        try enter()
        defer { depth -= 1 }
        if peek.kind == .symbol, peek.text == "-" {
            let at = here
            _ = next()
            let e = try unary()
            if case .number(let n) = e { return .number(-n) }
            return try CQL2.make("-", [.number(0), e], at: at)
        }
        if peek.kind == .symbol, peek.text == "+" { _ = next(); return try unary() }
        return try atom()
    }

    mutating func atom() throws -> CQL2 {
        let t = peek
        switch t.kind {
        case .end: throw fail("expected a value, found the end of the filter")
        case .number:
            _ = next()
            guard let d = Double(t.text), d.isFinite else { throw fail("'\(t.text)' is not a number", at: t.offset) }
            return .number(d)
        case .string: _ = next(); return .string(t.text)
        case .quotedIdentifier: _ = next(); return .property(t.text)
        case .symbol:
            guard t.text == "(" else { throw fail("expected a value, found \(t.describe)") }
            _ = next()
            let e = try boolean()
            if peek.kind == .symbol, peek.text == "," {
                // A list in parentheses: an array.
                var items = [e]
                while peek.kind == .symbol, peek.text == "," { _ = next(); items.append(try additive()) }
                try expect(")", "to close the list")
                return .array(items)
            }
            try expect(")", "to close the parenthesis opened at column \(t.offset + 1)")
            return e
        case .identifier:
            let word = t.text.lowercased()
            if word == "true" || word == "false" { _ = next(); return .bool(word == "true") }
            let isCall = peek2.kind == .symbol && peek2.text == "("
            if isCall && !CQL2TextParser.callable(word) && !CQL2TextParser.reserved.contains(word) {
                throw fail("unknown function \(t.text.uppercased()); expected a property, a literal, or one of CASEI, ACCENTI, TIMESTAMP, DATE, INTERVAL, BBOX, a WKT geometry, S_*, T_* or A_*")
            }
            if !isCall || !CQL2TextParser.callable(word) {
                guard !CQL2TextParser.reserved.contains(word) else { throw fail("expected a value, found the keyword \(t.text.uppercased())") }
                _ = next()
                return .property(t.text)
            }
            _ = next()
            return try call(word, t)
        }
    }

    static let wkt: Set<String> = ["point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "bbox"]
    static func callable(_ w: String) -> Bool {
        wkt.contains(w) || ["timestamp", "date", "interval", "casei", "accenti"].contains(w) || w.hasPrefix("s_") || w.hasPrefix("t_") || w.hasPrefix("a_")
    }

    mutating func call(_ word: String, _ t: CQL2Token) throws -> CQL2 {
        let at = "column \(t.offset + 1)"
        switch word {
        case "timestamp", "date":
            try expect("(", "after \(t.text.uppercased())")
            let s = next()
            guard s.kind == .string else { throw fail("\(t.text.uppercased()) needs a quoted instant", at: s.offset) }
            try expect(")", "after the instant")
            if word == "date" {
                guard s.text.utf8.count == 10 else { throw fail("DATE needs a date like '2020-01-31'", at: s.offset) }
                return .timestamp(try wrapTime(s.offset) { try Timestamp(rfc3339: s.text, what: "DATE") }, isDate: true)
            }
            return .timestamp(try wrapTime(s.offset) { try Timestamp(rfc3339: s.text, what: "TIMESTAMP", allowDate: false) }, isDate: false)
        case "interval":
            try expect("(", "after INTERVAL")
            var ends: [CQL2?] = []
            for k in 0..<2 {
                let e = peek
                if e.kind == .string {
                    _ = next()
                    if e.text == ".." { ends.append(nil) } else {
                        let ts = try wrapTime(e.offset) { try Timestamp(rfc3339: e.text, what: "INTERVAL") }
                        ends.append(.timestamp(ts, isDate: e.text.utf8.count == 10))
                    }
                } else {
                    let v = try atom()
                    switch v {
                    case .property, .timestamp: ends.append(v)
                    default: throw fail("INTERVAL ends must be quoted instants, '..' or properties", at: e.offset)
                    }
                }
                if k == 0 { try expect(",", "between the ends of INTERVAL") }
            }
            try expect(")", "after the INTERVAL ends")
            return .interval(ends[0], ends[1])
        case _ where CQL2TextParser.wkt.contains(word):
            return .geometry(try geometry(word, t))
        default:
            try expect("(", "after \(t.text.uppercased())")
            var args: [CQL2] = []
            let arrays = word.hasPrefix("a_")
            if !(peek.kind == .symbol && peek.text == ")") {
                while true {
                    if arrays, peek.kind == .symbol, peek.text == "(" { args.append(try list("for an array")) }
                    else { args.append(try additive()) }
                    if peek.kind == .symbol, peek.text == "," { _ = next(); continue }
                    break
                }
            }
            try expect(")", "to close \(t.text.uppercased())(")
            return try CQL2.make(word, args, at: at)
        }
    }

    func wrapTime(_ offset: Int, _ body: () throws -> Timestamp) throws -> Timestamp {
        do { return try body() } catch let e as GyreSTACError {
            throw GyreSTACError(.invalidFilter, "cql2-text, column \(offset + 1): \(e.message)")
        }
    }

    // MARK: WKT

    mutating func geometry(_ word: String, _ t: CQL2Token) throws -> Geometry {
        if word == "bbox" {
            try expect("(", "after BBOX")
            var n: [Double] = []
            while true {
                guard case .number(let d) = try unary() else { throw fail("BBOX takes numbers") }
                n.append(d)
                if peek.kind == .symbol, peek.text == "," { _ = next(); continue }
                break
            }
            try expect(")", "to close BBOX(")
            do { return try BBox(n, what: "BBOX").geometry } catch let e as GyreSTACError {
                throw GyreSTACError(.invalidFilter, "cql2-text, column \(t.offset + 1): \(e.message)")
            }
        }
        let json = try wktBody(word)
        do { return try Geometry(json: json, path: "\(word.uppercased())") } catch let e as GyreSTACError {
            throw GyreSTACError(.invalidFilter, "cql2-text, column \(t.offset + 1): \(e.message)")
        }
    }

    mutating func wktBody(_ word: String) throws -> JSON {
        try enter()
        defer { depth -= 1 }
        if peek.kind == .identifier, ["z", "m", "zm"].contains(peek.text.lowercased()) { _ = next() }
        let typeName: [String: String] = ["point": "Point", "linestring": "LineString", "polygon": "Polygon", "multipoint": "MultiPoint",
                                          "multilinestring": "MultiLineString", "multipolygon": "MultiPolygon"]
        if word == "geometrycollection" {
            try expect("(", "after GEOMETRYCOLLECTION")
            var gs: [JSON] = []
            while true {
                guard peek.kind == .identifier, CQL2TextParser.wkt.contains(peek.text.lowercased()), peek.text.lowercased() != "bbox" else {
                    throw fail("expected a WKT geometry, found \(peek.describe)")
                }
                let w = next().text.lowercased()
                gs.append(try wktBody(w))
                if peek.kind == .symbol, peek.text == "," { _ = next(); continue }
                break
            }
            try expect(")", "to close GEOMETRYCOLLECTION(")
            return ["type": "GeometryCollection", "geometries": .array(gs)]
        }
        let coords: JSON
        switch word {
        case "point":
            try expect("(", "after POINT"); coords = try position(); try expect(")", "to close POINT(")
        case "linestring": coords = try positions()
        case "polygon": coords = try nested { try $0.positions() }
        case "multipoint":
            // MULTIPOINT((1 2), (3 4)) or MULTIPOINT(1 2, 3 4)
            try expect("(", "after MULTIPOINT")
            var ps: [JSON] = []
            while true {
                if peek.kind == .symbol, peek.text == "(" { _ = next(); ps.append(try position()); try expect(")", "to close the point") }
                else { ps.append(try position()) }
                if peek.kind == .symbol, peek.text == "," { _ = next(); continue }
                break
            }
            try expect(")", "to close MULTIPOINT(")
            coords = .array(ps)
        case "multilinestring": coords = try nested { try $0.positions() }
        default: coords = try nested { try $0.nested { try $0.positions() } }
        }
        return ["type": .string(typeName[word]!), "coordinates": coords]
    }

    mutating func position() throws -> JSON {
        var n: [JSON] = []
        while case .number(let d)? = try? peekNumber() {
            n.append(.double(d))
        }
        guard n.count == 2 || n.count == 3 else { throw fail("expected a position of 2 or 3 numbers separated by spaces") }
        return .array(n)
    }

    /// Consumes a (possibly negative) number if one comes next.
    mutating func peekNumber() throws -> CQL2? {
        let save = pos
        var sign = 1.0
        if peek.kind == .symbol, peek.text == "-" { _ = next(); sign = -1 }
        guard peek.kind == .number, let d = Double(peek.text) else { pos = save; return nil }
        _ = next()
        return .number(sign * d)
    }

    mutating func positions() throws -> JSON {
        try expect("(", "to open a list of positions")
        var ps: [JSON] = [try position()]
        while peek.kind == .symbol, peek.text == "," { _ = next(); ps.append(try position()) }
        try expect(")", "to close a list of positions")
        return .array(ps)
    }

    mutating func nested(_ inner: (inout CQL2TextParser) throws -> JSON) throws -> JSON {
        try expect("(", "to open a WKT list")
        var xs: [JSON] = [try inner(&self)]
        while peek.kind == .symbol, peek.text == "," { _ = next(); xs.append(try inner(&self)) }
        try expect(")", "to close a WKT list")
        return .array(xs)
    }
}

// MARK: - Writing cql2-text

extension CQL2 {
    /// The cql2-text encoding (fully parenthesized, so it reads back to the same tree).
    public var text: String {
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        func num(_ n: Double) -> String { n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n) }
        switch self {
        case .property(let p):
            let plain = p.unicodeScalars.first.map { $0.properties.isAlphabetic || $0 == "_" } == true
                && p.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":" || $0 == "." }
                && !CQL2TextParser.reserved.contains(p.lowercased()) && !CQL2TextParser.callable(p.lowercased())
            return plain ? p : "\"" + p.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case .string(let s): return q(s)
        case .number(let n): return num(n)
        case .bool(let b): return b ? "TRUE" : "FALSE"
        case .timestamp(let t, let isDate): return isDate ? "DATE(\(q(String(t.rfc3339.prefix(10)))))" : "TIMESTAMP(\(q(t.rfc3339)))"
        case .interval(let a, let b):
            func end(_ e: CQL2?) -> String {
                guard let e else { return "'..'" }
                if case .timestamp(let t, let d) = e { return q(d ? String(t.rfc3339.prefix(10)) : t.rfc3339) }
                return e.text
            }
            return "INTERVAL(\(end(a)), \(end(b)))"
        case .geometry(let g): return g.wkt
        case .array(let xs): return "(" + xs.map(\.text).joined(separator: ", ") + ")"
        case .op(let n, let a):
            switch n {
            case "and", "or": return "(" + a.map(\.text).joined(separator: " \(n.uppercased()) ") + ")"
            case "not": return "NOT \(a[0].text)"
            case "like": return "(\(a[0].text) LIKE \(a[1].text))"
            case "between": return "(\(a[0].text) BETWEEN \(a[1].text) AND \(a[2].text))"
            case "in": return "(\(a[0].text) IN \(a[1].text))"
            case "isNull": return "(\(a[0].text) IS NULL)"
            case _ where CQL2.comparisons.contains(n) || CQL2.arithmetic.contains(n): return "(\(a[0].text) \(n) \(a[1].text))"
            default: return n.uppercased() + "(" + a.map(\.text).joined(separator: ", ") + ")"
            }
        }
    }
}

extension Geometry {
    /// Well-known text.
    public var wkt: String {
        func n(_ d: Double) -> String { d == d.rounded() && abs(d) < 9e15 ? String(Int64(d)) : String(d) }
        func pos(_ p: Position) -> String { ([p.x, p.y] + (p.z.map { [$0] } ?? [])).map(n).joined(separator: " ") }
        func line(_ l: [Position]) -> String { "(" + l.map(pos).joined(separator: ", ") + ")" }
        func rings(_ r: [[Position]]) -> String { "(" + r.map(line).joined(separator: ", ") + ")" }
        switch self {
        case .point(let p): return "POINT(\(pos(p)))"
        case .multiPoint(let ps): return "MULTIPOINT(" + ps.map { "(\(pos($0)))" }.joined(separator: ", ") + ")"
        case .lineString(let l): return "LINESTRING" + line(l)
        case .multiLineString(let ls): return "MULTILINESTRING(" + ls.map(line).joined(separator: ", ") + ")"
        case .polygon(let r): return "POLYGON" + rings(r)
        case .multiPolygon(let ps): return "MULTIPOLYGON(" + ps.map(rings).joined(separator: ", ") + ")"
        case .geometryCollection(let gs): return "GEOMETRYCOLLECTION(" + gs.map(\.wkt).joined(separator: ", ") + ")"
        }
    }
}
