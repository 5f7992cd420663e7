import Foundation
import GyreArrays
import GyreData
import GyreExpr
import Testing

// Helpers shared by the GyreExpr tests: a small dataset with values simple enough to reason
// about, the values it holds as plain Swift arrays (the references are computed from them with
// loops, never by Gyre), and comparisons that fail loudly instead of passing on nothing.

/// A helper found a value of the wrong kind.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Values along (time, x), row by row.
typealias Grid = [[Double]]

/// The dataset the evaluator tests run on:
/// - `a(time, x)`: half-integers from -4.5 to 5.5, one NaN at (time 2, x 1);
/// - `b(time, x)`: positive half-integers 0.5 ... 6.5 (for sqrt and logs), no NaN, no ties along
///   either dimension;
/// - `u(time, x)`: values in (-1, 1) (for arcsin and arccos);
/// - `w(x)`: weights 1, 2, 3, 4;
/// - coordinates `time` (6 days from 2001-01-30: two in January, four in February), `x` = 10, 20,
///   30, 40 and the non-dimension coordinate `g(x)` = 1, 2, 1, 2.
enum Fixture {
    static let nt = 6, nx = 4
    static let xs: [Double] = [10, 20, 30, 40]
    static let gs: [Int64] = [1, 2, 1, 2]
    static let ws: [Double] = [1, 2, 3, 4]
    /// The month of each time.
    static let months: [Int] = [1, 1, 2, 2, 2, 2]
    static let a: Grid = (0..<6).map { t -> [Double] in
        (0..<4).map { j -> Double in
            if t == 2 && j == 1 { return Double.nan }
            let k: Int = (t * 7 + j * 3) % 11
            return Double(k) - 4.5
        }
    }
    static let b: Grid = (0..<6).map { t -> [Double] in
        (0..<4).map { j -> Double in
            let k: Int = (t * 5 + j * 2) % 7
            return 0.5 + Double(k)
        }
    }
    static let u: Grid = (0..<6).map { t -> [Double] in
        (0..<4).map { j -> Double in
            let k: Int = (t * 3 + j) % 10
            return (Double(k) - 4.5) / 5
        }
    }
    static let dayNs: Int64 = TimeUnit.days.nanoseconds

    static func t0() throws -> Int64 { try parseDatetime64("2001-01-30", unit: .nanoseconds) }
    static func times() throws -> [Int64] {
        let start = try t0()
        return (0..<nt).map { start + Int64($0) * dayNs }
    }

    static func dataset() throws -> Dataset {
        func grid(_ g: Grid) throws -> Variable {
            try Variable(["time", "x"], .float64(try NDArray(shape: [nt, nx], g.flatMap { $0 })))
        }
        return try Dataset(
            dataVars: ["a": try grid(a), "b": try grid(b), "u": try grid(u), "w": Variable("x", ws)],
            coords: [
                "time": try Variable(["time"], .datetime64(NDArray(try times()), .nanoseconds)),
                "x": Variable("x", xs),
                "g": try Variable(["x"], .int64(NDArray(gs))),
            ])
    }
}

// MARK: Grids

func flat(_ g: Grid) -> [Double] { g.flatMap { $0 } }
func column(_ g: Grid, _ j: Int) -> [Double] { g.map { $0[j] } }
/// Columns become rows.
func transposed(_ g: Grid) -> Grid { (0..<(g.first?.count ?? 0)).map { column(g, $0) } }
func mapGrid(_ g: Grid, _ f: (Double) -> Double) -> Grid { g.map { $0.map(f) } }
func zipGrid(_ g: Grid, _ h: Grid, _ f: (Double, Double) -> Double) -> Grid {
    zip(g, h).map { r, s in zip(r, s).map { f($0.0, $0.1) } }
}
/// `f` applied to each column (the values along time); the results are the new columns.
func alongTime(_ g: Grid, _ f: ([Double]) -> [Double]) -> Grid {
    transposed((0..<(g.first?.count ?? 0)).map { f(column(g, $0)) })
}
/// One value per bin of positions along time, for each column: rows are bins.
func binsAlongTime(_ g: Grid, _ bins: [[Int]], _ f: ([Double]) -> Double) -> Grid {
    bins.map { bin in (0..<g[0].count).map { j in f(bin.map { g[$0][j] }) } }
}
/// One value per bin of positions along x, for each row: columns are bins.
func binsAlongX(_ g: Grid, _ bins: [[Int]], _ f: ([Double]) -> Double) -> Grid {
    g.map { row in bins.map { bin in f(bin.map { row[$0] }) } }
}

// MARK: References (plain loops, NaN skipped as xarray's skipna does for floats)

enum Ref {
    static func valid(_ xs: [Double]) -> [Double] { xs.filter { !$0.isNaN } }
    static func sum(_ xs: [Double]) -> Double { valid(xs).reduce(0, +) }
    static func prod(_ xs: [Double]) -> Double { valid(xs).reduce(1, *) }
    static func count(_ xs: [Double]) -> Double { Double(valid(xs).count) }
    static func mean(_ xs: [Double]) -> Double {
        let v = valid(xs)
        return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }
    static func minimum(_ xs: [Double]) -> Double { valid(xs).min() ?? .nan }
    static func maximum(_ xs: [Double]) -> Double { valid(xs).max() ?? .nan }
    static func variance(_ xs: [Double], ddof: Int = 0) -> Double {
        let v = valid(xs)
        guard v.count > ddof else { return .nan }
        let m = v.reduce(0, +) / Double(v.count)
        return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - ddof)
    }
    static func std(_ xs: [Double], ddof: Int = 0) -> Double { variance(xs, ddof: ddof).squareRoot() }
    /// NumPy's default (linear) quantile.
    static func quantile(_ xs: [Double], _ q: Double) -> Double {
        let v = valid(xs).sorted()
        guard !v.isEmpty else { return .nan }
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, v.count - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - Double(lo))
    }
    static func median(_ xs: [Double]) -> Double { quantile(xs, 0.5) }
    static func first(_ xs: [Double]) -> Double { xs.first { !$0.isNaN } ?? .nan }
    static func last(_ xs: [Double]) -> Double { xs.last { !$0.isNaN } ?? .nan }

    /// The reduction the expression language calls `name`.
    static func reduction(_ name: String) -> ([Double]) -> Double {
        switch name {
        case "mean": return { mean($0) }
        case "sum": return { sum($0) }
        case "min": return { minimum($0) }
        case "max": return { maximum($0) }
        case "std": return { std($0) }
        case "var": return { variance($0) }
        case "count": return { count($0) }
        case "median": return { median($0) }
        case "prod": return { prod($0) }
        case "first": return { first($0) }
        case "last": return { last($0) }
        default: fatalError("no reference for the reduction \(name)")
        }
    }

    /// xarray's rolling window: trailing (i-window+1 ... i) or centered (i-window/2 ...), NaN
    /// where fewer than `minPeriods` values are not NaN.
    static func rolling(_ xs: [Double], window: Int, center: Bool, minPeriods: Int?, _ f: ([Double]) -> Double) -> [Double] {
        let before = center ? window / 2 : window - 1
        let after = window - 1 - before
        let needed = minPeriods ?? window
        return xs.indices.map { i in
            let lo = Swift.max(0, i - before), hi = Swift.min(xs.count - 1, i + after)
            let win = Array(xs[lo...hi])
            return valid(win).count >= needed ? f(win) : .nan
        }
    }

    /// Position of the first smallest (or largest) value that is not NaN.
    static func argExtreme(_ xs: [Double], max: Bool) -> Double {
        var best: Int?
        for (i, v) in xs.enumerated() where !v.isNaN {
            if let b = best {
                if max ? (v > xs[b]) : (v < xs[b]) { best = i }
            } else {
                best = i
            }
        }
        return best.map { Double($0) } ?? .nan
    }
}

// MARK: Evaluation

func evaluate(_ source: String, in ds: Dataset) async throws -> ExprValue {
    try await Evaluator(dataset: ds).evaluate(source)
}

/// What kind of value `v` is, for failure messages.
func kind(_ v: ExprValue) -> String {
    switch v {
    case .dataset: return "dataset"
    case .array(let a): return "array \(a.dims) \(a.dtype)"
    case .number(let d, let i): return "number \(d) (integer: \(i))"
    case .string(let s): return "string '\(s)'"
    case .bool(let b): return "bool \(b)"
    case .none: return "None"
    case .tuple(let t): return "tuple of \(t.count)"
    case .list(let t): return "list of \(t.count)"
    case .slice: return "slice"
    case .module(let m): return "module \(m)"
    case .function(let f): return "function \(f)"
    case .method(_, let m): return "method \(m)"
    case .groupby: return "groupby"
    case .datasetGroupby: return "dataset groupby"
    case .weighted: return "weighted"
    case .rolling: return "rolling"
    case .coarsen: return "coarsen"
    case .datetimeAccessor: return ".dt accessor"
    }
}

func evalArray(_ source: String, in ds: Dataset) async throws -> DataArray {
    let v = try await evaluate(source, in: ds)
    guard case .array(let a) = v else { throw TestFailure("\(source): expected a DataArray, got \(kind(v))") }
    return try await a.load()
}

func evalDataset(_ source: String, in ds: Dataset) async throws -> Dataset {
    let v = try await evaluate(source, in: ds)
    guard case .dataset(let d) = v else { throw TestFailure("\(source): expected a Dataset, got \(kind(v))") }
    return d
}

func evalNumber(_ source: String, in ds: Dataset) async throws -> (value: Double, isInteger: Bool) {
    let v = try await evaluate(source, in: ds)
    guard case .number(let d, let i) = v else { throw TestFailure("\(source): expected a number, got \(kind(v))") }
    return (d, i)
}

func evalBool(_ source: String, in ds: Dataset) async throws -> Bool {
    let v = try await evaluate(source, in: ds)
    guard case .bool(let b) = v else { throw TestFailure("\(source): expected True or False, got \(kind(v))") }
    return b
}

func evalString(_ source: String, in ds: Dataset) async throws -> String {
    let v = try await evaluate(source, in: ds)
    guard case .string(let s) = v else { throw TestFailure("\(source): expected a string, got \(kind(v))") }
    return s
}

// MARK: Values out of arrays

func bools(_ a: DataArray) throws -> [Bool] {
    guard case .bool(let b) = try a.data else { throw TestFailure("expected booleans, found dtype \(a.dtype)") }
    return b.elements
}

func strings(_ a: DataArray) throws -> [String] {
    guard case .string(let s, _) = try a.data else { throw TestFailure("expected strings, found dtype \(a.dtype)") }
    return s.elements
}

/// datetime64 ticks (in the array's own unit).
func ticks(_ a: DataArray) throws -> [Int64] {
    guard case .datetime64(let t, _) = try a.data else { throw TestFailure("expected datetime64 values, found dtype \(a.dtype)") }
    return t.elements
}

// MARK: Comparisons

/// `got` equals `want` value by value (NaN where NaN is expected, infinities exactly, the rest
/// within `tolerance` relative to max(1, |want|)). The counts must agree, and a reference that
/// is all NaN (or empty) is itself a failure: it would prove nothing.
func expectValues(_ got: [Double], _ want: [Double], _ what: String, tolerance: Double = 1e-9,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(what): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
    #expect(want.contains { !$0.isNaN }, "\(what): the reference is empty or all NaN, so comparing proves nothing",
            sourceLocation: sourceLocation)
    guard got.count == want.count else { return }
    var bad = 0
    var firstBad = ""
    for (i, (g, w)) in zip(got, want).enumerated() {
        let ok: Bool
        if w.isNaN { ok = g.isNaN } else if w.isInfinite { ok = g == w } else { ok = !g.isNaN && abs(g - w) <= tolerance * Swift.max(1, abs(w)) }
        if !ok {
            bad += 1
            if firstBad.isEmpty { firstBad = "at \(i): got \(g), expected \(w)" }
        }
    }
    #expect(bad == 0, "\(what): \(bad) of \(want.count) values differ, first \(firstBad)", sourceLocation: sourceLocation)
}

/// Evaluates `source` to a DataArray and checks its dims, shape and values (as float64).
@discardableResult
/// `label`, when given, prefixes the failure messages (a seed, say).
func expectArray(_ source: String, in ds: Dataset, dims: [String], shape: [Int], values want: [Double],
                 tolerance: Double = 1e-9, label: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> DataArray {
    let what = label.map { "\($0): \(source)" } ?? source
    let a = try await evalArray(source, in: ds)
    #expect(a.dims == dims, "\(what): dims \(a.dims), expected \(dims)", sourceLocation: sourceLocation)
    #expect(a.shape == shape, "\(what): shape \(a.shape), expected \(shape)", sourceLocation: sourceLocation)
    let got = try a.astype(.float64).doubles()
    expectValues(got, want, what, tolerance: tolerance, sourceLocation: sourceLocation)
    return a
}

/// Evaluates `source` to a boolean DataArray and checks its dims and values.
func expectBools(_ source: String, in ds: Dataset, dims: [String], values want: [Bool],
                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let a = try await evalArray(source, in: ds)
    #expect(a.dims == dims, "\(source): dims \(a.dims), expected \(dims)", sourceLocation: sourceLocation)
    let got = try bools(a)
    #expect(!want.isEmpty, "\(source): empty reference", sourceLocation: sourceLocation)
    #expect(got.count == want.count, "\(source): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
    guard got.count == want.count else { return }
    let bad = zip(got, want).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    #expect(bad.isEmpty, "\(source): \(bad.count) of \(want.count) values differ, first at \(bad.first ?? -1)", sourceLocation: sourceLocation)
}

/// Evaluates `source` to a number and checks it (and whether it is an integer).
func expectNumber(_ source: String, in ds: Dataset, _ want: Double, isInteger: Bool, tolerance: Double = 1e-12,
                  sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let n = try await evalNumber(source, in: ds)
    let ok = want.isNaN ? n.value.isNaN : (want.isInfinite ? n.value == want : abs(n.value - want) <= tolerance * Swift.max(1, abs(want)))
    #expect(ok, "\(source): \(n.value), expected \(want)", sourceLocation: sourceLocation)
    #expect(n.isInteger == isInteger, "\(source): isInteger \(n.isInteger), expected \(isInteger)", sourceLocation: sourceLocation)
}
