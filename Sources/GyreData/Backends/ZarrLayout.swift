import GyreArrays
import GyreCodecs
import GyreZarr

/// How a variable is laid out in a new Zarr array: shared by `writeZarr` and `ZarrConverter`.
enum ZarrLayout {
    /// Compressors adapted to the element size (blosc shuffles by its typesize).
    static func compressors(_ codecs: [any BytesToBytesCodec], dtype: DType) -> [any BytesToBytesCodec] {
        codecs.map { c in
            guard let b = c as? BloscCodec else { return c }
            return (try? BloscCodec(cname: b.cname, clevel: b.clevel, shuffle: b.shuffle, typesize: dtype.itemSize, blocksize: b.blocksize)) ?? b
        }
    }

    /// The stored chunk shape and codec pipeline for chunks of `chunks`: with `shards` naming any
    /// dimension (v3, fixed-size types), the chunks become inner chunks of shards that are whole
    /// multiples of them.
    static func storage(dims: [String], shape: [Int], chunks: [Int], shards: [String: Int], compressors: [any BytesToBytesCodec],
                        dtype: DType, format: ZarrArrayMetadata.Format) throws -> (chunkShape: [Int], pipeline: CodecPipeline) {
        let isString = dtype == .string(.variable)
        let pipeline = CodecPipeline(arrayToBytes: isString ? VLenUTF8Codec() : BytesCodec(),
                                     bytesToBytes: ZarrLayout.compressors(compressors, dtype: dtype))
        guard format == .v3, !shards.isEmpty, !isString else { return (chunks, pipeline) }
        let shardShape = zip(dims, zip(shape, chunks)).map { d, p -> Int in
            guard let s = shards[d] else { return p.1 }
            return Swift.max(p.1, (Swift.min(s, Swift.max(p.0, 1)) + p.1 - 1) / p.1 * p.1)
        }
        return (shardShape, CodecPipeline(arrayToBytes: try ShardingCodec(chunkShape: chunks, codecs: pipeline)))
    }

    /// The fill value a v3 array gets when the data has none: NaN, "", false or 0.
    static func defaultFill(_ dtype: DType) -> Scalar {
        switch dtype {
        case .float32: return .float32(.nan)
        case .float64: return .double(.nan)
        case .string: return .string("")
        case .bool: return .bool(false)
        // zarr-python's default for the time types is NaT.
        case .datetime64(let u): return .datetime(Scalar.natTicks, u)
        case .timedelta64(let u): return .timedelta(Scalar.natTicks, u)
        default: return .int(0)
        }
    }
}

/// Copies an array block by block in bounded memory: blocks are aligned to the target's chunks
/// and at least one source chunk long. Up to `concurrentWrites` blocks are encoded and written
/// at once while the next block is read, so a compressor that runs on one core per chunk keeps
/// every core busy; at most `concurrentWrites + 1` blocks are in memory. `written` runs on the
/// caller's task after each block is stored, with its size in bytes (for progress).
enum BlockCopy {
    static func run(shape: [Int], sourceChunks: [Int], targetChunks: [Int], concurrentWrites: Int = 2,
                    read: @escaping @Sendable ([Slice]) async throws -> AnyNDArray,
                    write: @escaping @Sendable (_ origin: [Int], AnyNDArray) async throws -> Void,
                    written: (_ bytes: Int) -> Void = { _ in }) async throws {
        let block = zip(sourceChunks, targetChunks).map { s, c in (Swift.max(s, c) + c - 1) / c * c }
        let grid = zip(shape, block).map { ($0 + $1 - 1) / $1 }
        let blocks = shape.contains(0) ? 0 : grid.reduce(1, *)
        @Sendable func selection(_ k: Int) -> [Slice] {
            var rem = k
            var idx = [Int](repeating: 0, count: grid.count)
            for d in stride(from: grid.count - 1, through: 0, by: -1) { idx[d] = rem % grid[d]; rem /= grid[d] }
            return idx.indices.map { d in Slice(idx[d] * block[d], Swift.min((idx[d] + 1) * block[d], shape[d])) }
        }
        guard blocks > 0 else { return }
        let slots = Swift.max(1, concurrentWrites)
        try await withThrowingTaskGroup(of: Int.self) { group in
            var pending: Task<AnyNDArray, any Error>? = Task { try await read(selection(0)) }
            defer { pending?.cancel() }
            var inFlight = 0
            for k in 0..<blocks {
                let data = try await pending!.value
                pending = nil
                if inFlight == slots, let bytes = try await group.next() {
                    inFlight -= 1
                    written(bytes)
                }
                let origin = selection(k).map { $0.start! }
                group.addTask { try await write(origin, data); return data.nbytes }
                inFlight += 1
                if k + 1 < blocks { pending = Task { try await read(selection(k + 1)) } }
            }
            while let bytes = try await group.next() { written(bytes) }
        }
    }
}
