import GyreArrays
import GyreChunks
import GyreCodecs
import GyreCore
import GyreStorage

/// Decodes chunks through a Zarr codec pipeline into native bytes. Native-endian bytes with
/// at most one compressor decode straight from the stored bytes into the destination (and
/// by byte range where the compressor can); any other pipeline decodes to an array whose
/// bytes are copied.
struct PipelineDecoder: ChunkDecoder {
    let pipeline: CodecPipeline
    let shape: [Int]
    let dtype: DType
    let native: Bool

    init(_ pipeline: CodecPipeline, shape: [Int], dtype: DType) {
        self.pipeline = pipeline
        self.shape = shape
        self.dtype = dtype
        native = ZarrArrayMetadata.isNativeSingleCompressor(pipeline)
    }

    var chunkBytes: Int { shape.reduce(dtype.itemSize, *) }

    /// Native bytes under several bytes-to-bytes codecs, each of which decodes to exactly the
    /// chunk's size (compressors, shuffle): decoded stage by stage without arrays.
    var chained: Bool {
        guard pipeline.arrayToArray.isEmpty, let b = pipeline.arrayToBytes as? BytesCodec, b.bigEndian == (UInt16(1).bigEndian == 1),
              pipeline.bytesToBytes.count >= 2 else { return false }
        return pipeline.bytesToBytes.allSatisfy { $0 is ShuffleCodec || $0 is ZlibCodec || $0 is ZstdCodec || $0 is LZ4Codec || $0 is BloscCodec }
    }

    func decode(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
        if chained {
            // A compressor after filters that keep the size (shuffle, as netCDF-4 and kerchunk
            // write): each stage decodes into a chunk-sized scratch buffer, the last into place.
            let stages = pipeline.bytesToBytes.reversed()
            var current = stored
            var scratch: [UnsafeMutableRawBufferPointer] = []
            defer { scratch.forEach(freeScratch) }
            for (i, codec) in stages.enumerated() {
                let out = i == stages.count - 1 ? destination : allocateScratch(destination.count)
                if i < stages.count - 1 { scratch.append(out) }
                guard try codec.decode(stored: current, into: out) else { break }
                if i == stages.count - 1 { return }
                current = UnsafeRawBufferPointer(out)
            }
        }
        if native {
            if let codec = pipeline.bytesToBytes.first {
                if try codec.decode(stored: stored, into: destination) { return }
            } else {
                guard stored.count == destination.count else {
                    throw GyreCodecsError(.corrupt, "chunk has \(stored.count) bytes, expected \(destination.count)")
                }
                destination.copyMemory(from: stored)
                return
            }
        }
        let array = try pipeline.decode(Array(stored), shape: shape, dtype: dtype)
        do {
            try array.contiguous().withUnsafeRawBytes { raw in
                guard raw.count == destination.count else {
                    throw GyreCodecsError(.corrupt, "chunk decodes to \(raw.count) bytes, expected \(destination.count)")
                }
                destination.copyMemory(from: raw)
            }
        } catch let e as GyreArraysError {
            throw GyreCodecsError(.corrupt, "chunk decodes to \(array.dtype) values: \(e.message)")
        }
    }

    var decodesRanges: Bool { native && (pipeline.bytesToBytes.first?.decodesRanges ?? true) }

    func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], chunkBytes: Int) throws -> StoredRanges? {
        guard native, let codec = pipeline.bytesToBytes.first else { return nil }
        return try codec.storedRanges(head: head, ranges: ranges, decodedCount: chunkBytes)
    }

    func decode(_ stored: UnsafeRawBufferPointer, range: Range<Int>, chunkBytes: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        guard native else { return false }
        if let codec = pipeline.bytesToBytes.first {
            return try codec.decode(raw: stored, range: range, decodedCount: chunkBytes, into: destination)
        }
        guard stored.count == chunkBytes else {
            throw GyreCodecsError(.corrupt, "chunk has \(stored.count) bytes, expected \(chunkBytes)")
        }
        destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: stored[range]))
        return true
    }
}

/// A Zarr array as the chunk engine sees it. Plain chunks are store keys. Shards whose
/// codecs are only the sharding codec are seen through their inner chunks: a read touching
/// all of a shard's inner chunks fetches the shard whole, one touching some of them fetches
/// the index and then those chunks' byte ranges. Shards with further codecs are chunks
/// decoded whole.
struct ZarrChunkLocator: ChunkLocator {
    let array: ZarrArray
    let shard: ShardingCodec?
    let innerGrid: [Int]
    let decoder: PipelineDecoder
    let fillElement: [UInt8]
    let concurrency: Int

    init(_ array: ZarrArray) throws {
        let m = array.metadata
        self.array = array
        if let sh = m.sharding, m.pipeline.arrayToArray.isEmpty, m.pipeline.bytesToBytes.isEmpty {
            shard = sh
            do { innerGrid = try sh.innerGrid(m.chunkShape) } catch let e as GyreCodecsError {
                throw GyreZarrError(.metadata, "\(array.label): \(e.message)", cause: e)
            }
            decoder = PipelineDecoder(sh.codecs, shape: sh.chunkShape, dtype: m.dtype)
        } else {
            shard = nil
            innerGrid = []
            decoder = PipelineDecoder(m.pipeline, shape: m.chunkShape, dtype: m.dtype)
        }
        fillElement = try array.fillArray([1]).withUnsafeRawBytes { Array($0) }
        concurrency = ReadLimits.concurrency(chunkBytes: m.chunkShape.reduce(m.dtype.itemSize, *), cap: array.maxConcurrency)
    }

    var name: String { array.label }
    var shape: [Int] { array.metadata.shape }
    var chunkShape: [Int] { shard?.chunkShape ?? array.metadata.chunkShape }
    var itemSize: Int { array.metadata.dtype.itemSize }
    var groupShape: [Int]? { shard == nil ? nil : innerGrid }

    func chunkKey(_ chunk: [Int]) -> String { array.prefix + array.metadata.chunkKey(chunk) }

    func locate(_ chunks: [[Int]]) async throws -> [ChunkLocation?] {
        guard let shard, let first = chunks.first else {
            guard let refs = array.store as? any ReferencingStore else {
                return chunks.map { ChunkLocation(.object(array.store, key: chunkKey($0)), decoder: decoder) }
            }
            // References: each chunk is a byte range of some file, read as the engine reads
            // ranges (merged where they lie close together).
            return try chunks.map { c in
                let key = chunkKey(c)
                let r: StoredReference?
                do { r = try refs.reference(key) } catch let e as GyreStorageError {
                    throw GyreZarrError(.chunk, "\(name): chunk '\(key)': \(e.message)", cause: e)
                }
                switch r {
                case nil: return nil
                case .bytes(let b)?: return ChunkLocation(.held(b, 0..<b.count), decoder: decoder)
                case .object(let s, let k)?: return ChunkLocation(.object(s, key: k), decoder: decoder)
                case .range(let s, let k, let range)?: return ChunkLocation(.range(s, key: k, range), decoder: decoder)
                }
            }
        }
        // One shard's inner chunks (the engine groups them by shard).
        let s = zip(first, innerGrid).map { $0 / $1 }
        let key = chunkKey(s)
        let n = innerGrid.reduce(1, *)
        let isz = shard.indexByteCount(n)
        // Inner chunks of this shard that lie in the array: all of them asked for means the
        // shard is fetched whole.
        let inArray = zip(zip(s, innerGrid), zip(shape, shard.chunkShape)).reduce(1) { p, x in
            let ((si, g), (extent, c)) = x
            return p * Swift.max(0, Swift.min(g, (extent - si * g * c + c - 1) / c))
        }
        func failed(_ why: String, _ cause: (any Error & Sendable)? = nil) -> GyreZarrError {
            GyreZarrError(.chunk, "\(name): shard '\(key)': \(why)", cause: cause)
        }
        let whole: StoredBytes?
        let indexBytes: [UInt8]
        do {
            if Set(chunks).count >= inArray {
                guard let b = try await array.store.getStored(key) else { return chunks.map { _ in nil } }
                guard b.count >= isz else { throw failed("\(b.count) bytes, shorter than its \(isz)-byte index") }
                whole = b
                indexBytes = b.withUnsafeBytes { raw in Array(shard.indexAtEnd ? raw[(raw.count - isz)...] : raw[..<isz]) }
            } else {
                guard let b = try await array.store.get(key, range: shard.indexAtEnd ? .suffix(length: isz) : .range(offset: 0, length: isz)) else {
                    return chunks.map { _ in nil }
                }
                guard b.count == isz else { throw failed("shorter than its \(isz)-byte index") }
                whole = nil
                indexBytes = b
            }
        } catch let e as GyreStorageError { throw failed(e.message, e) }
        let entries: [(offset: UInt64, nbytes: UInt64)]
        do { entries = try shard.decodeIndex(indexBytes, count: n) } catch let e as GyreCodecsError { throw failed("index: \(e.message)", e) }
        return try chunks.map { c in
            var flat = 0
            for d in c.indices { flat = flat * innerGrid[d] + c[d] % innerGrid[d] }
            let (off, nb) = entries[flat]
            if off == ShardingCodec.missing && nb == ShardingCodec.missing { return nil }
            let inner = c.indices.map { c[$0] % innerGrid[$0] }
            guard off < UInt64(Int.max >> 1), nb < UInt64(Int.max >> 1) else {
                throw failed("inner chunk \(inner) at bytes \(off)+\(nb) is out of range")
            }
            let range = Int(off)..<Int(off + nb)
            if let whole {
                guard range.upperBound <= whole.count else {
                    throw failed("inner chunk \(inner) at bytes \(off)+\(nb) lies outside the \(whole.count)-byte shard")
                }
                return ChunkLocation(.held(whole, range), decoder: decoder)
            }
            return ChunkLocation(.range(array.store, key: key, range), decoder: decoder)
        }
    }

    func failure(chunk: [Int], _ message: String, cause: (any Error & Sendable)?) -> any Error {
        guard shard != nil else { return GyreZarrError(.chunk, "\(name): chunk '\(chunkKey(chunk))': \(message)", cause: cause) }
        let s = zip(chunk, innerGrid).map { $0 / $1 }, inner = zip(chunk, innerGrid).map { $0 % $1 }
        return GyreZarrError(.chunk, "\(name): shard '\(chunkKey(s))': inner chunk \(inner): \(message)", cause: cause)
    }
}
