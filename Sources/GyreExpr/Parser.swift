import GyreCore
/// The syntax tree of an expression. Every node keeps the column it starts at.
public indirect enum Expr: Sendable {
    case number(Double, isInteger: Bool, column: Int)
    case string(String, column: Int)
    case name(String, column: Int)
    case constant(ConstantValue, column: Int)
    case tuple([Expr], column: Int)
    case list([Expr], column: Int)
    /// `a:b:c` inside brackets.
    case slice(Expr?, Expr?, Expr?, column: Int)
    case attribute(Expr, String, column: Int)
    case call(Expr, args: [Expr], keywords: [(String, Expr)], column: Int)
    case subscripted(Expr, Expr, column: Int)
    case unary(String, Expr, column: Int)
    case binary(String, Expr, Expr, column: Int)

    public enum ConstantValue: Sendable { case `true`, `false`, none }

    public var column: Int {
        switch self {
        case .number(_, _, let c), .string(_, let c), .name(_, let c), .constant(_, let c), .tuple(_, let c), .list(_, let c),
             .slice(_, _, _, let c), .attribute(_, _, let c), .call(_, _, _, let c), .subscripted(_, _, let c),
             .unary(_, _, let c), .binary(_, _, _, let c):
            return c
        }
    }
}

struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case number, string, name, op, end }
    let kind: Kind
    let text: String
    let column: Int
}

/// Splits an expression into tokens: numbers, quoted strings, names and operators.
func tokenize(_ source: String) throws -> [Token] {
    let chars = Array(source)
    var out: [Token] = []
    var i = 0
    let ops3 = ["//=", "**="], ops2 = ["**", "//", "==", "!=", "<=", ">="]
    while i < chars.count {
        let c = chars[i]
        let col = i + 1
        if c == " " || c == "\t" || c == "\n" { i += 1; continue }
        if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
            var j = i
            while j < chars.count && (chars[j].isNumber || chars[j] == "." || chars[j] == "_") { j += 1 }
            if j < chars.count && (chars[j] == "e" || chars[j] == "E") {
                var k = j + 1
                if k < chars.count && (chars[k] == "+" || chars[k] == "-") { k += 1 }
                if k < chars.count && chars[k].isNumber {
                    j = k
                    while j < chars.count && chars[j].isNumber { j += 1 }
                }
            }
            out.append(Token(kind: .number, text: String(chars[i..<j]).replacingOccurrences(of: "_", with: ""), column: col))
            i = j
            continue
        }
        if c == "\"" || c == "'" {
            var j = i + 1
            var text = ""
            while j < chars.count && chars[j] != c {
                if chars[j] == "\\" && j + 1 < chars.count {
                    let e = chars[j + 1]
                    text.append(e == "n" ? "\n" : e == "t" ? "\t" : e)
                    j += 2
                    continue
                }
                text.append(chars[j])
                j += 1
            }
            guard j < chars.count else { throw GyreExprError(.syntax, "this string is never closed (expected \(c))", column: col) }
            out.append(Token(kind: .string, text: text, column: col))
            i = j + 1
            continue
        }
        if c.isLetter || c == "_" {
            var j = i
            while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_") { j += 1 }
            out.append(Token(kind: .name, text: String(chars[i..<j]), column: col))
            i = j
            continue
        }
        let rest = String(chars[i..<Swift.min(i + 3, chars.count)])
        if let op = ops3.first(where: { rest.hasPrefix($0) }) {
            throw GyreExprError(.syntax, "'\(op)' assigns, and expressions cannot assign", column: col)
        }
        if let op = ops2.first(where: { rest.hasPrefix($0) }) {
            out.append(Token(kind: .op, text: op, column: col))
            i += 2
            continue
        }
        if "+-*/%()[],.:<>=&|~".contains(c) {
            if c == "=" { out.append(Token(kind: .op, text: "=", column: col)); i += 1; continue }
            out.append(Token(kind: .op, text: String(c), column: col))
            i += 1
            continue
        }
        throw GyreExprError(.syntax, "unexpected character '\(c)'", column: col)
    }
    out.append(Token(kind: .end, text: "", column: chars.count + 1))
    return out
}

/// A recursive-descent parser for Python's expression grammar (the part an xarray one-liner
/// uses): `or`/`and`/`not`, comparisons, `| & ~`, arithmetic, `**`, calls with keyword
/// arguments, attributes, subscripts with slices, tuples, lists and literals. No statements,
/// no lambdas, no comprehensions.
public struct Parser {
    var tokens: [Token]
    var at = 0

    public static func parse(_ source: String) throws -> Expr {
        var p = Parser(tokens: try tokenize(source))
        guard p.peek.kind != .end else { throw GyreExprError(.syntax, "the expression is empty", column: 1) }
        let e = try p.expression()
        guard p.peek.kind == .end else { throw GyreExprError(.syntax, "expected the end of the expression, found '\(p.peek.text)'", column: p.peek.column) }
        return e
    }

    var peek: Token { tokens[at] }
    mutating func next() -> Token { let t = tokens[at]; at += 1; return t }
    func isOp(_ s: String) -> Bool { peek.kind == .op && peek.text == s }
    func isName(_ s: String) -> Bool { peek.kind == .name && peek.text == s }
    mutating func expect(_ s: String, _ what: String) throws {
        guard isOp(s) else {
            throw GyreExprError(.syntax, "expected '\(s)' \(what), found \(peek.kind == .end ? "the end" : "'\(peek.text)'")", column: peek.column)
        }
        at += 1
    }

    mutating func expression() throws -> Expr { try orTest() }

    mutating func orTest() throws -> Expr {
        var e = try andTest()
        while isName("or") { let t = next(); e = .binary("or", e, try andTest(), column: t.column) }
        return e
    }
    mutating func andTest() throws -> Expr {
        var e = try notTest()
        while isName("and") { let t = next(); e = .binary("and", e, try notTest(), column: t.column) }
        return e
    }
    mutating func notTest() throws -> Expr {
        if isName("not") { let t = next(); return .unary("not", try notTest(), column: t.column) }
        return try comparison()
    }
    mutating func comparison() throws -> Expr {
        let e = try bitOr()
        if peek.kind == .op, ["<", ">", "==", "!=", "<=", ">="].contains(peek.text) {
            let t = next()
            let r = try bitOr()
            if peek.kind == .op, ["<", ">", "==", "!=", "<=", ">="].contains(peek.text) {
                throw GyreExprError(.syntax, "chained comparisons are not supported; combine them with '&'", column: peek.column)
            }
            return .binary(t.text, e, r, column: t.column)
        }
        return e
    }
    mutating func bitOr() throws -> Expr {
        var e = try bitAnd()
        while isOp("|") { let t = next(); e = .binary("|", e, try bitAnd(), column: t.column) }
        return e
    }
    mutating func bitAnd() throws -> Expr {
        var e = try arith()
        while isOp("&") { let t = next(); e = .binary("&", e, try arith(), column: t.column) }
        return e
    }
    mutating func arith() throws -> Expr {
        var e = try term()
        while isOp("+") || isOp("-") { let t = next(); e = .binary(t.text, e, try term(), column: t.column) }
        return e
    }
    mutating func term() throws -> Expr {
        var e = try factor()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") { let t = next(); e = .binary(t.text, e, try factor(), column: t.column) }
        return e
    }
    mutating func factor() throws -> Expr {
        if isOp("-") || isOp("+") || isOp("~") { let t = next(); return .unary(t.text, try factor(), column: t.column) }
        return try power()
    }
    mutating func power() throws -> Expr {
        let e = try postfix()
        if isOp("**") { let t = next(); return .binary("**", e, try factor(), column: t.column) }
        return e
    }
    mutating func postfix() throws -> Expr {
        var e = try atom()
        while true {
            if isOp("(") {
                let t = next()
                var args: [Expr] = [], keywords: [(String, Expr)] = []
                while !isOp(")") {
                    if peek.kind == .name, tokens[at + 1].kind == .op, tokens[at + 1].text == "=" {
                        let name = next().text
                        at += 1
                        keywords.append((name, try expression()))
                    } else {
                        guard keywords.isEmpty else {
                            throw GyreExprError(.syntax, "a positional argument cannot follow keyword arguments", column: peek.column)
                        }
                        args.append(try expression())
                    }
                    if isOp(",") { at += 1 } else { break }
                }
                try expect(")", "to close the call opened at column \(t.column)")
                e = .call(e, args: args, keywords: keywords, column: t.column)
            } else if isOp(".") {
                let t = next()
                guard peek.kind == .name else { throw GyreExprError(.syntax, "expected a name after '.'", column: peek.column) }
                e = .attribute(e, next().text, column: t.column)
            } else if isOp("[") {
                let t = next()
                var items: [Expr] = []
                repeat {
                    if isOp(",") { at += 1 }
                    if isOp("]") { break }
                    items.append(try subscriptItem())
                } while isOp(",")
                try expect("]", "to close the subscript opened at column \(t.column)")
                guard !items.isEmpty else { throw GyreExprError(.syntax, "empty subscript", column: t.column) }
                e = .subscripted(e, items.count == 1 ? items[0] : .tuple(items, column: t.column), column: t.column)
            } else {
                return e
            }
        }
    }
    mutating func subscriptItem() throws -> Expr {
        let col = peek.column
        var parts: [Expr?] = [nil]
        var sawColon = false
        if !isOp(":") { parts[0] = try expression() }
        while isOp(":") && parts.count < 3 {
            sawColon = true
            at += 1
            parts.append(isOp(":") || isOp(",") || isOp("]") ? nil : try expression())
        }
        guard sawColon else { return parts[0]! }
        while parts.count < 3 { parts.append(nil) }
        return .slice(parts[0], parts[1], parts[2], column: col)
    }
    mutating func atom() throws -> Expr {
        let t = peek
        switch t.kind {
        case .number:
            at += 1
            guard let v = Double(t.text) else { throw GyreExprError(.syntax, "'\(t.text)' is not a number", column: t.column) }
            let isInt = !t.text.contains(".") && !t.text.lowercased().contains("e")
            return .number(v, isInteger: isInt, column: t.column)
        case .string:
            at += 1
            var s = t.text
            while peek.kind == .string { s += next().text }  // adjacent literals concatenate
            return .string(s, column: t.column)
        case .name:
            at += 1
            switch t.text {
            case "True": return .constant(.true, column: t.column)
            case "False": return .constant(.false, column: t.column)
            case "None": return .constant(.none, column: t.column)
            case "lambda", "for", "if", "import", "def", "class", "while", "yield", "await", "del", "global", "exec":
                throw GyreExprError(.syntax, "'\(t.text)' is not allowed: expressions call Gyre's operations only", column: t.column)
            default: return .name(t.text, column: t.column)
            }
        case .op where t.text == "(":
            at += 1
            if isOp(")") { at += 1; return .tuple([], column: t.column) }
            let first = try expression()
            if isOp(")") { at += 1; return first }
            var items = [first]
            while isOp(",") {
                at += 1
                if isOp(")") { break }
                items.append(try expression())
            }
            try expect(")", "to close the parenthesis opened at column \(t.column)")
            return .tuple(items, column: t.column)
        case .op where t.text == "[":
            at += 1
            var items: [Expr] = []
            while !isOp("]") {
                items.append(try expression())
                if isOp(",") { at += 1 } else { break }
            }
            try expect("]", "to close the list opened at column \(t.column)")
            return .list(items, column: t.column)
        case .end:
            throw GyreExprError(.syntax, "the expression ends too early: expected a value", column: t.column)
        default:
            throw GyreExprError(.syntax, "expected a value (a name, number, string, '(' or '['), found '\(t.text)'", column: t.column)
        }
    }
}
