import GyreExpr
import Testing

/// The tree as an S-expression: `(op left right)` for binary operators, `(u- x)` for unary minus
/// (`(not x)` for `not`), `(. base name)`, `(call f args... key=value...)`, `([] base index)`,
/// `(slice start stop step)` with `_` for a missing part, `(tuple ...)`, `(list ...)`; integers
/// as `3`, other numbers as Swift prints a Double (`2.5`, `1000.0`), strings in single quotes.
/// With `columns`, every node is followed by `@column`.
func render(_ e: Expr, columns: Bool = false) -> String {
    func at(_ c: Int) -> String { columns ? "@\(c)" : "" }
    func r(_ x: Expr) -> String { render(x, columns: columns) }
    switch e {
    case .number(let v, let isInteger, let c):
        let text = isInteger ? String(Int(v)) : String(v)
        return "\(text)\(at(c))"
    case .string(let s, let c):
        return "'\(s)'\(at(c))"
    case .name(let n, let c):
        return "\(n)\(at(c))"
    case .constant(let k, let c):
        let s: String
        switch k {
        case .true: s = "True"
        case .false: s = "False"
        case .none: s = "None"
        }
        return "\(s)\(at(c))"
    case .tuple(let items, let c):
        let inner = items.map { " \(r($0))" }.joined()
        return "(tuple\(at(c))\(inner))"
    case .list(let items, let c):
        let inner = items.map { " \(r($0))" }.joined()
        return "(list\(at(c))\(inner))"
    case .slice(let start, let stop, let step, let c):
        let parts: [Expr?] = [start, stop, step]
        let inner = parts.map { part -> String in
            guard let part else { return " _" }
            return " \(r(part))"
        }.joined()
        return "(slice\(at(c))\(inner))"
    case .attribute(let base, let name, let c):
        return "(.\(at(c)) \(r(base)) \(name))"
    case .call(let f, let args, let keywords, let c):
        let positional = args.map { " \(r($0))" }.joined()
        let named = keywords.map { " \($0.0)=\(r($0.1))" }.joined()
        return "(call\(at(c)) \(r(f))\(positional)\(named))"
    case .subscripted(let base, let index, let c):
        return "([]\(at(c)) \(r(base)) \(r(index)))"
    case .unary(let op, let x, let c):
        let name = op == "not" ? "not" : "u\(op)"
        return "(\(name)\(at(c)) \(r(x)))"
    case .binary(let op, let lhs, let rhs, let c):
        return "(\(op)\(at(c)) \(r(lhs)) \(r(rhs)))"
    }
}

@Suite("Parser: precedence, associativity and the shape of the tree")
struct ParserTests {
    /// Source and expected tree, as Python's grammar groups them (the parser follows it: `|` and `&`
    /// bind tighter than comparisons, `not` looser).
    static let precedenceCases: [(String, String)] = [
        // Arithmetic: * / // % above + -, both left-associative.
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b * c", "(* (/ a b) c)"),
        ("a // b % c", "(% (// a b) c)"),
        // ** is right-associative and binds tighter than unary minus on its left, looser on its right.
        ("a ** b ** c", "(** a (** b c))"),
        ("-a ** 2", "(u- (** a 2))"),
        ("a ** -b", "(** a (u- b))"),
        ("-a * b", "(* (u- a) b)"),
        ("--a", "(u- (u- a))"),
        ("+a - -b", "(- (u+ a) (u- b))"),
        // Bitwise: ~ (unary) above &, & above |, | above comparisons.
        ("~a & b", "(& (u~ a) b)"),
        ("a | b & c", "(| a (& b c))"),
        ("a & b | c", "(| (& a b) c)"),
        ("a == b | c", "(== a (| b c))"),
        ("a >= b & c", "(>= a (& b c))"),
        ("a < b + 1", "(< a (+ b 1))"),
        ("a != -b", "(!= a (u- b))"),
        // Boolean words: not above and above or; not takes a whole comparison.
        ("not a == b", "(not (== a b))"),
        ("not a and b", "(and (not a) b)"),
        ("a or b and c", "(or a (and b c))"),
        ("not not a", "(not (not a))"),
        ("a and not b or c", "(or (and a (not b)) c)"),
        // Parentheses, tuples and lists.
        ("(a + b) * c", "(* (+ a b) c)"),
        ("((a))", "a"),
        ("(a, b)", "(tuple a b)"),
        ("(a,)", "(tuple a)"),
        ("()", "(tuple)"),
        ("[a, b]", "(list a b)"),
        ("[]", "(list)"),
        ("[a,]", "(list a)"),
        // Postfix (attributes, calls, subscripts) above everything.
        ("a.b ** 2", "(** (. a b) 2)"),
        ("-a.b", "(u- (. a b))"),
        ("a[0] ** 2", "(** ([] a 0) 2)"),
        ("np.cos(a) ** 2 + np.sin(a) ** 2", "(+ (** (call (. np cos) a) 2) (** (call (. np sin) a) 2))"),
    ]

    @Test("operator precedence and associativity", arguments: precedenceCases)
    func precedence(source: String, expected: String) throws {
        #expect(render(try Parser.parse(source)) == expected, "\(source)")
    }

    static let literalsCases: [(String, String)] = [
        ("1", "1"),
        ("2.5", "2.5"),
        ("1_000", "1000"),
        ("1e3", "1000.0"),
        ("2E-2", "0.02"),
        (".5", "0.5"),
        ("'s'", "'s'"),
        ("\"s\"", "'s'"),
        ("'a' \"b\"", "'ab'"),          // adjacent literals concatenate
        ("'it\\'s'", "'it's'"),          // an escaped quote
        ("'a\\nb'", "'a\nb'"),           // \n is a newline
        ("True", "True"),
        ("False", "False"),
        ("None", "None"),
        ("π", "π"),                      // letters beyond ASCII make names
        ("_x1", "_x1"),
    ]

    @Test("literals and names", arguments: literalsCases)
    func literals(source: String, expected: String) throws {
        #expect(render(try Parser.parse(source)) == expected, "\(source)")
    }

    static let postfixCases: [(String, String)] = [
        ("a.b", "(. a b)"),
        ("a.b.c", "(. (. a b) c)"),
        ("a.mean()", "(call (. a mean))"),
        ("a.mean('time')", "(call (. a mean) 'time')"),
        ("f(1, 2)", "(call f 1 2)"),
        ("f(1, k=2)", "(call f 1 k=2)"),
        ("f(k=1, j=a + b)", "(call f k=1 j=(+ a b))"),
        ("f(1,)", "(call f 1)"),
        ("f(x = 1)", "(call f x=1)"),
        ("f(a == 1)", "(call f (== a 1))"),       // == is a comparison, not a keyword
        ("f(x=slice(1, 2))", "(call f x=(call slice 1 2))"),
        ("a.groupby('time.month').mean()", "(call (. (call (. a groupby) 'time.month') mean))"),
        ("ds['a'].mean()", "(call (. ([] ds 'a') mean))"),
        ("a[0]", "([] a 0)"),
        ("a[-1]", "([] a (u- 1))"),
        ("a[0, 1]", "([] a (tuple 0 1))"),
        ("a[1:2]", "([] a (slice 1 2 _))"),
        ("a[1:]", "([] a (slice 1 _ _))"),
        ("a[:]", "([] a (slice _ _ _))"),
        ("a[::2]", "([] a (slice _ _ 2))"),
        ("a[::]", "([] a (slice _ _ _))"),
        ("a[1:2:3]", "([] a (slice 1 2 3))"),
        ("a[:, 0]", "([] a (tuple (slice _ _ _) 0))"),
        ("a[[0, 2]]", "([] a (list 0 2))"),
        ("a[0][1]", "([] ([] a 0) 1)"),
    ]

    @Test("attributes, calls with keyword arguments, subscripts and slices", arguments: postfixCases)
    func postfix(source: String, expected: String) throws {
        #expect(render(try Parser.parse(source)) == expected, "\(source)")
    }

    static let columnsCases: [(String, String)] = [
        ("a + b * c", "(+@3 a@1 (*@7 b@5 c@9))"),
        ("-a ** 2", "(u-@1 (**@4 a@2 2@7))"),
        ("f(x, k=a[1:2])", "(call@2 f@1 x@3 k=([]@9 a@8 (slice@10 1@10 2@12 _)))"),
        ("ds.a.mean('t') > 0", "(>@16 (call@10 (.@5 (.@3 ds@1 a) mean) 't'@11) 0@18)"),
        ("(a, b)", "(tuple@1 a@2 b@5)"),
        ("not a or b", "(or@7 (not@1 a@5) b@10)"),
        ("a[:, 0]", "([]@2 a@1 (tuple@2 (slice@3 _ _ _) 0@6))"),
        // Tabs and newlines are spaces; columns count characters (one for e + combining accent).
        ("\ta +\n b", "(+@4 a@2 b@7)"),
        ("'e\u{301}' + b", "(+@5 'e\u{301}'@1 b@7)"),
    ]

    @Test("every node keeps the 1-based column it starts at (operators: the operator's)", arguments: columnsCases)
    func nodeColumns(source: String, expected: String) throws {
        #expect(render(try Parser.parse(source), columns: true) == expected, "\(source)")
    }

    @Test("Expr.column is the column of the node itself")
    func exprColumn() throws {
        #expect(try Parser.parse("a + b").column == 3)
        #expect(try Parser.parse("  a").column == 3)
        #expect(try Parser.parse("a.mean()").column == 7)
        #expect(try Parser.parse("a.mean").column == 2)
        #expect(try Parser.parse("a[0]").column == 2)
        #expect(try Parser.parse("-a").column == 1)
        #expect(try Parser.parse("(1)").column == 2)   // parentheses leave no node of their own
    }

    @Test("keyword arguments keep their order and names; positional ones come first")
    func keywordArguments() throws {
        guard case .call(let f, let args, let keywords, let col) = try Parser.parse("a.sel(x=1, time='2001', method = 'nearest')") else {
            Issue.record("not a call")
            return
        }
        #expect(render(f) == "(. a sel)")
        #expect(args.isEmpty)
        #expect(keywords.map { $0.0 } == ["x", "time", "method"])
        #expect(keywords.map { render($0.1) } == ["1", "'2001'", "'nearest'"])
        #expect(col == 6)
    }
}
