import Foundation
import Gyre

/// What `gyre info` shows of a Zarr store, from its metadata alone (data is not read, except
/// small 1-D coordinates for display): dims, variables with their decoded dtypes, chunks,
/// codecs and fill values, and attributes.
struct ZarrSummary: Sendable {
    struct Entry: Sendable {
        let name: String
        let dims: [String]
        let shape: [Int]
        let dtype: DType
        let attrs: JSONObject
        let chunks: [Int]
        let encoding: JSON
        let isCoordinate: Bool
        /// Decoded values of small 1-D coordinates.
        let values: AnyNDArray?
    }
    let store: String
    let format: Int
    let attrs: JSONObject
    let dims: OrderedDictionary<String, Int>
    let entries: [Entry]

    /// The dtype CF decoding will give, predicted from metadata (the rules of `CF.decode`).
    static func decodedDType(_ m: ZarrArrayMetadata) -> DType {
        let attrs = m.attributes
        if let units = attrs["units"]?.string, units.contains(" since "), m.dtype.isNumeric {
            let cal = CFCalendar(cfName: attrs["calendar"]?.string ?? "standard") ?? .standard
            return cal.isStandardLike ? .datetime64(.nanoseconds) : .cftime(cal)
        }
        var converted: Attributes = [:]
        // JSON integers are Python ints (int64 to xarray), JSON reals are float64.
        for key in ["scale_factor", "add_offset"] {
            switch attrs[key] {
            case .int(let i)?: converted[key] = .int(i)
            case let v? where v.number != nil: converted[key] = .double(v.number!)
            default: break
            }
        }
        if !converted.isEmpty { return CF.chooseFloatDType(m.dtype, converted) }
        let masked = attrs["_FillValue"] != nil || attrs["missing_value"] != nil || (m.format == .v2 && m.fillValue != nil)
        if masked && m.dtype.isInteger { return m.dtype.nanPromoted }
        return m.dtype
    }

    static func load(_ store: any ReadableStore) async throws -> ZarrSummary {
        let group: ZarrGroup
        do { group = try await ZarrGroup.open(store) } catch let e as GyreZarrError { throw GyreDataError(.missingVariable, e.message, cause: e) }
        var coordNames = Set<String>()
        for (_, m) in group.arrays { if let c = m.attributes["coordinates"]?.string { coordNames.formUnion(c.split(separator: " ").map(String.init)) } }
        if let c = group.attributes["coordinates"]?.string { coordNames.formUnion(c.split(separator: " ").map(String.init)) }
        var dims: OrderedDictionary<String, Int> = [:]
        var entries: [Entry] = []
        for name in group.arrays.keys.sorted() where !name.contains("/") {
            let m = group.arrays[name]!
            let dn = m.dimensionNames?.map { $0 ?? "?" } ?? m.shape.indices.map { "dim_\($0)" }
            for (d, n) in zip(dn, m.shape) where dims[d] == nil { dims[d] = n }
            let isCoord = coordNames.contains(name) || dn == [name]
            var values: AnyNDArray? = nil
            if isCoord && m.shape.count == 1 && m.shape[0] <= 100_000 {
                let arr = try group.array(name)
                var attrs: Attributes = [:]
                for (k, v) in m.attributes where k != "_ARRAY_DIMENSIONS" {
                    if k == "_FillValue" { attrs[k] = ZarrAttributes.decodeFill(v, dtype: m.dtype) } else if let a = ZarrAttributes.decode(v) { attrs[k] = a }
                }
                if m.format == .v2, let f = m.fillValue, attrs["_FillValue"] == nil, m.dtype.isNumeric { attrs["_FillValue"] = try .scalar(f, dtype: m.dtype) }
                if let raw = try? await arr.read(), let v = try? CF.decode(try Variable(dn, raw, attrs: attrs), name: name) { values = try? v.data }
            }
            // Attributes as xarray shows them after decoding: CF coding attributes move to encoding.
            let decoded = decodedDType(m)
            let isTime = decoded.isDatetime
            var coding = ["_ARRAY_DIMENSIONS", "coordinates", "_FillValue", "scale_factor", "add_offset", "missing_value"]
            if isTime { coding += ["units", "calendar"] }
            let shownAttrs = m.attributes.filter { !coding.contains($0.key) }
            var enc: JSONObject = ["codecs": m.pipeline.v3Configuration, "fill_value": m.fillValue.map { fillJSON($0) } ?? .null,
                                            "dtype": .string(m.dtype.description)]
            for k in coding.dropFirst(2) { if let v = m.attributes[k] { enc[k] = v } }
            if let s = m.sharding { enc["shards"] = .array(m.chunkShape.map { .int(Int64($0)) }); enc["chunks"] = .array(s.chunkShape.map { .int(Int64($0)) }) }
            entries.append(Entry(name: name, dims: dn, shape: m.shape, dtype: values?.dtype ?? decoded, attrs: shownAttrs,
                                 chunks: m.sharding?.chunkShape ?? m.chunkShape, encoding: .object(enc), isCoordinate: isCoord, values: values))
        }
        return ZarrSummary(store: store.name, format: group.format.rawValue, attrs: group.attributes.filter { $0.key != "coordinates" }, dims: dims, entries: entries)
    }

    static func fillJSON(_ s: Scalar) -> JSON {
        switch s {
        case .double(let d): return d.isNaN ? "NaN" : .double(d)
        case .float32(let f): return f.isNaN ? "NaN" : .double(Double(f))
        case .int(let i): return .int(i)
        case .uint(let u): return .double(Double(u))
        case .bool(let b): return .bool(b)
        default: return .string(s.description)
        }
    }

    /// xarray's `Dataset.to_dict(data=False)` layout, plus `chunks` and `encoding` per variable.
    var json: JSON {
        func variable(_ e: Entry) -> JSON {
            .object(["dims": .array(e.dims.map { .string($0) }), "attrs": .object(e.attrs), "dtype": .string(numpyDTypeName(e.dtype)),
                     "shape": .array(e.shape.map { .int(Int64($0)) }), "chunks": .array(e.chunks.map { .int(Int64($0)) }), "encoding": e.encoding])
        }
        var coords: JSONObject = [:], vars: JSONObject = [:]
        for e in entries { if e.isCoordinate { coords[e.name] = variable(e) } else { vars[e.name] = variable(e) } }
        var d: JSONObject = [:]
        for (k, v) in dims { d[k] = .int(Int64(v)) }
        return .object(["coords": .object(coords), "attrs": .object(attrs), "dims": .object(d), "data_vars": .object(vars)])
    }

    /// The dataset in xarray's repr layout (data values shown as `...`; they are not read).
    var text: String {
        let total = entries.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.itemSize }
        var lines = ["<xarray.Dataset> Size: \(Repr.humanSize(total))"]
        lines.append("Dimensions:  (" + dims.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")")
        let w = Swift.max(entries.map(\.name.count).max() ?? 0, 7) + 1
        func line(_ e: Entry, _ marker: String) -> String {
            let head = "  \(marker) \(e.name.padding(toLength: Swift.max(w, e.name.count), withPad: " ", startingAt: 0)) (\(e.dims.joined(separator: ", "))) \(e.dtype) \(Repr.humanSize(e.shape.reduce(1, *) * e.dtype.itemSize)) "
            let body = e.values.map { Repr.summary($0, width: Swift.max(80 - head.count, 10)) } ?? "..."
            return head + body
        }
        let coords = entries.filter(\.isCoordinate)
        if !coords.isEmpty { lines.append("Coordinates:"); for e in coords { lines.append(line(e, e.dims == [e.name] ? "*" : " ")) } }
        let without = dims.keys.filter { d in !coords.contains { $0.name == d } }
        if !without.isEmpty { lines.append("Dimensions without coordinates: " + without.joined(separator: ", ")) }
        lines.append("Data variables:")
        for e in entries where !e.isCoordinate { lines.append(line(e, " ")) }
        if !attrs.isEmpty {
            lines.append("Attributes:")
            for (k, v) in attrs.sorted(by: { $0.key < $1.key }) { lines.append("    \(k): \(v.string ?? v.description)") }
        }
        return lines.joined(separator: "\n")
    }
}

