import Foundation
import Testing
import Gyre

/// Gyre's netCDF backend against netCDF4-python and xarray: files in every format open in Gyre
/// with the values, dtypes and decoded times xarray gives; multi-file collections combine as
/// `open_mfdataset` does; Gyre's netCDF output opens in xarray identically.
@Suite("Interop: netCDF vs netCDF4-python and xarray", .enabled(if: Interop.enabled))
struct NetCDFInteropTests {
    struct Var: Decodable { let dims: [String]; let coord: Bool; let file: String; let dtype: String; let attrs: [String] }
    struct Group: Decodable { let vars: [String: Var]; let attrs: [String] }

    static func compare(_ ds: Dataset, _ want: Group, dir: URL, label: String) async throws -> [String] {
        var failures: [String] = []
        let loaded = try await ds.load()
        if Set(loaded.variables.keys) != Set(want.vars.keys) {
            failures.append("\(label): variables \(loaded.variables.keys.sorted()) vs xarray \(want.vars.keys.sorted())")
        }
        if Set(loaded.attrs.keys) != Set(want.attrs) { failures.append("\(label): global attrs \(loaded.attrs.keys.sorted()) vs xarray \(want.attrs.sorted())") }
        for (name, w) in want.vars {
            guard let v = loaded.variables[name] else { continue }
            if v.dims != w.dims { failures.append("\(label) \(name): dims \(v.dims) vs \(w.dims)") }
            if loaded.coordNames.contains(name) != w.coord { failures.append("\(label) \(name): coordinate? \(loaded.coordNames.contains(name)) vs \(w.coord)") }
            if Set(v.attrs.keys) != Set(w.attrs) { failures.append("\(label) \(name): attrs \(v.attrs.keys.sorted()) vs \(w.attrs.sorted())") }
            let data = try v.data
            let got = data.scalars.map { $0.isMissing ? "nan" : "\($0)" }
            let expected: [String]
            if w.file.hasSuffix(".json") {
                expected = try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent(w.file)))
                // Unicode text: xarray gives <U n or object, Gyre variable-length strings; the values decide.
                let bothText = w.dtype.hasPrefix("<U") && { if case .string = v.dtype { return true }; return false }()
                if w.dtype != "object", !bothText, "\(v.dtype)" != w.dtype { failures.append("\(label) \(name): dtype \(v.dtype) vs xarray \(w.dtype)") }
            } else {
                let e = try AnyNDArray.readNPY(dir.appendingPathComponent(w.file))
                expected = e.scalars.map { $0.isMissing ? "nan" : "\($0)" }
                if e.dtype != v.dtype { failures.append("\(label) \(name): dtype \(v.dtype), xarray \(e.dtype)") }
            }
            if got != expected { failures.append("\(label) \(name): values \(got.prefix(6)) vs xarray \(expected.prefix(6))") }
        }
        return failures
    }

    @Test("every format, groups, types, calendars and collections read as xarray reads them; Gyre's files read back in xarray")
    func roundTrip() async throws {
        let dir = try Interop.generate("netcdf_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        struct Meta: Decodable { let files: [String: [String: Group]]; let multi: Group }
        // "format" sits beside the groups in each file's entry; decode it apart.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("meta.json"))) as! [String: Any]
        var files = raw["files"] as! [String: [String: Any]]
        var formats: [String: String] = [:]
        for (f, entry) in files { formats[f] = entry["format"] as? String; files[f]!.removeValue(forKey: "format") }
        let clean = try JSONSerialization.data(withJSONObject: ["files": files, "multi": raw["multi"]!])
        let meta = try JSONDecoder().decode(Meta.self, from: clean)
        var failures: [String] = []
        for (file, groups) in meta.files.sorted(by: { $0.key < $1.key }) {
            let path = dir.appendingPathComponent(file).path
            for (group, want) in groups {
                let ds = try await Dataset.open(path, group: group)
                #expect(ds.isLazy, "\(file) \(group): numeric data variables are lazy")
                let label = "\(file)\(group == "/" ? "" : ":" + group)"
                // Every read through netcdf-c, then every chunked read straight from the file.
                failures += try await NetCDFArray.$directReads.withValue(false) { try await Self.compare(ds, want, dir: dir, label: label) }
                failures += try await NetCDFArray.$directReadMinBytes.withValue(0) { try await Self.compare(ds, want, dir: dir, label: label + " (direct)") }
                if group == "/", let f = formats[file], ds.encoding["format"]?.stringValue != f {
                    failures.append("\(file): format \(ds.encoding["format"]?.stringValue ?? "none") vs \(f)")
                }
            }
        }
        // A collection combined in time order (names are in reverse order), lazily.
        let mf = try await Dataset.open(dir.appendingPathComponent("mf").path + "/*.nc")
        #expect(mf.variables["tas"]!.isLazy && mf.sizes["time"] == 18)
        failures += try await Self.compare(mf, meta.multi, dir: dir, label: "multi-file")
        // Collections that do not fit: errors that name both files and the difference.
        let bad: [(String, [String])] = [
            ("bad-missing", ["'pr'", "part-"]),
            ("bad-lat", ["'lat'", "part-00.nc", "part-0"]),
            ("bad-overlap", ["overlap", "part-"]),
            ("bad-units", ["'tas'", "units", "degC", "K"]),
            ("bad-calendar", ["'time'", "noleap"]),
        ]
        for (sub, words) in bad {
            do {
                _ = try await Dataset.open(dir.appendingPathComponent(sub).path + "/*.nc", concatDim: "time")
                failures.append("\(sub): opened without an error")
            } catch let e as GyreDataError {
                let files = e.message.components(separatedBy: "part-").count - 1
                if files < 2 || !words.allSatisfy({ e.message.contains($0) }) { failures.append("\(sub): unclear error: \(e.message)") }
            }
        }
        // The options xarray users know: skip or fill a missing variable, override mismatches.
        let skipped = try await Dataset.open(dir.appendingPathComponent("bad-missing").path + "/*.nc", combine: CombineOptions(missingVariables: .skip))
        #expect(skipped.variables["pr"] == nil && skipped.variables["tas"] != nil)
        let filled = try await Dataset.open(dir.appendingPathComponent("bad-missing").path + "/*.nc", combine: CombineOptions(missingVariables: .fill)).load()
        let pr = try filled.variables["pr"]!.data.doubles()!
        #expect(pr.count == 18 * 4 * 5 && pr.filter(\.isNaN).count >= 3 * 4 * 5, "the file without 'pr' reads as NaN")
        let overridden = try await Dataset.open(dir.appendingPathComponent("bad-units").path + "/*.nc", concatDim: "time", combine: CombineOptions(compat: .override))
        #expect(overridden.sizes["time"] == 9 && overridden.variables["tas"]?.attrs["units"]?.stringValue == "K")
        let ownUnits = try await Dataset.open(dir.appendingPathComponent("own-units").path + "/*.nc")
        #expect(ownUnits.sizes["time"] == 9, "decoded times with per-file reference dates combine")
        // Bad paths.
        for (p, words) in [(dir.appendingPathComponent("nothing-*.nc").path, ["matches no files"]), (dir.path, ["not a Zarr store"]),
                           (dir.appendingPathComponent("meta.json").path, ["meta.json", "not a netCDF"])] {
            do { _ = try await Dataset.open(p); failures.append("\(p) opened") } catch let e as GyreDataError {
                if !words.allSatisfy({ e.message.contains($0) }) { failures.append("unclear error for \(p): \(e.message)") }
            }
        }
        // The CLI on a file netCDF4-python wrote: a description, and nothing on stderr (HDF5's
        // diagnostics for the optional attributes netcdf-c probes are silenced).
        let cli = try CLITests.gyre(["info", dir.appendingPathComponent("netcdf4.nc").path, "--group", "ocean"])
        #expect(cli.status == 0 && cli.out.contains("temp") && cli.err.isEmpty, "\(cli.err.prefix(500))")
        // Gyre writes netCDF-4 back, and xarray must read it as it reads the originals.
        let full = try await Dataset.open(dir.appendingPathComponent("netcdf4.nc").path)
        try await full.writeNetCDF(to: dir.appendingPathComponent("gyre.nc").path)
        await #expect(throws: GyreDataError.self) { try await full.writeNetCDF(to: dir.appendingPathComponent("gyre.nc").path) }
        try await mf.writeNetCDF(to: dir.appendingPathComponent("gyre-mf.nc").path, options: NetCDFWriteOptions(chunks: ["time": 6], zlibLevel: 1))
        if let report = try Interop.verify("netcdf_cases.py", dir) { failures.append("xarray could not read Gyre's netCDF identically:\n\(report)") }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.joined(separator: "\n"))")
    }
}
