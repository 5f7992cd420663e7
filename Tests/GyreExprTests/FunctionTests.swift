import Foundation
import GyreArrays
import GyreData
import GyreExpr
import Testing

// Every function and method of Calls.swift, evaluated on the fixture and compared with a
// reference computed here with loops over the fixture's values.

let timeX: [String] = ["time", "x"]
let gridShape = [6, 4]

@Suite("np functions and builtins")
struct NumpyFunctionTests {
    static let unaryNames = ["cos", "sin", "tan", "arcsin", "arccos", "arctan", "deg2rad", "rad2deg", "radians", "degrees",
                             "sqrt", "log", "log10", "log2", "log1p", "exp", "expm1", "abs", "absolute", "fabs",
                             "floor", "ceil", "round", "square", "sign", "negative"]

    /// The variable each function is applied to (inside its domain) and the reference.
    static func reference(_ name: String) -> (variable: String, grid: Grid, f: (Double) -> Double) {
        let a = Fixture.a, b = Fixture.b, u = Fixture.u
        switch name {
        case "cos": return ("a", a, { cos($0) })
        case "sin": return ("a", a, { sin($0) })
        case "tan": return ("a", a, { tan($0) })
        case "arcsin": return ("u", u, { asin($0) })
        case "arccos": return ("u", u, { acos($0) })
        case "arctan": return ("a", a, { atan($0) })
        case "deg2rad", "radians": return ("a", a, { $0 * (Double.pi / 180) })
        case "rad2deg", "degrees": return ("a", a, { $0 * (180 / Double.pi) })
        case "sqrt": return ("b", b, { $0.squareRoot() })
        case "log": return ("b", b, { log($0) })
        case "log10": return ("b", b, { log10($0) })
        case "log2": return ("b", b, { log2($0) })
        case "log1p": return ("b", b, { log1p($0) })
        case "exp": return ("a", a, { exp($0) })
        case "expm1": return ("a", a, { expm1($0) })
        case "abs", "absolute", "fabs": return ("a", a, { Swift.abs($0) })
        case "floor": return ("a", a, { $0.rounded(.down) })
        case "ceil": return ("a", a, { $0.rounded(.up) })
        case "round": return ("a", a, { $0.rounded(.toNearestOrEven) })   // halves to even, as NumPy
        case "square": return ("a", a, { $0 * $0 })
        case "sign": return ("a", a, { x -> Double in x.isNaN ? .nan : (x > 0 ? 1 : (x < 0 ? -1 : 0)) })
        case "negative": return ("a", a, { -$0 })
        default: fatalError("no reference for np.\(name)")
        }
    }

    @Test("np.<f>(array) and np.<f>(number)", arguments: unaryNames)
    func unary(name: String) async throws {
        let ds = try Fixture.dataset()
        let (variable, grid, f) = Self.reference(name)
        try await expectArray("np.\(name)(\(variable))", in: ds, dims: timeX, shape: gridShape, values: flat(mapGrid(grid, f)), tolerance: 1e-12)
        try await expectNumber("np.\(name)(0.25)", in: ds, f(0.25), isInteger: false)
        try await expectNumber("numpy.\(name)(0.75)", in: ds, f(0.75), isInteger: false)
    }

    @Test("np.isnan and np.isfinite")
    func isnanIsfinite() async throws {
        let ds = try Fixture.dataset()
        try await expectBools("np.isnan(a)", in: ds, dims: timeX, values: flat(Fixture.a).map(\.isNaN))
        try await expectBools("np.isnan(a + b)", in: ds, dims: timeX, values: zip(flat(Fixture.a), flat(Fixture.b)).map { ($0 + $1).isNaN })
        // a is -4.5 at two places: 1 / 0 is infinite there.
        let inverse = flat(Fixture.a).map { 1 / ($0 + 4.5) }
        #expect(inverse.contains { $0.isInfinite } && inverse.contains { $0.isNaN })
        try await expectBools("np.isfinite(1 / (a + 4.5))", in: ds, dims: timeX, values: inverse.map(\.isFinite))
    }

    @Test("np.where(condition, x, y) with arrays and numbers")
    func npWhere() async throws {
        let ds = try Fixture.dataset()
        let a = flat(Fixture.a), b = flat(Fixture.b)
        try await expectArray("np.where(a > 0, a, 0)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0 > 0 ? $0 : 0 })
        try await expectArray("np.where(a > 0, a, b)", in: ds, dims: timeX, shape: gridShape, values: zip(a, b).map { $0 > 0 ? $0 : $1 })
        let signs = try await expectArray("np.where(b > 3, 1, -1)", in: ds, dims: timeX, shape: gridShape, values: b.map { $0 > 3 ? 1 : -1 })
        #expect(signs.dtype == .int64)
    }

    @Test("np.minimum and np.maximum propagate NaN")
    func minimumMaximum() async throws {
        let ds = try Fixture.dataset()
        let a = flat(Fixture.a), b = flat(Fixture.b)
        try await expectArray("np.minimum(a, b)", in: ds, dims: timeX, shape: gridShape,
                              values: zip(a, b).map { $0.isNaN || $1.isNaN ? Double.nan : Swift.min($0, $1) })
        try await expectArray("np.maximum(a, 1)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0.isNaN ? Double.nan : Swift.max($0, 1) })
        try await expectArray("np.maximum(0, a)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0.isNaN ? Double.nan : Swift.max(0, $0) })
        try await expectNumber("np.minimum(-1, 2.5)", in: ds, -1, isInteger: false)
    }

    @Test("abs(x), the builtin")
    func builtinAbs() async throws {
        let ds = try Fixture.dataset()
        try await expectArray("abs(a)", in: ds, dims: timeX, shape: gridShape, values: flat(mapGrid(Fixture.a) { Swift.abs($0) }))
        try await expectArray("abs(a - b)", in: ds, dims: timeX, shape: gridShape, values: flat(zipGrid(Fixture.a, Fixture.b) { Swift.abs($0 - $1) }))
        try await expectNumber("abs(-4)", in: ds, 4, isInteger: false)
    }
}

@Suite("DataArray reductions")
struct ReductionTests {
    @Test("over one dimension (by position and by keyword), several, and all",
          arguments: ["mean", "sum", "min", "max", "std", "var", "count", "median", "prod"])
    func reductions(name: String) async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a, f = Ref.reduction(name)
        try await expectArray("a.\(name)(\"time\")", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { f(column(a, $0)) })
        try await expectArray("a.\(name)(dim=\"x\")", in: ds, dims: ["time"], shape: [6], values: a.map(f))
        try await expectArray("a.\(name)()", in: ds, dims: [], shape: [], values: [f(flat(a))])
        try await expectArray("a.\(name)((\"time\", \"x\"))", in: ds, dims: [], shape: [], values: [f(flat(a))])
        try await expectArray("a.\(name)(dim=[\"x\", \"time\"])", in: ds, dims: [], shape: [], values: [f(flat(a))])
        try await expectArray("b.\(name)(\"x\")", in: ds, dims: ["time"], shape: [6], values: Fixture.b.map(f))
    }

    @Test("ddof and skipna")
    func options() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a
        try await expectArray("a.std(\"time\", ddof=1)", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { Ref.std(column(a, $0), ddof: 1) })
        try await expectArray("a.var(dim=\"x\", ddof=1)", in: ds, dims: ["time"], shape: [6], values: a.map { Ref.variance($0, ddof: 1) })
        // skipna=False: the row and the column holding the NaN give NaN.
        try await expectArray("a.sum(\"x\", skipna=False)", in: ds, dims: ["time"], shape: [6],
                              values: a.map { $0.contains { $0.isNaN } ? Double.nan : $0.reduce(0, +) })
        try await expectArray("a.mean(\"time\", skipna=False)", in: ds, dims: ["x"], shape: [4],
                              values: (0..<4).map { j in j == 1 ? Double.nan : Ref.mean(column(a, j)) })
        try await expectArray("a.max(skipna=True)", in: ds, dims: [], shape: [], values: [Ref.maximum(flat(a))])
        try await expectArray("a.min(skipna=None)", in: ds, dims: [], shape: [], values: [Ref.minimum(flat(a))])
    }

    @Test("any and all on booleans")
    func anyAll() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a
        try await expectBools("(a > 0).any(\"x\")", in: ds, dims: ["time"], values: a.map { $0.contains { $0 > 0 } })
        try await expectBools("(a > 0).all(\"time\")", in: ds, dims: ["x"], values: (0..<4).map { column(a, $0).allSatisfy { $0 > 0 } })
        try await expectBools("(a > -4).all(\"time\")", in: ds, dims: ["x"], values: (0..<4).map { column(a, $0).allSatisfy { $0 > -4 } })
        try await expectBools("(b > 0).all()", in: ds, dims: [], values: [true])
        try await expectBools("(a > 5).any()", in: ds, dims: [], values: [flat(a).contains { $0 > 5 }])
    }

    @Test("quantile: NumPy's linear interpolation, with a quantile coordinate")
    func quantile() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a, b = Fixture.b
        let r = try await expectArray("b.quantile(0.25, \"x\")", in: ds, dims: ["time"], shape: [6], values: b.map { Ref.quantile($0, 0.25) })
        #expect(try r.coord("quantile").doubles() == [0.25])
        try await expectArray("a.quantile(0.9, dim=\"time\")", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { Ref.quantile(column(a, $0), 0.9) })
        try await expectArray("a.quantile(q=0.5)", in: ds, dims: [], shape: [], values: [Ref.quantile(flat(a), 0.5)])
        try await expectArray("a.quantile(0.5, \"x\", skipna=False)", in: ds, dims: ["time"], shape: [6],
                              values: a.map { $0.contains { $0.isNaN } ? Double.nan : Ref.quantile($0, 0.5) })
    }

    @Test("argmin and argmax: positions, NaN skipped")
    func argExtremes() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a, b = Fixture.b
        try await expectArray("b.argmin(\"x\")", in: ds, dims: ["time"], shape: [6], values: b.map { Ref.argExtreme($0, max: false) })
        try await expectArray("b.argmax(dim=\"time\")", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { Ref.argExtreme(column(b, $0), max: true) })
        try await expectArray("a.argmax(\"x\")", in: ds, dims: ["time"], shape: [6], values: a.map { Ref.argExtreme($0, max: true) })
        try await expectArray("a.argmin(\"time\")", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { Ref.argExtreme(column(a, $0), max: false) })
    }
}

@Suite("sel and isel")
struct SelectionTests {
    let ds: Dataset
    let a = Fixture.a
    init() throws { ds = try Fixture.dataset() }

    @Test("sel: labels, lists, inclusive label slices, nearest/pad with a tolerance, dates")
    func sel() async throws {
        try await expectArray("a.sel(x=20)", in: ds, dims: ["time"], shape: [6], values: column(a, 1))
        try await expectArray("a.sel(x=30.0)", in: ds, dims: ["time"], shape: [6], values: column(a, 2))
        try await expectArray("a.sel(x=[10.0, 40.0])", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { [$0[0], $0[3]] })
        try await expectArray("a.sel(x=slice(15, 35))", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { [$0[1], $0[2]] })
        try await expectArray("a.sel(x=slice(20, 30))", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { [$0[1], $0[2]] })
        try await expectArray("a.sel(x=27.0, method=\"nearest\")", in: ds, dims: ["time"], shape: [6], values: column(a, 2))
        try await expectArray("a.sel(x=27.0, method=\"pad\")", in: ds, dims: ["time"], shape: [6], values: column(a, 1))
        try await expectArray("a.sel(x=21.0, method=\"backfill\")", in: ds, dims: ["time"], shape: [6], values: column(a, 2))
        try await expectArray("a.sel(x=21.0, method=\"nearest\", tolerance=2)", in: ds, dims: ["time"], shape: [6], values: column(a, 1))
        // A day on a daily index is one label; a month is all its days; label slices are inclusive.
        try await expectArray("a.sel(time=\"2001-02-01\")", in: ds, dims: ["x"], shape: [4], values: a[2])
        try await expectArray("a.sel(time=\"2001-02\")", in: ds, dims: timeX, shape: [4, 4], values: flat(Array(a[2...5])))
        try await expectArray("a.sel(time=slice(\"2001-01-31\", \"2001-02-02\"))", in: ds, dims: timeX, shape: [3, 4], values: flat(Array(a[1...3])))
        try await expectArray("a.sel(time=\"2001-02-01\", x=30)", in: ds, dims: [], shape: [], values: [a[2][2]])
    }

    @Test("isel: positions, negative positions, slices, lists")
    func isel() async throws {
        try await expectArray("a.isel(time=0)", in: ds, dims: ["x"], shape: [4], values: a[0])
        try await expectArray("a.isel(time=-1, x=0)", in: ds, dims: [], shape: [], values: [a[5][0]])
        try await expectArray("a.isel(x=slice(1, 3))", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { [$0[1], $0[2]] })
        try await expectArray("a.isel(time=slice(None, None, 2))", in: ds, dims: timeX, shape: [3, 4], values: flat([a[0], a[2], a[4]]))
        try await expectArray("a.isel(x=[3, 0])", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { [$0[3], $0[0]] })
        try await expectArray("a.isel(time=[1, 1], x=2)", in: ds, dims: ["time"], shape: [2], values: [a[1][2], a[1][2]])
    }
}

@Suite("Elementwise methods")
struct ElementwiseTests {
    let ds: Dataset
    let a = flat(Fixture.a), b = flat(Fixture.b)
    init() throws { ds = try Fixture.dataset() }

    @Test("where: NaN or `other` where the condition is false")
    func whereMethod() async throws {
        try await expectArray("a.where(a > 0)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0 > 0 ? $0 : Double.nan })
        try await expectArray("a.where(a > 0, None)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0 > 0 ? $0 : Double.nan })
        try await expectArray("a.where(b > 3, 0)", in: ds, dims: timeX, shape: gridShape, values: zip(a, b).map { $1 > 3 ? $0 : 0 })
        try await expectArray("a.where(cond=b > 3, other=-1.5)", in: ds, dims: timeX, shape: gridShape, values: zip(a, b).map { $1 > 3 ? $0 : -1.5 })
        // A condition along x only is broadcast over time.
        try await expectArray("a.where(x > 15)", in: ds, dims: timeX, shape: gridShape,
                              values: a.enumerated().map { Fixture.xs[$0.offset % 4] > 15 ? $0.element : Double.nan })
    }

    @Test("fillna and clip")
    func fillnaClip() async throws {
        try await expectArray("a.fillna(0)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0.isNaN ? 0 : $0 })
        try await expectArray("a.fillna(value=-1.5)", in: ds, dims: timeX, shape: gridShape, values: a.map { $0.isNaN ? -1.5 : $0 })
        func clip(_ x: Double, _ lo: Double?, _ hi: Double?) -> Double {
            if x.isNaN { return .nan }
            var y = x
            if let lo { y = Swift.max(y, lo) }
            if let hi { y = Swift.min(y, hi) }
            return y
        }
        try await expectArray("a.clip(-1, 1)", in: ds, dims: timeX, shape: gridShape, values: a.map { clip($0, -1, 1) })
        try await expectArray("a.clip(min=0)", in: ds, dims: timeX, shape: gridShape, values: a.map { clip($0, 0, nil) })
        try await expectArray("a.clip(max=2)", in: ds, dims: timeX, shape: gridShape, values: a.map { clip($0, nil, 2) })
        try await expectArray("a.clip(None, 2.5)", in: ds, dims: timeX, shape: gridShape, values: a.map { clip($0, nil, 2.5) })
    }

    @Test("isnull and notnull")
    func nulls() async throws {
        try await expectBools("a.isnull()", in: ds, dims: timeX, values: a.map(\.isNaN))
        try await expectBools("a.notnull()", in: ds, dims: timeX, values: a.map { !$0.isNaN })
        try await expectBools("b.isnull()", in: ds, dims: timeX, values: b.map { _ in false })
    }

    @Test("abs and round (halves to even)")
    func absRound() async throws {
        try await expectArray("a.abs()", in: ds, dims: timeX, shape: gridShape, values: a.map { Swift.abs($0) })
        let rounded = a.map { $0.rounded(.toNearestOrEven) }
        #expect(rounded.contains(2) && rounded.contains(-4), "the fixture has halves rounding both ways")
        try await expectArray("a.round()", in: ds, dims: timeX, shape: gridShape, values: rounded)
        try await expectArray("(a * 0.3).round()", in: ds, dims: timeX, shape: gridShape, values: a.map { ($0 * 0.3).rounded(.toNearestOrEven) })
    }

    @Test("astype")
    func astype() async throws {
        let f32 = try await expectArray("a.astype(\"float32\")", in: ds, dims: timeX, shape: gridShape, values: a.map { Double(Float($0)) })
        #expect(f32.dtype == .float32)
        let u32 = try await expectArray("(u * 3).astype(dtype=\"float32\")", in: ds, dims: timeX, shape: gridShape,
                                        values: flat(Fixture.u).map { Double(Float($0 * 3)) })
        #expect(u32.dtype == .float32)
        let i64 = try await expectArray("b.astype(\"int64\")", in: ds, dims: timeX, shape: gridShape, values: b.map { $0.rounded(.towardZero) })
        #expect(i64.dtype == .int64)
        let i8 = try await expectArray("(a > 0).astype(\"int8\")", in: ds, dims: timeX, shape: gridShape, values: a.map { $0 > 0 ? 1 : 0 })
        #expect(i8.dtype == .int8)
    }
}

@Suite("Shape, order and neighbour methods")
struct StructureTests {
    let ds: Dataset
    let a = Fixture.a
    init() throws { ds = try Fixture.dataset() }

    @Test("transpose, squeeze, rename, load, compute")
    func structure() async throws {
        try await expectArray("a.transpose(\"x\", \"time\")", in: ds, dims: ["x", "time"], shape: [4, 6], values: flat(transposed(a)))
        try await expectArray("a.transpose(\"x\")", in: ds, dims: ["x", "time"], shape: [4, 6], values: flat(transposed(a)))
        try await expectArray("a.isel(time=slice(0, 1)).squeeze()", in: ds, dims: ["x"], shape: [4], values: a[0])
        try await expectArray("a.isel(x=[2]).squeeze(\"x\")", in: ds, dims: ["time"], shape: [6], values: column(a, 2))
        #expect(try await evalString("a.rename(\"z\").name", in: ds) == "z")
        let renamed = try await expectArray("a.rename(\"z\")", in: ds, dims: timeX, shape: gridShape, values: flat(a))
        #expect(renamed.name == "z")
        try await expectArray("a.load()", in: ds, dims: timeX, shape: gridShape, values: flat(a))
        try await expectArray("(a * 2).compute()", in: ds, dims: timeX, shape: gridShape, values: flat(mapGrid(a) { $0 * 2 }))
    }

    @Test("diff: neighbours' differences, labelled by the later position")
    func diff() async throws {
        func once(_ c: [Double]) -> [Double] { (1..<c.count).map { c[$0] - c[$0 - 1] } }
        let r = try await expectArray("a.diff(\"time\")", in: ds, dims: timeX, shape: [5, 4], values: flat(alongTime(a, once)))
        #expect(try ticks(try r.coord("time")) == Array(try Fixture.times().dropFirst()))
        try await expectArray("a.diff(\"time\", n=2)", in: ds, dims: timeX, shape: [4, 4], values: flat(alongTime(a) { once(once($0)) }))
        try await expectArray("a.diff(dim=\"x\")", in: ds, dims: timeX, shape: [6, 3], values: flat(a.map(once)))
    }

    @Test("cumsum: running sums, NaN counted as 0")
    func cumsum() async throws {
        func running(_ c: [Double]) -> [Double] {
            var s = 0.0
            return c.map { (x: Double) -> Double in
                s += x.isNaN ? 0 : x
                return s
            }
        }
        try await expectArray("a.cumsum(\"time\")", in: ds, dims: timeX, shape: gridShape, values: flat(alongTime(a, running)))
        try await expectArray("a.cumsum(dim=\"x\")", in: ds, dims: timeX, shape: gridShape, values: flat(a.map(running)))
    }

    @Test("shift: values moved along a dimension, NaN where they left")
    func shift() async throws {
        func shifted(_ c: [Double], _ k: Int) -> [Double] { c.indices.map { i in c.indices.contains(i - k) ? c[i - k] : Double.nan } }
        try await expectArray("a.shift(time=1)", in: ds, dims: timeX, shape: gridShape, values: flat(alongTime(a) { shifted($0, 1) }))
        try await expectArray("a.shift(time=-2)", in: ds, dims: timeX, shape: gridShape, values: flat(alongTime(a) { shifted($0, -2) }))
        try await expectArray("a.shift(x=3)", in: ds, dims: timeX, shape: gridShape, values: flat(a.map { shifted($0, 3) }))
    }

    @Test("dropna: positions with any (or only) NaN dropped")
    func dropna() async throws {
        try await expectArray("a.dropna(\"time\")", in: ds, dims: timeX, shape: [5, 4], values: flat([a[0], a[1], a[3], a[4], a[5]]))
        try await expectArray("a.dropna(\"x\")", in: ds, dims: timeX, shape: [6, 3], values: a.flatMap { [$0[0], $0[2], $0[3]] })
        try await expectArray("a.dropna(dim=\"time\", how=\"all\")", in: ds, dims: timeX, shape: gridShape, values: flat(a))
        // x = 10 masked out entirely: "all" drops it, "any" drops x = 20 (one NaN) too.
        try await expectArray("a.where(x > 15).dropna(\"x\", how=\"all\")", in: ds, dims: timeX, shape: [6, 3], values: a.flatMap { Array($0[1...]) })
        try await expectArray("a.where(x > 15).dropna(\"x\")", in: ds, dims: timeX, shape: [6, 2], values: a.flatMap { Array($0[2...]) })
    }

    @Test("interp: linear between neighbours, NaN outside, numbers and dates")
    func interp() async throws {
        let b = Fixture.b
        func lerp(_ y0: Double, _ y1: Double, _ w: Double) -> Double { y0 + (y1 - y0) * w }
        let mid = try await expectArray("a.interp(x=25.0)", in: ds, dims: ["time"], shape: [6], values: a.map { lerp($0[1], $0[2], 0.5) })
        #expect(try mid.coord("x").doubles() == [25])
        let many = try await expectArray("a.interp(x=[15.0, 40.0, 45.0])", in: ds, dims: timeX, shape: [6, 3],
                                         values: a.flatMap { [lerp($0[0], $0[1], 0.5), $0[3], Double.nan] })
        #expect(try many.coord("x").doubles() == [15, 40, 45])
        try await expectArray("b.interp(x=12)", in: ds, dims: ["time"], shape: [6], values: b.map { lerp($0[0], $0[1], 0.2) })
        try await expectArray("b.interp(x=x * 0.5 + 10, method=\"linear\")", in: ds, dims: timeX, shape: gridShape,
                              values: b.flatMap { [lerp($0[0], $0[1], 0.5), $0[1], lerp($0[1], $0[2], 0.5), $0[2]] })
        try await expectArray("b.interp(time=\"2001-02-01T12:00:00\")", in: ds, dims: ["x"], shape: [4],
                              values: (0..<4).map { lerp(b[2][$0], b[3][$0], 0.5) })
    }
}

@Suite("groupby, resample, coarsen, rolling, weighted")
struct WindowTests {
    static let groupMethods = ["mean", "sum", "min", "max", "std", "var", "count", "median", "first", "last"]
    /// Positions of each group: g = 1, 2 along x; months 1, 2 along time; 2-day bins along time.
    static let byG = [[0, 2], [1, 3]]
    static let byMonth = [[0, 1], [2, 3, 4, 5]]
    static let twoDays = [[0, 1], [2, 3], [4, 5]]

    @Test("groupby(key).<reduction>() by a coordinate and by a datetime field", arguments: groupMethods)
    func groupby(name: String) async throws {
        let ds = try Fixture.dataset()
        let f = Ref.reduction(name)
        let g = try await expectArray("a.groupby(\"g\").\(name)()", in: ds, dims: ["time", "g"], shape: [6, 2],
                                      values: flat(binsAlongX(Fixture.a, Self.byG, f)))
        #expect(try g.coord("g").doubles() == [1, 2])
        let m = try await expectArray("a.groupby(\"time.month\").\(name)()", in: ds, dims: ["month", "x"], shape: [2, 4],
                                      values: flat(binsAlongTime(Fixture.a, Self.byMonth, f)))
        #expect(try m.coord("month").doubles() == [1, 2])
        try await expectArray("b.groupby(group=\"time.month\").\(name)(dim=\"time\")", in: ds, dims: ["month", "x"], shape: [2, 4],
                              values: flat(binsAlongTime(Fixture.b, Self.byMonth, f)))
    }

    @Test("groupby std with ddof")
    func groupbyDdof() async throws {
        let ds = try Fixture.dataset()
        try await expectArray("a.groupby(\"time.month\").std(ddof=1)", in: ds, dims: ["month", "x"], shape: [2, 4],
                              values: flat(binsAlongTime(Fixture.a, Self.byMonth) { Ref.std($0, ddof: 1) }))
    }

    @Test("groupby a non-dimension integer coordinate holding -1")
    func groupbyMinusOne() async throws {
        let ds = try Fixture.dataset().assignCoords(["g": try Variable(["x"], .int64(NDArray([-1, 2, -1, 2] as [Int64])))])
        // A coordinate's own -1 is a group (only a datetime field's -1 marks a missing time).
        try await expectArray("a.groupby(\"g\").sum()", in: ds, dims: ["time", "g"], shape: [6, 2],
                              values: flat(binsAlongX(Fixture.a, Self.byG) { Ref.sum($0) }))
    }

    @Test("resample(time=freq).<reduction>() into 2-day bins", arguments: groupMethods)
    func resample(name: String) async throws {
        let ds = try Fixture.dataset()
        let r = try await expectArray("a.resample(time=\"2D\").\(name)()", in: ds, dims: timeX, shape: [3, 4],
                                      values: flat(binsAlongTime(Fixture.a, Self.twoDays, Ref.reduction(name))))
        let t0 = try Fixture.t0()
        #expect(try ticks(try r.coord("time")) == [t0, t0 + 2 * Fixture.dayNs, t0 + 4 * Fixture.dayNs])
    }

    @Test("resample: month starts, right labels, and empty bins (NaN even for sum)")
    func resampleBins() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a
        let ms = try await expectArray("a.resample(time=\"MS\").max()", in: ds, dims: timeX, shape: [2, 4],
                                       values: flat(binsAlongTime(a, Self.byMonth) { Ref.maximum($0) }))
        #expect(try ticks(try ms.coord("time")) == [try parseDatetime64("2001-01-01", unit: .nanoseconds),
                                                     try parseDatetime64("2001-02-01", unit: .nanoseconds)])
        let right = try await expectArray("a.resample(time=\"2D\", label=\"right\").sum()", in: ds, dims: timeX, shape: [3, 4],
                                          values: flat(binsAlongTime(a, Self.twoDays) { Ref.sum($0) }))
        let t0 = try Fixture.t0()
        #expect(try ticks(try right.coord("time")) == [t0 + 2 * Fixture.dayNs, t0 + 4 * Fixture.dayNs, t0 + 6 * Fixture.dayNs])
        try await expectArray("a.isel(time=[0, 5]).resample(time=\"2D\").sum()", in: ds, dims: timeX, shape: [3, 4],
                              values: flat([a[0], [Double](repeating: Double.nan, count: 4), a[5]]))
    }

    @Test("coarsen(time=2).<reduction>()", arguments: ["mean", "sum", "min", "max", "std", "var", "count", "median"])
    func coarsen(name: String) async throws {
        let ds = try Fixture.dataset()
        let r = try await expectArray("a.coarsen(time=2).\(name)()", in: ds, dims: timeX, shape: [3, 4],
                                      values: flat(binsAlongTime(Fixture.a, Self.twoDays, Ref.reduction(name))))
        // The windows' coordinates are their mean times: noon of the first day of each pair.
        let t0 = try Fixture.t0(), half = Fixture.dayNs / 2
        let want = [t0 + half, t0 + 2 * Fixture.dayNs + half, t0 + 4 * Fixture.dayNs + half]
        let got = try ticks(try r.coord("time"))
        #expect(got.count == 3 && zip(got, want).allSatisfy { abs($0 - $1) <= 1000 }, "coarsen.\(name) time \(got), expected \(want)")
    }

    @Test("coarsen: several dimensions, boundary trim and pad, coordinates as means")
    func coarsenBoundaries() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a
        let byX = try await expectArray("a.coarsen(x=2).mean()", in: ds, dims: timeX, shape: [6, 2],
                                        values: flat(binsAlongX(a, [[0, 1], [2, 3]]) { Ref.mean($0) }))
        #expect(try byX.coord("x").doubles() == [15, 35])
        let both: Grid = Self.twoDays.map { (rows: [Int]) -> [Double] in
            [[0, 1], [2, 3]].map { (cols: [Int]) -> Double in Ref.sum(rows.flatMap { t in cols.map { a[t][$0] } }) }
        }
        try await expectArray("a.coarsen(time=2, x=2).sum()", in: ds, dims: timeX, shape: [3, 2], values: flat(both))
        try await expectArray("a.coarsen(time=4, boundary=\"trim\").mean()", in: ds, dims: timeX, shape: [1, 4],
                              values: flat(binsAlongTime(a, [[0, 1, 2, 3]]) { Ref.mean($0) }))
        let padded = try await expectArray("a.coarsen(time=4, boundary=\"pad\").mean()", in: ds, dims: timeX, shape: [2, 4],
                                           values: flat(binsAlongTime(a, [[0, 1, 2, 3], [4, 5]]) { Ref.mean($0) }))
        // The padded window's time is the mean of its real times.
        let t0 = try Fixture.t0()
        let want = [t0 + 3 * Fixture.dayNs / 2, t0 + 9 * Fixture.dayNs / 2]
        let got = try ticks(try padded.coord("time"))
        #expect(got.count == 2 && zip(got, want).allSatisfy { abs($0 - $1) <= 1000 }, "padded time \(got), expected \(want)")
    }

    @Test("rolling(dim=window).<reduction>(): trailing and centred windows, min_periods",
          arguments: ["mean", "sum", "min", "max", "std", "var", "count"])
    func rolling(name: String) async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a, f = Ref.reduction(name)
        try await expectArray("a.rolling(time=3).\(name)()", in: ds, dims: timeX, shape: gridShape,
                              values: flat(alongTime(a) { Ref.rolling($0, window: 3, center: false, minPeriods: nil, f) }))
        try await expectArray("a.rolling(time=3, center=True, min_periods=1).\(name)()", in: ds, dims: timeX, shape: gridShape,
                              values: flat(alongTime(a) { Ref.rolling($0, window: 3, center: true, minPeriods: 1, f) }))
        try await expectArray("a.rolling(x=2, min_periods=None).\(name)()", in: ds, dims: timeX, shape: gridShape,
                              values: flat(a.map { Ref.rolling($0, window: 2, center: false, minPeriods: nil, f) }))
    }

    @Test("weighted(w).mean / sum / sum_of_weights: weights of NaN values left out")
    func weighted() async throws {
        let ds = try Fixture.dataset()
        let a = Fixture.a, w = Fixture.ws
        func weightedSum(_ row: [Double]) -> Double { zip(row, w).reduce(0.0) { $1.0.isNaN ? $0 : $0 + $1.0 * $1.1 } }
        func weightSum(_ row: [Double]) -> Double { zip(row, w).reduce(0.0) { $1.0.isNaN ? $0 : $0 + $1.1 } }
        try await expectArray("a.weighted(w).mean(\"x\")", in: ds, dims: ["time"], shape: [6], values: a.map { weightedSum($0) / weightSum($0) })
        try await expectArray("a.weighted(w).sum(\"x\")", in: ds, dims: ["time"], shape: [6], values: a.map(weightedSum))
        try await expectArray("a.weighted(w).sum_of_weights(\"x\")", in: ds, dims: ["time"], shape: [6], values: a.map(weightSum))
        let total = a.map(weightedSum).reduce(0, +), weights = a.map(weightSum).reduce(0, +)
        try await expectArray("a.weighted(weights=w).mean()", in: ds, dims: [], shape: [], values: [total / weights])
        try await expectArray("a.weighted(w).mean((\"time\", \"x\"))", in: ds, dims: [], shape: [], values: [total / weights])
        try await expectArray("a.weighted(w).sum(dim=\"time\")", in: ds, dims: ["x"], shape: [4],
                              values: (0..<4).map { j in Ref.sum(column(a, j)) * w[j] })
        try await expectArray("a.weighted(w).sum_of_weights(\"time\")", in: ds, dims: ["x"], shape: [4],
                              values: (0..<4).map { j in Ref.count(column(a, j)) * w[j] })
        // Weights computed in the expression.
        let cw = Fixture.xs.map { cos($0 * (Double.pi / 180)) }
        try await expectArray("b.weighted(np.cos(np.deg2rad(x))).mean(\"x\")", in: ds, dims: ["time"], shape: [6],
                              values: Fixture.b.map { row in zip(row, cw).reduce(0.0) { $0 + $1.0 * $1.1 } / cw.reduce(0, +) })
    }
}

@Suite("Dataset methods")
struct DatasetMethodTests {
    @Test("ds.<reduction>(dim) reduces every variable", arguments: ["mean", "sum", "min", "max", "std", "var", "count", "median"])
    func reductions(name: String) async throws {
        let ds = try Fixture.dataset()
        let f = Ref.reduction(name)
        try await expectArray("ds.\(name)(\"x\").a", in: ds, dims: ["time"], shape: [6], values: Fixture.a.map(f))
        try await expectArray("ds.\(name)(dim=\"time\").b", in: ds, dims: ["x"], shape: [4], values: (0..<4).map { f(column(Fixture.b, $0)) })
        try await expectArray("ds.\(name)()[\"u\"]", in: ds, dims: [], shape: [], values: [f(flat(Fixture.u))])
    }

    @Test("a variable without the reduced dimension is kept as it is")
    func untouched() async throws {
        let ds = try Fixture.dataset()
        let r = try await evalDataset("ds.mean(\"time\")", in: ds)
        #expect(Set(r.dataVars.keys) == ["a", "b", "u", "w"])
        try await expectArray("ds.mean(\"time\").w", in: ds, dims: ["x"], shape: [4], values: Fixture.ws)
    }

    @Test("ds.isel, ds.sel, ds.load, ds.compute")
    func selection() async throws {
        let ds = try Fixture.dataset()
        let b = Fixture.b
        try await expectArray("ds.isel(time=1, x=slice(1, 3)).b", in: ds, dims: ["x"], shape: [2], values: [b[1][1], b[1][2]])
        try await expectArray("ds.sel(x=30).a", in: ds, dims: ["time"], shape: [6], values: column(Fixture.a, 2))
        try await expectArray("ds.sel(time=slice(\"2001-02-01\", None)).b", in: ds, dims: timeX, shape: [4, 4], values: flat(Array(b[2...])))
        try await expectArray("ds.sel(x=[40, 10]).w", in: ds, dims: ["x"], shape: [2], values: [4, 1])
        try await expectArray("ds.load().a", in: ds, dims: timeX, shape: gridShape, values: flat(Fixture.a))
        try await expectArray("ds.compute()[\"u\"]", in: ds, dims: timeX, shape: gridShape, values: flat(Fixture.u))
    }

    @Test("ds.groupby(key).<reduction>()", arguments: WindowTests.groupMethods)
    func groupby(name: String) async throws {
        let ds = try Fixture.dataset()
        let f = Ref.reduction(name)
        try await expectArray("ds[[\"a\", \"b\"]].groupby(\"time.month\").\(name)().a", in: ds, dims: ["month", "x"], shape: [2, 4],
                              values: flat(binsAlongTime(Fixture.a, WindowTests.byMonth, f)))
        try await expectArray("ds[[\"a\", \"b\"]].groupby(\"g\").\(name)().b", in: ds, dims: ["time", "g"], shape: [6, 2],
                              values: flat(binsAlongX(Fixture.b, WindowTests.byG, f)))
    }

    @Test("ds.resample(time=freq).<reduction>()", arguments: WindowTests.groupMethods)
    func resample(name: String) async throws {
        let ds = try Fixture.dataset()
        try await expectArray("ds[[\"a\", \"b\"]].resample(time=\"2D\").\(name)().b", in: ds, dims: timeX, shape: [3, 4],
                              values: flat(binsAlongTime(Fixture.b, WindowTests.twoDays, Ref.reduction(name))))
    }

    @Test("ds.groupby: a variable without the grouped dimension is repeated for every group")
    func groupbyRepeats() async throws {
        let ds = try Fixture.dataset()
        try await expectArray("ds.groupby(\"time.month\").mean().w", in: ds, dims: ["month", "x"], shape: [2, 4], values: Fixture.ws + Fixture.ws)
        try await expectArray("ds.resample(time=\"2D\").sum().a", in: ds, dims: timeX, shape: [3, 4],
                              values: flat(binsAlongTime(Fixture.a, WindowTests.twoDays) { Ref.sum($0) }))
    }

    @Test("ds.groupby(...).first() with a variable that lacks the grouped dimension")
    func groupbyFirstWithoutDimension() async throws {
        let ds = try Fixture.dataset()
        await withKnownIssue("first/last reduce exactly one dimension, and a variable without the grouped one is reduced over none") {
            _ = try await expectArray("ds.groupby(\"time.month\").first().a", in: ds, dims: ["month", "x"], shape: [2, 4],
                                  values: flat(binsAlongTime(Fixture.a, WindowTests.byMonth) { Ref.first($0) }))
        }
    }
}

@Suite(".dt fields")
struct DatetimeFieldTests {
    /// 2000-02-29 13:45:30 (a leap day, Tuesday), 2001-12-31 23:59:59 (Monday), 2004-06-15 00:00:01 (Tuesday).
    static func dataset() throws -> Dataset {
        let days = try ["2000-02-29", "2001-12-31", "2004-06-15"].map { try parseDatetime64($0, unit: .seconds) }
        let seconds: [Int64] = [13 * 3600 + 45 * 60 + 30, 23 * 3600 + 59 * 60 + 59, 1]
        let times = zip(days, seconds).map { $0 + $1 }
        return try Dataset(dataVars: ["v": Variable("time", [1, 2, 3])],
                           coords: ["time": try Variable(["time"], .datetime64(NDArray(times), .seconds))])
    }

    static let fieldCases: [(String, [Double])] = [
        ("year", [2000, 2001, 2004]),
        ("month", [2, 12, 6]),
        ("day", [29, 31, 15]),
        ("hour", [13, 23, 0]),
        ("minute", [45, 59, 0]),
        ("second", [30, 59, 1]),
        ("dayofyear", [60, 365, 167]),
        ("dayofweek", [1, 0, 1]),        // Monday is 0
        ("daysinmonth", [29, 31, 30]),
    ]

    @Test("numeric fields", arguments: fieldCases)
    func fields(field: String, want: [Double]) async throws {
        let ds = try Self.dataset()
        let r = try await expectArray("time.dt.\(field)", in: ds, dims: ["time"], shape: [3], values: want)
        #expect(r.name == field)
        try await expectArray("v.time.dt.\(field)", in: ds, dims: ["time"], shape: [3], values: want)
    }

    @Test("season")
    func season() async throws {
        let r = try await evalArray("time.dt.season", in: try Self.dataset())
        #expect(try strings(r) == ["DJF", "DJF", "JJA"])
    }
}

@Suite("Generated sample data")
struct SampleDataTests {
    @Test("climatology, anomalies and an area-weighted mean on SampleData.sst, against loops")
    func sst() async throws {
        let seed: UInt64 = 20_240_611
        let ds = try SampleData.sst(days: 5, resolution: 60, seed: seed)
        let sst = try ds.dataArray("sst")
        #expect(sst.dims == ["time", "lat", "lon"] && sst.shape == [5, 3, 6], "seed \(seed): \(sst.dims) \(sst.shape)")
        guard case .float32(let raw) = try sst.data else { Issue.record("seed \(seed): sst is \(sst.dtype), not float32"); return }
        let v = raw.elements.map { Double($0) }
        let nt = 5, nlat = 3, nlon = 6
        func at(_ t: Int, _ i: Int, _ j: Int) -> Double { v[(t * nlat + i) * nlon + j] }
        func series(_ i: Int, _ j: Int) -> [Double] { (0..<nt).map { at($0, i, j) } }
        let cells = (0..<nlat).flatMap { i in (0..<nlon).map { j in (i, j) } }
        #expect(v.contains { $0.isNaN } && v.contains { !$0.isNaN }, "seed \(seed): the sample has land (NaN) and sea")

        try await expectArray("sst.mean(\"time\")", in: ds, dims: ["lat", "lon"], shape: [3, 6],
                              values: cells.map { Ref.mean(series($0.0, $0.1)) }, tolerance: 1e-6, label: "seed \(seed)")
        try await expectArray("(sst - sst.mean(\"time\")).std(\"time\")", in: ds, dims: ["lat", "lon"], shape: [3, 6],
                              values: cells.map { Ref.std(series($0.0, $0.1)) }, tolerance: 1e-5, label: "seed \(seed)")
        let lat = (0..<nlat).map { -90 + 30 + Double($0) * 60 }
        let wts = lat.map { cos($0 * (Double.pi / 180)) }
        let weighted: [Double] = (0..<nt).map { t in
            var num = 0.0, den = 0.0
            for i in 0..<nlat {
                for j in 0..<nlon where !at(t, i, j).isNaN {
                    num += wts[i] * at(t, i, j)
                    den += wts[i]
                }
            }
            return num / den
        }
        try await expectArray("sst.weighted(np.cos(np.deg2rad(sst.lat))).mean((\"lat\", \"lon\"))", in: ds, dims: ["time"], shape: [5],
                              values: weighted, tolerance: 1e-6, label: "seed \(seed)")
        try await expectArray("sst.where(sst > 20).count((\"lat\", \"lon\"))", in: ds, dims: ["time"], shape: [5],
                              values: (0..<nt).map { t in Double(cells.filter { at(t, $0.0, $0.1) > 20 }.count) }, label: "seed \(seed)")
    }
}
