import GyreCore
import Foundation
import Testing
import Gyre

/// Gyre's Zarr Dataset backend against xarray: xarray's stores open in Gyre as xarray sees them,
/// and Gyre's stores open in xarray equal to the original dataset.
@Suite("Interop: Datasets in Zarr vs xarray", .enabled(if: Interop.enabled))
struct XarrayZarrInteropTests {
    struct Meta: Decodable { let vars: [String: Var]; let attrs: [String: JSON] }
    struct Var: Decodable { let dims: [String]; let coord: Bool; let file: String; let attrs: [String: JSON] }

    @Test("v2 and v3: open xarray's store; write a store xarray opens identically")
    func roundTrip() async throws {
        let dir = try Interop.generate("xarray_zarr_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: dir.appendingPathComponent("meta.json")))
        var failures: [String] = []
        for fmt in [2, 3] {
            let ds = try await Dataset.openZarr(FileStore(root: dir.appendingPathComponent("xr-v\(fmt).zarr")))
            #expect(Set(ds.variables.keys) == Set(meta.vars.keys), "v\(fmt) variables")
            for (name, want) in meta.vars {
                guard let v = ds.variables[name] else { failures.append("v\(fmt): no \(name)"); continue }
                if v.dims != want.dims { failures.append("v\(fmt) \(name): dims \(v.dims) vs \(want.dims)") }
                if ds.coordNames.contains(name) != want.coord { failures.append("v\(fmt) \(name): coordinate? \(ds.coordNames.contains(name)) vs \(want.coord)") }
                let got = try await v.load().data.scalars.map { $0.isMissing ? "nan" : "\($0)" }
                let expected: [String]
                if want.file.hasSuffix(".json") {
                    expected = try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent(want.file)))
                } else {
                    let e = try AnyNDArray.readNPY(dir.appendingPathComponent(want.file))
                    expected = e.scalars.map { $0.isMissing ? "nan" : "\($0)" }
                    if e.dtype != v.dtype { failures.append("v\(fmt) \(name): dtype \(v.dtype), xarray \(e.dtype)") }
                }
                if got != expected { failures.append("v\(fmt) \(name): values \(got.prefix(5)) vs xarray \(expected.prefix(5))") }
                for k in want.attrs.keys where v.attrs[k] == nil { failures.append("v\(fmt) \(name): attribute \(k) missing") }
            }
            for k in meta.attrs.keys where ds.attrs[k] == nil { failures.append("v\(fmt): global attribute \(k) missing") }
            // gyre info --json against xarray's to_dict(data=False) of the same store.
            let info = try CLITests.gyre(["info", dir.appendingPathComponent("xr-v\(fmt).zarr").path, "--json"])
            try #require(info.status == 0, "gyre info --json: \(info.err)")
            let mine = try JSON.parse(info.out, source: "gyre info --json")
            let theirs = try JSON.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("todict-v\(fmt).json"))), source: "todict")
            for group in ["coords", "data_vars"] {
                let a = mine[group]?.object ?? [:], b = theirs[group]?.object ?? [:]
                if Set(a.keys) != Set(b.keys) { failures.append("info v\(fmt) \(group): \(a.keys.sorted()) vs xarray \(b.keys.sorted())") }
                for (name, want) in b {
                    guard let got = a[name] else { continue }
                    for key in ["dims", "dtype", "shape"] where got[key] != want[key] {
                        failures.append("info v\(fmt) \(name).\(key): \(got[key] ?? "missing") vs xarray \(want[key] ?? "missing")")
                    }
                    let gotAttrs = Set(got["attrs"]?.object?.keys.map { $0 } ?? []), wantAttrs = Set(want["attrs"]?.object?.keys.map { $0 } ?? [])
                    if gotAttrs != wantAttrs { failures.append("info v\(fmt) \(name) attrs: \(gotAttrs.sorted()) vs xarray \(wantAttrs.sorted())") }
                    if got["chunks"] == nil || got["encoding"] == nil { failures.append("info v\(fmt) \(name): no chunks/encoding") }
                }
            }
            if mine["dims"] != theirs["dims"] { failures.append("info v\(fmt) dims: \(mine["dims"] ?? "missing") vs xarray \(theirs["dims"] ?? "missing")") }
            // Gyre writes it back for xarray.
            let out = FileStore(root: dir.appendingPathComponent("gyre-v\(fmt).zarr"))
            try await ds.writeZarr(to: out, options: ZarrWriteOptions(format: fmt == 2 ? .v2 : .v3, chunks: ["time": 4]))
            // Refuses to overwrite without being told.
            await #expect(throws: GyreDataError.self) { try await ds.writeZarr(to: out) }
        }
        // gyre convert's engine, both directions between formats, with new chunks, shards and codecs.
        try await ZarrConverter.convert(from: FileStore(root: dir.appendingPathComponent("xr-v2.zarr")), to: FileStore(root: dir.appendingPathComponent("conv-v3.zarr")),
                                        options: ConvertOptions(format: .v3, chunks: ["time": 3, "lat": 2], shards: ["time": 6], compressors: [try BloscCodec(cname: "zstd", clevel: 3, shuffle: .bitshuffle, typesize: 1)]))
        try await ZarrConverter.convert(from: FileStore(root: dir.appendingPathComponent("xr-v3.zarr")), to: FileStore(root: dir.appendingPathComponent("conv-v2.zarr")),
                                        options: ConvertOptions(format: .v2, chunks: ["time": 5], compressors: [ZlibCodec(level: 4, format: .zlib)]))
        if let report = try Interop.verify("xarray_zarr_cases.py", dir) { failures.append("xarray could not read Gyre's stores identically:\n\(report)") }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.joined(separator: "\n"))")
    }
}
