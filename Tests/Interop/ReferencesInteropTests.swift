import Foundation
import GyreTestSupport
import Testing
import Gyre

/// Kerchunk references against kerchunk and fsspec on the same files (`refs_cases.py`):
/// netCDF-3 with several record variables, netCDF-4 with zlib, shuffle, fletcher32, contiguous
/// and never-written chunks, 12 files along time, files of unequal lengths. xarray reads
/// Gyre's references through fsspec's ReferenceFileSystem as it reads the files; Gyre reads
/// kerchunk's references as it reads the files; a combination that cannot read correctly is
/// refused naming the file; sources over HTTP (nginx) and on S3 (moto).
@Suite("Interop: kerchunk references (Gyre's read by fsspec, kerchunk's read by Gyre)", .enabled(if: Interop.enabled), .serialized)
struct ReferencesInteropTests {
    static func files(_ dir: URL, _ sub: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(sub).path).filter { $0.hasSuffix(".nc") }.sorted()
            .map { dir.appendingPathComponent(sub).appendingPathComponent($0).path }
    }

    /// Every variable of `want` (but those named in `skip`) in `got`, equal, with its attributes.
    static func differences(_ got: Dataset, _ want: Dataset, skip: Set<String> = [], what: String) throws -> [String] {
        var out: [String] = []
        for (k, v) in want.variables where !skip.contains(k) {
            guard let g = got.variables[k] else { out.append("\(what): no variable \(k)"); continue }
            if try !g.equals(v) { out.append("\(what) \(k): values differ") }
        }
        return out
    }

    @Test("Gyre's references read in xarray through fsspec as the files do; kerchunk's read in Gyre as the files do")
    func againstKerchunk() async throws {
        let dir = try Interop.generate("refs_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gyreDir = dir.appendingPathComponent("gyre")
        try FileManager.default.createDirectory(at: gyreDir, withIntermediateDirectories: true)
        let classic = dir.appendingPathComponent("nc3/classic.nc").path, single = dir.appendingPathComponent("nc4/single.nc").path
        let many = try Self.files(dir, "many"), unequal = try Self.files(dir, "unequal"), bad = try Self.files(dir, "unequal_bad")
        var manifest = JSONObject()
        // The CLI, on one file and on globs (inferred and named dimension), with and without inlining.
        let runs: [(String, [String], [String], JSON)] = [
            ("classic.json", [classic], [], ["sources": [.string(classic)], "concat_dim": nil]),
            ("classic-noinline.json", [classic], ["--inline-threshold", "0"], ["sources": [.string(classic)], "concat_dim": nil]),
            ("single.json", [single], [], ["sources": [.string(single)], "concat_dim": nil]),
            ("many.json", [dir.path + "/many/day_*.nc"], [], ["sources": .array(many.map { .string($0) }), "concat_dim": "time"]),
            ("unequal.json", unequal.reversed(), ["--concat-dim", "time"], ["sources": .array(unequal.map { .string($0) }), "concat_dim": "time"]),
        ]
        for (name, sources, flags, entry) in runs {
            let r = try CLITests.gyre(["refs", "create"] + sources + ["-o", gyreDir.appendingPathComponent(name).path] + flags)
            try #require(r.status == 0, "gyre refs create \(name): \(r.err)")
            manifest[name] = entry
        }
        try Data(JSON.object(manifest).serialized).write(to: gyreDir.appendingPathComponent("manifest.json"))
        let report = try Interop.verify("refs_cases.py", dir)
        #expect(report == nil, "xarray through fsspec on Gyre's references: \(report ?? "")")

        // Gyre's references read in Gyre as the files.
        let originals: [(String, Dataset)] = [
            ("classic.json", try await Dataset.open(classic).load()), ("single.json", try await Dataset.open(single).load()),
            ("many.json", try await Dataset.open(files: many, concatDim: "time").load()),
            ("unequal.json", try await Dataset.open(files: unequal, concatDim: "time").load()),
        ]
        for (name, want) in originals {
            let got = try await Dataset.open(gyreDir.appendingPathComponent(name).path).load()
            #expect(try Self.differences(got, want, what: "Gyre on its \(name)") == [])
            #expect(MakeAttrs.unordered(got.attrs) == MakeAttrs.unordered(want.attrs), "\(name): global attributes")
        }
        // kerchunk's references in Gyre: what kerchunk references reads as the files (it drops
        // the fletcher32 variable and gives the 0-d crs HDF5's default fill value).
        for (name, want) in originals {
            let got = try await Dataset.open(dir.appendingPathComponent("kerchunk/\(name)").path).load()
            let skip: Set<String> = name == "single.json" ? ["checked", "crs"] : []
            #expect(try Self.differences(got, want, skip: skip, what: "Gyre on kerchunk's \(name)") == [])
        }
        // A partial chunk inside the combination: refused, naming the file (kerchunk maps the
        // last file's chunks onto the wrong keys without a word).
        let refused = try CLITests.gyre(["refs", "create"] + bad + ["-o", gyreDir.appendingPathComponent("bad.json").path])
        #expect(refused.status != 0 && refused.err.contains("part_1.nc") && refused.err.contains("not a multiple"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: gyreDir.appendingPathComponent("bad.json").path))
        // Bad input: an existing output without --overwrite, a missing source, a non-netCDF file.
        let again = try CLITests.gyre(["refs", "create", classic, "-o", gyreDir.appendingPathComponent("classic.json").path])
        #expect(again.status != 0 && again.err.contains("already exists"), "\(again.err)")
        let missing = try CLITests.gyre(["refs", "create", dir.path + "/nope.nc", "-o", dir.appendingPathComponent("x.json").path])
        #expect(missing.status != 0 && missing.err.contains("nope.nc"), "\(missing.err)")
        let notNC = try CLITests.gyre(["refs", "create", gyreDir.appendingPathComponent("manifest.json").path + ".txt", "-o", dir.appendingPathComponent("y.json").path])
        #expect(notNC.status != 0, "\(notNC.err)")
        // gyre info and eval take references like any dataset.
        let info = try CLITests.gyre(["info", "reference://" + gyreDir.appendingPathComponent("many.json").path])
        #expect(info.status == 0 && info.out.contains("time: 36"), "\(info.out)\(info.err)")
        let mean = try CLITests.gyre(["eval", gyreDir.appendingPathComponent("many.json").path, "tas.mean()"])
        let direct = try CLITests.gyre(["eval", dir.path + "/many/day_*.nc", "tas.mean()", "--concat-dim", "time"])
        #expect(mean.status == 0 && mean.out == direct.out, "\(mean.out)\(mean.err) vs \(direct.out)\(direct.err)")
    }

    @Test("sources over HTTP (nginx) and on S3 (moto): references made there read as the local files, in Gyre and in xarray")
    func remoteSources() async throws {
        let dir = try Interop.generate("refs_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let nginx = try LocalServers.nginx(serving: dir)
        defer { nginx.stop() }
        let many = try Self.files(dir, "many")
        let local = try await Dataset.open(files: many, concatDim: "time").load()
        let gyreDir = dir.appendingPathComponent("gyre")
        try FileManager.default.createDirectory(at: gyreDir, withIntermediateDirectories: true)
        // Over HTTP: no listing, so the files are named.
        let urls = many.map { nginx.url + "/many/" + ($0 as NSString).lastPathComponent }
        let http = try await References.create(urls, concatDim: "time", options: ReferenceOptions(inlineThreshold: 0))
        #expect(http.urls.allSatisfy { $0.hasPrefix(nginx.url) })
        try Data(http.document()).write(to: gyreDir.appendingPathComponent("http.json"))
        let viaHTTP = try await Dataset.open(gyreDir.appendingPathComponent("http.json").path).load()
        #expect(try viaHTTP.equals(local), "references over HTTP: values differ")
        let single = dir.appendingPathComponent("nc4/single.nc").path
        let singleHTTP = try await References.create([nginx.url + "/nc4/single.nc"])
        try Data(singleHTTP.document()).write(to: gyreDir.appendingPathComponent("single-http.json"))
        let manifest: JSON = ["http.json": ["sources": .array(many.map { .string($0) }), "concat_dim": "time"],
                              "single-http.json": ["sources": [.string(single)], "concat_dim": nil]]
        try Data(manifest.serialized).write(to: gyreDir.appendingPathComponent("manifest.json"))
        let report = try Interop.verify("refs_cases.py", dir)
        #expect(report == nil, "xarray through fsspec on references to HTTP: \(report ?? "")")

        // On S3: a glob over the bucket, through the CLI with storage options; read back with them.
        let server = try LocalServers.moto()
        defer { server.stop() }
        let options = ["endpoint_url": server.url, "key": "testing", "secret": "testing"]
        let bucket = try #require(try StoreResolver.store(for: "s3://refs", options: options) as? S3Store)
        try await bucket.createBucket()
        for f in many { try await bucket.set("many/" + (f as NSString).lastPathComponent, [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))) }
        let flags = options.sorted { $0.key < $1.key }.flatMap { ["--storage-option", "\($0.key)=\($0.value)"] }
        let out = gyreDir.appendingPathComponent("s3.json").path
        let r = try CLITests.gyre(["refs", "create", "s3://refs/many/*.nc", "-o", out] + flags)
        try #require(r.status == 0, "gyre refs create on S3: \(r.err)")
        let viaS3 = try await Dataset.open(out, storageOptions: options).load()
        #expect(try viaS3.equals(local), "references on S3: values differ")
    }
}

enum MakeAttrs {
    /// Attributes as a plain dictionary (Zarr lists them sorted, netCDF in file order).
    static func unordered(_ a: Attributes) -> [String: String] { Dictionary(uniqueKeysWithValues: a.map { ($0.key, "\($0.value)") }) }
}
