import GyreCore
import GyreArrays
import GyreCompute
import GyreData

/// What an expression evaluates to.
public indirect enum ExprValue: Sendable {
    case dataset(Dataset)
    case array(DataArray)
    case number(Double, isInteger: Bool)
    case string(String)
    case bool(Bool)
    case none
    case tuple([ExprValue])
    case list([ExprValue])
    case slice(ExprValue, ExprValue, ExprValue)
    /// `np`, `np.cos`, `slice`, a bound method (`sst.mean`), `sst.dt`.
    case module(String)
    case function(String)
    case method(ExprValue, String)
    case groupby(GroupBy)
    case datasetGroupby(DatasetGroupBy)
    case weighted(Weighted)
    case rolling(Rolling)
    case coarsen(Coarsen)
    case datetimeAccessor(DataArray)

    var typeName: String {
        switch self {
        case .dataset: return "a Dataset"
        case .array: return "a DataArray"
        case .number(_, let i): return i ? "an integer" : "a number"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .none: return "None"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .slice: return "a slice"
        case .module(let m): return "the module '\(m)'"
        case .function(let f): return "the function '\(f)'"
        case .method(_, let m): return "the method '\(m)'"
        case .groupby: return "a GroupBy"
        case .datasetGroupby: return "a DatasetGroupBy"
        case .weighted: return "a Weighted"
        case .rolling: return "a Rolling"
        case .coarsen: return "a Coarsen"
        case .datetimeAccessor: return "a .dt accessor"
        }
    }
}

/// Evaluates expressions against one dataset: `ds` is the dataset and each variable is bound by
/// its name. Only Gyre's operations can be called: there is no file access, no loops, no
/// attribute that reaches outside the data model.
public struct Evaluator: Sendable {
    public let dataset: Dataset

    public init(dataset: Dataset) { self.dataset = dataset }

    /// Parses and evaluates `source`; lazy results stay lazy (compute them with `load()`).
    public func evaluate(_ source: String) async throws -> ExprValue {
        try await eval(try Parser.parse(source))
    }

    func fail(_ code: GyreExprError.Code = .type, _ message: String, _ column: Int) -> GyreExprError {
        GyreExprError(code, message, column: column)
    }

    /// Runs a data-model call, turning its error into one that points at `column`.
    func run<T>(_ column: Int, _ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as GyreExprError { throw e } catch {
            throw GyreExprError(.evaluation, "\(what): \(error)", column: column, cause: error as? any Error & Sendable)
        }
    }

    /// `run` for the calls that must look at values first (`dropna`).
    func run<T>(_ column: Int, _ what: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as GyreExprError { throw e } catch {
            throw GyreExprError(.evaluation, "\(what): \(error)", column: column, cause: error as? any Error & Sendable)
        }
    }

    func evalAll(_ items: [Expr]) async throws -> [ExprValue] {
        var out: [ExprValue] = []
        for e in items { out.append(try await eval(e)) }
        return out
    }

    func evalOptional(_ e: Expr?) async throws -> ExprValue {
        guard let e else { return .none }
        return try await eval(e)
    }

    func eval(_ e: Expr) async throws -> ExprValue {
        switch e {
        case .number(let v, let i, _): return .number(v, isInteger: i)
        case .string(let s, _): return .string(s)
        case .constant(let c, _):
            switch c { case .true: return .bool(true); case .false: return .bool(false); case .none: return .none }
        case .tuple(let items, _): return .tuple(try await evalAll(items))
        case .list(let items, _): return .list(try await evalAll(items))
        case .slice(let a, let b, let c, _):
            return .slice(try await evalOptional(a), try await evalOptional(b), try await evalOptional(c))
        case .name(let n, let col):
            if n == "ds" { return .dataset(dataset) }
            if n == "np" || n == "numpy" { return .module("np") }
            if ["slice", "abs", "min", "max"].contains(n) { return .function(n) }
            if let v = dataset[n] { return .array(v) }
            throw fail(.name, "unknown name '\(n)'; the dataset has \(dataset.variables.keys.joined(separator: ", ")), and 'ds', 'np', 'slice' are defined", col)
        case .attribute(let base, let name, let col):
            return try attribute(try await eval(base), name, col)
        case .subscripted(let base, let index, let col):
            return try subscriptValue(try await eval(base), try await eval(index), col)
        case .call(let f, let args, let keywords, let col):
            let fv = try await eval(f)
            let a = try await evalAll(args)
            var kw: [(String, ExprValue)] = []
            for (k, v) in keywords {
                guard !kw.contains(where: { $0.0 == k }) else { throw fail(.syntax, "keyword argument '\(k)' is repeated", col) }
                kw.append((k, try await eval(v)))
            }
            return try await call(fv, Arguments(positional: a, keywords: kw, column: col, argColumns: args.map(\.column)))
        case .unary(let op, let x, let col):
            return try unary(op, try await eval(x), col)
        case .binary(let op, let a, let b, let col):
            return try binary(op, try await eval(a), try await eval(b), col)
        }
    }

    // MARK: Attributes and subscripts

    func attribute(_ base: ExprValue, _ name: String, _ col: Int) throws -> ExprValue {
        switch base {
        case .module("np"):
            if name == "nan" { return .number(.nan, isInteger: false) }
            if name == "pi" { return .number(.pi, isInteger: false) }
            if name == "inf" { return .number(.infinity, isInteger: false) }
            guard Self.numpyFunctions.contains(name) else {
                throw fail(.name, "np.\(name) is not available; available are \(Self.numpyFunctions.sorted().joined(separator: ", ")), nan, pi, inf", col)
            }
            return .function("np." + name)
        case .array(let a):
            if name == "dt" { return .datetimeAccessor(a) }
            if Self.arrayMethods.contains(name) { return .method(base, name) }
            if a.coords[name] != nil { return .array(try run(col, "coordinate '\(name)'") { try a.coord(name) }) }
            if name == "name" { return a.name.map { .string($0) } ?? .none }
            if name == "dims" { return .tuple(a.dims.map { .string($0) }) }
            if name == "shape" { return .tuple(a.shape.map { .number(Double($0), isInteger: true) }) }
            if name == "size" { return .number(Double(a.count), isInteger: true) }
            if name == "ndim" { return .number(Double(a.dims.count), isInteger: true) }
            throw fail(.name, "a DataArray has no attribute or coordinate '\(name)' (coordinates: \(a.coords.keys.joined(separator: ", ")))", col)
        case .dataset(let d):
            if Self.datasetMethods.contains(name) { return .method(base, name) }
            if let v = d[name] { return .array(v) }
            if name == "dims" { return .tuple(d.dims.map { .string($0) }) }
            throw fail(.name, "the dataset has no variable or method '\(name)' (variables: \(d.variables.keys.joined(separator: ", ")))", col)
        case .datetimeAccessor(let a):
            guard let f = DatetimeAccessor.Field(rawValue: name) else {
                throw fail(.name, ".dt has no field '\(name)'; fields are \(DatetimeAccessor.Field.allCases.map(\.rawValue).joined(separator: ", "))", col)
            }
            return .array(try run(col, ".dt.\(name)") { try a.dt.field(f) })
        case .groupby, .datasetGroupby:
            guard Self.groupMethods.contains(name) else { throw fail(.name, "a GroupBy has no method '\(name)'; methods are \(Self.groupMethods.sorted().joined(separator: ", "))", col) }
            return .method(base, name)
        case .weighted:
            guard ["mean", "sum", "sum_of_weights"].contains(name) else { throw fail(.name, "a Weighted has no method '\(name)'; methods are mean, sum, sum_of_weights", col) }
            return .method(base, name)
        case .coarsen:
            guard Self.coarsenMethods.contains(name) else { throw fail(.name, "a Coarsen has no method '\(name)'; methods are \(Self.coarsenMethods.sorted().joined(separator: ", "))", col) }
            return .method(base, name)
        case .rolling:
            guard Self.rollingMethods.contains(name) else { throw fail(.name, "a Rolling has no method '\(name)'; methods are \(Self.rollingMethods.sorted().joined(separator: ", "))", col) }
            return .method(base, name)
        default:
            throw fail(.type, "\(base.typeName) has no attribute '\(name)'", col)
        }
    }

    func subscriptValue(_ base: ExprValue, _ index: ExprValue, _ col: Int) throws -> ExprValue {
        switch (base, index) {
        case (.dataset(let d), .string(let name)):
            guard let v = d[name] else { throw fail(.name, "the dataset has no variable '\(name)' (variables: \(d.variables.keys.joined(separator: ", ")))", col) }
            return .array(v)
        case (.dataset(let d), .list(let names)):
            let ns = try names.map { n -> String in
                guard case .string(let s) = n else { throw fail(.type, "ds[[...]] takes variable names (strings), not \(n.typeName)", col) }
                return s
            }
            return .dataset(try run(col, "ds\(ns)") { try d.select(ns) })
        case (.array(let a), _):
            let items: [ExprValue]
            if case .tuple(let t) = index { items = t } else { items = [index] }
            guard items.count <= a.dims.count else { throw fail(.type, "\(items.count) indices for an array of \(a.dims.count) dimensions", col) }
            var ix: [String: PositionIndexer] = [:]
            for (d, item) in zip(a.dims, items) { ix[d] = try positionIndexer(item, col) }
            return .array(try run(col, "indexing") { try a.isel(ix) })
        default:
            throw fail(.type, "\(base.typeName) cannot be subscripted with \(index.typeName)", col)
        }
    }

    // MARK: Conversions

    func int(_ v: ExprValue, _ what: String, _ col: Int) throws -> Int {
        guard case .number(let d, _) = v, d == d.rounded(), abs(d) < 1e15 else { throw fail(.type, "\(what) must be an integer, not \(v.typeName)", col) }
        return Int(d)
    }
    func double(_ v: ExprValue, _ what: String, _ col: Int) throws -> Double {
        switch v {
        case .number(let d, _): return d
        case .bool(let b): return b ? 1 : 0
        default: throw fail(.type, "\(what) must be a number, not \(v.typeName)", col)
        }
    }
    func string(_ v: ExprValue, _ what: String, _ col: Int) throws -> String {
        guard case .string(let s) = v else { throw fail(.type, "\(what) must be a string, not \(v.typeName)", col) }
        return s
    }
    func bool(_ v: ExprValue, _ what: String, _ col: Int) throws -> Bool {
        guard case .bool(let b) = v else { throw fail(.type, "\(what) must be True or False, not \(v.typeName)", col) }
        return b
    }
    /// A dimension name or a tuple/list of them (None: all).
    func dims(_ v: ExprValue?, _ col: Int) throws -> [String]? {
        guard let v else { return nil }
        switch v {
        case .none: return nil
        case .string(let s): return [s]
        case .tuple(let items), .list(let items): return try items.map { try string($0, "a dimension", col) }
        default: throw fail(.type, "dimensions must be a name or a tuple of names, not \(v.typeName)", col)
        }
    }
    func scalar(_ v: ExprValue, _ col: Int) throws -> Scalar {
        switch v {
        case .number(let d, let i): return i ? .int(Int64(d)) : .double(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        default: throw fail(.type, "expected a number or string, not \(v.typeName)", col)
        }
    }
    func positionIndexer(_ v: ExprValue, _ col: Int) throws -> PositionIndexer {
        switch v {
        case .number: return .at(try int(v, "a position", col))
        case .slice(let a, let b, let c):
            func opt(_ x: ExprValue) throws -> Int? { if case .none = x { return nil }; return try int(x, "a slice bound", col) }
            return .slice(Slice(try opt(a), try opt(b), step: try opt(c) ?? 1))
        case .list(let items), .tuple(let items): return .positions(try items.map { try int($0, "a position", col) })
        default: throw fail(.type, "positions are integers, slices or lists of integers, not \(v.typeName)", col)
        }
    }
    func selector(_ v: ExprValue, _ col: Int) throws -> Selector {
        switch v {
        case .slice(let a, let b, let c):
            if case .none = c {} else { throw fail(.type, "label slices take no step", col) }
            func opt(_ x: ExprValue) throws -> Scalar? { if case .none = x { return nil }; return try scalar(x, col) }
            return .slice(try opt(a), try opt(b))
        case .list(let items), .tuple(let items): return .values(try items.map { try scalar($0, col) })
        default: return .value(try scalar(v, col))
        }
    }

    static let numpyFunctions: Set<String> = ["cos", "sin", "tan", "arcsin", "arccos", "arctan", "deg2rad", "rad2deg", "radians", "degrees",
                                              "sqrt", "log", "log10", "log2", "log1p", "exp", "expm1", "abs", "absolute", "isnan", "isfinite",
                                              "where", "floor", "ceil", "round", "square", "sign", "minimum", "maximum", "fabs", "negative"]
    static let arrayMethods: Set<String> = ["mean", "sum", "min", "max", "std", "var", "count", "median", "prod", "any", "all", "quantile",
                                            "sel", "isel", "groupby", "weighted", "rolling", "where", "fillna", "clip", "isnull", "notnull",
                                            "diff", "shift", "cumsum", "load", "compute", "transpose", "squeeze", "rename", "astype",
                                            "argmin", "argmax", "round", "abs", "dropna", "interp", "resample", "coarsen"]
    static let datasetMethods: Set<String> = ["mean", "sum", "min", "max", "std", "count", "sel", "isel", "load", "compute", "where", "median", "var",
                                              "groupby", "resample"]
    static let groupMethods: Set<String> = ["mean", "sum", "min", "max", "std", "var", "count", "median", "first", "last"]
    static let rollingMethods: Set<String> = ["mean", "sum", "min", "max", "std", "var", "count"]
    static let coarsenMethods: Set<String> = ["mean", "sum", "min", "max", "std", "var", "count", "median"]
}

/// The arguments of one call, with helpers that say which argument is wrong.
struct Arguments {
    let positional: [ExprValue]
    let keywords: [(String, ExprValue)]
    let column: Int
    let argColumns: [Int]

    func keyword(_ k: String) -> ExprValue? { keywords.first { $0.0 == k }?.1 }
    /// Argument `i` or keyword `k`.
    func value(_ i: Int, _ k: String) -> ExprValue? { i < positional.count ? positional[i] : keyword(k) }
    func check(_ name: String, maxPositional: Int, allowed: Set<String>) throws {
        guard positional.count <= maxPositional else {
            throw GyreExprError(.type, "\(name) takes at most \(maxPositional) positional argument\(maxPositional == 1 ? "" : "s"), got \(positional.count)",
                                column: argColumns.count > maxPositional ? argColumns[maxPositional] : column)
        }
        for (k, _) in keywords where !allowed.contains(k) {
            throw GyreExprError(.type, "\(name) got an unexpected keyword argument '\(k)'\(allowed.isEmpty ? "" : "; it takes \(allowed.sorted().joined(separator: ", "))")", column: column)
        }
    }
}
