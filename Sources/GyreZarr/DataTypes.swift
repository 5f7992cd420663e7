import GyreCore
import Foundation
import GyreArrays
import GyreCodecs

/// Zarr data types and fill values, v2 (NumPy dtype strings) and v3 (names and extensions).
package enum ZarrTypes {
    /// A v2 dtype string: the dtype, whether it is big-endian, whether it is an object (vlen) type.
    package static func v2(_ s: String, source: String) throws -> (DType, bigEndian: Bool) {
        if s == "|O" || s == "<O" || s == ">O" { return (.string(.variable), false) }
        do { return try parseNumpyDescr(s, source: source) } catch {
            throw GyreZarrError(.unsupported, "\(source): unsupported dtype '\(s)'")
        }
    }

    static let v3Names: [String: DType] = [
        "bool": .bool, "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64,
        "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        "float32": .float32, "float64": .float64, "string": .string(.variable),
    ]

    static func v3(_ j: JSON, source: String) throws -> DType {
        if let s = j.string {
            guard let d = v3Names[s] else { throw GyreZarrError(.unsupported, "\(source): unsupported data_type '\(s)'") }
            return d
        }
        guard let name = j["name"]?.string else { throw GyreZarrError(.metadata, "\(source): data_type \(j) has no name") }
        let c = j["configuration"]?.object ?? [:]
        switch name {
        case "numpy.datetime64", "numpy.timedelta64":
            guard let u = c["unit"]?.string, let unit = TimeUnit(rawValue: u) else {
                throw GyreZarrError(.unsupported, "\(source): \(name) with unit \(c["unit"] ?? "none")")
            }
            guard (c["scale_factor"]?.integer ?? 1) == 1 else { throw GyreZarrError(.unsupported, "\(source): \(name) scale_factor other than 1") }
            return name == "numpy.datetime64" ? .datetime64(unit) : .timedelta64(unit)
        case "fixed_length_utf32":
            guard let n = c["length_bytes"]?.integer, n % 4 == 0, n > 0 else { throw GyreZarrError(.metadata, "\(source): fixed_length_utf32 needs length_bytes") }
            return .string(.unicode(Int(n / 4)))
        case "null_terminated_bytes", "fixed_length_bytes":
            guard let n = c["length_bytes"]?.integer, n > 0 else { throw GyreZarrError(.metadata, "\(source): \(name) needs length_bytes") }
            return .string(.bytes(Int(n)))
        default:
            if let d = v3Names[name] { return d }
            throw GyreZarrError(.unsupported, "\(source): unsupported data_type '\(name)'")
        }
    }

    static func v3JSON(_ d: DType) -> JSON {
        switch d {
        case .datetime64(let u): return ["name": "numpy.datetime64", "configuration": ["unit": .string(u.rawValue), "scale_factor": 1]]
        case .timedelta64(let u): return ["name": "numpy.timedelta64", "configuration": ["unit": .string(u.rawValue), "scale_factor": 1]]
        case .string(.unicode(let n)): return ["name": "fixed_length_utf32", "configuration": ["length_bytes": .int(Int64(4 * n))]]
        case .string(.bytes(let n)): return ["name": "null_terminated_bytes", "configuration": ["length_bytes": .int(Int64(n))]]
        case .string(.variable): return "string"
        default: return .string(d.description)
        }
    }

    /// Parses a fill value of either version.
    static func fill(_ j: JSON?, dtype: DType, source: String) throws -> Scalar? {
        guard let j, j != .null else { return nil }
        func bad() -> GyreZarrError { GyreZarrError(.metadata, "\(source): fill_value \(j) does not fit dtype \(dtype)") }
        switch dtype {
        case .bool:
            if let b = j.bool { return .bool(b) }
            if let i = j.integer { return .bool(i != 0) }
            throw bad()
        case .float32, .float64:
            if let d = j.number { return dtype == .float32 ? .float32(Float(d)) : .double(d) }
            switch j.string {
            case "NaN"?: return dtype == .float32 ? .float32(.nan) : .double(.nan)
            case "Infinity"?: return dtype == .float32 ? .float32(.infinity) : .double(.infinity)
            case "-Infinity"?: return dtype == .float32 ? .float32(-.infinity) : .double(-.infinity)
            case let s? where s.hasPrefix("0x"):
                guard let bits = UInt64(s.dropFirst(2), radix: 16) else { throw bad() }
                return dtype == .float32 ? .float32(Float(bitPattern: UInt32(truncatingIfNeeded: bits))) : .double(Double(bitPattern: bits))
            default: throw bad()
            }
        case .datetime64(let u):
            if let i = j.integer { return .datetime(i, u) }
            if j.string == "NaT" { return .datetime(Int64.min, u) }
            throw bad()
        case .timedelta64(let u):
            if let i = j.integer { return .timedelta(i, u) }
            if j.string == "NaT" { return .timedelta(Int64.min, u) }
            throw bad()
        case .string(.bytes):
            guard let s = j.string else { throw bad() }
            if let data = Data(base64Encoded: s) { return .string(String(decoding: data, as: UTF8.self)) }
            return .string(s)
        case .string:
            guard let s = j.string else { throw bad() }
            return .string(s)
        default:
            if case .uint64 = dtype, case .double(let d) = j, d >= 0 { return .uint(UInt64(d)) }
            guard let i = j.integer else { throw bad() }
            return .int(i)
        }
    }

    /// A fill value as JSON (v2 uses base64 for bytes strings).
    package static func fillJSON(_ s: Scalar?, dtype: DType, v2: Bool) -> JSON {
        guard let s else { return .null }
        switch s {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .float32(let f): return floatJSON(Double(f))
        case .double(let d): return floatJSON(d)
        case .datetime(let t, _), .timedelta(let t, _): return .int(t)
        case .cftime(let t, _): return .int(t)
        case .string(let str):
            if v2, case .string(.bytes) = dtype { return .string(Data(str.utf8).base64EncodedString()) }
            return .string(str)
        }
    }

    static func floatJSON(_ d: Double) -> JSON {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return .double(d)
    }
}
