import Foundation
import Testing
@testable import GyreArrays
@testable import GyreCodecs
@testable import GyreData
@testable import GyreStorage
@testable import GyreZarr

@Suite("Zarr conversion")
struct ConvertTests {
    /// A store that fails after a number of writes, like a killed process.
    final class FailingStore: WritableStore, ListableStore, @unchecked Sendable {
        let inner = MemoryStore()
        var writesLeft: Int
        var name: String { "failing" }
        init(writes: Int) { writesLeft = writes }
        func get(_ key: String, range: ByteRange) async throws -> [UInt8]? { try await inner.get(key, range: range) }
        func set(_ key: String, _ value: [UInt8]) async throws {
            guard writesLeft > 0 else { throw GyreStorageError(.io, "killed") }
            writesLeft -= 1
            try await inner.set(key, value)
        }
        func delete(_ key: String) async throws { try await inner.delete(key) }
        func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
    }

    @Test("an interrupted conversion leaves a store that does not open as complete")
    func interrupted() async throws {
        let src = MemoryStore()
        let ds = try SampleData.sst(days: 6, resolution: 30)
        try await ds.writeZarr(to: src, options: ZarrWriteOptions(format: .v2, chunks: ["time": 2]))
        for format in [ZarrArrayMetadata.Format.v2, .v3] {
            let dst = FailingStore(writes: 7)
            await #expect(throws: (any Error).self) { try await ZarrConverter.convert(from: src, to: dst, options: ConvertOptions(format: format, chunks: ["time": 1])) }
            await #expect(throws: (any Error).self) { try await ZarrGroup.open(dst) }
            await #expect(throws: (any Error).self) { try await Dataset.openZarr(dst) }
        }
        // Uninterrupted, it opens and equals the source.
        let dst = MemoryStore()
        try await ZarrConverter.convert(from: src, to: dst, options: ConvertOptions(format: .v3, chunks: ["time": 1], shards: ["time": 4]))
        let a = try await Dataset.openZarr(src).load(), b = try await Dataset.openZarr(dst).load()
        #expect(try a.equals(b))
    }

    @Test("a conversion onto its own source (or into it) is refused and the source survives")
    func ontoItself() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-self-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = FileStore(root: dir.appendingPathComponent("a.zarr"))
        try await SampleData.sst(days: 2, resolution: 30).writeZarr(to: src)
        for target in ["a.zarr", "a.zarr/inner", "./a.zarr/../a.zarr"] {
            await #expect(throws: GyreZarrError.self, "\(target)") {
                try await ZarrConverter.convert(from: src, to: FileStore(root: dir.appendingPathComponent(target)), options: ConvertOptions(overwrite: true))
            }
        }
        #expect(try await Dataset.openZarr(src).dataVars.count == 2)
    }
}

@Suite("Zarr dataset encoding")
struct ZarrEncodingTests {
    @Test("per-variable chunks and compressors win; chunks read from a store carry over; bad encodings are named")
    func perVariable() async throws {
        let ds = try SampleData.sst(days: 10, resolution: 30)
        let store = MemoryStore()
        try await ds.writeZarr(to: store, options: ZarrWriteOptions(format: .v3, chunks: ["time": 5],
            compressors: [ZstdCodec(level: 1)],
            encoding: ["sst": VariableEncoding(chunks: [2, 3, 4], compressors: [try BloscCodec(cname: "lz4", clevel: 5)])]))
        let g = try await ZarrGroup.open(store)
        #expect(g.arrays["sst"]?.chunkShape == [2, 3, 4])
        #expect((g.arrays["sst"]?.pipeline.bytesToBytes.first as? BloscCodec)?.typesize == 4)
        #expect(g.arrays["err"]?.chunkShape == [5, 6, 12])
        #expect(g.arrays["err"]?.pipeline.bytesToBytes.first is ZstdCodec)
        // Reading keeps the chunks in encoding; writing again reuses them.
        let back = try await Dataset.openZarr(store).load()
        #expect(try back.equals(ds))
        let copy = MemoryStore()
        try await back.writeZarr(to: copy)
        #expect(try await ZarrGroup.open(copy).arrays["sst"]?.chunkShape == [2, 3, 4])
        await #expect(throws: GyreDataError.self) {
            try await ds.writeZarr(to: MemoryStore(), options: ZarrWriteOptions(encoding: ["nope": VariableEncoding(chunks: [1])]))
        }
        await #expect(throws: GyreDataError.self) {
            try await ds.writeZarr(to: MemoryStore(), options: ZarrWriteOptions(encoding: ["sst": VariableEncoding(chunks: [1, 2])]))
        }
    }
}
