import GyreCore
import GyreArrays
import OrderedCollections

extension Dataset {
    /// Joins datasets along a dimension, existing or new. Variables with the dimension are
    /// concatenated; others must be equal across inputs (they are kept once). For a new
    /// dimension, `coordinate` gives its labels.
    public static func concat(_ datasets: [Dataset], dim: String, coordinate: Variable? = nil) throws -> Dataset {
        guard let first = datasets.first else { throw GyreDataError(.invalidArgument, "concat needs at least one dataset") }
        let existing = first.dims.contains(dim)
        var out = try Dataset(attrs: first.attrs)
        out.encoding = first.encoding
        for (k, v) in first.variables {
            var parts: [Variable] = []
            for (i, ds) in datasets.enumerated() {
                guard let w = ds.variables[k] else {
                    throw GyreDataError(.missingVariable, "variable '\(k)' is in dataset 0 but not in dataset \(i) of the concatenation")
                }
                parts.append(w)
            }
            let isCoord = first.coordNames.contains(k)
            let differs = try parts.dropFirst().contains { !(try $0.equals(v)) }
            // Existing dimension: variables that have it are concatenated. New dimension: data
            // variables are stacked, coordinates only where they differ between inputs.
            let along = existing ? v.dims.contains(dim) : (!isCoord || differs)
            if along {
                try out.insert(k, try Variable.concat(parts, dim: dim), asCoord: isCoord)
            } else {
                if differs {
                    let i = try parts.firstIndex { !(try $0.equals(v)) }!
                    throw GyreDataError(.conflict, "variable '\(k)' differs between dataset 0 and dataset \(i) and does not have dimension '\(dim)'")
                }
                try out.insert(k, v, asCoord: isCoord)
            }
        }
        if let coordinate {
            guard coordinate.dims == [dim], coordinate.count == datasets.count else {
                throw GyreDataError(.dimensionMismatch, "the coordinate for new dimension '\(dim)' must be 1-D along it with \(datasets.count) values")
            }
            try out.insert(dim, coordinate, asCoord: true)
        }
        return out
    }

    /// Merges datasets into one. Indexes are aligned with `join` first; a variable present in
    /// several inputs must satisfy `compat` (equals, no_conflicts, override), or an error names it.
    public static func merge(_ datasets: [Dataset], compat: Compat = .noConflicts, join: Join = .outer) throws -> Dataset {
        let aligned = try align(datasets, join: join)
        var out = try Dataset()
        for (i, ds) in aligned.enumerated() {
            for (k, v) in ds.variables {
                let isCoord = ds.coordNames.contains(k)
                guard let existing = out.variables[k] else {
                    try out.insert(k, v, asCoord: isCoord)
                    continue
                }
                switch compat {
                case .override: continue
                case .equals:
                    if !(try existing.equals(v)) {
                        throw GyreDataError(.conflict, "variable '\(k)' of dataset \(i) conflicts with an earlier dataset (compat='equals')")
                    }
                case .noConflicts:
                    let (dims, sizes) = try Variable.broadcastDims([existing, v])
                    let a = try existing.broadcast(to: dims, sizes: sizes), b = try v.broadcast(to: dims, sizes: sizes)
                    let an = a.isnan(), bn = b.isnan()
                    let bothPresent = try ndZip(an, bn) { !$0 && !$1 }
                    let same = try a.compare(.equal, b).truthValues()
                    let conflict = try ndZip(bothPresent, same) { $0 && !$1 }
                    if conflict.elements.contains(true) {
                        throw GyreDataError(.conflict, "variable '\(k)' of dataset \(i) has values that conflict with an earlier dataset (compat='no_conflicts')")
                    }
                    let filled = try AnyNDArray.where(.bool(an), b, a)
                    try out.insert(k, try Variable(dims, filled, attrs: existing.attrs, encoding: existing.encoding), asCoord: isCoord)
                }
            }
            for (k, v) in ds.attrs where out.attrs[k] == nil { out.attrs[k] = v }
        }
        return out
    }
}

extension DataArray {
    /// Joins arrays along a dimension, existing or new (with optional labels for a new one).
    public static func concat(_ arrays: [DataArray], dim: String, coordinate: Variable? = nil) throws -> DataArray {
        guard let first = arrays.first else { throw GyreDataError(.invalidArgument, "concat needs at least one array") }
        let ds = try Dataset.concat(try arrays.map { try $0.toTempDataset() }, dim: dim, coordinate: coordinate)
        return try DataArray.fromTempDataset(ds, name: first.name)
    }
}
