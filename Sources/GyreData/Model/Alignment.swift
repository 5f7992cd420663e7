import GyreCore
import GyreArrays
import OrderedCollections

/// Objects that carry indexes and can be reindexed: Dataset and DataArray.
public protocol Alignable: Sendable {
    var alignmentIndexes: OrderedDictionary<String, Index> { get }
    /// Reorders (and extends with missing values) along `dim` to the given positions; -1 marks
    /// a label this object does not have.
    func reindexed(_ dim: String, positions: [Int], newIndex: Variable) throws -> Self
}

extension Dataset: Alignable {
    public var alignmentIndexes: OrderedDictionary<String, Index> { indexes }
    public func reindexed(_ dim: String, positions: [Int], newIndex: Variable) throws -> Dataset {
        var out = try Dataset(attrs: attrs)
        out.encoding = encoding
        for (k, v) in variables {
            if k == dim { try out.insert(k, newIndex, asCoord: true); continue }
            try out.insert(k, try reindexVariable(v, dim: dim, positions: positions), asCoord: coordNames.contains(k))
        }
        return out
    }
}

extension DataArray: Alignable {
    public var alignmentIndexes: OrderedDictionary<String, Index> { indexes }
    public func reindexed(_ dim: String, positions: [Int], newIndex: Variable) throws -> DataArray {
        try viaDataset { try $0.reindexed(dim, positions: positions, newIndex: newIndex) }
    }
}

/// Takes `positions` along `dim`; -1 positions become missing values (NaN, NaT, or an empty
/// string), integers and booleans promoting to float as xarray does.
func reindexVariable(_ v: Variable, dim: String, positions: [Int]) throws -> Variable {
    guard let ax = v.dims.firstIndex(of: dim) else { return v }
    let missing = positions.contains(-1)
    var data = try context("reindex along '\(dim)'") { try v.data.take(positions.map { Swift.max($0, 0) }, axis: ax) }
    if missing {
        if data.dtype.isInteger || data.dtype.isBool { data = try data.astype(data.dtype.nanPromoted) }
        var maskShape = [Int](repeating: 1, count: data.ndim)
        maskShape[ax] = positions.count
        let mask = try AnyNDArray.bool(NDArray(positions.map { $0 < 0 })).reshaped(maskShape)
        let fill: AnyNDArray
        switch data.dtype {
        case .datetime64(let u): fill = AnyNDArray(scalar: .datetime(Int64.min, u))
        case .timedelta64(let u): fill = AnyNDArray(scalar: .timedelta(Int64.min, u))
        case .cftime(let c): fill = .cftime(NDArray(scalar: Int64.min), c)
        case .string: fill = AnyNDArray(scalar: .string(""))
        default: fill = try AnyNDArray(scalar: .double(.nan)).astype(data.dtype)
        }
        data = try context("reindex along '\(dim)'") { try AnyNDArray.where(mask, fill, data) }
    }
    return try Variable(v.dims, data, attrs: v.attrs, encoding: v.encoding)
}

/// Makes the indexes of several objects agree, xarray style: for each dimension indexed in
/// more than one object, the labels are joined (inner: common labels in the first object's
/// order; outer: the sorted union; left/right: the first/last object's; exact: must already be
/// equal) and every object is reindexed to them, missing labels filled with NaN.
public func align<T: Alignable>(_ objects: [T], join: Join = .inner) throws -> [T] {
    guard objects.count > 1 else { return objects }
    var dims: [String] = []
    for o in objects { for d in o.alignmentIndexes.keys where !dims.contains(d) { dims.append(d) } }
    var result = objects
    for dim in dims {
        let present = result.enumerated().compactMap { (i, o) in o.alignmentIndexes[dim].map { (i, $0) } }
        guard present.count > 1 else { continue }
        let scalarsPer = present.map { $0.1.values.scalars }
        let allEqual = scalarsPer.dropFirst().allSatisfy { $0.elementsEqualNaNAware(scalarsPer[0]) }
        if allEqual { continue }
        var labels: [Scalar]
        switch join {
        case .exact:
            throw GyreDataError(.alignment, "cannot align objects with join='exact': the indexes along dimension '\(dim)' are not equal")
        case .left: labels = scalarsPer[0]
        case .right: labels = scalarsPer[scalarsPer.count - 1]
        case .inner:
            var common = Set(scalarsPer[0])
            for s in scalarsPer.dropFirst() { common.formIntersection(s) }
            labels = scalarsPer[0].filter { common.contains($0) }
        case .outer:
            var seen = Set<Scalar>()
            labels = []
            for s in scalarsPer { for x in s where seen.insert(x).inserted { labels.append(x) } }
            let unionArray = try AnyNDArray.concatenate(present.map { $0.1.values }, axis: 0)
            if let order = try? unionArray.unique().scalars, order.count == labels.count {
                labels = order
            }
        }
        // The new coordinate, typed like the first object's index.
        let template = present[0].1.values
        let newValues = try buildArray(labels, like: template)
        for (i, o) in result.enumerated() {
            guard let idx = o.alignmentIndexes[dim] else { continue }
            let mine = idx.values.scalars
            var lookup: [Scalar: Int] = [:]
            for (p, s) in mine.enumerated() where lookup[s] == nil { lookup[s] = p }
            let positions = labels.map { lookup[$0] ?? -1 }
            var coordVar = try Variable([dim], newValues)
            if let ds = o as? Dataset, let old = ds.variables[dim] { coordVar.attrs = old.attrs; coordVar.encoding = old.encoding }
            result[i] = try o.reindexed(dim, positions: positions, newIndex: coordVar)
        }
    }
    return result
}

/// A 1-D array of scalars with the dtype of `template`.
func buildArray(_ values: [Scalar], like template: AnyNDArray) throws -> AnyNDArray {
    if values.isEmpty { return try template.take([], axis: 0) }
    let parts = values.map { AnyNDArray(scalar: $0) }
    let stacked = try AnyNDArray.stack(parts, axis: 0)
    switch template.dtype {
    case .string: return stacked
    default: return try stacked.astype(template.dtype)
    }
}
