import GyreArrays
import GyreCore
import GyreData

/// The answers of EDR queries: CoverageJSON (OGC 21-069r2) and CSV, from the selection once it
/// is loaded.
extension EDRGrid {
    static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

    /// A parameter as CoverageJSON describes one (labels as i18n objects); `edr` gives the
    /// form of EDR's collection metadata (plain-string description, `data-type`).
    func parameterJSON(_ v: Variable, name: String, edr: Bool = false) -> JSON {
        let long = v.attrs["long_name"]?.stringValue
        let standard = v.attrs["standard_name"]?.stringValue
        let observed: JSONObject = ["id": .string(standard.map { "https://vocab.nerc.ac.uk/standard_name/\($0)/" } ?? name),
                                    "label": ["en": .string(long ?? standard ?? name)]]
        var p: JSONObject = ["type": "Parameter"]
        if let long { p["description"] = edr ? .string(long) : ["en": .string(long)] }
        if edr { p["data-type"] = v.dtype.isInteger || v.dtype.isBool ? "integer" : "float" }
        if let units = v.attrs["units"]?.stringValue { p["unit"] = ["label": ["en": .string(units)], "symbol": .string(units)] }
        p["observedProperty"] = .object(observed)
        return .object(p)
    }

    /// The values of a 1-D coordinate, as CoverageJSON axis values: numbers, or ISO 8601
    /// strings for times.
    static func axisValues(_ v: Variable) throws -> [JSON] {
        let a = try v.data
        switch a {
        case .datetime64(let t, let u):
            return t.elements.map { $0 == Scalar.natTicks ? .null : .string(formatDatetime64($0, unit: u == .days ? .seconds : u).prefix(19) + "Z") }
        case .cftime:
            return a.scalars.map { .string("\($0)") }
        default:
            return (a.doubles() ?? []).map { .double($0) }
        }
    }

    /// The values as Doubles in C order; float32 values keep their shortest decimal form
    /// (27.9, not 27.899999618530273), so the answer says what is stored.
    static func numbers(_ a: AnyNDArray) -> [Double] {
        if case .float32(let f) = a {
            return f.elements.map { $0.isNaN ? .nan : Double(String($0))! }
        }
        return a.doubles() ?? []
    }

    /// The domain axes of a loaded selection, in t, z, y, x order, with their values.
    func axes(of part: Dataset) throws -> [(name: String, key: String, values: [JSON])] {
        var out: [(String, String, [JSON])] = []
        if let t, part.variables[t] != nil { out.append(("t", t, try Self.axisValues(part.variables[t]!))) }
        if let z, part.variables[z] != nil { out.append(("z", z, try Self.axisValues(part.variables[z]!))) }
        out.append(("y", y, try Self.axisValues(part.variables[y]!)))
        out.append(("x", x, longitudes(try part.variables[x]!.data.doubles()!).map { .double($0) }))
        return out
    }

    /// Longitudes as answers give them: in -180 to 180 when that keeps them in order, else
    /// unwrapped from the first one (a run from 100 east across the antimeridian to 60 west
    /// reads 100 ... 300), as axis values must be monotonic.
    func longitudes(_ raw: [Double]) -> [Double] {
        let plain = raw.map(lon)
        if zip(plain, plain.dropFirst()).allSatisfy({ $0 <= $1 }) || zip(plain, plain.dropFirst()).allSatisfy({ $0 >= $1 }) { return plain }
        var out = [plain[0]]
        for v in plain.dropFirst() {
            var d = (v - out.last!).truncatingRemainder(dividingBy: 360)
            if d < 0 { d += 360 }
            out.append(out.last! + d)
        }
        return out
    }

    /// The domain type that fits the axes: Point, PointSeries or VerticalProfile for a single
    /// position, Grid otherwise.
    static func domainType(_ axes: [(name: String, key: String, values: [JSON])], kind: EDRQuery.Kind) -> String {
        guard kind == .position else { return "Grid" }
        let tn = axes.first { $0.name == "t" }?.values.count ?? 0, zn = axes.first { $0.name == "z" }?.values.count ?? 0
        switch (tn > 1, zn > 1) {
        case (false, false): return "Point"
        case (true, false): return "PointSeries"
        case (false, true): return "VerticalProfile"
        case (true, true): return "Grid"
        }
    }

    func referencing(_ axes: [(name: String, key: String, values: [JSON])], in part: Dataset) -> JSON {
        var r: [JSON] = [["coordinates": ["x", "y"], "system": ["type": "GeographicCRS", "id": .string(Self.crs84)]]]
        if axes.contains(where: { $0.name == "t" }) {
            r.append(["coordinates": ["t"], "system": ["type": "TemporalRS", "calendar": "Gregorian"]])
        }
        if let z, axes.contains(where: { $0.name == "z" }), let v = part.variables[z] {
            var axis: JSONObject = ["name": ["en": .string(v.attrs["standard_name"]?.stringValue ?? z)]]
            if let positive = v.attrs["positive"]?.stringValue { axis["direction"] = .string(positive.lowercased()) }
            if let units = v.attrs["units"]?.stringValue { axis["unit"] = ["symbol": .string(units)] }
            r.append(["coordinates": ["z"], "system": ["type": "VerticalCRS", "cs": ["csAxes": .array([.object(axis)])]]])
        }
        return .array(r)
    }

    /// One coverage of a loaded selection: its domain, parameters and NdArray ranges (`null`
    /// for missing values and for grid points outside the area's polygon).
    func coverage(_ part: Dataset, kind: EDRQuery.Kind, inside: [Bool]?) throws -> JSON {
        let axes = try axes(of: part)
        var domainAxes: JSONObject = [:]
        for a in axes { domainAxes[a.name] = ["values": .array(a.values)] }
        var parameters: JSONObject = [:], ranges: JSONObject = [:]
        let names = part.dataVars.keys.filter { self.parameters.contains($0) }
        for name in names {
            let v = part.variables[name]!
            parameters[name] = parameterJSON(v, name: name)
            let data = try v.data
            let values: [JSON]
            let integer = data.dtype.isInteger || data.dtype.isBool
            let d = Self.numbers(data)
            let plane = inside?.count ?? 0
            values = d.enumerated().map { i, value in
                if let inside, !inside[i % plane] { return .null }
                if value.isNaN { return .null }
                return integer ? .int(Int64(value)) : .double(value)
            }
            // Axes in t, z, y, x order, leaving out the single-valued ones as the spec
            // recommends (a Point's range is 0-D: no axisNames, no shape).
            let varying = axes.filter { $0.values.count > 1 }
            var r: JSONObject = ["type": "NdArray", "dataType": integer ? "integer" : "float"]
            if !varying.isEmpty {
                r["axisNames"] = .array(varying.map { .string($0.name) })
                r["shape"] = .array(varying.map { .int(Int64($0.values.count)) })
            }
            r["values"] = .array(values)
            ranges[name] = .object(r)
        }
        return ["type": "Coverage",
                "domain": ["type": "Domain", "domainType": .string(Self.domainType(axes, kind: kind)), "axes": .object(domainAxes),
                           "referencing": referencing(axes, in: part)],
                "parameters": .object(parameters), "ranges": .object(ranges)]
    }

    /// The CoverageJSON answer: one Coverage, or a CoverageCollection for several points.
    func coverageJSON(_ parts: [Dataset], kind: EDRQuery.Kind, inside: [Bool]?) throws -> JSON {
        let covs = try parts.map { try coverage($0, kind: kind, inside: inside) }
        guard covs.count > 1 else { return covs[0] }
        let domainType = covs[0]["domain"]?["domainType"] ?? "Point"
        return ["type": "CoverageCollection", "domainType": domainType, "parameters": covs[0]["parameters"] ?? [:], "coverages": .array(covs)]
    }

    /// The CSV answer: a header of the axis coordinates' names (t, z, y, x order) and the
    /// parameters, then one row per grid point (inside the polygon, for an area); missing
    /// values are empty fields.
    func csv(_ parts: [Dataset], inside: [Bool]?) throws -> [UInt8] {
        var out: [UInt8] = []
        func field(_ s: String) {
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                out += Array(("\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"").utf8)
            } else { out += Array(s.utf8) }
        }
        for (n, part) in parts.enumerated() {
            let axes = try axes(of: part)
            let names = part.dataVars.keys.filter { self.parameters.contains($0) }
            if n == 0 {
                for (i, h) in (axes.map(\.key) + names).enumerated() { if i > 0 { out.append(44) }; field(h) }
                out.append(10)
            }
            let columns = try names.map { Self.numbers(try part.variables[$0]!.data) }
            let shape = axes.map(\.values.count)
            let total = shape.reduce(1, *)
            let plane = inside?.count ?? 1
            var index = [Int](repeating: 0, count: shape.count)
            for flat in 0..<total {
                if inside == nil || inside![flat % plane] {
                    for (k, a) in axes.enumerated() {
                        if k > 0 { out.append(44) }
                        switch a.values[index[k]] {
                        case .string(let s): field(s)
                        case .double(let d): out += Array(String(d).utf8)
                        default: break
                        }
                    }
                    for c in columns {
                        out.append(44)
                        let v = c[flat]
                        if !v.isNaN { out += Array(String(v).utf8) }
                    }
                    out.append(10)
                }
                var k = shape.count - 1
                while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
            }
        }
        return out
    }
}
