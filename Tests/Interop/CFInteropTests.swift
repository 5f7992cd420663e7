import Foundation
import OrderedCollections
import Testing
import Gyre

/// Gyre's CF decoding against netCDF4-python, cftime and xarray on variables of a real netCDF file.
@Suite("Interop: CF decoding vs netCDF4, cftime, xarray", .enabled(if: Interop.enabled))
struct CFInteropTests {
    struct Attr: Decodable { let kind: String; let value: String?; let dtype: String?; let values: [AnyNumber]? }
    enum AnyNumber: Decodable {
        case int(Int64), text(String)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
        }
        var double: Double { switch self { case .int(let i): return Double(i); case .text(let t): return Double(t) ?? .nan } }
    }
    struct Entry: Decodable {
        let attrs: [String: Attr]
        let netcdf4: Bool?
        let xarray_dtype: String
        let cftime: [[Int]?]?
        let calendar: String?
    }

    static func attributes(_ raw: [String: Attr]) throws -> Attributes {
        var out: Attributes = [:]
        for (k, a) in raw.sorted(by: { $0.key < $1.key }) {
            if a.kind == "str" { out[k] = .string(a.value ?? ""); continue }
            let (dtype, _) = try parseNumpyDescr(a.dtype!)
            out[k] = .values(try AnyNDArray.float64(NDArray(a.values!.map(\.double))).astype(dtype))
        }
        return out
    }

    @Test("every variable decodes like xarray (values and dtype), masks like netCDF4, dates like cftime")
    func decode() throws {
        let dir = try Interop.generate("cf_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        #expect(cases.count >= 30)
        var failures: [String] = []
        for (name, entry) in cases.sorted(by: { $0.key < $1.key }) {
            let raw = try AnyNDArray.readNPY(dir.appendingPathComponent("\(name).raw.npy"))
            let v = try Variable(["x"], raw, attrs: try Self.attributes(entry.attrs))
            let decoded: Variable
            do { decoded = try CF.decode(v, name: name) } catch {
                failures.append("\(name): decode failed: \(error)"); continue
            }
            // xarray: dtype and values.
            let xarrayFile = dir.appendingPathComponent("\(name).xarray.npy")
            if entry.xarray_dtype == "object" {
                // xarray fell back to cftime objects: Gyre must give calendar-aware dates.
                if !decoded.dtype.isDatetime || decoded.dtype == .datetime64(.nanoseconds) {
                    failures.append("\(name): xarray gives cftime objects, Gyre gives \(decoded.dtype)")
                }
            } else if FileManager.default.fileExists(atPath: xarrayFile.path) {
                let want = try AnyNDArray.readNPY(xarrayFile)
                if decoded.dtype != want.dtype {
                    failures.append("\(name): dtype \(decoded.dtype), xarray \(want.dtype)")
                } else if let g = try decoded.data.doubles(), let w = want.doubles() {
                    if g.count != w.count {
                        failures.append("\(name): \(g.count) values, xarray \(w.count)")
                    } else {
                        for (i, (a, b)) in zip(g, w).enumerated() where !(a == b || (a.isNaN && b.isNaN)) {
                            failures.append("\(name)[\(i)]: \(a), xarray \(b)"); break
                        }
                    }
                } else if try decoded.data.scalars != want.scalars {
                    failures.append("\(name): \(try decoded.data.scalars.map(\.description)) vs xarray \(want.scalars.map(\.description))")
                }
            }
            // netCDF4-python's masking (valid ranges, default fill values: Gyre's opt-in) gives the same missing values.
            if entry.netcdf4 == true && entry.cftime == nil {
                let want = try #require(AnyNDArray.readNPY(dir.appendingPathComponent("\(name).netcdf4.npy")).doubles())
                let masked = try CF.decode(v, name: name, options: .netCDF4Python)
                let got = try #require(try masked.data.doubles())
                if got.count != want.count {
                    failures.append("\(name) with valid-range masking: \(got.count) values, netCDF4 \(want.count)")
                } else {
                    for (i, (a, b)) in zip(got, want).enumerated() {
                        let same = (a.isNaN && b.isNaN) || (!a.isNaN && !b.isNaN && Swift.abs(a - b) <= 1e-5 * Swift.max(1, Swift.abs(b)))
                        if !same { failures.append("\(name)[\(i)] with valid-range masking: \(a), netCDF4 \(b)"); break }
                    }
                }
            }
            // cftime: the calendar fields of every date.
            if let fields = entry.cftime {
                let dates: [[Int]?]
                switch try decoded.data {
                case .cftime(let t, let c):
                    dates = t.elements.map { (x: Int64) -> [Int]? in
                        if x == Int64.min { return nil }
                        let d = CFDate(ticks: x, calendar: c)
                        return [d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond]
                    }
                case .datetime64(let t, let u):
                    dates = t.elements.map { (x: Int64) -> [Int]? in
                        if x == Int64.min { return nil }
                        let f = datetimeFields(x, unit: u)
                        return [f.year, f.month, f.day, f.hour, f.minute, f.second, f.nanosecond / 1000].map { Int($0) }
                    }
                default:
                    failures.append("\(name): not decoded to dates (\(decoded.dtype))"); continue
                }
                if dates.count != fields.count {
                    failures.append("\(name): \(dates.count) dates, cftime \(fields.count)")
                } else {
                    for (i, (g, w)) in zip(dates, fields).enumerated() where g != w {
                        failures.append("\(name)[\(i)]: \(g.map { "\($0)" } ?? "NaT") vs cftime \(w.map { "\($0)" } ?? "missing")"); break
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.joined(separator: "\n"))")
    }
}
