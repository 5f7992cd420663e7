import GyreCore
import GyreArrays
import OrderedCollections

/// A label for `sel`: one value, several values, or an inclusive label range.
public enum Selector: Sendable {
    case value(Scalar)
    case values([Scalar])
    /// Inclusive at both ends, as xarray (pandas) label slices are; either bound may be open.
    case slice(Scalar?, Scalar?)
}

extension Selector: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .value(.int(value)) }
    public init(floatLiteral value: Double) { self = .value(.double(value)) }
    public init(stringLiteral value: String) { self = .value(.string(value)) }
}

/// How `merge`, `align` and arithmetic combine indexes that differ.
public enum Join: String, Sendable {
    case inner, outer, left, right, exact
}

/// How `merge` treats variables present in several inputs.
public enum Compat: String, Sendable {
    /// Values must be equal (NaN equal to NaN).
    case equals
    /// Values must agree where both are not missing; missing values are filled from the other.
    case noConflicts = "no_conflicts"
    /// The first input's variable wins.
    case override
}

/// A dict-like collection of variables sharing dimensions: data variables and coordinates
/// (coordinates are variables too), plus the indexes built from 1-D dimension coordinates.
public struct Dataset: Sendable {
    public private(set) var variables: OrderedDictionary<String, Variable>
    public private(set) var coordNames: OrderedSet<String>
    public var attrs: Attributes
    /// Indexes for label lookup, one per dimension coordinate.
    public private(set) var indexes: OrderedDictionary<String, Index>
    /// Dataset-level encoding (for example the unlimited dimension).
    public var encoding: Attributes = [:]

    public init(dataVars: OrderedDictionary<String, Variable> = [:], coords: OrderedDictionary<String, Variable> = [:],
                attrs: Attributes = [:]) throws {
        variables = [:]
        coordNames = []
        indexes = [:]
        self.attrs = attrs
        for (k, v) in coords { try insert(k, v, asCoord: true) }
        for (k, v) in dataVars {
            guard !coords.keys.contains(k) else {
                throw GyreDataError(.conflict, "'\(k)' is given both as a data variable and as a coordinate")
            }
            try insert(k, v, asCoord: false)
        }
    }

    /// Extent of each dimension, in first-seen order.
    public var sizes: OrderedDictionary<String, Int> {
        var s: OrderedDictionary<String, Int> = [:]
        for v in variables.values { for (d, n) in zip(v.dims, v.shape) where s[d] == nil { s[d] = n } }
        return s
    }
    public var dims: [String] { Array(sizes.keys) }

    public var dataVars: OrderedDictionary<String, Variable> { variables.filter { !coordNames.contains($0.key) } }
    public var coords: OrderedDictionary<String, Variable> { variables.filter { coordNames.contains($0.key) } }

    /// Adds or replaces a variable, checking that its dimension sizes agree with the dataset.
    mutating func insert(_ name: String, _ v: Variable, asCoord: Bool) throws {
        for (d, n) in zip(v.dims, v.shape) {
            for (other, ov) in variables where other != name {
                if let i = ov.dims.firstIndex(of: d), ov.shape[i] != n {
                    throw GyreDataError(.dimensionMismatch,
                        "variable '\(name)' has dimension '\(d)' of size \(n), but '\(other)' has it with size \(ov.shape[i])")
                }
            }
        }
        variables[name] = v
        if asCoord { coordNames.append(name) } else { coordNames.remove(name) }
        if asCoord && v.dims == [name] {
            indexes[name] = try Index(dim: name, values: v.data)
        } else {
            indexes.removeValue(forKey: name)
        }
    }

    /// Replaces a variable's values, keeping whether it is a coordinate.
    package mutating func replaceVariable(_ name: String, _ v: Variable) throws {
        try insert(name, v, asCoord: coordNames.contains(name))
    }

    /// A data variable with the coordinates that apply to it.
    public subscript(name: String) -> DataArray? {
        guard let v = variables[name] else { return nil }
        var c: OrderedDictionary<String, Variable> = [:]
        for (k, cv) in coords where k != name && Set(cv.dims).isSubset(of: v.dims) { c[k] = cv }
        if coordNames.contains(name) { c[name] = v }
        return DataArray(uncheckedVariable: v, coords: c, name: name, indexes: indexes.filter { c.keys.contains($0.key) })
    }

    /// The variable named `name`, or an error listing the variables there are.
    public func dataArray(_ name: String) throws -> DataArray {
        guard let da = self[name] else {
            throw GyreDataError(.missingVariable, "no variable named '\(name)'; variables are \(Array(variables.keys))")
        }
        return da
    }

    /// A dataset of the named data variables and all coordinates they need.
    public subscript(names: [String]) -> Dataset? { try? select(names) }

    public func select(_ names: [String]) throws -> Dataset {
        var out = try Dataset(attrs: attrs)
        var needed = Set<String>()
        for n in names {
            guard let v = variables[n] else {
                throw GyreDataError(.missingVariable, "no variable named '\(n)'; variables are \(Array(variables.keys))")
            }
            needed.formUnion(v.dims)
        }
        for (k, v) in coords where Set(v.dims).isSubset(of: needed) { try out.insert(k, v, asCoord: true) }
        for n in names { try out.insert(n, variables[n]!, asCoord: coordNames.contains(n)) }
        return out
    }

    // MARK: Building

    /// A copy with a data variable added or replaced.
    public func assigning(_ name: String, _ v: Variable) throws -> Dataset {
        var d = self
        try d.insert(name, v, asCoord: false)
        return d
    }

    /// A copy with coordinates added or replaced (a 1-D coordinate named after its dimension
    /// gets an index).
    public func assignCoords(_ coords: OrderedDictionary<String, Variable>) throws -> Dataset {
        var d = self
        for (k, v) in coords { try d.insert(k, v, asCoord: true) }
        return d
    }

    /// A copy with the named data variables turned into coordinates.
    public func setCoords(_ names: [String]) throws -> Dataset {
        var d = self
        for n in names {
            guard let v = variables[n] else { throw GyreDataError(.missingVariable, "no variable named '\(n)'") }
            try d.insert(n, v, asCoord: true)
        }
        return d
    }

    /// A copy without the named variables (coordinates or data); missing names are an error
    /// unless `ignoreMissing`.
    public func dropVars(_ names: [String], ignoreMissing: Bool = false) throws -> Dataset {
        var d = self
        for n in names {
            if d.variables.removeValue(forKey: n) == nil {
                if ignoreMissing { continue }
                throw GyreDataError(.missingVariable, "cannot drop '\(n)': no such variable; variables are \(Array(variables.keys))")
            }
            d.coordNames.remove(n)
            d.indexes.removeValue(forKey: n)
        }
        return d
    }

    /// Renames variables and dimensions (a name may be both, as for dimension coordinates).
    public func rename(_ mapping: [String: String]) throws -> Dataset {
        for k in mapping.keys where variables[k] == nil && !dims.contains(k) {
            throw GyreDataError(.missingVariable, "cannot rename '\(k)': it is neither a variable nor a dimension")
        }
        var out = try Dataset(attrs: attrs)
        out.encoding = encoding
        for (k, v) in variables {
            let nv = try v.renamingDims(mapping)
            let nk = mapping[k] ?? k
            if out.variables[nk] != nil { throw GyreDataError(.conflict, "renaming gives two variables named '\(nk)'") }
            try out.insert(nk, nv, asCoord: coordNames.contains(k))
        }
        return out
    }

    /// Renames dimensions only (variables keep their names).
    public func renameDims(_ mapping: [String: String]) throws -> Dataset {
        var out = try Dataset(attrs: attrs)
        for (k, v) in variables { try out.insert(k, try v.renamingDims(mapping), asCoord: coordNames.contains(k)) }
        return out
    }

    /// Renames variables only (dimensions keep their names).
    public func renameVars(_ mapping: [String: String]) throws -> Dataset {
        var out = try Dataset(attrs: attrs)
        for (k, v) in variables { try out.insert(mapping[k] ?? k, v, asCoord: coordNames.contains(k)) }
        return out
    }

    /// Reorders the dimensions of every variable to follow `order` (names not in a variable are
    /// skipped; dimensions not named keep their relative order at the end).
    public func transposed(_ order: [String]) throws -> Dataset {
        for d in order where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; dimensions are \(dims)")
        }
        return try mapVariables(includeCoords: true) { _, v in try v.transposed(order.filter { v.dims.contains($0) }) }
    }

    /// Adds a dimension of size `size` to every data variable (and a coordinate when given).
    public func expandDims(_ dim: String, size: Int = 1, coordinate: Variable? = nil) throws -> Dataset {
        guard !dims.contains(dim) else { throw GyreDataError(.dimensionMismatch, "dimension '\(dim)' already exists") }
        var d = try mapVariables(includeCoords: false) { _, v in try v.expandingDims(dim, size: size) }
        if let coordinate { try d.insert(dim, coordinate, asCoord: true) }
        return d
    }

    /// Drops dimensions of size 1 (all of them when `dims` is nil); their 1-D coordinates become
    /// scalar coordinates.
    public func squeeze(_ names: [String]? = nil) throws -> Dataset {
        let s = sizes
        let drop = names ?? s.filter { $0.value == 1 }.map(\.key)
        for d in drop {
            guard let n = s[d] else { throw GyreDataError(.missingDimension, "dimension '\(d)' not found; dimensions are \(dims)") }
            guard n == 1 else { throw GyreDataError(.dimensionMismatch, "cannot squeeze dimension '\(d)' of size \(n)") }
        }
        return try isel(Dictionary(uniqueKeysWithValues: drop.map { ($0, PositionIndexer.at(0)) }))
    }

    /// Applies `f` to every data variable (and coordinate when asked), rebuilding indexes.
    public func mapVariables(includeCoords: Bool, _ f: (String, Variable) throws -> Variable) throws -> Dataset {
        var out = try Dataset(attrs: attrs)
        out.encoding = encoding
        for (k, v) in variables {
            let isCoord = coordNames.contains(k)
            try out.insert(k, (isCoord && !includeCoords) ? v : try f(k, v), asCoord: isCoord)
        }
        return out
    }

    // MARK: Selection

    /// Selects by position along named dimensions.
    public func isel(_ indexers: [String: PositionIndexer]) throws -> Dataset {
        for d in indexers.keys where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; dimensions are \(dims)")
        }
        var out = try Dataset(attrs: attrs)
        out.encoding = encoding
        for (k, v) in variables {
            try out.insert(k, try v.isel(indexers), asCoord: coordNames.contains(k))
        }
        return out
    }

    /// Converts label selectors to positional ones through the indexes.
    public func positionIndexers(_ selectors: [String: Selector], method: SelectMethod? = nil,
                                 tolerance: Double? = nil) throws -> [String: PositionIndexer] {
        var out: [String: PositionIndexer] = [:]
        for (d, sel) in selectors {
            guard let index = indexes[d] else {
                if dims.contains(d) {
                    throw GyreDataError(.missingIndex, "no index found for dimension '\(d)': it has no coordinate; use isel")
                }
                throw GyreDataError(.missingDimension, "dimension '\(d)' not found; dimensions are \(dims)")
            }
            switch sel {
            case .value(let label):
                if case .string(let text) = label, method == nil, let partial = try index.partialDateSelection(text) {
                    out[d] = partial
                } else {
                    out[d] = .at(try index.position(of: label, method: method, tolerance: tolerance))
                }
            case .values(let labels):
                out[d] = .positions(try index.positions(of: labels, method: method, tolerance: tolerance))
            case .slice(let a, let b):
                if method != nil {
                    throw GyreDataError(.invalidArgument, "method '\(method!.rawValue)' cannot be used with a label slice on '\(d)'")
                }
                out[d] = .slice(try labelSlice(index, a, b))
            }
        }
        return out
    }

    /// An inclusive label slice; date strings name whole periods ("2001" to "2001-06" covers
    /// January through the end of June), as pandas does.
    func labelSlice(_ index: Index, _ a: Scalar?, _ b: Scalar?) throws -> Slice {
        var lo: Int?
        var hi: Int?
        if case .string(let t)? = a, let p = try index.partialDateSelection(t), case .slice(let s) = p { lo = s.start }
        if case .string(let t)? = b, let p = try index.partialDateSelection(t), case .slice(let s) = p { hi = s.stop }
        let base = try index.slice(from: lo == nil ? a : nil, to: hi == nil ? b : nil)
        let start = lo ?? base.start ?? 0
        let stop = hi ?? base.stop ?? index.count
        return Slice(start, Swift.max(start, stop))
    }

    /// Selects by label: exact values, `nearest`/`pad`/`backfill` with a tolerance, inclusive
    /// label slices, and partial date strings ("2001-03").
    public func sel(_ selectors: [String: Selector], method: SelectMethod? = nil, tolerance: Double? = nil) throws -> Dataset {
        try isel(try positionIndexers(selectors, method: method, tolerance: tolerance))
    }

    // MARK: Computation

    /// Reduces every data variable that has all of `dims` (all dimensions when nil); variables
    /// that cannot be reduced (strings for mean) are dropped, as xarray's numeric_only does.
    /// Coordinates along reduced dimensions are dropped.
    public func reduce(_ r: Variable.Reduction, dims reduceDims: [String]? = nil, skipna: Bool? = nil, keepAttrs: Bool = false) throws -> Dataset {
        let names = reduceDims ?? dims
        for d in names where !dims.contains(d) {
            throw GyreDataError(.missingDimension, "dimension '\(d)' not found; dimensions are \(dims)")
        }
        var out = try Dataset(attrs: keepAttrs ? attrs : [:])
        for (k, v) in coords where Set(v.dims).isDisjoint(with: names) { try out.insert(k, v, asCoord: true) }
        for (k, v) in dataVars {
            let here = names.filter { v.dims.contains($0) }
            let numeric = v.dtype.isNumeric || v.dtype.isDatetime || v.dtype.isTimedelta
            if !numeric {
                if case .count = r {} else { continue }
            }
            if here.isEmpty && !numeric { continue }
            let reduced = try v.reduce(r, dims: here, skipna: skipna, keepAttrs: keepAttrs)
            try out.insert(k, reduced, asCoord: false)
        }
        return out
    }

    public func mean(_ dims: String..., skipna: Bool? = nil) throws -> Dataset { try reduce(.mean, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func sum(_ dims: String..., skipna: Bool? = nil) throws -> Dataset { try reduce(.sum, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func min(_ dims: String..., skipna: Bool? = nil) throws -> Dataset { try reduce(.min, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func max(_ dims: String..., skipna: Bool? = nil) throws -> Dataset { try reduce(.max, dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func std(_ dims: String..., ddof: Int = 0, skipna: Bool? = nil) throws -> Dataset { try reduce(.std(ddof: ddof), dims: dims.isEmpty ? nil : dims, skipna: skipna) }
    public func count(_ dims: String...) throws -> Dataset { try reduce(.count, dims: dims.isEmpty ? nil : dims) }

    /// Data variables where `condition` holds, NaN (or `other`) elsewhere.
    public func `where`(_ condition: DataArray, other: Scalar? = nil) throws -> Dataset {
        try mapVariables(includeCoords: false) { _, v in
            try v.where(condition.variable, other: other.map { Variable(scalar: $0) })
        }
    }

    /// Applies a binary operator with a scalar to every data variable.
    public func binary(_ op: BinaryOp, _ s: Scalar, scalarFirst: Bool = false) throws -> Dataset {
        var d = try mapVariables(includeCoords: false) { _, v in try v.binary(op, s, scalarFirst: scalarFirst) }
        d.attrs = [:]
        return d
    }

    /// Applies a binary operator variable by variable (data variables present in both, after
    /// aligning indexes with an inner join).
    public func binary(_ op: BinaryOp, _ other: Dataset) throws -> Dataset {
        let aligned = try align([self, other], join: .inner)
        let a = aligned[0], b = aligned[1]
        var out = try Dataset()
        for (k, v) in a.coords { try out.insert(k, v, asCoord: true) }
        for (k, v) in b.coords where out.variables[k] == nil { try out.insert(k, v, asCoord: true) }
        for (k, v) in a.dataVars {
            guard let w = b.dataVars[k] else { continue }
            try out.insert(k, try v.binary(op, w), asCoord: false)
        }
        return out
    }

    /// Same variables with equal values and dims, and equal coordinates (attrs ignored), like
    /// xarray's `equals`.
    public func equals(_ other: Dataset) throws -> Bool {
        guard Set(variables.keys) == Set(other.variables.keys), coordNames == other.coordNames || Set(coordNames) == Set(other.coordNames) else { return false }
        for (k, v) in variables where !(try v.equals(other.variables[k]!)) { return false }
        return true
    }
}
