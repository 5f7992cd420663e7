import GyreCore
import GyreArrays
import OrderedCollections

/// A variable with coordinates and a name: xarray's DataArray. Structural operations run through
/// a one-variable Dataset, so the two share one implementation.
public struct DataArray: Sendable {
    public internal(set) var variable: Variable
    public private(set) var coords: OrderedDictionary<String, Variable>
    public var name: String?
    public private(set) var indexes: OrderedDictionary<String, Index>

    init(uncheckedVariable variable: Variable, coords: OrderedDictionary<String, Variable>, name: String?,
         indexes: OrderedDictionary<String, Index>) {
        self.variable = variable
        self.coords = coords
        self.name = name
        self.indexes = indexes
    }

    /// A DataArray from a variable and coordinates whose dimensions are among the variable's.
    public init(_ variable: Variable, coords: OrderedDictionary<String, Variable> = [:], name: String? = nil) throws {
        let ds = try Dataset(coords: coords)
        for (k, c) in coords where !Set(c.dims).isSubset(of: variable.dims) {
            throw GyreDataError(.dimensionMismatch, "coordinate '\(k)' has dimensions \(c.dims), not all of which are dimensions of the array \(variable.dims)")
        }
        var full = ds
        try full.insert("__data__", variable, asCoord: false)
        self.init(uncheckedVariable: variable, coords: coords, name: name, indexes: full.indexes)
    }

    /// A DataArray from data and dimension names, with optional coordinate values per dimension.
    public init(_ data: AnyNDArray, dims: [String], coords: OrderedDictionary<String, Variable> = [:], name: String? = nil,
                attrs: Attributes = [:]) throws {
        try self.init(try Variable(dims, data, attrs: attrs), coords: coords, name: name)
    }

    public var dims: [String] { variable.dims }
    public var shape: [Int] { variable.shape }
    public var dtype: DType { variable.dtype }
    public var data: AnyNDArray { get throws { try variable.data } }
    public var attrs: Attributes {
        get { variable.attrs }
        set { variable.attrs = newValue }
    }
    public var encoding: Attributes {
        get { variable.encoding }
        set { variable.encoding = newValue }
    }
    public var sizes: OrderedDictionary<String, Int> { variable.sizes }
    public var count: Int { variable.count }

    /// The coordinate named `name` as a DataArray.
    public func coord(_ name: String) throws -> DataArray {
        guard let c = coords[name] else {
            throw GyreDataError(.missingVariable, "no coordinate named '\(name)'; coordinates are \(Array(coords.keys))")
        }
        var sub: OrderedDictionary<String, Variable> = [:]
        for (k, v) in coords where Set(v.dims).isSubset(of: c.dims) { sub[k] = v }
        return try DataArray(c, coords: sub, name: name)
    }

    // MARK: Round trip through a Dataset

    static let tempName = "<this-array>"

    func toTempDataset() throws -> Dataset {
        var ds = try Dataset(coords: coords)
        try ds.insert(DataArray.tempName, variable, asCoord: false)
        return ds
    }

    static func fromTempDataset(_ ds: Dataset, name: String?) throws -> DataArray {
        guard var da = ds[tempName] else { throw GyreDataError(.missingVariable, "internal: lost the array") }
        da.name = name
        return da
    }

    func viaDataset(_ f: (Dataset) throws -> Dataset) throws -> DataArray {
        try DataArray.fromTempDataset(try f(try toTempDataset()), name: name)
    }

    /// This array as a one-variable Dataset (named after the array, or "data").
    public func toDataset(name override: String? = nil) throws -> Dataset {
        var ds = try Dataset(coords: coords)
        try ds.insert(override ?? name ?? "data", variable, asCoord: false)
        return ds
    }

    // MARK: Structure

    public func isel(_ indexers: [String: PositionIndexer]) throws -> DataArray { try viaDataset { try $0.isel(indexers) } }
    public func sel(_ selectors: [String: Selector], method: SelectMethod? = nil, tolerance: Double? = nil) throws -> DataArray {
        try viaDataset { try $0.sel(selectors, method: method, tolerance: tolerance) }
    }
    public func transposed(_ order: String...) throws -> DataArray { try transposed(order) }
    public func transposed(_ order: [String]) throws -> DataArray {
        for d in order where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; the array has dimensions \(dims)")
        }
        return try viaDataset { try $0.transposed(order) }
    }
    public func expandDims(_ dim: String, size: Int = 1, coordinate: Variable? = nil) throws -> DataArray {
        try viaDataset { try $0.expandDims(dim, size: size, coordinate: coordinate) }
    }
    public func squeeze(_ names: [String]? = nil) throws -> DataArray { try viaDataset { try $0.squeeze(names) } }
    public func rename(_ newName: String) -> DataArray { var d = self; d.name = newName; return d }
    /// Renames dimensions and coordinates.
    public func rename(_ mapping: [String: String]) throws -> DataArray {
        try viaDataset { ds in
            var m = mapping
            m.removeValue(forKey: DataArray.tempName)
            return try ds.rename(m)
        }
    }
    public func assignCoords(_ c: OrderedDictionary<String, Variable>) throws -> DataArray {
        for (k, v) in c where !Set(v.dims).isSubset(of: dims) {
            throw GyreDataError(.dimensionMismatch, "coordinate '\(k)' has dimensions \(v.dims), not all of which are dimensions of the array \(dims)")
        }
        return try viaDataset { try $0.assignCoords(c) }
    }
    public func dropVars(_ names: [String], ignoreMissing: Bool = false) throws -> DataArray {
        try viaDataset { try $0.dropVars(names, ignoreMissing: ignoreMissing) }
    }

    // MARK: Reductions

    public func reduce(_ r: Variable.Reduction, dims reduceDims: [String]? = nil, skipna: Bool? = nil, keepAttrs: Bool = false) throws -> DataArray {
        for d in reduceDims ?? [] where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; the array has dimensions \(dims)")
        }
        let names = reduceDims ?? dims
        var c: OrderedDictionary<String, Variable> = [:]
        for (k, v) in coords where Set(v.dims).isDisjoint(with: names) { c[k] = v }
        let reduced = try variable.reduce(r, dims: names, skipna: skipna, keepAttrs: keepAttrs)
        return try DataArray(reduced, coords: c, name: name)
    }

    public func mean(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.mean, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func sum(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.sum, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func min(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.min, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func max(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.max, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func prod(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.prod, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func std(_ dims: String..., ddof: Int = 0, skipna: Bool? = nil) throws -> DataArray { try reduce(.std(ddof: ddof), dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func variance(_ dims: String..., ddof: Int = 0, skipna: Bool? = nil) throws -> DataArray { try reduce(.variance(ddof: ddof), dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func count(_ dims: String...) throws -> DataArray { try reduce(.count, dims: dims.isEmpty ? nil : dims) }
    public func median(_ dims: String..., skipna: Bool? = nil) throws -> DataArray { try reduce(.median, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func quantile(_ q: Double, dims: [String]? = nil, skipna: Bool? = nil) throws -> DataArray {
        var r = try reduce(.quantile(q), dims: dims, skipna: skipna)
        r.coords["quantile"] = Variable(scalar: .double(q))
        return r
    }
    public func any(_ dims: String...) throws -> DataArray { try reduce(.any, dims: dims.isEmpty ? nil : dims) }
    public func all(_ dims: String...) throws -> DataArray { try reduce(.all, dims: dims.isEmpty ? nil : dims) }

    /// Position of the minimum / maximum along one dimension.
    public func argmin(_ dim: String, skipna: Bool? = nil) throws -> DataArray { try argExtreme(dim, max: false, skipna: skipna) }
    public func argmax(_ dim: String, skipna: Bool? = nil) throws -> DataArray { try argExtreme(dim, max: true, skipna: skipna) }
    func argExtreme(_ dim: String, max: Bool, skipna: Bool?) throws -> DataArray {
        let ax = try variable.axis(of: dim)
        let r = try context("arg\(max ? "max" : "min") over '\(dim)'") {
            max ? try data.argmax(axis: ax, skipna: skipna) : try data.argmin(axis: ax, skipna: skipna)
        }
        var c: OrderedDictionary<String, Variable> = [:]
        for (k, v) in coords where !v.dims.contains(dim) { c[k] = v }
        return try DataArray(try Variable(dims.filter { $0 != dim }, r), coords: c, name: name)
    }

    // MARK: Elementwise

    /// Applies an elementwise operation to the data, keeping dims, coords and name (attrs
    /// dropped, as xarray); lazily when the data is lazy.
    public func mapData(_ name: String = "elementwise", _ f: @escaping @Sendable (AnyNDArray) throws -> AnyNDArray) throws -> DataArray {
        var d = self
        d.variable = try variable.map(name, f)
        return d
    }

    public func unary(_ op: UnaryOp) throws -> DataArray { try mapData(op.rawValue) { try $0.unary(op) } }
    public func isnull() throws -> DataArray { try mapData("isnull") { .bool($0.isnan()) } }
    public func notnull() throws -> DataArray { try mapData("notnull") { .bool($0.isnan().map { !$0 }) } }
    public func fillna(_ value: Scalar) throws -> DataArray { try mapData("fillna") { try $0.fillna(value) } }
    public func clip(_ lower: Scalar?, _ upper: Scalar?) throws -> DataArray { try mapData("clip") { try $0.clip(lower: lower, upper: upper) } }
    public func astype(_ t: DType) throws -> DataArray { try mapData("astype") { try $0.astype(t) } }

    /// Binary operation with another DataArray: indexes aligned (inner join by default, as
    /// xarray's arithmetic), then broadcast by dimension name.
    public func binary(_ op: BinaryOp, _ other: DataArray, join: Join = .inner) throws -> DataArray {
        let aligned = try align([self, other], join: join)
        let a = aligned[0], b = aligned[1]
        let v = try a.variable.binary(op, b.variable)
        return try DataArray(v, coords: mergeCoords(a, b), name: a.name == b.name ? a.name : nil)
    }

    public func binary(_ op: BinaryOp, _ s: Scalar, scalarFirst: Bool = false) throws -> DataArray {
        var d = self
        d.variable = try variable.binary(op, s, scalarFirst: scalarFirst)
        return d
    }

    public func compare(_ op: CompareOp, _ other: DataArray) throws -> DataArray {
        let aligned = try align([self, other], join: .inner)
        let v = try aligned[0].variable.compare(op, aligned[1].variable)
        return try DataArray(v, coords: mergeCoords(aligned[0], aligned[1]), name: nil)
    }

    public func compare(_ op: CompareOp, _ s: Scalar) throws -> DataArray {
        var d = self
        d.variable = try variable.compare(op, s)
        return d
    }

    public func logical(_ op: LogicalOp, _ other: DataArray) throws -> DataArray {
        let aligned = try align([self, other], join: .inner)
        let v = try aligned[0].variable.logical(op, aligned[1].variable)
        return try DataArray(v, coords: mergeCoords(aligned[0], aligned[1]), name: nil)
    }

    /// Values where `condition` holds, `other` (NaN by default) elsewhere.
    public func `where`(_ condition: DataArray, other: Scalar? = nil) throws -> DataArray {
        let aligned = try align([self, condition], join: .inner)
        let v = try aligned[0].variable.where(aligned[1].variable, other: other.map { Variable(scalar: $0) })
        return try DataArray(v, coords: mergeCoords(aligned[0], aligned[1]), name: name)
    }

    /// Same dims, values and coordinates (attrs ignored), like xarray's `equals`.
    public func equals(_ other: DataArray) throws -> Bool {
        guard try variable.equals(other.variable), Set(coords.keys) == Set(other.coords.keys) else { return false }
        for (k, v) in coords where !(try v.equals(other.coords[k]!)) { return false }
        return true
    }

    /// The values as Doubles (numeric data), in C order.
    public func doubles() throws -> [Double] {
        guard let d = try data.doubles() else { throw GyreDataError(.invalidArgument, "\(name ?? "array") of dtype \(dtype) is not numeric") }
        return d
    }

    public static func + (a: DataArray, b: DataArray) throws -> DataArray { try a.binary(.add, b) }
    public static func - (a: DataArray, b: DataArray) throws -> DataArray { try a.binary(.subtract, b) }
    public static func * (a: DataArray, b: DataArray) throws -> DataArray { try a.binary(.multiply, b) }
    public static func / (a: DataArray, b: DataArray) throws -> DataArray { try a.binary(.divide, b) }
    public static func + (a: DataArray, b: Scalar) throws -> DataArray { try a.binary(.add, b) }
    public static func - (a: DataArray, b: Scalar) throws -> DataArray { try a.binary(.subtract, b) }
    public static func * (a: DataArray, b: Scalar) throws -> DataArray { try a.binary(.multiply, b) }
    public static func / (a: DataArray, b: Scalar) throws -> DataArray { try a.binary(.divide, b) }
}

/// Coordinates of both operands; a non-index coordinate present in both with different values
/// is dropped (xarray keeps only coordinates that agree).
func mergeCoords(_ a: DataArray, _ b: DataArray) throws -> OrderedDictionary<String, Variable> {
    var out = a.coords
    for (k, v) in b.coords {
        if let existing = out[k] {
            if !(try existing.equals(v)) && a.indexes[k] == nil { out.removeValue(forKey: k) }
        } else {
            out[k] = v
        }
    }
    return out
}
