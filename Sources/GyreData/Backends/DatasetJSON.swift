import GyreArrays
import GyreCore

/// NumPy 2's dtype name as `str(dtype)` prints it ("float32", "datetime64[ns]", "<U5", "StringDType()").
package func numpyDTypeName(_ d: DType) -> String {
    switch d {
    case .string(.variable): return "StringDType()"  // what xarray reports with NumPy 2
    case .cftime: return "object"
    case .string(.unicode(let n)): return "<U\(n)"
    case .string(.bytes(let n)): return "|S\(n)"
    default: return d.description
    }
}

extension Dataset {
    /// xarray's `Dataset.to_dict(data=False)` layout, plus `chunks` (the first chunk length
    /// along each dimension: lazy chunks, or the whole extent in memory) and `encoding` per
    /// variable: what `gyre info --json` prints for inputs other than a single Zarr store, and what a
    /// server's `/datasets/{name}` answers.
    package var summaryJSON: JSON {
        func variable(_ v: Variable) -> JSON {
            var attrs: JSONObject = [:]
            for (k, a) in v.attrs { attrs[k] = ZarrAttributes.encode(a) }
            var enc: JSONObject = [:]
            for (k, a) in v.encoding { enc[k] = ZarrAttributes.encode(a) }
            let chunks = v.lazyData?.chunks.map { $0.first ?? 0 } ?? v.shape
            return .object(["dims": .array(v.dims.map { .string($0) }), "attrs": .object(attrs), "dtype": .string(numpyDTypeName(v.dtype)),
                            "shape": .array(v.shape.map { .int(Int64($0)) }), "chunks": .array(chunks.map { .int(Int64($0)) }), "encoding": .object(enc)])
        }
        var coords: JSONObject = [:], vars: JSONObject = [:]
        for (k, v) in variables { if coordNames.contains(k) { coords[k] = variable(v) } else { vars[k] = variable(v) } }
        var d: JSONObject = [:]
        for (k, n) in sizes { d[k] = .int(Int64(n)) }
        var a: JSONObject = [:]
        for (k, v) in attrs { a[k] = ZarrAttributes.encode(v) }
        return .object(["coords": .object(coords), "attrs": .object(a), "dims": .object(d), "data_vars": .object(vars)])
    }

    /// The result with its values: dims, shape, dtype, flat C-order data (NaN as null) per
    /// variable and coordinate.
    package func valuesJSON(arrayName: String?) -> JSON {
        func variable(_ v: Variable) -> JSON {
            let data: [JSON]
            if let a = try? v.data, let d = a.doubles() {
                data = d.map { $0.isNaN ? .null : .double($0) }
            } else if let a = try? v.data {
                data = a.scalars.map { .string("\($0)") }
            } else { data = [] }
            return .object(["dims": .array(v.dims.map { .string($0) }), "shape": .array(v.shape.map { .int(Int64($0)) }),
                            "dtype": .string(numpyDTypeName(v.dtype)), "data": .array(data)])
        }
        var coords: JSONObject = [:], vars: JSONObject = [:]
        for (k, v) in variables { if coordNames.contains(k) { coords[k] = variable(v) } else { vars[k] = variable(v) } }
        var out: JSONObject = ["coords": .object(coords), "data_vars": .object(vars)]
        if let arrayName { out["name"] = .string(arrayName) }
        return .object(out)
    }
}
