import GyreData
import GyreExpr
import Testing

/// One malformed expression: the error code, the 1-based column it must point at and a piece of
/// its message. Columns were worked out from the parser and evaluator: a call's errors point at
/// its `(`, an attribute's at its `.`, a subscript's at its `[`, an operator's at the operator, a
/// bad argument (where the evaluator names one) at that argument's node, which for an operator
/// expression is the operator.
struct BadExpression: Sendable, CustomStringConvertible {
    let source: String
    let code: GyreExprError.Code
    let column: Int
    let fragment: String
    init(_ source: String, _ code: GyreExprError.Code, _ column: Int, _ fragment: String) {
        self.source = source
        self.code = code
        self.column = column
        self.fragment = fragment
    }
    var description: String { source }
}

/// Evaluates `f.source` on `ds` and checks the error it must raise.
func expectFailure(_ f: BadExpression, in ds: Dataset, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        let v = try await evaluate(f.source, in: ds)
        Issue.record("\(f.source) should fail, but gave \(kind(v))", sourceLocation: sourceLocation)
    } catch let e as GyreExprError {
        #expect(e.code == f.code, "\(f.source): code '\(e.code)', expected '\(f.code)': \(e.message)", sourceLocation: sourceLocation)
        #expect(e.column == f.column, "\(f.source): column \(e.column), expected \(f.column): \(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains(f.fragment), "\(f.source): message \"\(e.message)\" lacks \"\(f.fragment)\"", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(f.source): \(error) is not a GyreExprError", sourceLocation: sourceLocation)
    }
}

@Suite("Errors: code, message and the column they point at")
struct ErrorTests {
    static let syntaxCases: [BadExpression] = [
        BadExpression("", .syntax, 1, "the expression is empty"),
        BadExpression("   ", .syntax, 1, "the expression is empty"),
        // Unbalanced brackets: the column of what was found instead (the end: one past the last character).
        BadExpression("(1 + 2", .syntax, 7, "expected ')' to close the parenthesis opened at column 1, found the end"),
        BadExpression("(1, 2", .syntax, 6, "to close the parenthesis opened at column 1, found the end"),
        BadExpression("1 + 2)", .syntax, 6, "expected the end of the expression, found ')'"),
        BadExpression("f(1, 2", .syntax, 7, "expected ')' to close the call opened at column 2, found the end"),
        BadExpression("f(a b)", .syntax, 5, "to close the call opened at column 2, found 'b'"),
        BadExpression("sst.mean(\"time\"", .syntax, 16, "to close the call opened at column 9"),
        BadExpression("a[1", .syntax, 4, "expected ']' to close the subscript opened at column 2, found the end"),
        BadExpression("a[1:2:3:4]", .syntax, 8, "to close the subscript opened at column 2, found ':'"),
        BadExpression("[1, 2", .syntax, 6, "expected ']' to close the list opened at column 1, found the end"),
        BadExpression("[1 2]", .syntax, 4, "to close the list opened at column 1, found '2'"),
        BadExpression("a.sel(x=1:2)", .syntax, 10, "to close the call opened at column 6, found ':'"),
        // Trailing operators: the end.
        BadExpression("1 +", .syntax, 4, "the expression ends too early: expected a value"),
        BadExpression("1 +\n", .syntax, 5, "the expression ends too early"),
        BadExpression("-", .syntax, 2, "the expression ends too early"),
        BadExpression("not", .syntax, 4, "the expression ends too early"),
        BadExpression("a.b(", .syntax, 5, "the expression ends too early"),
        BadExpression("'e\u{301}' +", .syntax, 6, "the expression ends too early"),   // é is one character
        // A token where a value must be.
        BadExpression("1 + * 2", .syntax, 5, "expected a value (a name, number, string, '(' or '['), found '*'"),
        BadExpression("f(1,,2)", .syntax, 5, "found ','"),
        BadExpression("f(,)", .syntax, 3, "found ','"),
        BadExpression("a[1,,2]", .syntax, 5, "found ','"),
        BadExpression("a += 1", .syntax, 4, "found '='"),
        // Something after a complete expression.
        BadExpression("a, b", .syntax, 2, "expected the end of the expression, found ','"),
        BadExpression("a = 1", .syntax, 3, "expected the end of the expression, found '='"),
        BadExpression("x if y else z", .syntax, 3, "found 'if'"),
        BadExpression("0x10", .syntax, 2, "found 'x10'"),
        BadExpression("a.1", .syntax, 2, "found '.1'"),   // ".1" is a number
        // Attributes.
        BadExpression("a.", .syntax, 3, "expected a name after '.'"),
        BadExpression("a..b", .syntax, 3, "expected a name after '.'"),
        // Chained comparisons: the second operator (& binds tighter than >, so this chains too).
        BadExpression("a > b > c", .syntax, 7, "chained comparisons are not supported; combine them with '&'"),
        BadExpression("a < b == c", .syntax, 7, "chained comparisons are not supported"),
        BadExpression("a > 0 & b > 2", .syntax, 11, "chained comparisons are not supported"),
        // Keywords.
        BadExpression("f(x=1, 2)", .syntax, 8, "a positional argument cannot follow keyword arguments"),
        BadExpression("f(1=2)", .syntax, 4, "to close the call opened at column 2, found '='"),
        // Statements and assignments.
        BadExpression("a **= 2", .syntax, 3, "'**=' assigns, and expressions cannot assign"),
        BadExpression("a //= 2", .syntax, 3, "'//=' assigns"),
        BadExpression("lambda x: x", .syntax, 1, "'lambda' is not allowed"),
        BadExpression("a + lambda", .syntax, 5, "'lambda' is not allowed"),
        BadExpression("import os", .syntax, 1, "'import' is not allowed"),
        // Tokens.
        BadExpression("'abc", .syntax, 1, "this string is never closed (expected ')"),
        BadExpression("a + \"b", .syntax, 5, "this string is never closed (expected \")"),
        BadExpression("a $ b", .syntax, 3, "unexpected character '$'"),
        BadExpression("a ! b", .syntax, 3, "unexpected character '!'"),
        BadExpression("1.2.3", .syntax, 1, "'1.2.3' is not a number"),
        BadExpression("x + ½", .syntax, 5, "'½' is not a number"),
        // Subscripts.
        BadExpression("a[]", .syntax, 2, "empty subscript"),
        BadExpression("a[,]", .syntax, 2, "empty subscript"),
    ]

    @Test("syntax errors from Parser.parse", arguments: syntaxCases)
    func parse(_ f: BadExpression) {
        do {
            let e = try Parser.parse(f.source)
            Issue.record("\(f.source) should not parse, but gave \(render(e))")
        } catch let e as GyreExprError {
            #expect(e.code == .syntax, "\(f.source): \(e.code)")
            #expect(e.column == f.column, "\(f.source): column \(e.column), expected \(f.column): \(e.message)")
            #expect(e.message.contains(f.fragment), "\(f.source): message \"\(e.message)\" lacks \"\(f.fragment)\"")
        } catch {
            Issue.record("\(f.source): \(error) is not a GyreExprError")
        }
    }

    @Test("the evaluator reports the same syntax errors", arguments: syntaxCases)
    func parseThroughEvaluator(_ f: BadExpression) async throws {
        await expectFailure(f, in: try Fixture.dataset())
    }

    static let evaluationCases: [BadExpression] = [
        // Unknown names, attributes, methods and functions.
        BadExpression("zz + 1", .name, 1, "unknown name 'zz'"),
        BadExpression("a + zz", .name, 5, "unknown name 'zz'"),
        BadExpression("np.foo(a)", .name, 3, "np.foo is not available"),
        BadExpression("a.meen()", .name, 2, "a DataArray has no attribute or coordinate 'meen'"),
        BadExpression("ds.zz", .name, 3, "the dataset has no variable or method 'zz'"),
        BadExpression("ds[\"zz\"]", .name, 3, "the dataset has no variable 'zz'"),
        BadExpression("time.dt.mnth", .name, 8, ".dt has no field 'mnth'"),
        BadExpression("a.groupby(\"g\").foo()", .name, 15, "a GroupBy has no method 'foo'"),
        BadExpression("ds.groupby(\"time.month\").foo()", .name, 25, "a GroupBy has no method 'foo'"),
        BadExpression("a.rolling(time=2).median()", .name, 18, "a Rolling has no method 'median'"),
        BadExpression("a.weighted(w).max()", .name, 14, "a Weighted has no method 'max'"),
        BadExpression("a.coarsen(time=2).prod()", .name, 18, "a Coarsen has no method 'prod'"),
        BadExpression("a.shape.x", .type, 8, "a tuple has no attribute 'x'"),
        // Calling what cannot be called.
        BadExpression("ds(1)", .type, 3, "a Dataset cannot be called"),
        BadExpression("1(2)", .type, 2, "an integer cannot be called"),
        BadExpression("np.nan(1)", .type, 7, "a number cannot be called"),
        // Wrong argument counts: the first argument too many, or the call.
        BadExpression("a.mean(\"time\", \"x\")", .type, 16, "mean takes at most 1 positional argument, got 2"),
        BadExpression("np.sqrt(a, b)", .type, 12, "np.sqrt takes at most 1 positional argument, got 2"),
        BadExpression("abs(a, b)", .type, 8, "abs takes at most 1 positional argument, got 2"),
        BadExpression("slice(1, 2, 3, 4)", .type, 16, "slice takes at most 3 positional arguments, got 4"),
        BadExpression("slice()", .type, 6, "slice takes 1 to 3 arguments"),
        BadExpression("np.sqrt()", .type, 8, "np.sqrt takes one argument"),
        BadExpression("np.where(a > 0, a)", .type, 9, "np.where takes (condition, x, y)"),
        BadExpression("a.quantile()", .type, 11, "quantile needs q"),
        BadExpression("a.groupby()", .type, 10, "groupby needs a key"),
        BadExpression("a.weighted()", .type, 11, "weighted needs weights"),
        BadExpression("a.argmin()", .type, 9, "argmin needs a dimension"),
        BadExpression("a.dropna()", .type, 9, "dropna needs a dimension"),
        BadExpression("a.fillna()", .type, 9, "fillna needs a value"),
        BadExpression("a.rolling(time=2, x=2).mean()", .type, 10, "rolling takes one dimension=window"),
        BadExpression("a.shift(time=1, x=1)", .type, 8, "shift takes one dimension=periods"),
        BadExpression("a.resample(time=\"2D\", x=\"1D\")", .type, 11, "resample takes one dimension=frequency"),
        // Bad keywords.
        BadExpression("a.mean(foo=1)", .type, 7, "mean got an unexpected keyword argument 'foo'; it takes ddof, dim, skipna"),
        BadExpression("a.mean(ddof=1)", .type, 7, "mean got an unexpected keyword argument 'ddof'"),
        BadExpression("a.isel(y=0)", .type, 7, "isel got an unexpected keyword argument 'y'"),
        BadExpression("slice(1, k=2)", .type, 6, "slice got an unexpected keyword argument 'k'"),
        BadExpression("a.isel(x=0, x=1)", .syntax, 7, "keyword argument 'x' is repeated"),
        // Wrong argument types.
        BadExpression("a.mean(dim=3)", .type, 7, "dimensions must be a name or a tuple of names, not an integer"),
        BadExpression("a.mean(3)", .type, 8, "dimensions must be a name or a tuple of names, not an integer"),
        BadExpression("a.mean(dim=(\"time\", 1))", .type, 7, "a dimension must be a string, not an integer"),
        BadExpression("a.mean(skipna=1)", .type, 7, "skipna must be True or False, not an integer"),
        BadExpression("a.rolling(time=\"x\").mean()", .type, 10, "the window must be an integer, not a string"),
        BadExpression("a.rolling(time=2, center=1).mean()", .type, 10, "center must be True or False, not an integer"),
        BadExpression("np.sqrt(\"s\")", .type, 9, "np.sqrt needs a DataArray or a number, not a string"),
        BadExpression("np.isnan(1.0)", .type, 10, "np.isnan needs a DataArray"),
        BadExpression("np.where(a > 0, a, \"s\")", .type, 20, "expected a DataArray or a number, not a string"),
        BadExpression("a.where(a)", .type, 9, "where needs a boolean condition, not float64"),
        BadExpression("a.where(a + 1)", .type, 11, "where needs a boolean condition"),   // the argument's node is its '+'
        BadExpression("a.sel(x=slice(10.0, 20.0, 2))", .type, 6, "label slices take no step"),
        BadExpression("a.astype(\"float16\")", .type, 9, "astype needs a dtype name"),
        BadExpression("a.astype(1)", .type, 9, "dtype must be a string, not an integer"),
        BadExpression("a.groupby(1)", .type, 10, "the group key must be a string, not an integer"),
        BadExpression("a.rename(1)", .type, 9, "the new name must be a string, not an integer"),
        BadExpression("a.transpose(1)", .type, 12, "a dimension must be a string, not an integer"),
        BadExpression("a.coarsen(time=2).mean(\"x\")", .type, 23, "coarsen reductions take no dimensions"),
        // Subscripts.
        BadExpression("a[1, 2, 3]", .type, 2, "3 indices for an array of 2 dimensions"),
        BadExpression("a[\"x\"]", .type, 2, "positions are integers, slices or lists of integers, not a string"),
        BadExpression("a[1.5]", .type, 2, "a position must be an integer, not a number"),
        BadExpression("ds[1]", .type, 3, "a Dataset cannot be subscripted with an integer"),
        BadExpression("ds[[\"a\", 1]]", .type, 3, "ds[[...]] takes variable names (strings), not an integer"),
        // Operators.
        BadExpression("a + \"s\"", .type, 3, "'+' is not defined between a DataArray and a string"),
        BadExpression("1 + \"s\"", .type, 3, "'+' is not defined between an integer and a string"),
        BadExpression("-\"s\"", .type, 1, "'-' cannot apply to a string"),
        BadExpression("~a", .type, 1, "'~' needs booleans, not float64"),
        BadExpression("not a", .type, 1, "'not' needs booleans, not float64"),
        BadExpression("a and b", .type, 3, "'and' works on True/False; for arrays use '&'"),
        BadExpression("-(a > 0)", .evaluation, 1, "negative is not supported for bool"),
        // The data model refusing: evaluation errors at the call that asked.
        BadExpression("a.mean(\"tim\")", .evaluation, 8, "mean: dimension 'tim' not found"),
        BadExpression("a.diff(\"y\")", .evaluation, 8, "diff: dimension 'y' not found"),
        BadExpression("a.transpose(\"y\")", .evaluation, 12, "dimension 'y' not found"),
        BadExpression("ds.mean(\"y\")", .evaluation, 8, "dimension 'y' not found"),
        BadExpression("a.groupby(\"g\").mean(\"time\")", .evaluation, 20, "groupby and resample reductions reduce over 'x' only"),
        BadExpression("a.groupby(\"time.mnth\")", .evaluation, 10, "'mnth' is not a datetime field"),
        BadExpression("a.resample(time=\"2X\")", .evaluation, 11, "is not a frequency"),
        BadExpression("a.quantile(1.5, \"x\")", .evaluation, 11, "quantile q must be between 0 and 1"),
        BadExpression("a.sel(x=99.0)", .evaluation, 6, "not found in index 'x'"),
        BadExpression("a.sel(x=25.0, method=\"closest\")", .evaluation, 6, "unknown method for sel"),
        BadExpression("a.sel(x=21.0, method=\"nearest\", tolerance=0.5)", .evaluation, 6, "within tolerance"),
        BadExpression("a.isel(time=10)", .evaluation, 7, "index 10 is out of bounds"),
        BadExpression("a.interp(x=25.0, method=\"cubic\")", .evaluation, 9, "interp supports method=\"linear\" only"),
        BadExpression("a.coarsen(time=4).mean()", .evaluation, 23, "is not a multiple of 4"),
        BadExpression("a.rolling(time=2, min_periods=3).mean()", .evaluation, 38, "min_periods 3 must be between 0 and the window 2"),
        BadExpression("a.dt.month", .evaluation, 5, "'.dt' needs datetime values"),
    ]

    @Test("evaluation errors: type, name and data-model errors", arguments: evaluationCases)
    func evaluation(_ f: BadExpression) async throws {
        await expectFailure(f, in: try Fixture.dataset())
    }

    @Test("the description and the caret line point at the column")
    func pointing() throws {
        do {
            _ = try Parser.parse("1 +")
            Issue.record("1 + should not parse")
        } catch let e as GyreExprError {
            #expect(e.description == "syntax error at column 4: the expression ends too early: expected a value")
            #expect(e.pointing(into: "1 +") == "1 +\n   ^\nsyntax error at column 4: the expression ends too early: expected a value")
            #expect(e.cause == nil)
        }
    }

    @Test("an error of the data model is kept as the cause")
    func cause() async throws {
        let ds = try Fixture.dataset()
        for source in ["a.sel(x=99.0)", "a.coarsen(time=4).mean()", "a.isel(time=10)"] {
            do {
                _ = try await evaluate(source, in: ds)
                Issue.record("\(source) should fail")
            } catch let e as GyreExprError {
                #expect(e.code == .evaluation, "\(source)")
                #expect(e.cause is GyreDataError, "\(source): cause \(String(describing: e.cause))")
            }
        }
    }

    @Test("a failing expression leaves the evaluator usable")
    func recovers() async throws {
        let ds = try Fixture.dataset()
        let ev = Evaluator(dataset: ds)
        await #expect(throws: GyreExprError.self) { try await ev.evaluate("a.meen()") }
        guard case .number(let n, _) = try await ev.evaluate("1 + 1") else {
            Issue.record("1 + 1 is not a number")
            return
        }
        #expect(n == 2)
    }
}
