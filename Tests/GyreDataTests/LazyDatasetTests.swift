import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreStorage
import GyreZarr
import Synchronization
import Testing

/// A store that records the keys read from it.
final class CountingStore: WritableStore, ListableStore {
    let inner = MemoryStore()
    let log = Mutex<[String]>([])
    var name: String { "counting" }
    func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        log.withLock { $0.append(key) }
        return try await inner.get(key, range: range)
    }
    func set(_ key: String, _ value: [UInt8]) async throws { try await inner.set(key, value) }
    func delete(_ key: String) async throws { try await inner.delete(key) }
    func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
    /// Chunk keys of `array` read since the last reset.
    func chunkReads(_ array: String) -> Set<String> {
        Set(log.withLock { $0 }.filter { $0.hasPrefix(array + "/") && !$0.hasSuffix("zarr.json") && !$0.contains("/.z") })
    }
    func reset() { log.withLock { $0.removeAll() } }
}

@Suite("Lazy datasets")
struct LazyDatasetTests {
    @Test("opening a store reads no data chunks; a selection reads only the chunks it touches", arguments: [ZarrArrayMetadata.Format.v2, .v3])
    func readsOnDemand(format: ZarrArrayMetadata.Format) async throws {
        let store = CountingStore()
        var eager = try SampleData.sst(days: 8, resolution: 30)
        let area = try Variable(["lat", "lon"], .float64(try NDArray(shape: [6, 12], (0..<72).map { Double($0) })))
        eager = try eager.assignCoords(["area": area])
        try await eager.writeZarr(to: store, options: ZarrWriteOptions(format: format, chunks: ["time": 2, "lat": 3]))
        store.reset()
        let ds = try await Dataset.openZarr(store)
        #expect(ds.isLazy)
        #expect(ds.variables["sst"]!.isLazy && !ds.variables["time"]!.isLazy, "index coordinates are read, data variables not")
        #expect(ds.coords["area"].map { !$0.isLazy } == true, "small non-index coordinates are read on open")
        #expect(try ds.coords["area"]!.equals(area))
        #expect(store.chunkReads("sst").isEmpty)
        #expect(ds.description.contains("..."), "the repr reads nothing either")
        // Arithmetic and reductions on lazy values are lazy: nothing is read until load().
        let anomaly = try ds.dataArray("sst") - (try ds.dataArray("sst").mean("time"))
        #expect(anomaly.variable.isLazy && store.chunkReads("sst").isEmpty)
        do {
            _ = try anomaly.data
            Issue.record("expected notLoaded")
        } catch let e as GyreDataError {
            #expect(e.code == .notLoaded && e.message.contains("load()"), "\(e)")
        }
        let computed = try await anomaly.load()
        let expected = try eager.dataArray("sst") - (try eager.dataArray("sst").mean("time"))
        #expect(try computed.variable.equals(expected.variable))
        store.reset()
        // Days 2...5, latitudes 0...2: time chunks 1 and 2, lat chunk 0, all lon.
        let sub = try ds.dataArray("sst").isel(["time": .slice(Slice(2, 6)), "lat": .slice(Slice(0, 3))])
        #expect(sub.variable.isLazy && sub.shape == [4, 3, 12])
        let loaded = try await sub.load()
        let sep = format == .v2 ? "." : "/"
        let prefix = format == .v2 ? "sst/" : "sst/c/"
        #expect(store.chunkReads("sst") == Set(["1", "2"].map { prefix + "\($0)\(sep)0\(sep)0" }))
        let want = try eager.dataArray("sst").isel(["time": .slice(Slice(2, 6)), "lat": .slice(Slice(0, 3))])
        #expect(try loaded.equals(want))
        // The whole dataset loads to what was written.
        #expect(try await ds.load().equals(eager))
        // A point, a reversed slice and a position list, then a transpose, read lazily.
        let picked = try ds.dataArray("sst").isel(["time": .at(5), "lat": .slice(Slice(nil, nil, step: -2)), "lon": .positions([7, 1, 7])]).transposed("lon", "lat")
        let wantPicked = try eager.dataArray("sst").isel(["time": .at(5), "lat": .slice(Slice(nil, nil, step: -2)), "lon": .positions([7, 1, 7])]).transposed("lon", "lat")
        #expect(try await picked.load().equals(wantPicked))
    }

    @Test("packed and masked variables decode chunk by chunk as they are read")
    func lazyCFDecoding() async throws {
        let store = CountingStore()
        let raw = try NDArray<Int16>(shape: [4, 3], [0, 1, -1, 3, 4, 5, -1, 7, 8, 9, 10, -1])
        var v = try Variable(["t", "x"], .int16(raw), attrs: [:])
        v.attrs = ["scale_factor": .double(0.5), "add_offset": .double(10), "_FillValue": .values(.int16(NDArray(scalar: -1))), "units": "K"]
        let stored = try Dataset(dataVars: ["p": v])
        // Raw attributes in, as a netCDF writer leaves them: write without encoding them again.
        for format in [ZarrArrayMetadata.Format.v2, .v3] {
            try await stored.writeZarr(to: store, options: ZarrWriteOptions(format: format, chunks: ["t": 1], overwrite: true))
            let lazy = try await Dataset.openZarr(store)
            let p = try #require(lazy.variables["p"])
            #expect(p.isLazy && p.dtype == .float64 && p.attrs["units"]?.stringValue == "K")
            #expect(p.encoding["scale_factor"]?.doubleValue == 0.5)
            let eagerDecoded = try CF.decode(stored.variables["p"]!, name: "p")
            let got = try await p.load()
            #expect(try got.equals(eagerDecoded), "\(format)")
            let row = try await p.isel(["t": .at(1)]).load()
            #expect(try row.data.doubles()!.map { $0.isNaN ? -1 : $0 } == [11.5, 12, 12.5])
        }
    }

    @Test("a lazy dataset writes to a new store block by block, equal to the source")
    func streamingWrite() async throws {
        let src = CountingStore()
        let eager = try SampleData.sst(days: 9, resolution: 30)
        try await eager.writeZarr(to: src, options: ZarrWriteOptions(format: .v2, chunks: ["time": 2]))
        let lazy = try await Dataset.openZarr(src)
        for format in [ZarrArrayMetadata.Format.v2, .v3] {
            let dst = MemoryStore()
            try await lazy.writeZarr(to: dst, options: ZarrWriteOptions(format: format, chunks: ["time": 4, "lon": 5]))
            let back = try await Dataset.openZarr(dst)
            #expect(try await back.load().equals(eager), "\(format)")
            let arr = try await ZarrArray.open(dst, path: "sst")
            #expect(arr.metadata.chunkShape == [4, 6, 5])
        }
        // A selection of a lazy dataset writes only what was selected.
        let dst = MemoryStore()
        src.reset()
        try await lazy.isel(["time": .slice(Slice(0, 2))]).writeZarr(to: dst)
        #expect(src.chunkReads("sst") == ["sst/0.0.0"])
        #expect(try await Dataset.openZarr(dst).load().equals(eager.isel(["time": .slice(Slice(0, 2))])))
    }

    @Test("a corrupt chunk fails the read that touches it, naming the store, array and chunk")
    func corruptChunkOnRead() async throws {
        let store = CountingStore()
        try await SampleData.sst(days: 4, resolution: 30).writeZarr(to: store, options: ZarrWriteOptions(format: .v2, chunks: ["time": 2]))
        try await store.set("sst/1.0.0", [1, 2, 3, 4])
        let ds = try await Dataset.openZarr(store)
        // The first chunk reads fine; the second is an error naming it.
        _ = try await ds.dataArray("sst").isel(["time": .slice(Slice(0, 2))]).load()
        do {
            _ = try await ds.load()
            Issue.record("expected an error")
        } catch let e as GyreDataError {
            #expect(e.code == .read)
            #expect("\(e)".contains("sst") && "\(e)".contains("1.0.0"), "\(e)")
        }
    }
}
