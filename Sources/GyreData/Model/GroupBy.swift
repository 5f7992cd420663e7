import GyreArrays
import GyreCompute
import OrderedCollections

/// `array.groupby(key)`: positions along one dimension split by the value of a coordinate or of
/// a datetime field of it (`"time.month"`, `"time.season"`, `"time.year"`, `"time.dayofyear"`).
/// Reductions give one entry per group along a new dimension named after the key (groups in
/// sorted order, as xarray); arithmetic against a per-group array (`x.groupby("time.month") -
/// clim`) subtracts each position's group. Lazy arrays stay lazy: group reductions stream.
public struct GroupBy: Sendable {
    public let array: DataArray
    /// The dimension the groups split.
    public let dim: String
    /// The dimension the reductions put the groups along, and its coordinate (the group values).
    public let name: String
    public let groupValues: Variable
    /// Group of each position along `dim` (-1: in no group).
    public let labels: [Int]
    /// Whether groups without positions reduce to missing values whatever the reduction
    /// (resample's empty bins: xarray gives NaN even for sum and count there).
    public let emptyGroupsMissing: Bool

    init(array: DataArray, dim: String, name: String, groupValues: Variable, labels: [Int], emptyGroupsMissing: Bool = false) {
        self.array = array
        self.dim = dim
        self.name = name
        self.groupValues = groupValues
        self.labels = labels
        self.emptyGroupsMissing = emptyGroupsMissing
    }

    /// Groups positions along `dim` by `keys` (one value per position; NaN/NaT/missing fields
    /// belong to no group).
    static func make(_ array: DataArray, dim: String, name: String, keys: AnyNDArray) throws -> GroupBy {
        guard keys.ndim == 1 else { throw GyreDataError(.invalidArgument, "groupby: the key must be one-dimensional") }
        let labels: [Int], first: [Int]
        if case .string(let s, _) = keys {
            (labels, first) = label(s.withUnsafeBufferPointer { Array($0) }) { _ in false }
        } else {
            let raw: [Double]
            switch keys {
            case .datetime64(let t, _), .timedelta64(let t, _), .cftime(let t, _):
                raw = t.withUnsafeBufferPointer { $0.map { $0 == Int64.min ? Double.nan : Double($0) } }
            default:
                guard let d = keys.doubles() else { throw GyreDataError(.invalidArgument, "groupby: cannot group by values of dtype \(keys.dtype)") }
                raw = d
            }
            // Fields of missing times come back as -1: no group.
            let fieldOfTime = keys.dtype == .int64 && name != dim
            (labels, first) = label(raw) { $0.isNaN || (fieldOfTime && $0 == -1) }
        }
        let values = try context("groupby") { try keys.take(first, axis: 0) }
        return GroupBy(array: array, dim: dim, name: name, groupValues: try Variable([name], values), labels: labels)
    }

    /// Group of each value (groups in sorted order of their values; -1 where `skip`) and the
    /// first position of each group.
    static func label<T: Hashable & Comparable>(_ values: [T], skip: (T) -> Bool) -> (labels: [Int], first: [Int]) {
        var firstSeen: [T: Int] = [:]
        for (i, v) in values.enumerated() where !skip(v) && firstSeen[v] == nil { firstSeen[v] = i }
        let uniq = firstSeen.keys.sorted()
        let index = Dictionary(uniqueKeysWithValues: uniq.enumerated().map { ($1, $0) })
        return (values.map { skip($0) ? -1 : index[$0]! }, uniq.map { firstSeen[$0]! })
    }

    public var groupCount: Int { groupValues.count }

    /// Positions of each group along `dim`, in order.
    var members: [[Int]] {
        var m = [[Int]](repeating: [], count: groupCount)
        for (i, l) in labels.enumerated() where l >= 0 { m[l].append(i) }
        return m
    }

    /// One reduction per group over `dim` (and no other dimension).
    public func reduce(_ r: Reduction, skipna: Bool? = nil) throws -> DataArray {
        let v = array.variable
        let ax = try v.axis(of: dim)
        var dims = v.dims
        dims[ax] = name
        var result: Variable
        if case .lazy(let l) = v.storage {
            do {
                let node = try ReductionSource(l, axes: [ax], reduction: r, skipna: skipna,
                                               groups: .init(axis: ax, labels: labels, count: groupCount))
                result = try Variable(dims, lazy: LazyArray(node))
            } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, "groupby(\(name)).\(r): \(e.message)", cause: e)
            }
        } else {
            let data = try v.data
            var parts: [AnyNDArray] = []
            for ps in members {
                parts.append(try context("groupby(\(name)).\(r)") {
                    do { return try r.apply(try data.take(ps, axis: ax), axes: [ax], skipna: skipna) } catch let e as GyreComputeError {
                        throw GyreDataError(.invalidArgument, e.message, cause: e)
                    }
                })
            }
            result = try Variable(dims, try context("groupby") { try AnyNDArray.stack(parts, axis: ax) })
        }
        if emptyGroupsMissing {
            var present = [Bool](repeating: false, count: groupCount)
            for l in labels where l >= 0 { present[l] = true }
            if present.contains(false) { result = try result.where(try Variable([name], .bool(NDArray(present)))) }
        }
        var coords: OrderedDictionary<String, Variable> = [:]
        for (k, c) in array.coords where !c.dims.contains(dim) { coords[k] = c }
        coords[name] = groupValues
        return try DataArray(result, coords: coords, name: array.name)
    }

    public func mean(skipna: Bool? = nil) throws -> DataArray { try reduce(.mean, skipna: skipna) }
    public func sum(skipna: Bool? = nil) throws -> DataArray { try reduce(.sum, skipna: skipna) }
    public func min(skipna: Bool? = nil) throws -> DataArray { try reduce(.min, skipna: skipna) }
    public func max(skipna: Bool? = nil) throws -> DataArray { try reduce(.max, skipna: skipna) }
    public func std(ddof: Int = 0, skipna: Bool? = nil) throws -> DataArray { try reduce(.std(ddof: ddof), skipna: skipna) }
    public func variance(ddof: Int = 0, skipna: Bool? = nil) throws -> DataArray { try reduce(.variance(ddof: ddof), skipna: skipna) }
    public func count() throws -> DataArray { try reduce(.count) }
    public func median(skipna: Bool? = nil) throws -> DataArray { try reduce(.median, skipna: skipna) }
    public func first(skipna: Bool? = nil) throws -> DataArray { try reduce(.first, skipna: skipna) }
    public func last(skipna: Bool? = nil) throws -> DataArray { try reduce(.last, skipna: skipna) }

    /// `array OP other[group of each position]`: `other` has the groups' dimension (`name`)
    /// with the group values as its coordinate (a climatology); anomalies are
    /// `x.groupby("time.month") - clim`.
    public func binary(_ op: BinaryOp, _ other: DataArray, reversed: Bool = false) throws -> DataArray {
        guard other.dims.contains(name) else {
            throw GyreDataError(.missingDimension, "groupby arithmetic: the other array has dimensions \(other.dims), not '\(name)'")
        }
        // Where each group's value sits in `other`.
        let theirs = other.coords[name] ?? groupValues
        let mine = try groupValues.data.scalars, them = try theirs.data.scalars
        var at: [Scalar: Int] = [:]
        for (i, s) in them.enumerated() where at[s] == nil { at[s] = i }
        var positions: [Int] = []
        for (i, l) in labels.enumerated() {
            guard l >= 0, let p = at[mine[l]] else {
                throw GyreDataError(.invalidArgument, "groupby arithmetic: position \(i) along '\(dim)' is in group \(l >= 0 ? "\(mine[l])" : "none"), which the other array lacks")
            }
            positions.append(p)
        }
        var spread = try other.variable.isel([name: .positions(positions)]).renamingDims([name: dim])
        spread.attrs = [:]
        let v = reversed ? try spread.binary(op, array.variable) : try array.variable.binary(op, spread)
        var coords = array.coords
        for (k, c) in other.coords where k != name && !c.dims.contains(name) && coords[k] == nil { coords[k] = c }
        return try DataArray(v, coords: coords, name: array.name)
    }

    public static func - (a: GroupBy, b: DataArray) throws -> DataArray { try a.binary(.subtract, b) }
    public static func + (a: GroupBy, b: DataArray) throws -> DataArray { try a.binary(.add, b) }
    public static func * (a: GroupBy, b: DataArray) throws -> DataArray { try a.binary(.multiply, b) }
    public static func / (a: GroupBy, b: DataArray) throws -> DataArray { try a.binary(.divide, b) }
}

extension DataArray {
    /// Groups along a dimension by a coordinate (`"label"`) or a datetime field of one
    /// (`"time.month"`, `"time.season"`, `"time.year"`, `"time.dayofyear"`, ...).
    public func groupby(_ key: String) throws -> GroupBy {
        let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
        let coordName = parts[0]
        guard let c = coords[coordName] else {
            throw GyreDataError(.missingVariable, "groupby: no coordinate '\(coordName)'; coordinates are \(Array(coords.keys))")
        }
        guard c.dims.count == 1, dims.contains(c.dims[0]) else {
            throw GyreDataError(.dimensionMismatch, "groupby: '\(coordName)' must be a one-dimensional coordinate along a dimension of the array")
        }
        let dim = c.dims[0]
        if parts.count == 2 {
            guard let field = DatetimeAccessor.Field(rawValue: parts[1]) else {
                throw GyreDataError(.invalidArgument, "groupby: '\(parts[1])' is not a datetime field (one of \(DatetimeAccessor.Field.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let keys = try self.coord(coordName).dt.field(field).data
            return try GroupBy.make(self, dim: dim, name: parts[1], keys: keys)
        }
        return try GroupBy.make(self, dim: dim, name: coordName, keys: try c.data)
    }
}
