import Foundation
import Testing
import Gyre

/// The README's library example, kept compiling and correct.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the import Gyre example runs and gives what the README says")
    func example() throws {
        // --- README example start
        let ds = try SampleData.sst(days: 60, resolution: 5)       // generated, no download
        let sst = try ds.dataArray("sst")
        let feb = try sst.sel(["time": "2001-02"]).mean("time")     // a monthly mean map
        let weights = try ds.dataArray("lat").unary(.deg2rad).unary(.cos)
        let global = try (sst * weights).sum("lat", "lon") / (sst.notnull().astype(.float64) * weights).sum("lat", "lon")
        print(feb.dims, try global.isel(["time": .at(0)]).data)
        // --- README example end
        #expect(feb.dims == ["lat", "lon"])
        let g = try global.doubles()
        #expect(g.count == 60 && g.allSatisfy { $0 > 10 && $0 < 25 })
    }

    @Test("the Zarr example runs: lazy open, a selection loaded, a streamed copy, a region read")
    func zarrExample() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-readme-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sstPath = dir.appendingPathComponent("sst.zarr").path, copyPath = dir.appendingPathComponent("copy.zarr").path
        let sample = try SampleData.sst(days: 30, resolution: 2)   // what `gyre demo --zarr` writes, shorter
        try await sample.writeZarr(to: FileStore(path: sstPath), options: ZarrWriteOptions(format: .v3, chunks: ["time": 73]))
        // The README's Zarr lines, with the two paths in a temporary directory.
        let ds = try await Dataset.open(sstPath)
        let year = try ds.dataArray("sst").isel(["time": .slice(Slice(0, 365))])
        let values = try await year.load()
        try await ds.write(to: copyPath,
                           options: ZarrWriteOptions(format: .v3, chunks: ["time": 73], compressors: [ZstdCodec(level: 3)],
                                                     encoding: ["sst": VariableEncoding(chunks: [73, 90, 180])]))
        let arr = try await ZarrArray.open(FileStore(path: sstPath), path: "sst")
        let window = try await arr.read([Slice(0, 10), Slice(nil, nil, step: 2), Slice.all])
        #expect(ds.variables["sst"]!.isLazy && !values.variable.isLazy)
        #expect(try values.equals(sample.dataArray("sst")))
        #expect(window.shape == [10, 45, 180])
        #expect(try await Dataset.open(copyPath).load().equals(sample))
        #expect(try await ZarrArray.open(FileStore(path: copyPath), path: "sst").metadata.chunkShape == [30, 90, 180])
    }
}
