import GyreCore
import GyreArrays
import GyreCompute
import OrderedCollections

/// How one dimension is indexed by position.
public enum PositionIndexer: Sendable, Hashable {
    /// One position; the dimension is dropped.
    case at(Int)
    /// A slice; the dimension is kept.
    case slice(Slice)
    /// Positions, in order, possibly repeated; the dimension is kept with the new length.
    case positions([Int])
}

/// Named dimensions + data + attributes + encoding: the unit every labeled object is built of.
/// Arithmetic broadcasts by dimension name, never by position.
/// The values behind a variable: in memory, or a lazy array read on demand.
public enum VariableData: Sendable {
    case eager(AnyNDArray)
    case lazy(LazyArray)
}

public struct Variable: Sendable {
    public private(set) var dims: [String]
    /// The values, in memory or lazy.
    public private(set) var storage: VariableData
    public var attrs: Attributes
    /// How the variable is (or should be) stored: dtype, `_FillValue`, `scale_factor`, `units`,
    /// `calendar`, chunks, codecs. Filled by decoders, read by encoders.
    public var encoding: Attributes

    /// Dimension names must be distinct and one per axis of the data.
    static func checkDims(_ dims: [String], shape: [Int], what: String) throws {
        guard dims.count == shape.count else {
            throw GyreDataError(.dimensionMismatch, "dimensions \(dims) do not match \(what) with \(shape.count) dimensions (shape \(shape))")
        }
        guard Set(dims).count == dims.count else {
            throw GyreDataError(.dimensionMismatch, "repeated dimension names in \(dims)")
        }
    }

    public init(_ dims: [String], _ data: AnyNDArray, attrs: Attributes = [:], encoding: Attributes = [:]) throws {
        try Variable.checkDims(dims, shape: data.shape, what: "data")
        self.dims = dims
        self.storage = .eager(data)
        self.attrs = attrs
        self.encoding = encoding
    }

    /// A lazy variable: nothing is read until `load()` (or a region of it is read).
    public init(_ dims: [String], lazy: LazyArray, attrs: Attributes = [:], encoding: Attributes = [:]) throws {
        try Variable.checkDims(dims, shape: lazy.shape, what: "lazy data from \(lazy.sourceName)")
        self.dims = dims
        self.storage = .lazy(lazy)
        self.attrs = attrs
        self.encoding = encoding
    }

    /// The values in memory. A lazy variable throws (`notLoaded`): `load()` it first.
    public var data: AnyNDArray {
        get throws {
            switch storage {
            case .eager(let a): return a
            case .lazy(let l):
                throw GyreDataError(.notLoaded, "the values are not in memory (lazy, read from \(l.sourceName)); call load() first")
            }
        }
    }

    /// Whether the values are still to be read.
    public var isLazy: Bool { if case .lazy = storage { return true }; return false }

    /// The lazy array behind the variable, if it is lazy.
    public var lazyData: LazyArray? { if case .lazy(let l) = storage { return l }; return nil }

    /// The variable with its values in memory (itself when they already are).
    public func load() async throws -> Variable {
        guard case .lazy(let l) = storage else { return self }
        let a: AnyNDArray
        do { a = try await l.compute() } catch let e as GyreDataError { throw e } catch let e as any Error & Sendable {
            throw GyreDataError(.read, "reading \(l.sourceName): \(e)", cause: e)
        }
        return try Variable(dims, a, attrs: attrs, encoding: encoding)
    }

    /// Reads a region (one slice per dimension) of the values, lazy or not.
    public func read(_ region: [Slice]) async throws -> AnyNDArray {
        switch storage {
        case .eager(let a): return try context("read") { try a.index(region.map { .slice($0) }) }
        case .lazy(let l):
            do { return try await l.read(region) } catch let e as any Error & Sendable {
                throw GyreDataError(.read, "reading \(l.sourceName): \(e)", cause: e)
            }
        }
    }

    /// A 1-D variable of doubles along `dim`.
    public init(_ dim: String, _ values: [Double], attrs: Attributes = [:]) {
        self.dims = [dim]
        self.storage = .eager(.float64(NDArray(values)))
        self.attrs = attrs
        self.encoding = [:]
    }

    /// A 0-d variable.
    public init(scalar: Scalar, attrs: Attributes = [:]) {
        self.dims = []
        self.storage = .eager(AnyNDArray(scalar: scalar))
        self.attrs = attrs
        self.encoding = [:]
    }

    public var shape: [Int] {
        switch storage { case .eager(let a): return a.shape; case .lazy(let l): return l.shape }
    }
    public var dtype: DType {
        switch storage { case .eager(let a): return a.dtype; case .lazy(let l): return l.dtype }
    }
    public var ndim: Int { dims.count }
    public var count: Int { shape.reduce(1, *) }
    /// Bytes the values take (or will take once loaded).
    public var nbytes: Int {
        switch storage { case .eager(let a): return a.nbytes; case .lazy(let l): return l.nbytes }
    }
    /// Extent of each dimension, in order.
    public var sizes: OrderedDictionary<String, Int> {
        OrderedDictionary(uniqueKeysWithValues: zip(dims, shape))
    }

    /// Replaces the data, keeping dims when the shape matches.
    public func with(data newData: AnyNDArray) throws -> Variable {
        try Variable(dims, newData, attrs: attrs, encoding: encoding)
    }

    func axis(of dim: String) throws -> Int {
        guard let i = dims.firstIndex(of: dim) else {
            throw GyreDataError(.missingDimension, "dimension '\(dim)' not found; the variable has dimensions \(dims)")
        }
        return i
    }

    // MARK: Indexing and reshaping

    /// Selects by position along named dimensions (dimensions not present are ignored).
    public func isel(_ indexers: [String: PositionIndexer]) throws -> Variable {
        if case .lazy(let lazy) = storage { return try iselLazy(lazy, indexers) }
        var data = try self.data
        var dims = self.dims
        // Apply positional arrays first (they copy), then basic indexing (views).
        for (d, ix) in indexers {
            guard let ax = dims.firstIndex(of: d) else { continue }
            if case .positions(let p) = ix {
                data = try context("isel along '\(d)'") { try data.take(p, axis: ax) }
            }
        }
        var items: [AxisIndex] = []
        var newDims: [String] = []
        for (ax, d) in dims.enumerated() {
            switch indexers[d] {
            case .at(let i)?:
                let n = data.shape[ax]
                guard (-n..<n).contains(i) else {
                    throw GyreDataError(.invalidArgument, "index \(i) is out of bounds for dimension '\(d)' of size \(n)")
                }
                items.append(.at(i))
            case .slice(let s)?:
                items.append(.slice(s)); newDims.append(d)
            default:
                items.append(.slice(.all)); newDims.append(d)
            }
        }
        data = try context("isel") { try data.index(items) }
        dims = newDims
        return try Variable(dims, data, attrs: attrs, encoding: encoding)
    }

    func iselLazy(_ lazy: LazyArray, _ indexers: [String: PositionIndexer]) throws -> Variable {
        var l = lazy
        do {
            for (d, ix) in indexers {
                guard let ax = dims.firstIndex(of: d), case .positions(let p) = ix else { continue }
                l = try l.take(p, axis: ax)
            }
            var items: [AxisIndex] = []
            var newDims: [String] = []
            for d in dims {
                switch indexers[d] {
                case .at(let i)?: items.append(.at(i))
                case .slice(let s)?: items.append(.slice(s)); newDims.append(d)
                default: items.append(.slice(.all)); newDims.append(d)
                }
            }
            l = try l.index(items)
            return try Variable(newDims, lazy: l, attrs: attrs, encoding: encoding)
        } catch let e as GyreComputeError {
            throw GyreDataError(.invalidArgument, "isel: \(e.message)", cause: e)
        }
    }

    /// Reorders dimensions; `order` may name a subset, then the rest follow in their order
    /// (use `...`-free explicit lists; missing names are an error).
    public func transposed(_ order: [String]) throws -> Variable {
        for d in order where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; the variable has dimensions \(dims)")
        }
        let full = order + dims.filter { !order.contains($0) }
        let perm = try full.map { try axis(of: $0) }
        if case .lazy(let l) = storage {
            do { return try Variable(full, lazy: try l.transposed(perm), attrs: attrs, encoding: encoding) } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, "transpose: \(e.message)", cause: e)
            }
        }
        return try Variable(full, try context("transpose") { try data.transposed(perm) }, attrs: attrs, encoding: encoding)
    }

    /// Adds a dimension of the given size (broadcast: no copy) at position `at` (front by default).
    public func expandingDims(_ dim: String, size: Int = 1, at position: Int = 0) throws -> Variable {
        guard !dims.contains(dim) else {
            throw GyreDataError(.dimensionMismatch, "dimension '\(dim)' already exists")
        }
        guard position >= 0, position <= dims.count, size >= 0 else {
            throw GyreDataError(.invalidArgument, "expand_dims: position \(position) and size \(size) do not fit dimensions \(dims)")
        }
        var nd = dims
        nd.insert(dim, at: position)
        if isLazy {
            // Broadcast against a marker along the new dimension: stays lazy, block by block.
            let marker = try Variable([dim], .bool(NDArray(repeating: false, shape: [size])))
            var e = try Variable.elementwise("expand_dims", [marker, self]) { $0[1] }.transposed(nd)
            e.attrs = attrs
            e.encoding = encoding
            return e
        }
        var e = try context("expand_dims") { try data.expandingDims(at: position) }
        if size != 1 {
            var shape = e.shape
            shape[position] = size
            e = try context("expand_dims") { try e.broadcast(to: shape) }
        }
        return try Variable(nd, e, attrs: attrs, encoding: encoding)
    }

    /// Drops dimensions of size 1 (all of them when `dims` is nil).
    public func squeezed(_ names: [String]? = nil) throws -> Variable {
        let drop = names ?? dims.enumerated().filter { shape[$0.offset] == 1 }.map(\.element)
        var axes: [Int] = []
        for d in drop {
            guard let a = dims.firstIndex(of: d) else { continue }
            guard shape[a] == 1 else {
                throw GyreDataError(.dimensionMismatch, "cannot squeeze dimension '\(d)' of size \(shape[a])")
            }
            axes.append(a)
        }
        return try Variable(dims.filter { !drop.contains($0) }, try context("squeeze") { try data.squeezed(axes: axes) },
                            attrs: attrs, encoding: encoding)
    }

    /// Renames dimensions.
    public func renamingDims(_ mapping: [String: String]) throws -> Variable {
        var v = self
        v.dims = dims.map { mapping[$0] ?? $0 }
        try Variable.checkDims(v.dims, shape: shape, what: "renamed data")
        return v
    }

    /// The data laid out along `targetDims` (a superset of `dims`, any order), with new
    /// dimensions broadcast from `sizes`. A view; copies nothing.
    public func broadcast(to targetDims: [String], sizes: [String: Int]) throws -> AnyNDArray {
        var v = self
        for d in targetDims.reversed() where !v.dims.contains(d) { v = try v.expandingDims(d) }
        v = try v.transposed(targetDims)
        let shape = targetDims.map { d -> Int in sizes[d] ?? 1 }
        return try context("broadcast") { try v.data.broadcast(to: shape) }
    }

    // MARK: Arithmetic by dimension name

    /// Dimensions of a result combining several variables: first-seen order; sizes must agree
    /// (size 1 broadcasts).
    static func broadcastDims(_ vars: [Variable]) throws -> ([String], [String: Int]) {
        var order: [String] = []
        var sizes: [String: Int] = [:]
        for v in vars {
            for (d, n) in zip(v.dims, v.shape) {
                if let m = sizes[d] {
                    if m != n && m != 1 && n != 1 {
                        throw GyreDataError(.dimensionMismatch, "dimension '\(d)' has conflicting sizes \(m) and \(n)")
                    }
                    sizes[d] = Swift.max(m, n)
                } else {
                    order.append(d)
                    sizes[d] = n
                }
            }
        }
        return (order, sizes)
    }

    /// An elementwise function of several variables, broadcast by dimension name. Eager when
    /// every operand is in memory; otherwise a lazy node that computes block by block.
    /// `function` receives the operands' data laid out along the result's dimensions and
    /// broadcast to one shape.
    public static func elementwise(_ name: String, _ vars: [Variable], attrs: Attributes = [:],
                                   _ function: @escaping @Sendable ([AnyNDArray]) throws -> AnyNDArray) throws -> Variable {
        let (dims, sizes) = try broadcastDims(vars)
        let shape = dims.map { sizes[$0]! }
        guard vars.contains(where: \.isLazy) else {
            let arrays = try vars.map { try $0.broadcast(to: dims, sizes: sizes) }
            return try Variable(dims, try context(name) { try function(arrays) }, attrs: attrs)
        }
        var operands: [ElementwiseOperand] = []
        var probes: [AnyNDArray] = []
        for v in vars {
            let order = dims.filter { v.dims.contains($0) }
            let t = try v.transposed(order)
            let axes = order.map { dims.firstIndex(of: $0)! }
            switch t.storage {
            case .lazy(let l): operands.append(ElementwiseOperand(.lazy(l), axes: axes))
            case .eager(let a): operands.append(ElementwiseOperand(.eager(a), axes: axes))
            }
            // A one-element stand-in of the operand's dtype, to learn the result's dtype.
            probes.append(try Variable.probe(v.dtype, ndim: dims.count))
        }
        let dtype = try context(name) { try function(probes).dtype }
        do {
            let node = try ElementwiseSource(name, operands: operands, shape: shape, dtype: dtype, function: function)
            return try Variable(dims, lazy: LazyArray(node), attrs: attrs)
        } catch let e as GyreComputeError {
            throw GyreDataError(.invalidArgument, e.message, cause: e)
        }
    }

    /// One element of `dtype` (1 for numbers), of `ndim` dimensions of length 1.
    static func probe(_ dtype: DType, ndim: Int) throws -> AnyNDArray {
        let shape = [Int](repeating: 1, count: ndim)
        switch dtype {
        case .datetime64(let u): return .datetime64(NDArray(repeating: 0, shape: shape), u)
        case .timedelta64(let u): return .timedelta64(NDArray(repeating: 0, shape: shape), u)
        case .cftime(let c): return .cftime(NDArray(repeating: 0, shape: shape), c)
        case .string(let k): return .string(NDArray(repeating: "a", shape: shape), k)
        default: return try AnyNDArray.full(shape, .int(1), dtype: dtype)
        }
    }

    /// `self OP other`, aligned by dimension name.
    public func binary(_ op: BinaryOp, _ other: Variable) throws -> Variable {
        try Variable.elementwise("operator \(op.rawValue)", [self, other]) { try $0[0].binary(op, $0[1]) }
    }

    public func binary(_ op: BinaryOp, _ s: Scalar, scalarFirst: Bool = false) throws -> Variable {
        try Variable.elementwise("operator \(op.rawValue)", [self]) { try $0[0].binary(op, s, scalarFirst: scalarFirst) }
    }

    public func compare(_ op: CompareOp, _ other: Variable) throws -> Variable {
        try Variable.elementwise("comparison \(op.rawValue)", [self, other]) { try $0[0].compare(op, $0[1]) }
    }

    public func compare(_ op: CompareOp, _ s: Scalar) throws -> Variable {
        try Variable.elementwise("comparison \(op.rawValue)", [self]) { try $0[0].compare(op, s) }
    }

    public func logical(_ op: LogicalOp, _ other: Variable) throws -> Variable {
        try Variable.elementwise("logical \(op.rawValue)", [self, other]) { try $0[0].logical(op, $0[1]) }
    }

    public func unary(_ op: UnaryOp) throws -> Variable {
        try Variable.elementwise(op.rawValue, [self]) { try $0[0].unary(op) }
    }

    /// `function` applied to the values, lazily when they are lazy (attrs dropped, as xarray).
    public func map(_ name: String, _ function: @escaping @Sendable (AnyNDArray) throws -> AnyNDArray) throws -> Variable {
        try Variable.elementwise(name, [self]) { try function($0[0]) }
    }

    /// Values where `condition` holds, `other` elsewhere (NaN by default), by dimension name.
    public func `where`(_ condition: Variable, other: Variable? = nil) throws -> Variable {
        let given = other != nil
        let o = other ?? Variable(scalar: .double(.nan))
        return try Variable.elementwise("where", [self, condition, o], attrs: attrs) { a in
            try Variable.whereArrays(a[0], a[1], a[2], otherGiven: given)
        }
    }

    static func whereArrays(_ x: AnyNDArray, _ c: AnyNDArray, _ y: AnyNDArray, otherGiven: Bool) throws -> AnyNDArray {
        var yy = y
        if !otherGiven {
            // NaN for floats, NaT for times; integers promote to float like xarray.
            switch x.dtype {
            case .datetime64(let u): yy = try AnyNDArray.full(y.shape, .datetime(Int64.min, u))
            case .timedelta64(let u): yy = try AnyNDArray.full(y.shape, .timedelta(Int64.min, u))
            case .cftime(let cal): yy = .cftime(NDArray(repeating: Int64.min, shape: y.shape), cal)
            case .float32: yy = try y.astype(.float32)
            default:
                if x.dtype.isInteger || x.dtype.isBool {
                    let fx = try x.astype(x.dtype.nanPromoted)
                    return try AnyNDArray.where(c, fx, try y.astype(fx.dtype))
                }
            }
        }
        return try AnyNDArray.where(c, x, yy)
    }

    // MARK: Reductions over named dimensions

    /// Reduction kinds, as xarray names them.
    public typealias Reduction = GyreCompute.Reduction

    /// Reduces over `dims` (all when nil). `skipna` nil skips NaNs for float data. Lazy
    /// variables give a lazy result that streams the values when computed.
    public func reduce(_ r: Reduction, dims reduceDims: [String]? = nil, skipna: Bool? = nil, keepAttrs: Bool = false) throws -> Variable {
        let names = reduceDims ?? dims
        let axes = try names.map { try axis(of: $0) }
        let remaining = dims.filter { !names.contains($0) }
        if case .lazy(let l) = storage {
            do {
                let node = try ReductionSource(l, axes: axes, reduction: r, skipna: skipna)
                return try Variable(remaining, lazy: LazyArray(node), attrs: keepAttrs ? attrs : [:])
            } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, "\(r) over \(names): \(e.message)", cause: e)
            }
        }
        let result: AnyNDArray = try context("\(r) over \(names)") {
            do { return try r.apply(data, axes: axes, skipna: skipna) } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, e.message, cause: e)
            }
        }
        return try Variable(remaining, result, attrs: keepAttrs ? attrs : [:])
    }

    /// Joins variables along a dimension: an existing one (extents add) or a new one (first axis).
    public static func concat(_ vars: [Variable], dim: String) throws -> Variable {
        guard let first = vars.first else { throw GyreDataError(.invalidArgument, "concat needs at least one variable") }
        if first.dims.contains(dim) {
            let aligned = try vars.enumerated().map { (i, v) -> AnyNDArray in
                guard Set(v.dims) == Set(first.dims) else {
                    throw GyreDataError(.dimensionMismatch, "variable \(i) has dimensions \(v.dims), expected \(first.dims)")
                }
                return try v.transposed(first.dims).data
            }
            let ax = try first.axis(of: dim)
            return try Variable(first.dims, try context("concat along '\(dim)'") { try AnyNDArray.concatenate(aligned, axis: ax) },
                                attrs: first.attrs, encoding: first.encoding)
        }
        let (dims, sizes) = try broadcastDims(vars)
        let arrays = try vars.map { try $0.broadcast(to: dims, sizes: sizes) }
        return try Variable([dim] + dims, try context("concat along new '\(dim)'") { try AnyNDArray.stack(arrays, axis: 0) },
                            attrs: first.attrs, encoding: first.encoding)
    }

    /// Same dims and the same values (NaN equal to NaN), like xarray's `equals`. Lazy values
    /// must be loaded first (`notLoaded`).
    public func equals(_ other: Variable) throws -> Bool {
        guard dims == other.dims, shape == other.shape else { return false }
        if dtype != other.dtype, !(dtype.isNumeric && other.dtype.isNumeric) { return false }
        let data = try self.data, otherData = try other.data
        return data.scalars.elementsEqualNaNAware(otherData.scalars) || {
            guard let a = data.doubles(), let b = otherData.doubles() else { return false }
            return zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }()
    }
}
