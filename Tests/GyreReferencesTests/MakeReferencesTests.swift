import Foundation
import Testing
import GyreArrays
import GyreData
import GyreReferences
import GyreStorage
import GyreZarr

/// References Gyre makes from netCDF-4 files and Zarr stores it writes, read back through
/// `Dataset.open` (the reference store under the Zarr backend and the chunk engine): the same
/// values as the files themselves.
@Suite("References: made from netCDF and Zarr, read back")
struct MakeReferencesTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-refs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func unordered(_ a: Attributes) -> [String: String] { Dictionary(uniqueKeysWithValues: a.map { ($0.key, "\($0.value)") }) }

    static func write(_ refs: ReferenceSet, _ url: URL) throws {
        try Data(refs.document()).write(to: url)
    }

    @Test("one netCDF-4 file, chunked with shuffle and zlib, and contiguous: references read as the file does")
    func singleFile() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 6, resolution: 30)
        let chunked = dir.appendingPathComponent("chunked.nc").path, plain = dir.appendingPathComponent("plain.nc").path
        try await sample.writeNetCDF(to: chunked, options: NetCDFWriteOptions(chunks: ["time": 4, "lat": 5], zlibLevel: 3))
        try await sample.writeNetCDF(to: plain)
        for (path, threshold) in [(chunked, 500), (plain, 0), (chunked, 0)] {
            let refs = try await References.create([path], options: ReferenceOptions(inlineThreshold: threshold))
            let out = dir.appendingPathComponent("refs-\(threshold).json")
            try Self.write(refs, out)
            let viaRefs = try await Dataset.open(out.path).load()
            let direct = try await Dataset.open(path).load()
            #expect(try viaRefs.equals(direct), "\(path) (inline below \(threshold) bytes): values differ")
            // Attributes are the same (Zarr lists them sorted, netCDF in file order).
            #expect(Self.unordered(viaRefs.attrs) == Self.unordered(direct.attrs))
            for (k, v) in direct.variables { #expect(Self.unordered(viaRefs.variables[k]?.attrs ?? [:]) == Self.unordered(v.attrs), "\(k): attributes") }
            // reference:// URLs and a region read lazily.
            let lazy = try await Dataset.open("reference://" + out.path)
            let part = try await lazy.isel(["time": .slice(Slice(1, 5)), "lat": .slice(Slice(2, 4))]).load()
            let want = try direct.isel(["time": .slice(Slice(1, 5)), "lat": .slice(Slice(2, 4))])
            #expect(try part.equals(want))
        }
    }

    @Test("files of different lengths combined along time read as the files combined; a partial chunk mid-way is refused naming the file")
    func combine() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 12, resolution: 30)
        // 4, 3 and 5 days; chunked one day at a time (combinable), contiguous (combinable:
        // split into rows), and chunked two days at a time (a partial chunk after day 4+3).
        let bounds = [(0, 4), (4, 7), (7, 12)]
        var chunkedFiles: [String] = [], plainFiles: [String] = [], badFiles: [String] = []
        for (i, (a, b)) in bounds.enumerated() {
            let part = try sample.isel(["time": .slice(Slice(a, b))])
            let c = dir.appendingPathComponent("c\(i).nc").path, p = dir.appendingPathComponent("p\(i).nc").path, x = dir.appendingPathComponent("x\(i).nc").path
            try await part.writeNetCDF(to: c, options: NetCDFWriteOptions(chunks: ["time": 1], zlibLevel: 1))
            try await part.writeNetCDF(to: p)
            try await part.writeNetCDF(to: x, options: NetCDFWriteOptions(chunks: ["time": 2], zlibLevel: 1))
            chunkedFiles.append(c); plainFiles.append(p); badFiles.append(x)
        }
        let expected = try await Dataset.open(files: chunkedFiles, concatDim: "time").load()
        for files in [chunkedFiles, plainFiles.reversed()] {
            for dim in ["time", nil] as [String?] {
                let refs = try await References.create(files, concatDim: dim)
                let out = dir.appendingPathComponent("combined.json")
                try Self.write(refs, out)
                let ds = try await Dataset.open(out.path).load()
                #expect(try ds.equals(expected), "\(files[0]) (concat dim \(dim ?? "inferred")): values differ")
            }
        }
        // The contiguous files' variables were regrouped into chunks of one day (gcd of 4, 3, 5).
        let plainRefs = try await References.create(plainFiles, concatDim: "time")
        #expect(try plainRefs.json("sst/.zarray", source: "t")?["chunks"]?.array?.first == 1)
        do {
            _ = try await References.create(badFiles, concatDim: "time")
            Issue.record("a partial chunk inside the combined array was accepted")
        } catch let e as GyreReferencesError {
            #expect(e.message.contains("x1.nc") && e.message.contains("not a multiple"), "\(e.message)")
        }
    }

    @Test("a Zarr store's references read as the store")
    func zarrStore() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 4, resolution: 30)
        for format in [ZarrArrayMetadata.Format.v2, .v3] {
            let path = dir.appendingPathComponent("s\(format.rawValue).zarr").path
            try await sample.writeZarr(to: FileStore(path: path), options: ZarrWriteOptions(format: format, chunks: ["time": 2]))
            let refs = try await References.create([path])
            let out = dir.appendingPathComponent("z\(format.rawValue).json")
            try Self.write(refs, out)
            let ds = try await Dataset.open(out.path).load()
            #expect(try ds.equals(try await Dataset.open(path).load()), "Zarr \(format): values differ")
        }
    }

    @Test("a missing or truncated target is an error naming the key and the file, not fill values")
    func brokenTargets() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 4, resolution: 30)
        let nc = dir.appendingPathComponent("a.nc").path
        try await sample.writeNetCDF(to: nc, options: NetCDFWriteOptions(chunks: ["time": 2], zlibLevel: 1))
        let refs = try await References.create([nc], options: ReferenceOptions(inlineThreshold: 0))
        let out = dir.appendingPathComponent("r.json")
        try Self.write(refs, out)
        // Truncate the file: chunks past the end fail with the chunk named.
        let size = try FileManager.default.attributesOfItem(atPath: nc)[.size] as! Int
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: nc))
        try h.truncate(atOffset: UInt64(size / 2))
        try h.close()
        do {
            _ = try await Dataset.open(out.path).load()
            Issue.record("a truncated target read without an error")
        } catch {
            #expect("\(error)".contains("a.nc") && "\(error)".contains("truncated"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: nc)
        do {
            _ = try await Dataset.open(out.path).load()
            Issue.record("a missing target read without an error")
        } catch {
            #expect("\(error)".contains("a.nc"), "\(error)")
        }
        await #expect(throws: (any Error).self) { _ = try await Dataset.open(dir.appendingPathComponent("none.json").path) }
    }
}
