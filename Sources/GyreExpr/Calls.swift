import Foundation
import GyreArrays
import GyreCompute
import GyreData

extension Evaluator {
    func call(_ f: ExprValue, _ a: Arguments) async throws -> ExprValue {
        let col = a.column
        switch f {
        case .function("slice"):
            try a.check("slice", maxPositional: 3, allowed: [])
            switch a.positional.count {
            case 1: return .slice(.none, a.positional[0], .none)
            case 2: return .slice(a.positional[0], a.positional[1], .none)
            case 3: return .slice(a.positional[0], a.positional[1], a.positional[2])
            default: throw fail(.type, "slice takes 1 to 3 arguments", col)
            }
        case .function("abs"):
            try a.check("abs", maxPositional: 1, allowed: [])
            return try numpy("np.abs", a)
        case .function(let name) where name.hasPrefix("np."):
            return try numpy(name, a)
        case .method(let base, let name):
            switch base {
            case .array(let x): return try await arrayMethod(x, name, a)
            case .dataset(let d): return try datasetMethod(d, name, a)
            case .groupby(let g): return try groupMethod(g.grouping, name, a) { r, skipna in .array(try g.reduce(r, skipna: skipna)) }
            case .datasetGroupby(let g): return try groupMethod(g.grouping, name, a) { r, skipna in .dataset(try g.reduce(r, skipna: skipna)) }
            case .weighted(let w):
                try a.check("weighted.\(name)", maxPositional: 1, allowed: ["dim"])
                let dims = try self.dims(a.value(0, "dim"), col)
                return .array(try run(col, "weighted.\(name)") {
                    switch name {
                    case "sum": return try w.sum(dims)
                    case "mean": return try w.mean(dims)
                    default: return try w.sumOfWeights(dims)
                    }
                })
            case .coarsen(let c):
                let (r, dims, skipna) = try reduction(name, a)
                guard dims == nil else { throw fail(.type, "coarsen reductions take no dimensions: the windows name them", col) }
                return .array(try run(col, "coarsen.\(name)") { try c.reduce(r, skipna: skipna) })
            case .rolling(let r):
                try a.check("rolling.\(name)", maxPositional: 0, allowed: [])
                let kind = RollingSpec.Kind(rawValue: name)!
                return .array(try run(col, "rolling.\(name)") { try r.reduce(kind) })
            default: break
            }
            throw fail(.type, "\(base.typeName) has no method '\(name)'", col)
        default:
            throw fail(.type, "\(f.typeName) cannot be called", col)
        }
    }

    /// A value as a DataArray (numbers become 0-d arrays).
    func asArray(_ v: ExprValue, _ col: Int) throws -> DataArray {
        switch v {
        case .array(let x): return x
        case .number, .bool: return try DataArray(try Variable([], AnyNDArray(scalar: try scalar(v, col))))
        default: throw fail(.type, "expected a DataArray or a number, not \(v.typeName)", col)
        }
    }

    func numpy(_ name: String, _ a: Arguments) throws -> ExprValue {
        let col = a.column
        let fn = String(name.dropFirst(3))
        if fn == "where" {
            try a.check(name, maxPositional: 3, allowed: [])
            guard a.positional.count == 3 else { throw fail(.type, "np.where takes (condition, x, y)", col) }
            let c = try asArray(a.positional[0], a.argColumns[0])
            let x = try asArray(a.positional[1], a.argColumns[1]), y = try asArray(a.positional[2], a.argColumns[2])
            return .array(try run(col, "np.where") {
                let v = try Variable.elementwise("where", [x.variable, c.variable, y.variable]) { arr in
                    let (xx, yy) = try Self.promoted(arr[0], arr[2])
                    return try AnyNDArray.where(arr[1], xx, yy)
                }
                var coords = x.coords
                for (k, cc) in c.coords.merging(y.coords, uniquingKeysWith: { p, _ in p }) where coords[k] == nil { coords[k] = cc }
                return try DataArray(v, coords: coords, name: x.name)
            })
        }
        if fn == "minimum" || fn == "maximum" {
            try a.check(name, maxPositional: 2, allowed: [])
            guard a.positional.count == 2 else { throw fail(.type, "\(name) takes two arguments", col) }
            return try binary(fn == "minimum" ? "min" : "max", a.positional[0], a.positional[1], col)
        }
        try a.check(name, maxPositional: 1, allowed: [])
        guard a.positional.count == 1 else { throw fail(.type, "\(name) takes one argument", col) }
        let x = a.positional[0]
        if case .number(let d, _) = x, fn != "isnan" && fn != "isfinite" {
            let r = try asArray(x, col)
            guard case .array(let out) = try numpy(name, Arguments(positional: [.array(r)], keywords: [], column: col, argColumns: a.argColumns)),
                  let v = try out.data.doubles()?.first else { return .number(d, isInteger: false) }
            return .number(v, isInteger: false)
        }
        guard case .array(let arr) = x else { throw fail(.type, "\(name) needs a DataArray or a number, not \(x.typeName)", a.argColumns.first ?? col) }
        return .array(try run(col, name) {
            switch fn {
            case "isnan": return try arr.isnull()
            case "isfinite": return try arr.mapData("isfinite") { v in
                guard let d = v.doubles() else { return .bool(NDArray(repeating: true, shape: v.shape)) }
                return .bool(try NDArray(shape: v.shape, d.map(\.isFinite)))
            }
            case "radians": return try arr.unary(.deg2rad)
            case "degrees": return try arr.unary(.rad2deg)
            case "absolute", "fabs": return try arr.unary(.abs)
            default:
                guard let op = UnaryOp(rawValue: fn) else { throw fail(.name, "np.\(fn) is not available", col) }
                return try arr.unary(op)
            }
        })
    }

    static func promoted(_ x: AnyNDArray, _ y: AnyNDArray) throws -> (AnyNDArray, AnyNDArray) {
        guard x.dtype != y.dtype, let t = DType.promote(x.dtype, y.dtype) else { return (x, y) }
        return (try x.astype(t), try y.astype(t))
    }

    func reduction(_ name: String, _ a: Arguments) throws -> (Reduction, [String]?, Bool?) {
        let col = a.column
        var r: Reduction
        switch name {
        case "mean": r = .mean
        case "sum": r = .sum
        case "min": r = .min
        case "max": r = .max
        case "std": r = .std(ddof: 0)
        case "var": r = .variance(ddof: 0)
        case "count": r = .count
        case "median": r = .median
        case "prod": r = .prod
        case "any": r = .any
        case "all": r = .all
        case "first": r = .first
        case "last": r = .last
        default: throw fail(.name, "'\(name)' is not a reduction", col)
        }
        try a.check(name, maxPositional: 1, allowed: ["dim", "skipna", "ddof"])
        if let d = a.keyword("ddof") {
            let k = try int(d, "ddof", col)
            if case .std = r { r = .std(ddof: k) } else if case .variance = r { r = .variance(ddof: k) } else {
                throw fail(.type, "\(name) got an unexpected keyword argument 'ddof'", col)
            }
        }
        let skipna = try a.keyword("skipna").flatMap { v -> Bool? in if case .none = v { return nil }; return try bool(v, "skipna", col) }
        return (r, try dims(a.value(0, "dim"), a.argColumns.first ?? col), skipna)
    }

    func arrayMethod(_ x: DataArray, _ name: String, _ a: Arguments) async throws -> ExprValue {
        let col = a.column
        switch name {
        case "mean", "sum", "min", "max", "std", "var", "count", "median", "prod", "any", "all":
            let (r, dims, skipna) = try reduction(name, a)
            if let dims { for d in dims where !x.dims.contains(d) { throw fail(.evaluation, "\(name): dimension '\(d)' not found; the array has dimensions \(x.dims)", a.argColumns.first ?? col) } }
            return .array(try run(col, name) { try x.reduce(r, dims: dims, skipna: skipna) })
        case "quantile":
            try a.check(name, maxPositional: 2, allowed: ["q", "dim", "skipna"])
            guard let qv = a.value(0, "q") else { throw fail(.type, "quantile needs q", col) }
            let q = try double(qv, "q", col)
            guard (0...1).contains(q) else { throw fail(.evaluation, "quantile q must be between 0 and 1, not \(q)", col) }
            let dims = try self.dims(a.value(1, "dim"), col)
            let skipna = try a.keyword("skipna").map { try bool($0, "skipna", col) }
            return .array(try run(col, name) { try x.quantile(q, dims: dims, skipna: skipna) })
        case "sel", "isel":
            try a.check(name, maxPositional: 0, allowed: Set(x.dims).union(x.coords.keys).union(["method", "tolerance"]))
            if name == "isel" {
                var ix: [String: PositionIndexer] = [:]
                for (k, v) in a.keywords { ix[k] = try positionIndexer(v, col) }
                return .array(try run(col, name) { try x.isel(ix) })
            }
            var sel: [String: Selector] = [:]
            var method: SelectMethod?
            var tolerance: Double?
            for (k, v) in a.keywords {
                if k == "method" {
                    guard let m = SelectMethod(rawValue: try string(v, "method", col)) else { throw fail(.evaluation, "unknown method for sel", col) }
                    method = m
                } else if k == "tolerance" { tolerance = try double(v, "tolerance", col) } else { sel[k] = try selector(v, col) }
            }
            return .array(try run(col, name) { try x.sel(sel, method: method, tolerance: tolerance) })
        case "groupby":
            let key = try groupKey(a)
            return .groupby(try run(col, name) { try x.groupby(key) })
        case "resample":
            let r = try resampleArguments(x.dims, a)
            return .groupby(try run(col, name) { try x.resample(r.dim, r.freq, closed: r.closed, label: r.label) })
        case "coarsen":
            try a.check(name, maxPositional: 0, allowed: Set(x.dims).union(["boundary"]))
            let windows = try a.keywords.filter { x.dims.contains($0.0) }.map { ($0.0, try int($0.1, "the window of '\($0.0)'", col)) }
            let boundary = try a.keyword("boundary").map { try string($0, "boundary", col) } ?? "exact"
            return .coarsen(try run(col, name) { try x.coarsen(windows, boundary: boundary) })
        case "interp":
            try a.check(name, maxPositional: 0, allowed: Set(x.dims).union(["method"]))
            if let m = a.keyword("method"), try string(m, "method", col) != "linear" {
                throw fail(.evaluation, "interp supports method=\"linear\" only", col)
            }
            var out = x
            for (d, v) in a.keywords where d != "method" {
                let labels: [Scalar], isScalar: Bool
                switch v {
                case .list(let items), .tuple(let items): labels = try items.map { try scalar($0, col) }; isScalar = false
                case .array(let arr): labels = try arr.data.scalars; isScalar = arr.dims.isEmpty
                default: labels = [try scalar(v, col)]; isScalar = true
                }
                out = try run(col, name) { try out.interp(d, at: labels, scalar: isScalar) }
            }
            return .array(out)
        case "dropna":
            try a.check(name, maxPositional: 1, allowed: ["dim", "how"])
            guard let d = a.value(0, "dim") else { throw fail(.type, "dropna needs a dimension", col) }
            let dim = try string(d, "the dimension", col)
            let how = try a.keyword("how").map { try string($0, "how", col) } ?? "any"
            return .array(try await run(col, name) { try await x.dropna(dim, how: how) })
        case "weighted":
            try a.check(name, maxPositional: 1, allowed: ["weights"])
            guard let w = a.value(0, "weights") else { throw fail(.type, "weighted needs weights", col) }
            return .weighted(x.weighted(try asArray(w, a.argColumns.first ?? col)))
        case "rolling":
            try a.check(name, maxPositional: 0, allowed: Set(x.dims).union(["center", "min_periods"]))
            let dimArgs = a.keywords.filter { x.dims.contains($0.0) }
            guard dimArgs.count == 1 else { throw fail(.type, "rolling takes one dimension=window, such as rolling(time=30)", col) }
            let center = try a.keyword("center").map { try bool($0, "center", col) } ?? false
            let mp = try a.keyword("min_periods").flatMap { v -> Int? in if case .none = v { return nil }; return try int(v, "min_periods", col) }
            let window = try int(dimArgs[0].1, "the window", col)
            return .rolling(try run(col, name) { try x.rolling(dimArgs[0].0, window: window, center: center, minPeriods: mp) })
        case "where":
            try a.check(name, maxPositional: 2, allowed: ["cond", "other"])
            guard let c = a.value(0, "cond") else { throw fail(.type, "where needs a condition", col) }
            let cond = try asArray(c, a.argColumns.first ?? col)
            guard cond.dtype == .bool else { throw fail(.type, "where needs a boolean condition, not \(cond.dtype)", a.argColumns.first ?? col) }
            if let o = a.value(1, "other"), !({ if case .none = o { return true }; return false }()) {
                return .array(try run(col, name) { try x.where(cond, other: try scalar(o, col)) })
            }
            return .array(try run(col, name) { try x.where(cond) })
        case "fillna":
            try a.check(name, maxPositional: 1, allowed: ["value"])
            guard let v = a.value(0, "value") else { throw fail(.type, "fillna needs a value", col) }
            return .array(try run(col, name) { try x.fillna(try scalar(v, col)) })
        case "clip":
            try a.check(name, maxPositional: 2, allowed: ["min", "max"])
            func bound(_ v: ExprValue?) throws -> Scalar? { guard let v else { return nil }; if case .none = v { return nil }; return try scalar(v, col) }
            return .array(try run(col, name) { try x.clip(try bound(a.value(0, "min")), try bound(a.value(1, "max"))) })
        case "isnull", "notnull":
            try a.check(name, maxPositional: 0, allowed: [])
            return .array(try run(col, name) { name == "isnull" ? try x.isnull() : try x.notnull() })
        case "abs", "round":
            try a.check(name, maxPositional: 0, allowed: [])
            return .array(try run(col, name) { try x.unary(name == "abs" ? .abs : .round) })
        case "diff", "cumsum":
            try a.check(name, maxPositional: 1, allowed: ["dim", "n"])
            guard let d = a.value(0, "dim") else { throw fail(.type, "\(name) needs a dimension", col) }
            let dim = try string(d, "the dimension", col)
            guard x.dims.contains(dim) else { throw fail(.evaluation, "\(name): dimension '\(dim)' not found; the array has dimensions \(x.dims)", a.argColumns.first ?? col) }
            if name == "cumsum" { return .array(try run(col, name) { try x.cumsum(dim) }) }
            let n = try a.keyword("n").map { try int($0, "n", col) } ?? 1
            return .array(try run(col, name) { try x.diff(dim, n: n) })
        case "shift":
            try a.check(name, maxPositional: 0, allowed: Set(x.dims))
            guard a.keywords.count == 1 else { throw fail(.type, "shift takes one dimension=periods, such as shift(time=1)", col) }
            let k = try int(a.keywords[0].1, "periods", col)
            return .array(try run(col, name) { try x.shift(a.keywords[0].0, periods: k) })
        case "astype":
            try a.check(name, maxPositional: 1, allowed: ["dtype"])
            guard let t = a.value(0, "dtype"), let dt = Self.dtypes[try string(t, "dtype", col)] else { throw fail(.type, "astype needs a dtype name such as \"float64\"", col) }
            return .array(try run(col, name) { try x.astype(dt) })
        case "transpose":
            let order = try a.positional.map { try string($0, "a dimension", col) }
            return .array(try run(col, name) { try x.transposed(order) })
        case "squeeze":
            return .array(try run(col, name) { try x.squeeze(try dims(a.value(0, "dim"), col)) })
        case "rename":
            try a.check(name, maxPositional: 1, allowed: [])
            guard let n = a.positional.first else { throw fail(.type, "rename needs a new name", col) }
            return .array(x.rename(try string(n, "the new name", col)))
        case "argmin", "argmax":
            try a.check(name, maxPositional: 1, allowed: ["dim"])
            guard let d = a.value(0, "dim") else { throw fail(.type, "\(name) needs a dimension", col) }
            let dim = try string(d, "the dimension", col)
            return .array(try run(col, name) { name == "argmin" ? try x.argmin(dim) : try x.argmax(dim) })
        case "load", "compute":
            return .array(x)
        default:
            throw fail(.name, "DataArray.\(name) is not available yet", col)
        }
    }

    func datasetMethod(_ d: Dataset, _ name: String, _ a: Arguments) throws -> ExprValue {
        let col = a.column
        switch name {
        case "mean", "sum", "min", "max", "std", "var", "count", "median":
            let (r, dims, skipna) = try reduction(name, a)
            return .dataset(try run(col, name) { try d.reduce(r, dims: dims, skipna: skipna) })
        case "isel":
            var ix: [String: PositionIndexer] = [:]
            for (k, v) in a.keywords { ix[k] = try positionIndexer(v, col) }
            return .dataset(try run(col, name) { try d.isel(ix) })
        case "sel":
            var sel: [String: Selector] = [:]
            for (k, v) in a.keywords { sel[k] = try selector(v, col) }
            return .dataset(try run(col, name) { try d.sel(sel) })
        case "groupby":
            let key = try groupKey(a)
            return .datasetGroupby(try run(col, name) { try d.groupby(key) })
        case "resample":
            let r = try resampleArguments(d.dims, a)
            return .datasetGroupby(try run(col, name) { try d.resample(r.dim, r.freq, closed: r.closed, label: r.label) })
        case "load", "compute": return .dataset(d)
        default: throw fail(.name, "Dataset.\(name) is not available yet", col)
        }
    }

    /// `groupby(key)`'s key.
    func groupKey(_ a: Arguments) throws -> String {
        try a.check("groupby", maxPositional: 1, allowed: ["group"])
        guard let k = a.value(0, "group") else { throw fail(.type, "groupby needs a key such as \"time.month\"", a.column) }
        return try string(k, "the group key", a.column)
    }

    /// `resample(dim=freq, closed=, label=)`'s arguments, for an array or dataset of `dims`.
    func resampleArguments(_ dims: [String], _ a: Arguments) throws -> (dim: String, freq: String, closed: String?, label: String?) {
        let col = a.column
        try a.check("resample", maxPositional: 0, allowed: Set(dims).union(["closed", "label"]))
        let dimArgs = a.keywords.filter { dims.contains($0.0) }
        guard dimArgs.count == 1 else { throw fail(.type, "resample takes one dimension=frequency, such as resample(time=\"1YS\")", col) }
        return (dimArgs[0].0, try string(dimArgs[0].1, "the frequency", col),
                try a.keyword("closed").map { try string($0, "closed", col) }, try a.keyword("label").map { try string($0, "label", col) })
    }

    /// A reduction of a GroupBy or DatasetGroupBy over its grouped dimension.
    func groupMethod(_ g: Grouping, _ name: String, _ a: Arguments,
                     _ reduce: (Reduction, Bool?) throws -> ExprValue) throws -> ExprValue {
        let col = a.column
        let (r, dims, skipna) = try reduction(name, a)
        if let dims, dims != [g.dim] { throw fail(.evaluation, "groupby and resample reductions reduce over '\(g.dim)' only", col) }
        return try run(col, "groupby.\(name)") { try reduce(r, skipna) }
    }

    // MARK: Operators

    func unary(_ op: String, _ x: ExprValue, _ col: Int) throws -> ExprValue {
        switch (op, x) {
        case ("-", .number(let d, let i)): return .number(-d, isInteger: i)
        case ("+", .number): return x
        case ("-", .array(let a)): return .array(try run(col, "negation") { try a.unary(.negative) })
        case ("+", .array): return x
        case ("~", .array(let a)), ("not", .array(let a)):
            guard a.dtype == .bool else { throw fail(.type, "'\(op)' needs booleans, not \(a.dtype)", col) }
            return .array(try run(col, "'~'") { try a.mapData("invert") { v in guard case .bool(let b) = v else { throw fail(.type, "'~' needs booleans", col) }; return .bool(b.map { !$0 }) } })
        case ("not", .bool(let b)): return .bool(!b)
        default: throw fail(.type, "'\(op)' cannot apply to \(x.typeName)", col)
        }
    }

    func binary(_ op: String, _ l: ExprValue, _ r: ExprValue, _ col: Int) throws -> ExprValue {
        if case .groupby(let g) = l, case .array(let b) = r, let bop = Self.binaryOps[op] {
            return .array(try run(col, "groupby arithmetic") { try g.binary(bop, b) })
        }
        if case .datasetGroupby(let g) = l, let bop = Self.binaryOps[op] {
            switch r {
            case .dataset(let b): return .dataset(try run(col, "groupby arithmetic") { try g.binary(bop, b) })
            case .array(let b): return .dataset(try run(col, "groupby arithmetic") { try g.binary(bop, b) })
            default: break
            }
        }
        if op == "and" || op == "or" {
            guard case .bool(let a) = l, case .bool(let b) = r else {
                throw fail(.type, "'\(op)' works on True/False; for arrays use '\(op == "and" ? "&" : "|")'", col)
            }
            return .bool(op == "and" ? a && b : a || b)
        }
        switch (l, r) {
        case (.number(let a, let ai), .number(let b, let bi)):
            switch op {
            case "+": return .number(a + b, isInteger: ai && bi)
            case "-": return .number(a - b, isInteger: ai && bi)
            case "*": return .number(a * b, isInteger: ai && bi)
            case "/": return .number(a / b, isInteger: false)
            case "**": return .number(pow(a, b), isInteger: ai && bi && b >= 0)
            case "//": return .number((a / b).rounded(.down), isInteger: ai && bi)
            case "%": return .number(a - b * (a / b).rounded(.down), isInteger: ai && bi)
            case "<": return .bool(a < b)
            case ">": return .bool(a > b)
            case "<=": return .bool(a <= b)
            case ">=": return .bool(a >= b)
            case "==": return .bool(a == b)
            case "!=": return .bool(a != b)
            case "min": return .number(Swift.min(a, b), isInteger: ai && bi)
            case "max": return .number(Swift.max(a, b), isInteger: ai && bi)
            default: break
            }
        case (.array(let a), .array(let b)):
            return .array(try run(col, "operator \(op)") {
                if let bop = Self.binaryOps[op] { return try a.binary(bop, b) }
                if let cop = CompareOp(rawValue: op) { return try a.compare(cop, b) }
                if op == "&" { return try a.logical(.and, b) }
                if op == "|" { return try a.logical(.or, b) }
                throw fail(.type, "'\(op)' is not defined for DataArrays", col)
            })
        case (.array(let a), .number), (.array(let a), .bool):
            let s = try scalar(r, col)
            return .array(try run(col, "operator \(op)") {
                if let bop = Self.binaryOps[op] { return try a.binary(bop, s) }
                if let cop = CompareOp(rawValue: op) { return try a.compare(cop, s) }
                if op == "&" || op == "|" { return try a.logical(op == "&" ? .and : .or, try asArray(r, col)) }
                throw fail(.type, "'\(op)' is not defined for a DataArray and a number", col)
            })
        case (.number, .array(let b)), (.bool, .array(let b)):
            let s = try scalar(l, col)
            return .array(try run(col, "operator \(op)") {
                if let bop = Self.binaryOps[op] { return try b.binary(bop, s, scalarFirst: true) }
                if let cop = CompareOp(rawValue: op) { return try b.compare(Self.flipped(cop), s) }
                if op == "&" || op == "|" { return try b.logical(op == "&" ? .and : .or, try asArray(l, col)) }
                throw fail(.type, "'\(op)' is not defined for a number and a DataArray", col)
            })
        case (.dataset(let d), .number):
            if let bop = Self.binaryOps[op] { return .dataset(try run(col, "operator \(op)") { try d.binary(bop, try scalar(r, col)) }) }
        case (.dataset(let d), .dataset(let e)):
            if let bop = Self.binaryOps[op] { return .dataset(try run(col, "operator \(op)") { try d.binary(bop, e) }) }
        default: break
        }
        throw fail(.type, "'\(op)' is not defined between \(l.typeName) and \(r.typeName)", col)
    }

    static let dtypes: [String: DType] = ["float32": .float32, "float64": .float64, "int8": .int8, "int16": .int16, "int32": .int32,
                                          "int64": .int64, "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64, "bool": .bool]

    static let binaryOps: [String: BinaryOp] = ["+": .add, "-": .subtract, "*": .multiply, "/": .divide, "//": .floorDivide,
                                                "%": .remainder, "**": .power, "min": .minimum, "max": .maximum]

    static func flipped(_ c: CompareOp) -> CompareOp {
        switch c {
        case .less: return .greater
        case .greater: return .less
        case .lessEqual: return .greaterEqual
        case .greaterEqual: return .lessEqual
        default: return c
        }
    }
}
