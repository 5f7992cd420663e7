import Foundation
import Testing
@testable import GyreArrays
@testable import GyreData
@testable import GyreStorage
@testable import GyreZarr

@Suite("A dataset seen as a Zarr store (DatasetZarrStore)")
struct DatasetZarrStoreTests {
    /// The sample cube, a variable all NaN (every chunk of it equals the fill value that CF
    /// encoding gives floats) and a 0-d variable.
    func sample() throws -> Dataset {
        var ds = try SampleData.sst(days: 9, resolution: 30)
        ds = try ds.assigning("empty", try Variable(["lat", "lon"], .float32(NDArray(shape: [6, 12], [Float](repeating: .nan, count: 72)))))
        ds = try ds.assigning("scalar", try Variable([], .float64(NDArray(scalar: 2.5)), attrs: ["units": "m"]))
        return ds
    }

    @Test("v2 and v3 views open as the dataset they show, with the chunks asked for; a lazy source keeps its own chunks")
    func roundTrip() async throws {
        let ds = try sample()
        for format in [ZarrArrayMetadata.Format.v2, .v3] {
            let view = try await DatasetZarrStore(ds, name: "view", options: ZarrWriteOptions(format: format, chunks: ["time": 4]))
            let back = try await Dataset.openZarr(view).load()
            #expect(try back.equals(ds))
            // Attributes as a mapping: Zarr's JSON keeps no order.
            #expect(Dictionary(uniqueKeysWithValues: back.attrs.map { ($0.key, $0.value) }) == Dictionary(uniqueKeysWithValues: ds.attrs.map { ($0.key, $0.value) }))
            let a = try #require(back["sst"]?.attrs), b = try #require(ds["sst"]?.attrs)
            #expect(Dictionary(uniqueKeysWithValues: a.map { ($0.key, $0.value) }) == Dictionary(uniqueKeysWithValues: b.map { ($0.key, $0.value) }))
            #expect(view.array("sst")?.metadata.chunkShape == [4, 6, 12])
            #expect(view.metadataKeys.contains(format == .v2 ? ".zmetadata" : "zarr.json"))
        }
        // A lazy source (a Zarr store), served with its own chunks.
        let stored = MemoryStore()
        try await ds.writeZarr(to: stored, options: ZarrWriteOptions(format: .v3, chunks: ["time": 3]))
        let lazy = try await Dataset.openZarr(stored)
        let view = try await DatasetZarrStore(lazy, name: "lazy", options: ZarrWriteOptions(format: .v2))
        #expect(view.array("sst")?.metadata.chunkShape == [3, 6, 12])
        #expect(try await Dataset.openZarr(view).load().equals(ds))
    }

    @Test("a chunk key answers that chunk's bytes, by range too; other spellings, positions off the grid and unknown names are missing")
    func keys() async throws {
        let ds = try sample()
        let v2 = try await DatasetZarrStore(ds, name: "view", options: ZarrWriteOptions(format: .v2, chunks: ["time": 4]))
        let v3 = try await DatasetZarrStore(ds, name: "view", options: ZarrWriteOptions(format: .v3, chunks: ["time": 4]))
        let whole = try #require(try await v2.get("sst/1.0.0"))
        #expect(try await v2.get("sst/1.0.0", range: .range(offset: 3, length: 10)) == Array(whole[3..<13]))
        #expect(try await v2.get("sst/1.0.0", range: .suffix(length: 4)) == Array(whole.suffix(4)))
        // The last, partial chunk along time (9 = 4 + 4 + 1).
        #expect(try await v2.get("sst/2.0.0") != nil)
        for missing in ["sst/3.0.0", "sst/01.0.0", "sst/1.0", "sst/1.0.0.0", "sst/c/1/0/0", "sst/-1.0.0", "nope/0.0.0", "sst/1.0.x", "sst"] {
            #expect(try await v2.get(missing) == nil, "\(missing)")
        }
        // Keys no store accepts are errors, as in every other store.
        for hostile in ["../sst/1.0.0", "sst/../sst/1.0.0", "sst/", "/sst/1.0.0"] {
            await #expect(throws: GyreStorageError.self, "\(hostile)") { try await v2.get(hostile) }
        }
        #expect(try await v3.get("sst/c/1/0/0") != nil)
        #expect(try await v3.get("sst/1.0.0") == nil)
        #expect(try await v3.get("scalar/c") != nil)
        #expect(try await v2.get("scalar/0") != nil)
        // Chunks equal to the fill value are not stored, as a Zarr writer leaves them.
        #expect(try await v2.get("empty/0.0") == nil)
        #expect(try await v3.get("empty/c/0/0") == nil)
        await #expect(throws: GyreStorageError.self) { try await v2.get("sst/1.0.0", range: .range(offset: whole.count, length: 1)) }
    }

    @Test("a whole Zarr variable of the view's format passes its stored chunks through untouched, sharded too; asked-for chunks, another format or a selection re-encode")
    func passThrough() async throws {
        let ds = try sample()
        for (format, shards) in [(ZarrArrayMetadata.Format.v2, [String: Int]()), (.v3, [:]), (.v3, ["time": 4])] {
            let stored = MemoryStore()
            try await ds.writeZarr(to: stored, options: ZarrWriteOptions(format: format, chunks: ["time": 2], shards: shards))
            let lazy = try await Dataset.openZarr(stored)
            let view = try await DatasetZarrStore(lazy, name: "view", options: ZarrWriteOptions(format: format))
            #expect(view.passesThrough("sst"), "\(format) \(shards)")
            let meta = try #require(view.array("sst")?.metadata)
            let key = "sst/" + meta.chunkKey([1, 0, 0])
            let original = try #require(try await stored.get(key))
            #expect(try await view.get(key) == original)
            #expect(try await view.get(key, range: .suffix(length: 16)) == Array(original.suffix(16)))
            #expect(try await Dataset.openZarr(view).load().equals(ds))
            // The other format: a v2 array's chunks pass into a v3 view (the same bytes under the
            // bytes codec), a v3 array's are encoded afresh for a v2 view; equal either way.
            let other = try await DatasetZarrStore(lazy, name: "view", options: ZarrWriteOptions(format: format == .v2 ? .v3 : .v2))
            #expect(other.passesThrough("sst") == (format == .v2))
            #expect(try await Dataset.openZarr(other).load().equals(ds))
            if format == .v2 {
                let v3key = try #require(other.array("sst")?.metadata.chunkKey([1, 0, 0]))
                #expect(v3key == "c/1/0/0")
                #expect(try await other.get("sst/" + v3key) == original)
            }
            let rechunked = try await DatasetZarrStore(lazy, name: "view", options: ZarrWriteOptions(format: format, chunks: ["time": 3]))
            #expect(!rechunked.passesThrough("sst"))
            let part = try lazy.isel(["time": .slice(Slice(1, 7))])
            let sliced = try await DatasetZarrStore(part, name: "view", options: ZarrWriteOptions(format: format))
            #expect(!sliced.passesThrough("sst"))
            #expect(try await Dataset.openZarr(sliced).load().equals(try ds.isel(["time": .slice(Slice(1, 7))])))
        }
    }
}
