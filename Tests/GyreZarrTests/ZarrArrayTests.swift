import Foundation
import GyreCore
import Synchronization
import Testing
@testable import GyreArrays
@testable import GyreChunks
@testable import GyreCodecs
@testable import GyreStorage
@testable import GyreZarr

@Suite("Zarr arrays")
struct ZarrArrayTests {
    static let shape = [7, 10, 5]
    static let data = AnyNDArray.float32(try! NDArray(shape: shape, (0..<350).map { Float($0) * 0.25 }))

    static func pipelines() throws -> [(String, ZarrArrayMetadata.Format, CodecPipeline)] {
        [
            ("v3 bytes", .v3, CodecPipeline()),
            ("v3 zstd+crc", .v3, CodecPipeline(bytesToBytes: [ZstdCodec(level: 3), CRC32CCodec()])),
            ("v3 transpose big-endian gzip", .v3, CodecPipeline(arrayToArray: [try TransposeCodec(order: [2, 0, 1])], arrayToBytes: BytesCodec(bigEndian: true), bytesToBytes: [ZlibCodec(level: 5, format: .gzip)])),
            ("v3 sharded", .v3, CodecPipeline(arrayToBytes: try ShardingCodec(chunkShape: [2, 2, 5], codecs: CodecPipeline(bytesToBytes: [ZstdCodec()])))),
            ("v2 blosc", .v2, CodecPipeline(bytesToBytes: [try BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 4)])),
            ("v2 F order lz4", .v2, CodecPipeline(arrayToArray: [try TransposeCodec(order: [2, 1, 0])], bytesToBytes: [LZ4Codec()])),
        ]
    }

    @Test("write then read back: whole, strided regions, partial writes, every pipeline")
    func roundTrip() async throws {
        for (name, format, pipeline) in try Self.pipelines() {
            let store = MemoryStore()
            let meta = try ZarrArrayMetadata(format: format, shape: Self.shape, chunkShape: [4, 4, 5], dtype: .float32, fillValue: .float32(.nan), pipeline: pipeline)
            let arr = try await ZarrArray.create(store, path: "a", metadata: meta)
            try await arr.write(Self.data)
            let reopened = try await ZarrArray.open(store, path: "a")
            #expect(try await reopened.read().scalars == Self.data.scalars, "\(name)")
            let sel = [Slice(6, nil, step: -2), Slice(1, 9, step: 3), Slice(nil, nil, step: -1)]
            #expect(try await reopened.read(sel).scalars == (try Self.data.index(sel.map { .slice($0) })).scalars, "\(name) strided")
            // Partial write into the middle, crossing chunk edges.
            let patch = AnyNDArray.float32(NDArray(repeating: -1, shape: [3, 5, 2]))
            try await reopened.write(patch, at: [2, 3, 1])
            var expected = Self.data
            try expected.assign([.slice(Slice(2, 5)), .slice(Slice(3, 8)), .slice(Slice(1, 3))], from: patch)
            #expect(try await reopened.read().scalars == expected.scalars, "\(name) after partial write")
        }
    }

    @Test("slab reads: every pipeline gives read()'s values in order; blosc and raw chunks decode only each slab")
    func slabs() async throws {
        // A larger array so that chunks hold many rows: (40, 8, 5) in chunks of (16, 4, 5).
        let shape = [40, 8, 5]
        let data = AnyNDArray.float32(try NDArray(shape: shape, (0..<1600).map { Float($0 % 97) * 0.5 - 3 }))
        for (name, format, pipeline) in try Self.pipelines() {
            let store = MemoryStore()
            let meta = try ZarrArrayMetadata(format: format, shape: shape, chunkShape: [16, 4, 5], dtype: .float32, fillValue: .float32(.nan), pipeline: pipeline)
            let arr = try await ZarrArray.create(store, path: "a", metadata: meta)
            try await arr.write(data)
            // Missing chunk: rows 16..<32 of the second column of chunks read as fill.
            try await store.delete("a/" + meta.chunkKey([1, 1, 0]))
            var want = data
            try want.assign([.slice(Slice(16, 32)), .slice(Slice(4, 8)), .slice(.all)], from: .float32(NDArray(repeating: .nan, shape: [16, 4, 5])))
            for region in [[Slice.all, Slice(0, 4), Slice.all], [Slice(5, 37), Slice(4, 7), Slice(1, 4)], [Slice(15, 17), Slice(5, 6), Slice.all],
                           [Slice.all, Slice.all, Slice.all], [Slice(0, 40, step: 2), Slice(0, 3), Slice.all]] {
                var rows: [AnyNDArray] = [], offsets: [Int] = []
                try await arr.readSlabs(region: region, maxBytes: 3 * 4 * 5 * 4) { slab, offset in rows.append(slab); offsets.append(offset) }
                let whole = try AnyNDArray.concatenate(rows, axis: 0)
                let expected = try want.index(region.map { .slice($0) })
                let same = zip(whole.doubles() ?? [], expected.doubles() ?? []).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
                #expect(whole.shape == expected.shape && same, "\(name) \(region)")
                #expect(offsets == offsets.sorted() && offsets.first == 0, "\(name) \(region) offsets \(offsets)")
                // No bound (what a reduction passes when it does not slab): one slab, the region.
                var one: [AnyNDArray] = []
                try await arr.readSlabs(region: region, maxBytes: .max) { slab, _ in one.append(slab) }
                #expect(one.count == 1 && zip(one[0].doubles() ?? [], expected.doubles() ?? []).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) },
                        "\(name) \(region): unbounded slabs")
                if name == "v2 blosc" || name == "v3 bytes", region[0].step == 1, region[1] != Slice.all {
                    // Slabs of at most maxBytes decoded.
                    #expect((rows.count > 1 || expected.shape.reduce(4, *) <= 3 * 4 * 5 * 4) && rows.allSatisfy { $0.shape.reduce(4, *) <= 3 * 4 * 5 * 4 }, "\(name) \(region): slabs \(rows.map(\.shape))")
                }
            }
        }
    }

    @Test("small parts of blosc chunks decode only the byte spans that hold them, giving the values a whole decode gives")
    func partSpans() async throws {
        // Chunks of (16, 512, 256) float32: 512 KiB rows, 8 MiB chunks.
        let shape = [20, 512, 256], chunk = [16, 512, 256]
        let count = shape.reduce(1, *)
        let data = AnyNDArray.float32(try NDArray(shape: shape, (0..<count).map { Float(($0 &* 2654435761) % 1000) * 0.25 - 100 }))
        // Which parts take which path.
        func parts(_ inner: [Slice]) -> [DimPiece] {
            zip(inner, chunk).map { s, c in
                let r = try! s.resolve(extent: c)
                return ChunkEngine.pieces(start: r.start, count: r.count, step: r.step, chunk: c)[0]
            }
        }
        #expect(ChunkEngine.partSpans(parts([Slice.all, Slice(7, 8), Slice(9, 10)]), chunk: chunk, itemSize: 4).map { $0.together } == false)   // a point's series: row by row
        #expect(ChunkEngine.partSpans(parts([Slice(3, 6), Slice.all, Slice.all]), chunk: chunk, itemSize: 4).map { $0.together } == true)      // a few whole rows
        #expect(ChunkEngine.partSpans(parts([Slice.all, Slice.all, Slice(0, 10)]), chunk: chunk, itemSize: 4) == nil)                        // most of every row
        #expect(ChunkEngine.partSpans(parts([Slice(0, 16, step: 2), Slice(0, 1), Slice(0, 1)]), chunk: chunk, itemSize: 4) == nil)           // steps
        for shuffle in [BloscCodec.Shuffle.shuffle, .noshuffle, .bitshuffle] {
            let store = MemoryStore()
            let codec = try BloscCodec(cname: "lz4", clevel: 5, shuffle: shuffle, typesize: 4)
            let meta = try ZarrArrayMetadata(format: .v2, shape: shape, chunkShape: chunk, dtype: .float32, fillValue: .float32(.nan),
                                             pipeline: CodecPipeline(bytesToBytes: [codec]))
            let arr = try await ZarrArray.create(store, path: "a", metadata: meta)
            try await arr.write(data)
            for region in [[Slice.all, Slice(7, 8), Slice(9, 10)], [Slice.all, Slice(100, 103), Slice(250, 256)], [Slice(3, 6), Slice.all, Slice.all],
                           [Slice(14, 18), Slice(1, 2), Slice.all], [Slice(2, 3), Slice(511, 512), Slice(255, 256)]] {
                let got = try await arr.read(region)
                let want = try data.index(region.map { .slice($0) })
                #expect(got.shape == want.shape && got.doubles() == want.doubles(), "\(shuffle) \(region)")
            }
            // The span decoder itself against a whole decode, and a corrupt stream refused.
            let bytes = try #require(try await store.get("a/0.0.0"))
            let whole = try meta.pipeline.decode(bytes, shape: chunk, dtype: .float32)
            for inner in [[Slice(0, 16), Slice(7, 8), Slice(9, 10)], [Slice(3, 6), Slice(0, 512), Slice(0, 256)]] {
                // The rows' span, decoded by range, against the same bytes of a whole decode.
                let spans = try #require(ChunkEngine.partSpans(parts(inner), chunk: chunk, itemSize: 4))
                let rowBytes = 512 * 256 * 4
                let range = (spans.rows.lowerBound * rowBytes + spans.lo)..<((spans.rows.upperBound - 1) * rowBytes + spans.hi)
                let decoder = PipelineDecoder(meta.pipeline, shape: chunk, dtype: .float32)
                var part = [UInt8](repeating: 0, count: range.count)
                let done = try bytes.withUnsafeBytes { raw in
                    try part.withUnsafeMutableBytes { try decoder.decode(raw, range: range, chunkBytes: chunk.reduce(4, *), into: $0) }
                }
                let wholeBytes = try whole.withUnsafeRawBytes { Array($0[range]) }
                #expect(done && part == wholeBytes, "\(shuffle) \(inner)")
            }
            var bad = bytes
            bad[16] = 0xff; bad[17] = 0xff; bad[18] = 0xff; bad[19] = 0x7f   // the first block's offset, far outside
            try await store.set("a/0.0.0", bad)
            await #expect(throws: GyreZarrError.self) { _ = try await arr.read([Slice.all, Slice(7, 8), Slice(9, 10)]) }
        }
    }

    /// A store that counts the bytes read from it.
    final class CountingStore: ReadableStore, Sendable {
        let base: MemoryStore
        let counts = Mutex((bytes: 0, requests: 0))
        init(_ base: MemoryStore) { self.base = base }
        var name: String { "counting" }
        var bytes: Int { counts.withLock { $0.bytes } }
        func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
            let b = try await base.get(key, range: range)
            counts.withLock { $0.bytes += b?.count ?? 0; $0.requests += 1 }
            return b
        }
        func reset() { counts.withLock { $0 = (0, 0) } }
    }

    @Test("a point's series of large blosc chunks fetches only the header, the block offsets and the blocks that hold it (shuffled, bit-shuffled, plain copies), the values a whole read gives; truncated and corrupt chunks are errors naming the chunk")
    func partialFetch() async throws {
        // Chunks of (10, 256, 512) float32: 5 MiB in rows of 512 KiB, in blocks of 16 KiB; noise,
        // so that blosc cannot squeeze it much.
        let shape = [20, 256, 512], chunk = [10, 256, 512]
        let count = shape.reduce(1, *)
        var rng = SplitMix64(seed: 11)
        let data = AnyNDArray.float32(try NDArray(shape: shape, (0..<count).map { _ in Float(rng.normal()) }))
        for (shuffle, clevel) in [(BloscCodec.Shuffle.shuffle, Int32(5)), (.bitshuffle, 5), (.noshuffle, 0)] {
            let memory = MemoryStore()
            let codec = try BloscCodec(cname: "lz4", clevel: clevel, shuffle: shuffle, typesize: 4, blocksize: 16384)
            let meta = try ZarrArrayMetadata(format: .v2, shape: shape, chunkShape: chunk, dtype: .float32, fillValue: .float32(.nan),
                                             pipeline: CodecPipeline(bytesToBytes: [codec]))
            try await ZarrArray.create(memory, path: "a", metadata: meta).write(data)
            let stored = try await memory.get("a/0.0.0")!.count, stored1 = try await memory.get("a/1.0.0")!.count
            let counting = CountingStore(memory)
            let arr = try await ZarrArray.open(counting, path: "a")
            for region in [[Slice.all, Slice(7, 8), Slice(9, 10)], [Slice(3, 17), Slice(100, 102), Slice(250, 256)], [Slice(12, 13), Slice(255, 256), Slice(511, 512)]] {
                counting.reset()
                let got = try await arr.read(region)
                let want = try data.index(region.map { .slice($0) })
                #expect(got.shape == want.shape && got.doubles() == want.doubles(), "\(shuffle) \(region)")
                // Far less than the chunks themselves (blosc makes blocks of 64 KiB here: a point
                // costs one block of each of its rows).
                #expect(counting.bytes * 3 < stored + stored1, "\(shuffle) \(region): \(counting.bytes) bytes read of chunks of \(stored) and \(stored1)")
            }
            // A whole read still reads whole chunks.
            counting.reset()
            #expect(try await arr.read().doubles() == data.doubles())
            #expect(counting.bytes >= stored + stored1)
            // Truncated: the blocks a point needs lie past the end of the value.
            let bytes = try #require(try await memory.get("a/1.0.0"))
            try await memory.set("a/1.0.0", Array(bytes.prefix(bytes.count / 3)))
            await #expect {
                _ = try await arr.read([Slice(10, 20), Slice(250, 251), Slice(500, 501)])
            } throws: { e in "\(e)".contains("1.0.0") || "\(e)".contains("[1, 0, 0]") }
            if clevel == 5 && shuffle == .shuffle {
                // From files: the blocks are read straight into place, one open per chunk.
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-partial-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: dir) }
                let files = FileStore(root: dir)
                try await ZarrArray.create(files, path: "a", metadata: meta).write(data)
                let onDisk = try await ZarrArray.open(files, path: "a")
                for region in [[Slice.all, Slice(7, 8), Slice(9, 10)], [Slice(3, 17), Slice(100, 102), Slice(250, 256)]] {
                    let got = try await onDisk.read(region)
                    #expect(got.doubles() == (try data.index(region.map { .slice($0) })).doubles(), "files \(region)")
                }
                let whole = try #require(try await files.get("a/1.0.0"))
                try await files.set("a/1.0.0", Array(whole.prefix(whole.count / 3)))
                await #expect {
                    _ = try await onDisk.read([Slice(10, 20), Slice(250, 251), Slice(500, 501)])
                } throws: { e in "\(e)".contains("truncated") || "\(e)".contains("ends") }
            }
            if clevel > 0 {
                // A block offset outside the value.
                var bad = bytes
                bad[16] = 0xff; bad[17] = 0xff; bad[18] = 0xff; bad[19] = 0x7f
                try await memory.set("a/1.0.0", bad)
                await #expect(throws: GyreZarrError.self) { _ = try await arr.read([Slice(10, 20), Slice(250, 251), Slice(500, 501)]) }
            }
        }
    }

    @Test("missing chunks read as the fill value; chunks equal to it are not stored")
    func fillValues() async throws {
        let store = MemoryStore()
        let meta = try ZarrArrayMetadata(format: .v3, shape: [10, 10], chunkShape: [5, 5], dtype: .int16, fillValue: .int(-9), pipeline: CodecPipeline())
        let arr = try await ZarrArray.create(store, path: "", metadata: meta)
        let empty = try await arr.read()
        #expect(empty.shape == [10, 10] && empty.dtype == .int16)
        let emptyValues = try #require(empty.doubles())
        #expect(emptyValues.count == 100 && emptyValues.allSatisfy { $0 == -9 }, "\(emptyValues)")
        var block = try AnyNDArray.full([10, 10], .int(-9), dtype: .int16)
        try block.assign([.at(7), .at(8)], from: AnyNDArray(scalar: .int(5)))
        try await arr.write(block)
        #expect(try await store.list(prefix: "c/") == ["c/1/1"])  // three chunks were all fill
        let back = try await arr.read()
        #expect(try back.scalar(at: [7, 8]) == .int(5) && back.scalar(at: [0, 0]) == .int(-9))
        // Overwriting with fill deletes the chunk.
        try await arr.write(try AnyNDArray.full([5, 5], .int(-9), dtype: .int16), at: [5, 5])
        #expect(try await store.list(prefix: "c/").isEmpty)
    }

    @Test("sharded reads fetch only the index and the inner chunks they need")
    func shardedPartialReads() async throws {
        final class CountingStore: WritableStore, ListableStore, @unchecked Sendable {
            let inner = MemoryStore()
            var bytesRead = 0
            var name: String { "counting" }
            func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
                let v = try await inner.get(key, range: range)
                bytesRead += v?.count ?? 0
                return v
            }
            func set(_ key: String, _ value: [UInt8]) async throws { try await inner.set(key, value) }
            func delete(_ key: String) async throws { try await inner.delete(key) }
            func list(prefix: String) async throws -> [String] { try await inner.list(prefix: prefix) }
        }
        let store = CountingStore()
        let shard = try ShardingCodec(chunkShape: [10, 10], codecs: CodecPipeline())
        let meta = try ZarrArrayMetadata(format: .v3, shape: [100, 100], chunkShape: [100, 100], dtype: .float64, fillValue: .double(0), pipeline: CodecPipeline(arrayToBytes: shard))
        var arr = try await ZarrArray.create(store, metadata: meta)
        arr.maxConcurrency = 1
        let values = AnyNDArray.float64(try NDArray(shape: [100, 100], (0..<10_000).map { Double($0) + 1 }))
        try await arr.write(values)
        store.bytesRead = 0
        let part = try await arr.read([Slice(12, 15), Slice(45, 48)])
        #expect(part.scalars == (try values.index([.slice(Slice(12, 15)), .slice(Slice(45, 48))])).scalars)
        // One inner chunk (800 bytes) plus the index (100 × 16 + 4 bytes), not the 80 kB shard.
        #expect(store.bytesRead == 800 + 1604)
    }

    @Test("absurd sizes in metadata or selections are errors, not crashes")
    func absurdSizes() async throws {
        let store = MemoryStore()
        func meta(_ shape: [Int], _ chunks: [Int]) -> JSON {
            ["zarr_format": 3, "node_type": "array", "shape": .array(shape.map { .int(Int64($0)) }), "data_type": "float64",
             "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": .array(chunks.map { .int(Int64($0)) })]],
             "fill_value": 0, "codecs": [["name": "bytes"]]]
        }
        try await store.set("huge/zarr.json", meta([Int.max / 2, 4], [1, 1]).serialized)
        await #expect(throws: GyreZarrError.self) { try await ZarrArray.open(store, path: "huge") }
        try await store.set("bigchunk/zarr.json", meta([1 << 40], [1 << 40]).serialized)
        await #expect(throws: GyreZarrError.self) { try await ZarrArray.open(store, path: "bigchunk") }
        try await store.set("wide/zarr.json", meta([1 << 30, 1 << 20], [1, 1]).serialized)
        let wide = try await ZarrArray.open(store, path: "wide")
        await #expect(throws: GyreZarrError.self) { try await wide.read() }  // 8 PiB result
        #expect(try await wide.read([Slice(0, 2), Slice(0, 3)]).shape == [2, 3])  // a small window still works
    }

    @Test("corrupt chunks and metadata give errors naming the store, array and key")
    func corrupt() async throws {
        let store = MemoryStore(name: "mem://test")
        let meta = try ZarrArrayMetadata(format: .v3, shape: [4], chunkShape: [2], dtype: .float32, fillValue: nil,
                                         pipeline: CodecPipeline(bytesToBytes: [ZstdCodec(), CRC32CCodec()]))
        let arr = try await ZarrArray.create(store, path: "x", metadata: meta)
        try await arr.write(AnyNDArray.float32(NDArray([1, 2, 3, 4])))
        var bytes = try await store.get("x/c/1")!
        bytes[bytes.count - 1] ^= 0xFF
        try await store.set("x/c/1", bytes)
        do { _ = try await arr.read(); Issue.record("must fail") } catch let e as GyreZarrError {
            #expect(e.message.contains("mem://test/x") && e.message.contains("x/c/1") && e.message.contains("crc32c"))
        }
        try await store.set("x/c/1", Array(bytes.prefix(3)))
        await #expect(throws: GyreZarrError.self) { try await arr.read() }
        try await store.set("y/zarr.json", Array("{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [2".utf8))
        await #expect(throws: GyreZarrError.self) { try await ZarrArray.open(store, path: "y") }
        try await store.set("z/zarr.json", JSON.object(["zarr_format": 3, "node_type": "array", "shape": [2], "data_type": "float32",
            "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": [2]]], "fill_value": 0,
            "codecs": [["name": "bytes"], ["name": "mystery-codec"]]]).serialized)
        do { _ = try await ZarrArray.open(store, path: "z"); Issue.record("must fail") } catch let e as GyreZarrError {
            #expect(e.message.contains("mystery-codec") && e.message.contains("z/zarr.json"))
        }
        await #expect(throws: GyreZarrError.self) { try await ZarrArray.create(store, path: "x", metadata: meta) }  // exists
    }
}
