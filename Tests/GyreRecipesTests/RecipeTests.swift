import Foundation
import GyreTestSupport
import Testing
import GyreArrays
import GyreData
import GyreRecipes
import GyreReferences
import GyreStorage

@Suite("Recipes: parsing, patterns, runs, resumes, appends", .serialized)
struct RecipeTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Daily netCDF files sst_YYYYMMDD.nc of the sample dataset, `days` of them from 2001-01-01.
    static func archive(_ dir: URL, days: Int, from first: Int = 0) async throws -> Dataset {
        let sample = try SampleData.sst(days: 40, resolution: 30)
        for d in first..<(first + days) {
            let part = try sample.isel(["time": .slice(Slice(d, d + 1))])
            try await part.writeNetCDF(to: dir.appendingPathComponent(String(format: "sst_200101%02d.nc", d + 1)).path, options: NetCDFWriteOptions(zlibLevel: 1, overwrite: true))
        }
        return sample
    }

    static func recipe(_ dir: URL, end: String, extra: String = "", target: String = "out.zarr", chunks: Int = 4) -> String {
        """
        name: sst-daily
        source:
          pattern: "\(dir.path)/sst_{time:%Y%m%d}.nc"
          keys: {time: {start: 2001-01-01, end: \(end), freq: 1D}}
        transforms:
          rename: {sst: temperature}
          variables: {kelvin: "temperature + 273.15"}
          attrs: {title: Daily SST by recipe}
        target:
          url: \(dir.appendingPathComponent(target).path)
          format: zarr2
          chunks: {time: \(chunks)}
          codec: zstd:3
        run: {retries: 1, concurrency: 2}
        \(extra)
        """
    }

    /// Every file under a directory, by relative path, with its bytes.
    static func tree(_ root: URL) throws -> [String: Data] { try LocalServers.fileTree(root) }

    @Test("bad recipes are errors naming the file and the key, before anything is read or written")
    func badRecipes() throws {
        let cases: [(String, String)] = [
            ("source: [unclosed", "not YAML"),
            ("source: {files: [a.nc]}\ntarget: {url: o.zarr}\nextra: 1", "'extra': unknown key"),
            ("source: {files: [a.nc], colour: red}\ntarget: {url: o.zarr}", "'source.colour': unknown key"),
            ("source: {pattern: \"x_{time:%Y}.nc\"}\ntarget: {url: o.zarr}", "source.keys"),
            ("source: {pattern: plain.nc, keys: {}}\ntarget: {url: o.zarr}", "has no {key}"),
            ("source: {files: [a.nc]}", "target.url"),
            ("source: {files: [a.nc]}\ntarget: {url: o.zarr, codec: snappy}", "unknown codec 'snappy'"),
            ("source: {files: [a.nc]}\ntarget: {url: o.zarr, format: zarr4}", "zarr4"),
            ("source: {files: [a.nc]}\ntarget: {url: o.zarr, chunks: {time: 0}}", "positive integer"),
            ("source: {files: [a.nc]}\ntarget: {url: o.zarr}\nrun: {memory: lots}", "run.memory"),
            ("source: {pattern: \"f_{t:%Y%m%d}.nc\", keys: {t: {start: 2001-01-05, end: 2001-01-01}}}\ntarget: {url: o.zarr}", "holds no dates"),
            ("source: {pattern: \"f_{t:%Q}.nc\", keys: {t: [2001-01-01]}}\ntarget: {url: o.zarr}", "%Q"),
        ]
        for (text, expected) in cases {
            do {
                let r = try Recipe.parse(yaml: text, source: "bad.yaml")
                _ = try r.locations()
                Issue.record("parsed: \(text)")
            } catch let e as GyreRecipesError {
                #expect(e.message.contains(expected) && (e.message.contains("bad.yaml") || expected == "%Q"), "\(text): \(e.message)")
            }
        }
    }

    @Test("patterns: dates by strftime and pandas frequencies, numbers by Python formats")
    func patterns() throws {
        func locations(_ pattern: String, _ keys: String) throws -> [String] {
            try Recipe.parse(yaml: "source: {pattern: \"\(pattern)\", keys: {k: \(keys)}}\ntarget: {url: o.zarr}", source: "p.yaml").locations()
        }
        #expect(try locations("d/{k:%Y%m%d}.nc", "{start: 2000-02-27, end: 2000-03-01}") == ["d/20000227.nc", "d/20000228.nc", "d/20000229.nc", "d/20000301.nc"])
        #expect(try locations("{k:%Y/%j}", "{start: 2001-12-30, end: 2002-01-01, freq: 1D}") == ["2001/364", "2001/365", "2002/001"])
        #expect(try locations("m_{k:%Y-%m}.nc", "{start: 2000-11-15, end: 2001-02-01, freq: 1MS}") == ["m_2000-11.nc", "m_2000-12.nc", "m_2001-01.nc", "m_2001-02.nc"])
        #expect(try locations("h{k:%H}", "{start: \"2000-01-01T22:00\", end: \"2000-01-02T01:00\", freq: 1h}") == ["h22", "h23", "h00", "h01"])
        #expect(try locations("ens_{k:03d}.nc", "{start: 1, stop: 4}") == ["ens_001.nc", "ens_002.nc", "ens_003.nc"])
        #expect(try locations("{k}.nc", "[a, b]") == ["a.nc", "b.nc"])
    }

    @Test("a run equals the files opened together and transformed; a second run is refused; --append reads only the new files")
    func runAndAppend() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await Self.archive(dir, days: 10)
        let r = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-10"), source: "r.yaml")
        let report = try await RecipeRunner.run(r)
        #expect(report.read.count == 10 && report.units == 3 && report.writtenUnits == 3 && report.failed.isEmpty && report.validated > 0)
        let files = (1...10).map { dir.appendingPathComponent(String(format: "sst_200101%02d.nc", $0)).path }
        var want = try await Dataset.open(files: files, concatDim: "time").rename(["sst": "temperature"])
        want = try want.assigning("kelvin", want.variables["temperature"]!.binary(.add, .double(273.15)))
        let got = try await Dataset.open(r.target).load()
        let expected = try await want.load()
        #expect(try got.variables["kelvin"]!.equals(expected.variables["kelvin"]!))
        #expect(try got.variables["temperature"]!.equals(expected.variables["temperature"]!))
        #expect(got.attrs["title"]?.stringValue == "Daily SST by recipe")
        // Again: the target is complete.
        await #expect(throws: GyreRecipesError.self) { _ = try await RecipeRunner.run(r) }
        // Five more days appear: --append reads only those.
        _ = try await Self.archive(dir, days: 5, from: 10)
        let more = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-15"), source: "r.yaml")
        let appended = try await RecipeRunner.run(more, options: RecipeRunOptions(append: true))
        #expect(appended.read.count == 5 && appended.appended, "\(appended.read)")
        let all = try await Dataset.open(files: files + (11...15).map { dir.appendingPathComponent(String(format: "sst_200101%02d.nc", $0)).path }, concatDim: "time").load()
        let after = try await Dataset.open(more.target).load()
        #expect(try after.variables["temperature"]!.equals(all.variables["sst"]!), "appended values")
        #expect(after.sizes["time"] == 15)
        // The appended store equals one written in one go.
        let once = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-15", target: "once.zarr"), source: "r.yaml")
        _ = try await RecipeRunner.run(once)
        #expect(try Self.tree(URL(fileURLWithPath: more.target)) == Self.tree(URL(fileURLWithPath: once.target)), "append vs one run: different bytes")
        // Nothing new: nothing read.
        let nothing = try await RecipeRunner.run(more, options: RecipeRunOptions(append: true))
        #expect(nothing.read.isEmpty && nothing.alreadyThere == 15)
    }

    @Test("a corrupt input stops the run naming it (the target does not open); fixed, a rerun resumes and gives the bytes of an uninterrupted run; --skip-failed finishes without a missing one")
    func failuresAndResume() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await Self.archive(dir, days: 12)
        let clean = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-12", target: "clean.zarr"), source: "r.yaml")
        _ = try await RecipeRunner.run(clean)
        // Corrupt the chunk bytes of day 9 (found through its references; its header stays
        // whole): its part fails after retries.
        let victim = dir.appendingPathComponent("sst_20010109.nc")
        let good = try Data(contentsOf: victim)
        var bad = good
        let refs = try await References.create([victim.path], options: ReferenceOptions(inlineThreshold: 0))
        guard case .range(_, let offset, let length)? = refs.entries.first(where: { $0.key.hasPrefix("sst/") && !$0.key.contains(".z") })?.value else {
            Issue.record("no chunk of sst in \(refs.entries.keys.sorted())"); return
        }
        for i in (offset + length / 4)..<(offset + length / 2) { bad[i] ^= 0x5A }
        try bad.write(to: victim)
        let r = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-12"), source: "r.yaml")
        do {
            _ = try await RecipeRunner.run(r)
            Issue.record("a corrupt input went unnoticed")
        } catch let e as GyreRecipesError {
            #expect(e.message.contains("sst_20010109.nc"), "\(e.message)")
        }
        await #expect(throws: (any Error).self) { _ = try await Dataset.open(r.target) }
        try good.write(to: victim)
        let resumed = try await RecipeRunner.run(r)
        #expect(resumed.resumedUnits >= 1 && resumed.writtenUnits < resumed.units, "\(resumed)")
        let (x, y) = (try Self.tree(URL(fileURLWithPath: r.target)), try Self.tree(URL(fileURLWithPath: clean.target)))
        #expect(x == y, "resumed vs uninterrupted: different bytes in \(Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted())")
        // A missing input (as a 404 would be): named; with --skip-failed the run finishes without it.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("sst_20010105.nc"))
        let gap = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-12", target: "gap.zarr"), source: "r.yaml")
        do {
            _ = try await RecipeRunner.run(gap)
            Issue.record("a missing input went unnoticed")
        } catch let e as GyreRecipesError {
            #expect(e.message.contains("sst_20010105.nc") && e.message.contains("nothing was written"), "\(e.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: gap.target + "/.zgroup"))
        let skipped = try await RecipeRunner.run(gap, options: RecipeRunOptions(skipFailed: true))
        #expect(skipped.failed.map(\.input) == [dir.appendingPathComponent("sst_20010105.nc").path])
        #expect(try await Dataset.open(gap.target).sizes["time"] == 11)
        // A target that is not this recipe's: refused before anything is written.
        let other = try Recipe.parse(yaml: Self.recipe(dir, end: "2001-01-04", target: "clean.zarr", chunks: 2), source: "other.yaml")
        let before = try Self.tree(URL(fileURLWithPath: clean.target))
        do {
            _ = try await RecipeRunner.run(other)
            Issue.record("another recipe's target was overwritten")
        } catch let e as GyreRecipesError {
            #expect(e.message.contains("--overwrite"), "\(e.message)")
        }
        #expect(try Self.tree(URL(fileURLWithPath: clean.target)) == before)
    }
}
