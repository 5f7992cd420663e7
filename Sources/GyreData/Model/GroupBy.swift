import GyreCore
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
    public let grouping: Grouping

    init(array: DataArray, _ grouping: Grouping) {
        self.array = array
        self.grouping = grouping
    }

    /// The dimension the groups split.
    public var dim: String { grouping.dim }
    /// The dimension the reductions put the groups along, and its coordinate (the group values).
    public var name: String { grouping.name }
    public var groupValues: Variable { grouping.groupValues }
    /// Group of each position along `dim` (-1: in no group).
    public var labels: [Int] { grouping.labels }
    /// Whether groups without positions reduce to missing values whatever the reduction
    /// (resample's empty bins: xarray gives NaN even for sum and count there).
    public var emptyGroupsMissing: Bool { grouping.emptyGroupsMissing }

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
        result = try grouping.maskingEmptyGroups(result)
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

/// `ds.groupby(key)` and `ds.resample(...)`: every data variable split into the same groups.
/// Reductions give a dataset with one entry per group along the groups' dimension; a variable
/// without the grouped dimension is reduced over no dimension and repeated for every group,
/// and variables that cannot be reduced (strings for mean) are dropped, as in xarray.
/// Arithmetic pairs data variables by name (`ds.groupby("time.month") - clim`, with `clim` a
/// grouped reduction of the dataset).
public struct DatasetGroupBy: Sendable {
    public let dataset: Dataset
    public let grouping: Grouping

    init(dataset: Dataset, _ grouping: Grouping) {
        self.dataset = dataset
        self.grouping = grouping
    }

    public var dim: String { grouping.dim }
    public var name: String { grouping.name }

    /// The grouped data variable `key`, with the dataset's coordinates along its dimensions
    /// (spread along the grouped dimension when it lacks it).
    func member(_ key: String, _ v: Variable) throws -> GroupBy {
        var v = v
        if !v.dims.contains(dim) { v = try v.expandingDims(dim, size: dataset.sizes[dim] ?? 0, at: 0) }
        let coords = dataset.coords.filter { Set($0.value.dims).isSubset(of: v.dims) }
        return GroupBy(array: try DataArray(v, coords: coords, name: key), grouping)
    }

    /// One reduction per group of every data variable.
    public func reduce(_ r: Reduction, skipna: Bool? = nil) throws -> Dataset {
        var out = try Dataset()
        for (k, c) in dataset.coords where !c.dims.contains(dim) { try out.insert(k, c, asCoord: true) }
        try out.insert(name, grouping.groupValues, asCoord: true)
        for (k, v) in dataset.dataVars {
            if !(v.dtype.isNumeric || v.dtype.isDatetime || v.dtype.isTimedelta) {
                switch r { case .count, .first, .last: break; default: continue }
            }
            let reduced = try naming(k) { () throws -> Variable in
                if v.dims.contains(dim) { return try member(k, v).reduce(r, skipna: skipna).variable }
                // As xarray: reduced over no dimension in every group (count gives 1 or 0, std 0).
                let once = try v.reduce(r, dims: [], skipna: skipna)
                return try grouping.maskingEmptyGroups(try once.expandingDims(name, size: grouping.groupValues.count, at: 0))
            }
            try out.insert(k, reduced, asCoord: false)
        }
        return out
    }

    public func mean(skipna: Bool? = nil) throws -> Dataset { try reduce(.mean, skipna: skipna) }
    public func sum(skipna: Bool? = nil) throws -> Dataset { try reduce(.sum, skipna: skipna) }
    public func min(skipna: Bool? = nil) throws -> Dataset { try reduce(.min, skipna: skipna) }
    public func max(skipna: Bool? = nil) throws -> Dataset { try reduce(.max, skipna: skipna) }
    public func std(ddof: Int = 0, skipna: Bool? = nil) throws -> Dataset { try reduce(.std(ddof: ddof), skipna: skipna) }
    public func count() throws -> Dataset { try reduce(.count) }
    public func median(skipna: Bool? = nil) throws -> Dataset { try reduce(.median, skipna: skipna) }

    /// `ds OP other[group of each position]`, data variable by data variable: each variable of
    /// the dataset against the same-named variable of `other` (variables missing from `other`
    /// are dropped, as xarray's inner join of data variables). `other` must have the groups'
    /// dimension; a variable of it without that dimension is broadcast as in plain arithmetic.
    public func binary(_ op: BinaryOp, _ other: Dataset, reversed: Bool = false) throws -> Dataset {
        guard other.dims.contains(name) else {
            throw GyreDataError(.missingDimension, "groupby arithmetic: the other dataset has dimensions \(other.dims), not '\(name)'")
        }
        return try combine(op, reversed: reversed) { k in
            guard let w = other.dataVars[k] else { return nil }
            return try DataArray(w, coords: other.coords.filter { Set($0.value.dims).isSubset(of: w.dims) }, name: k)
        }
    }

    /// `ds OP other[group of each position]` with one array for every data variable.
    public func binary(_ op: BinaryOp, _ other: DataArray, reversed: Bool = false) throws -> Dataset {
        try combine(op, reversed: reversed) { _ in other }
    }

    private func combine(_ op: BinaryOp, reversed: Bool, _ partner: (String) throws -> DataArray?) throws -> Dataset {
        var out = try Dataset()
        for (k, c) in dataset.coords { try out.insert(k, c, asCoord: true) }
        for (k, v) in dataset.dataVars {
            guard let w = try partner(k) else { continue }
            let r = try naming(k) { () throws -> DataArray in
                if w.dims.contains(name) { return try member(k, v).binary(op, w, reversed: reversed) }
                let a = try DataArray(v, coords: [:], name: k)
                return reversed ? try w.binary(op, a) : try a.binary(op, w)
            }
            try out.insert(k, r.variable, asCoord: false)
            for (ck, cv) in r.coords where out.variables[ck] == nil { try out.insert(ck, cv, asCoord: true) }
        }
        return out
    }

    /// Runs `body` for data variable `key`, naming the variable in its errors.
    private func naming<R>(_ key: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as GyreDataError {
            throw GyreDataError(e.code, "variable '\(key)': \(e.message)", cause: e)
        } catch let e as GyreArraysError {
            throw GyreDataError(.arrays, "variable '\(key)': \(e.message)", cause: e)
        }
    }

    public static func - (a: DatasetGroupBy, b: Dataset) throws -> Dataset { try a.binary(.subtract, b) }
    public static func + (a: DatasetGroupBy, b: Dataset) throws -> Dataset { try a.binary(.add, b) }
    public static func * (a: DatasetGroupBy, b: Dataset) throws -> Dataset { try a.binary(.multiply, b) }
    public static func / (a: DatasetGroupBy, b: Dataset) throws -> Dataset { try a.binary(.divide, b) }
    public static func - (a: DatasetGroupBy, b: DataArray) throws -> Dataset { try a.binary(.subtract, b) }
    public static func + (a: DatasetGroupBy, b: DataArray) throws -> Dataset { try a.binary(.add, b) }
    public static func * (a: DatasetGroupBy, b: DataArray) throws -> Dataset { try a.binary(.multiply, b) }
    public static func / (a: DatasetGroupBy, b: DataArray) throws -> Dataset { try a.binary(.divide, b) }
}

/// How the positions along one dimension split into groups: by the values of a coordinate or
/// of a datetime field of it (groupby), or by the bins of a frequency (resample). Shared by
/// `GroupBy` and `DatasetGroupBy`.
public struct Grouping: Sendable {
    /// The dimension the groups split.
    public let dim: String
    /// The dimension the reductions put the groups along, and its coordinate (the group values).
    public let name: String
    public let groupValues: Variable
    /// Group of each position along `dim` (-1: in no group).
    public let labels: [Int]
    /// Whether groups without positions reduce to missing values whatever the reduction.
    public let emptyGroupsMissing: Bool

    /// `v` (with the groups' dimension) missing in the groups without positions, when empty
    /// groups reduce to missing values.
    func maskingEmptyGroups(_ v: Variable) throws -> Variable {
        guard emptyGroupsMissing else { return v }
        var present = [Bool](repeating: false, count: groupValues.count)
        for l in labels where l >= 0 { present[l] = true }
        return present.contains(false) ? try v.where(try Variable([name], .bool(NDArray(present)))) : v
    }

    /// The groups of `key` (`"label"` or `"time.month"`) among the coordinates of an array or a
    /// dataset.
    static func by(_ key: String, dims: [String], coords: OrderedDictionary<String, Variable>) throws -> Grouping {
        let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
        let coordName = parts.first ?? key
        guard let c = coords[coordName] else {
            throw GyreDataError(.missingVariable, "groupby: no coordinate '\(coordName)'; coordinates are \(Array(coords.keys))")
        }
        guard c.dims.count == 1, dims.contains(c.dims[0]) else {
            throw GyreDataError(.dimensionMismatch, "groupby: '\(coordName)' must be a one-dimensional coordinate along a dimension of the data")
        }
        let dim = c.dims[0]
        if parts.count == 2 {
            guard let field = DatetimeAccessor.Field(rawValue: parts[1]) else {
                throw GyreDataError(.invalidArgument, "groupby: '\(parts[1])' is not a datetime field (one of \(DatetimeAccessor.Field.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let keys = try DataArray(c, coords: [coordName: c], name: coordName).dt.field(field).data
            return try make(dim: dim, name: parts[1], keys: keys, missingFieldIsMinusOne: true)
        }
        return try make(dim: dim, name: coordName, keys: try c.data)
    }

    /// Groups positions along `dim` by `keys` (one value per position; NaN/NaT belong to no
    /// group, and so does -1 when the keys are a datetime field, where it marks a missing time).
    static func make(dim: String, name: String, keys: AnyNDArray, missingFieldIsMinusOne: Bool = false) throws -> Grouping {
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
            // Fields of missing times come back as -1: no group. A coordinate's own -1 is a value.
            let fieldOfTime = missingFieldIsMinusOne && keys.dtype == .int64
            (labels, first) = label(raw) { $0.isNaN || (fieldOfTime && $0 == -1) }
        }
        let values = try context("groupby") { try keys.take(first, axis: 0) }
        return Grouping(dim: dim, name: name, groupValues: try Variable([name], values), labels: labels, emptyGroupsMissing: false)
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
}

extension DataArray {
    /// Groups along a dimension by a coordinate (`"label"`) or a datetime field of one
    /// (`"time.month"`, `"time.season"`, `"time.year"`, `"time.dayofyear"`, ...).
    public func groupby(_ key: String) throws -> GroupBy {
        GroupBy(array: self, try Grouping.by(key, dims: dims, coords: coords))
    }
}

extension Dataset {
    /// Groups every data variable along a dimension by a coordinate or a datetime field of one.
    public func groupby(_ key: String) throws -> DatasetGroupBy {
        DatasetGroupBy(dataset: self, try Grouping.by(key, dims: dims, coords: coords))
    }
}
