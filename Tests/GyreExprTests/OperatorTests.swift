import Foundation
import GyreArrays
import GyreData
import GyreExpr
import Testing

@Suite("Evaluator: numbers, booleans, literals and precedence by value")
struct ScalarTests {
    /// Source, value, whether the result is an integer. Values as Python computes them.
    static let numberCases: [(String, Double, Bool)] = [
        ("1 + 2 * 3", 7, true),
        ("(1 + 2) * 3", 9, true),
        ("10 - 4 - 3", 3, true),
        ("100 / 10 / 5", 2, false),
        ("10 / 4", 2.5, false),
        ("2 ** 3 ** 2", 512, true),
        ("(2 ** 3) ** 2", 64, true),
        ("-2 ** 2", -4, true),
        ("(-2) ** 2", 4, true),
        ("2 ** -1", 0.5, false),
        ("-2 ** -2", -0.25, false),
        ("2 ** 10 // 3", 341, true),
        ("7 // 2", 3, true),
        ("-7 // 2", -4, true),
        ("7.5 // 2", 3, false),
        ("7 % 3", 1, true),
        ("-7 % 3", 2, true),
        ("7 % -3", -2, true),
        ("-7.5 % 2", 0.5, false),
        ("2 * 3 % 4", 2, true),
        ("-3 + +2", -1, true),
        ("1_000 + 1e3", 2000, false),
        (".5 + 2E-1", 0.7, false),
        ("np.pi * 2", 2 * Double.pi, false),
        ("abs(-2.5)", 2.5, false),
        ("abs(-3)", 3, false),
        ("np.minimum(2, 3)", 2, true),
        ("np.maximum(2, 3.5)", 3.5, false),
        ("np.sqrt(16)", 4, false),
        ("np.floor(-2.5)", -3, false),
        ("a.size", 24, true),
        ("a.ndim", 2, true),
    ]

    @Test("arithmetic on numbers", arguments: numberCases)
    func numbers(source: String, value: Double, isInteger: Bool) async throws {
        try await expectNumber(source, in: try Fixture.dataset(), value, isInteger: isInteger)
    }

    static let boolCases: [(String, Bool)] = [
        ("1 < 2", true),
        ("2 <= 1", false),
        ("1 >= 1", true),
        ("1 + 1 == 2", true),          // comparisons below arithmetic
        ("2 * 3 > 5", true),
        ("1 != 1.0", false),
        ("not 1 < 2", false),          // not takes the whole comparison
        ("True and not False", true),
        ("not False and False", false), // (not False) and False
        ("True or False and False", true), // True or (False and False)
        ("False or True and False", false),
        ("not True or True", true),
        ("not (True or True)", false),
        ("2 > 1 and 3 > 2", true),
    ]

    @Test("comparisons and boolean words", arguments: boolCases)
    func booleans(source: String, value: Bool) async throws {
        #expect(try await evalBool(source, in: try Fixture.dataset()) == value, "\(source)")
    }

    @Test("np.nan, np.inf and np.pi")
    func constants() async throws {
        let ds = try Fixture.dataset()
        #expect(try await evalNumber("np.nan", in: ds).value.isNaN)
        #expect(try await evalNumber("numpy.nan", in: ds).value.isNaN)
        try await expectNumber("np.inf", in: ds, .infinity, isInteger: false)
        try await expectNumber("-np.inf", in: ds, -.infinity, isInteger: false)
        try await expectNumber("np.pi", in: ds, .pi, isInteger: false)
    }

    @Test("strings, None, tuples, lists and slices")
    func literals() async throws {
        let ds = try Fixture.dataset()
        #expect(try await evalString("'ab' \"c\"", in: ds) == "abc")
        guard case .none = try await evaluate("None", in: ds) else { Issue.record("None"); return }
        guard case .tuple(let t) = try await evaluate("(1, 'x')", in: ds), t.count == 2,
              case .number(1, true) = t[0], case .string("x") = t[1] else {
            Issue.record("(1, 'x')")
            return
        }
        guard case .tuple(let empty) = try await evaluate("()", in: ds), empty.isEmpty else { Issue.record("()"); return }
        guard case .list(let l) = try await evaluate("[1, 2.5]", in: ds), l.count == 2,
              case .number(1, true) = l[0], case .number(2.5, false) = l[1] else {
            Issue.record("[1, 2.5]")
            return
        }
        guard case .slice(.number(1, _), .number(3, _), .none) = try await evaluate("slice(1, 3)", in: ds) else {
            Issue.record("slice(1, 3)")
            return
        }
        guard case .slice(.none, .number(4, _), .none) = try await evaluate("slice(4)", in: ds) else {
            Issue.record("slice(4)")
            return
        }
        guard case .slice(.number(1, _), .number(9, _), .number(2, _)) = try await evaluate("slice(1, 9, 2)", in: ds) else {
            Issue.record("slice(1, 9, 2)")
            return
        }
    }

    @Test("names: ds, np, variables, coordinates, methods and the objects they make")
    func names() async throws {
        let ds = try Fixture.dataset()
        let expected: [(String, String)] = [
            ("ds", "dataset"),
            ("np", "module np"),
            ("numpy", "module np"),
            ("np.cos", "function np.cos"),
            ("slice", "function slice"),
            ("abs", "function abs"),
            ("a.mean", "method mean"),
            ("ds.mean", "method mean"),
            ("a.dt", ".dt accessor"),
            ("a.groupby(\"g\")", "groupby"),
            ("a.resample(time=\"2D\")", "groupby"),
            ("ds.groupby(\"time.month\")", "dataset groupby"),
            ("a.rolling(time=2)", "rolling"),
            ("a.weighted(w)", "weighted"),
            ("a.coarsen(time=2)", "coarsen"),
        ]
        for (source, want) in expected {
            #expect(kind(try await evaluate(source, in: ds)) == want, "\(source)")
        }
    }
}

@Suite("Evaluator: attributes and subscripts")
struct AttributeTests {
    @Test("name, dims, shape, size, ndim; ds.dims")
    func arrayAttributes() async throws {
        let ds = try Fixture.dataset()
        #expect(try await evalString("a.name", in: ds) == "a")
        #expect(try await evalString("ds.b.name", in: ds) == "b")
        #expect(try await evalString("(a + 1).name", in: ds) == "a")
        guard case .none = try await evaluate("(a + b).name", in: ds) else { Issue.record("(a + b).name should be None"); return }
        func names(_ v: ExprValue) -> [String]? {
            guard case .tuple(let t) = v else { return nil }
            return t.map { item -> String in
                if case .string(let s) = item { return s }
                return "?"
            }
        }
        #expect(names(try await evaluate("a.dims", in: ds)) == ["time", "x"])
        #expect(names(try await evaluate("w.dims", in: ds)) == ["x"])
        #expect(names(try await evaluate("ds.dims", in: ds)) == ["time", "x"])
        guard case .tuple(let shape) = try await evaluate("a.shape", in: ds), shape.count == 2,
              case .number(6, true) = shape[0], case .number(4, true) = shape[1] else {
            Issue.record("a.shape")
            return
        }
    }

    @Test("coordinates as attributes and as names")
    func coordinates() async throws {
        let ds = try Fixture.dataset()
        try await expectArray("a.x", in: ds, dims: ["x"], shape: [4], values: Fixture.xs)
        try await expectArray("x", in: ds, dims: ["x"], shape: [4], values: Fixture.xs)
        try await expectArray("a.g", in: ds, dims: ["x"], shape: [4], values: Fixture.gs.map { Double($0) })
        try await expectArray("ds.a.time.dt.day", in: ds, dims: ["time"], shape: [6], values: [30, 31, 1, 2, 3, 4])
        try await expectArray("time.dt.month", in: ds, dims: ["time"], shape: [6], values: Fixture.months.map { Double($0) })
    }

    @Test("ds[name] and ds[[names]]")
    func datasetSubscripts() async throws {
        let ds = try Fixture.dataset()
        try await expectArray("ds[\"b\"]", in: ds, dims: ["time", "x"], shape: [6, 4], values: flat(Fixture.b))
        let sub = try await evalDataset("ds[[\"a\", \"w\"]]", in: ds)
        #expect(Set(sub.dataVars.keys) == ["a", "w"])
        #expect(try sub.dataArray("w").doubles() == Fixture.ws)
    }

    @Test("positional subscripts: integers (negative too), slices with steps, lists, several axes")
    func arraySubscripts() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a
        try await expectArray("a[0]", in: ds, dims: ["x"], shape: [4], values: a[0])
        try await expectArray("a[-1]", in: ds, dims: ["x"], shape: [4], values: a[5])
        try await expectArray("a[1:3]", in: ds, dims: ["time", "x"], shape: [2, 4], values: flat([a[1], a[2]]))
        try await expectArray("a[::2]", in: ds, dims: ["time", "x"], shape: [3, 4], values: flat([a[0], a[2], a[4]]))
        try await expectArray("a[::-1]", in: ds, dims: ["time", "x"], shape: [6, 4], values: flat(a.reversed()))
        try await expectArray("a[:, 1]", in: ds, dims: ["time"], shape: [6], values: column(a, 1))
        try await expectArray("a[1, 2]", in: ds, dims: [], shape: [], values: [a[1][2]])
        try await expectArray("a[0][1]", in: ds, dims: [], shape: [], values: [a[0][1]])
        try await expectArray("a[[4, 0]]", in: ds, dims: ["time", "x"], shape: [2, 4], values: flat([a[4], a[0]]))
        try await expectArray("a[:, [3, 0]]", in: ds, dims: ["time", "x"], shape: [6, 2], values: a.flatMap { [$0[3], $0[0]] })
        try await expectArray("a[1:3, 2:]", in: ds, dims: ["time", "x"], shape: [2, 2], values: [a[1][2], a[1][3], a[2][2], a[2][3]])
        // The time coordinate follows the rows.
        let r = try await evalArray("a[::-1]", in: ds)
        #expect(try ticks(try r.coord("time")) == Array(try Fixture.times().reversed()))
    }
}

@Suite("Evaluator: operators on arrays")
struct ArrayOperatorTests {
    let ds: Dataset
    let a = Fixture.a, b = Fixture.b
    init() throws { ds = try Fixture.dataset() }

    @Test("arithmetic with numbers on either side")
    func withNumbers() async throws {
        let d: [String] = ["time", "x"], s = [6, 4]
        try await expectArray("a + 1", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0 + 1 }))
        try await expectArray("a - 1.5", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0 - 1.5 }))
        try await expectArray("2 - a", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { 2 - $0 }))
        try await expectArray("a * np.pi", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0 * .pi }))
        try await expectArray("1 / b", in: ds, dims: d, shape: s, values: flat(mapGrid(b) { 1 / $0 }))
        try await expectArray("a // 2", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { ($0 / 2).rounded(.down) }))
        try await expectArray("a % 3", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0 - 3 * ($0 / 3).rounded(.down) }))
        try await expectArray("b ** 2", in: ds, dims: d, shape: s, values: flat(mapGrid(b) { $0 * $0 }))
        try await expectArray("b ** 0.5", in: ds, dims: d, shape: s, values: flat(mapGrid(b) { $0.squareRoot() }))
        try await expectArray("2 ** b", in: ds, dims: d, shape: s, values: flat(mapGrid(b) { pow(2, $0) }))
        try await expectArray("-a", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { -$0 }))
        try await expectArray("+a", in: ds, dims: d, shape: s, values: flat(a))
        try await expectArray("-a ** 2", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { -($0 * $0) }))
        try await expectArray("a.mean() + 1", in: ds, dims: [], shape: [], values: [Ref.mean(flat(a)) + 1])
    }

    @Test("arithmetic between arrays, broadcast by dimension name")
    func betweenArrays() async throws {
        let d: [String] = ["time", "x"], s = [6, 4]
        try await expectArray("a + b", in: ds, dims: d, shape: s, values: flat(zipGrid(a, b, +)))
        try await expectArray("a - b * 2", in: ds, dims: d, shape: s, values: flat(zipGrid(a, b) { $0 - $1 * 2 }))
        try await expectArray("a / b", in: ds, dims: d, shape: s, values: flat(zipGrid(a, b, /)))
        try await expectArray("(a + b) * a", in: ds, dims: d, shape: s, values: flat(zipGrid(a, b) { ($0 + $1) * $0 }))
        let wGrid: Grid = (0..<6).map { _ in Fixture.ws }
        try await expectArray("a * w", in: ds, dims: d, shape: s, values: flat(zipGrid(a, wGrid, *)))
        // The first operand's dimensions come first.
        try await expectArray("w * a", in: ds, dims: ["x", "time"], shape: [4, 6], values: flat(transposed(zipGrid(a, wGrid, *))))
        try await expectArray("np.minimum(a, b)", in: ds, dims: d, shape: s,
                              values: flat(zipGrid(a, b) { $0.isNaN || $1.isNaN ? Double.nan : Swift.min($0, $1) }))
        try await expectArray("np.maximum(a, 0)", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0.isNaN ? Double.nan : Swift.max($0, 0) }))
    }

    @Test("comparisons give booleans (NaN compares false, except !=)")
    func comparisons() async throws {
        let d: [String] = ["time", "x"]
        try await expectBools("a > 0", in: ds, dims: d, values: flat(a).map { $0 > 0 })
        try await expectBools("a <= b", in: ds, dims: d, values: zip(flat(a), flat(b)).map { $0 <= $1 })
        try await expectBools("a == a", in: ds, dims: d, values: flat(a).map { !$0.isNaN })
        try await expectBools("a != a", in: ds, dims: d, values: flat(a).map { $0.isNaN })
        try await expectBools("1 < a", in: ds, dims: d, values: flat(a).map { 1 < $0 })
        try await expectBools("2 >= a", in: ds, dims: d, values: flat(a).map { 2 >= $0 })
        try await expectBools("a + 1 > b", in: ds, dims: d, values: zip(flat(a), flat(b)).map { $0 + 1 > $1 })
    }

    @Test("&, |, ~ and not on boolean arrays")
    func logical() async throws {
        let d: [String] = ["time", "x"]
        let pos = flat(a).map { $0 > 0 }, big = flat(b).map { $0 > 3 }
        try await expectBools("(a > 0) & (b > 3)", in: ds, dims: d, values: zip(pos, big).map { $0 && $1 })
        try await expectBools("(a > 0) | (b > 3)", in: ds, dims: d, values: zip(pos, big).map { $0 || $1 })
        try await expectBools("~(a > 0)", in: ds, dims: d, values: pos.map { !$0 })
        try await expectBools("not (a > 0)", in: ds, dims: d, values: pos.map { !$0 })
        try await expectBools("(a > 0) & True", in: ds, dims: d, values: pos)
        try await expectBools("(a > 0) | False", in: ds, dims: d, values: pos)
        let right = Fixture.xs.map { $0 > 25 }
        try await expectBools("(a > 0) | (x > 25)", in: ds, dims: d, values: pos.enumerated().map { $0.element || right[$0.offset % 4] })
    }

    @Test("groupby arithmetic: each position against its group's value")
    func groupbyArithmetic() async throws {
        let d: [String] = ["time", "x"], s = [6, 4]
        let a = self.a, b = self.b
        let monthMean: Grid = [1, 2].map { (m: Int) -> [Double] in
            (0..<4).map { (j: Int) -> Double in Ref.mean((0..<6).filter { Fixture.months[$0] == m }.map { a[$0][j] }) }
        }
        let anomaly: Grid = (0..<6).map { (t: Int) -> [Double] in
            (0..<4).map { (j: Int) -> Double in a[t][j] - monthMean[Fixture.months[t] - 1][j] }
        }
        try await expectArray("a.groupby(\"time.month\") - a.groupby(\"time.month\").mean()", in: ds, dims: d, shape: s, values: flat(anomaly))
        let gMax: Grid = a.map { (row: [Double]) -> [Double] in
            [Int64(1), 2].map { (k: Int64) -> Double in Ref.maximum((0..<4).filter { Fixture.gs[$0] == k }.map { row[$0] }) }
        }
        let ratio: Grid = (0..<6).map { (t: Int) -> [Double] in
            (0..<4).map { (j: Int) -> Double in a[t][j] / gMax[t][Int(Fixture.gs[j]) - 1] }
        }
        try await expectArray("a.groupby(\"g\") / a.groupby(\"g\").max()", in: ds, dims: d, shape: s, values: flat(ratio))
        try await expectArray("(ds.groupby(\"time.month\") - ds.groupby(\"time.month\").mean()).a", in: ds, dims: d, shape: s,
                              values: flat(anomaly))
        let bAgainstA: Grid = (0..<6).map { (t: Int) -> [Double] in
            (0..<4).map { (j: Int) -> Double in b[t][j] - monthMean[Fixture.months[t] - 1][j] }
        }
        try await expectArray("(ds.groupby(\"time.month\") - a.groupby(\"time.month\").mean()).b", in: ds, dims: d, shape: s,
                              values: flat(bAgainstA))
    }

    @Test("dataset arithmetic, variable by variable")
    func datasetArithmetic() async throws {
        let d: [String] = ["time", "x"], s = [6, 4]
        try await expectArray("(ds * 2).a", in: ds, dims: d, shape: s, values: flat(mapGrid(a) { $0 * 2 }))
        try await expectArray("(ds / 4).u", in: ds, dims: d, shape: s, values: flat(mapGrid(Fixture.u) { $0 / 4 }))
        try await expectArray("(ds + ds).b", in: ds, dims: d, shape: s, values: flat(mapGrid(b) { $0 + $0 }))
        let colMean = (0..<4).map { Ref.mean(column(a, $0)) }
        try await expectArray("(ds - ds.mean(\"time\")).a", in: ds, dims: d, shape: s,
                              values: flat(a.map { row in row.enumerated().map { $0.element - colMean[$0.offset] } }))
    }
}
