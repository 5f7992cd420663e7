import GyreCore
import GyreArrays
import GyreChunks
import GyreCodecs
import GyreStorage

/// A Zarr array (v2 or v3) in a store: region reads and writes, chunk by chunk.
public struct ZarrArray: Sendable {
    public let store: any ReadableStore
    /// The array's path in the store ("" for a root array).
    public let path: String
    public let metadata: ZarrArrayMetadata
    /// How many chunks are fetched and decoded at once, at most (fewer for large chunks: see
    /// `ReadLimits`).
    public var maxConcurrency = 16
    /// The largest result `read` will build in memory: 1 TiB.
    public static let maxReadBytes = 1 << 40

    public init(store: any ReadableStore, path: String, metadata: ZarrArrayMetadata) {
        self.store = store
        self.path = path
        self.metadata = metadata
    }

    package var prefix: String { path.isEmpty ? "" : path + "/" }
    var label: String { "\(store.name)\(path.isEmpty ? "" : "/" + path)" }

    /// Opens the array at `path`, v3 (`zarr.json`) or v2 (`.zarray`).
    public static func open(_ store: any ReadableStore, path: String = "") async throws -> ZarrArray {
        let prefix = path.isEmpty ? "" : path + "/"
        let label = "\(store.name)\(path.isEmpty ? "" : "/" + path)"
        if let bytes = try await store.get(prefix + "zarr.json") {
            let j = try parse(bytes, "\(label)/zarr.json")
            return ZarrArray(store: store, path: path, metadata: try .v3(j, source: "\(label)/zarr.json"))
        }
        if let bytes = try await store.get(prefix + ".zarray") {
            let j = try parse(bytes, "\(label)/.zarray")
            let attrs = try await store.get(prefix + ".zattrs").map { try parse($0, "\(label)/.zattrs") }
            return ZarrArray(store: store, path: path, metadata: try .v2(j, attributes: attrs, source: "\(label)/.zarray"))
        }
        throw GyreZarrError(.notFound, "\(label): no Zarr array (neither zarr.json nor .zarray)")
    }

    static func parse(_ bytes: [UInt8], _ source: String) throws -> JSON {
        do { return try JSON.parse(bytes, source: source) } catch let e as GyreCoreError {
            throw GyreZarrError(.metadata, e.message, cause: e)
        }
    }

    /// Writes the metadata of a new array. Refuses to replace an existing node unless `overwrite`.
    public static func create(_ store: any WritableStore, path: String = "", metadata: ZarrArrayMetadata, overwrite: Bool = false) async throws -> ZarrArray {
        let prefix = path.isEmpty ? "" : path + "/"
        if !overwrite {
            for key in ["zarr.json", ".zarray", ".zgroup"] where try await store.get(prefix + key, range: .suffix(length: 0)) != nil {
                throw GyreZarrError(.exists, "\(store.name)/\(path): a Zarr node already exists (\(key))")
            }
        }
        switch metadata.format {
        case .v3: try await store.set(prefix + "zarr.json", metadata.v3JSON.serialized(indent: 2, sortedKeys: true))
        case .v2:
            try await store.set(prefix + ".zarray", try metadata.v2JSON().serialized(indent: 2, sortedKeys: true))
            var attrs = metadata.attributes
            if let names = metadata.dimensionNames, attrs["_ARRAY_DIMENSIONS"] == nil {
                attrs["_ARRAY_DIMENSIONS"] = .array(names.map { $0.map { .string($0) } ?? .null })
            }
            try await store.set(prefix + ".zattrs", JSON.object(attrs).serialized(indent: 2, sortedKeys: true))
        }
        return ZarrArray(store: store, path: path, metadata: metadata)
    }

    // MARK: Reading

    func fillArray(_ shape: [Int]) throws -> AnyNDArray {
        let m = metadata
        if let f = m.fillValue { return try AnyNDArray.full(shape, f, dtype: m.dtype) }
        if case .string = m.dtype { return try AnyNDArray.full(shape, .string(""), dtype: m.dtype) }
        return try AnyNDArray.full(shape, .int(0), dtype: m.dtype)
    }

    /// Decodes one stored chunk (nil when it is missing). For shards, only the inner chunks that
    /// `needed` (chunk coordinates) touches are fetched, through byte ranges.
    func readChunk(_ index: [Int], needed: [Slice]?) async throws -> AnyNDArray? {
        let key = prefix + metadata.chunkKey(index)
        let chunkShape = metadata.chunkShape
        do {
            if let shard = metadata.sharding, metadata.pipeline.arrayToArray.isEmpty, metadata.pipeline.bytesToBytes.isEmpty, let needed {
                let grid = try shard.innerGrid(chunkShape)
                let n = grid.reduce(1, *)
                let isz = shard.indexByteCount(n)
                guard let indexBytes = try await store.get(key, range: shard.indexAtEnd ? .suffix(length: isz) : .range(offset: 0, length: isz)) else { return nil }
                guard indexBytes.count == isz else {
                    throw GyreZarrError(.chunk, "\(label): shard '\(key)' is shorter than its \(isz)-byte index")
                }
                let entries = try shard.decodeIndex(indexBytes, count: n)
                var out = try fillArray(chunkShape)
                // Inner chunks the selection touches, per dimension.
                var ranges: [[Int]] = []
                for (d, s) in needed.enumerated() {
                    let r = try s.resolve(extent: chunkShape[d])
                    let ps = r.count == 0 ? [] : ChunkEngine.pieces(start: r.start, count: r.count, step: r.step, chunk: shard.chunkShape[d]).map(\.chunk)
                    ranges.append(ps)
                }
                var jobs: [([Int], UInt64, UInt64)] = []
                func walk(_ d: Int, _ idx: [Int]) {
                    if d == ranges.count {
                        var flat = 0
                        for (i, v) in idx.enumerated() { flat = flat * grid[i] + v }
                        let e = entries[flat]
                        if !(e.offset == ShardingCodec.missing && e.nbytes == ShardingCodec.missing) { jobs.append((idx, e.offset, e.nbytes)) }
                        return
                    }
                    for c in ranges[d] { walk(d + 1, idx + [c]) }
                }
                walk(0, [])
                for (idx, off, nb) in jobs where off >= UInt64(Int.max) || nb >= UInt64(Int.max) || off + nb >= UInt64(Int.max) {
                    throw GyreZarrError(.chunk, "\(label): inner chunk \(idx) of shard '\(key)' is out of range")
                }
                // One request for inner chunks that lie close together (network stores merge them).
                guard let parts = try await store.get(key, ranges: jobs.map { Int($0.1)..<Int($0.1 + $0.2) }) else {
                    throw GyreZarrError(.chunk, "\(label): shard '\(key)' went missing after its index was read")
                }
                for ((idx, _, _), bytes) in zip(jobs, parts) {
                    let chunk = try shard.codecs.decode(bytes, shape: shard.chunkShape, dtype: metadata.dtype)
                    try out.assign(zip(idx, shard.chunkShape).map { .slice(Slice($0 * $1, ($0 + 1) * $1)) }, from: chunk)
                }
                return out
            }
            guard let bytes = try await store.get(key) else { return nil }
            return try metadata.pipeline.decode(bytes, shape: chunkShape, dtype: metadata.dtype)
        } catch let e as GyreCodecsError {
            throw GyreZarrError(.chunk, "\(label): chunk '\(key)': \(e.message)", cause: e)
        } catch let e as GyreStorageError {
            throw GyreZarrError(.chunk, "\(label): chunk '\(key)': \(e.message)", cause: e)
        }
    }

    /// Reads a region: one slice per dimension (any step; nil reads everything). Only the chunks
    /// the region touches are fetched; missing chunks read as the fill value.
    public func read(_ selection: [Slice]? = nil) async throws -> AnyNDArray {
        let m = metadata
        var r = try resolve(selection ?? Array(repeating: Slice.all, count: m.shape.count))
        let outShape = r.map(\.count)
        // Read forward with positive steps, then flip the reversed axes (a view).
        let (forward, flip) = ChunkEngine.forward(r)
        r = forward
        let out: AnyNDArray
        if m.dtype.hasFixedLayout {
            out = try AnyNDArray.uninitialized(outShape, dtype: m.dtype)
            if !outShape.contains(0) {
                let dst = ReadDestination(base: out.unsafeRawBase, shape: outShape, strides: NDArray<UInt8>.contiguousStrides(outShape), dtype: m.dtype)
                try await ChunkEngine.read(try ZarrChunkLocator(self), region: r, into: dst)
            }
        } else {
            out = try await readValues(r)
        }
        return flip.allSatisfy({ $0 == .slice(.all) }) ? out : try out.index(flip)
    }

    /// Resolves a selection and refuses one too large to read into memory (before anything
    /// proportional to it is built).
    func resolve(_ sel: [Slice]) throws -> [(start: Int, count: Int, step: Int)] {
        let m = metadata
        guard sel.count == m.shape.count else {
            throw GyreZarrError(.selection, "\(label): \(sel.count) slices for an array of \(m.shape.count) dimensions")
        }
        var resolved: [(start: Int, count: Int, step: Int)] = []
        for d in 0..<sel.count {
            do { resolved.append(try sel[d].resolve(extent: m.shape[d])) } catch {
                throw GyreZarrError(.selection, "\(label): dimension \(d): \(error)")
            }
        }
        let outShape = resolved.map(\.count)
        var outBytes = Swift.max(m.dtype.itemSize, 1), tooBig = false
        for n in outShape {
            let (p, o) = outBytes.multipliedReportingOverflow(by: n)
            if o { tooBig = true; break }
            outBytes = p
        }
        if !outShape.contains(0) && (tooBig || outBytes > ZarrArray.maxReadBytes) {
            throw GyreZarrError(.selection, "\(label): a selection of shape \(outShape) (\(m.dtype)) is too large to read into memory at once; select a smaller region")
        }
        return resolved
    }

    /// Reads a resolved region (positive steps) of an array whose elements have no fixed byte
    /// layout (strings, objects): chunk by chunk through the codec pipeline.
    func readValues(_ r: [(start: Int, count: Int, step: Int)]) async throws -> AnyNDArray {
        let m = metadata
        var out = try fillArray(r.map(\.count))
        if r.contains(where: { $0.count == 0 }) { return out }
        let perDim = zip(r, m.chunkShape).map { ChunkEngine.pieces(start: $0.start, count: $0.count, step: $0.step, chunk: $1) }
        var tasks: [[DimPiece]] = [[]]
        for dimPieces in perDim { tasks = tasks.flatMap { t in dimPieces.map { t + [$0] } } }
        let limit = ReadLimits.concurrency(chunkBytes: m.chunkShape.reduce(Swift.max(m.dtype.itemSize, 1), *), cap: maxConcurrency)
        try await Bounded.forEach(count: tasks.count, limit: limit, { [tasks] k -> AnyNDArray? in
            let t = tasks[k]
            let inner = t.map { Slice($0.first, $0.first + ($0.out.count - 1) * $0.step + 1, step: $0.step) }
            guard let chunk = try await self.readChunk(t.map(\.chunk), needed: inner) else { return nil }
            return try chunk.index(inner.map { .slice($0) })
        }, consume: { k, part in
            guard let part else { return }
            try out.assign(tasks[k].map { .slice(Slice($0.out.lowerBound, $0.out.upperBound)) }, from: part)
        })
        return out
    }

    // MARK: Writing

    /// Writes `data` into the region starting at `origin` (the array's origin by default).
    /// Chunks the region covers completely are encoded directly; partly covered chunks are read,
    /// updated and rewritten; chunks left equal to the fill value are deleted, not stored.
    public func write(_ data: AnyNDArray, at origin: [Int]? = nil) async throws {
        guard let wstore = store as? any WritableStore else {
            throw GyreZarrError(.unsupported, "\(label): the store is read-only")
        }
        let m = metadata
        let o = origin ?? Array(repeating: 0, count: m.shape.count)
        guard o.count == m.shape.count, data.ndim == m.shape.count else {
            throw GyreZarrError(.selection, "\(label): writing \(data.ndim)-d data at \(o) into a \(m.shape.count)-d array")
        }
        for d in 0..<o.count where o[d] < 0 || o[d] + data.shape[d] > m.shape[d] {
            throw GyreZarrError(.selection, "\(label): region \(o[d])..<\(o[d] + data.shape[d]) of dimension \(d) is outside 0..<\(m.shape[d])")
        }
        if data.shape.contains(0) { return }
        let source = try data.astype(m.dtype)
        var perDim: [[Int]] = []
        for d in 0..<o.count {
            let c0 = o[d] / m.chunkShape[d], c1 = (o[d] + data.shape[d] - 1) / m.chunkShape[d]
            perDim.append(Array(c0...c1))
        }
        var chunks: [[Int]] = [[]]
        for cs in perDim { chunks = chunks.flatMap { t in cs.map { t + [$0] } } }
        let limit = ReadLimits.concurrency(chunkBytes: m.chunkShape.reduce(m.dtype.itemSize, *), cap: maxConcurrency)
        try await Bounded.forEach(count: chunks.count, limit: limit) { [chunks] k in
            try await self.writeChunk(chunks[k], source: source, origin: o, store: wstore)
        }
    }

    package func writeChunk(_ idx: [Int], source: AnyNDArray, origin o: [Int], store wstore: any WritableStore) async throws {
        let m = metadata
        let key = prefix + m.chunkKey(idx)
        var inChunk: [AxisIndex] = [], inData: [AxisIndex] = []
        var full = true
        for d in 0..<idx.count {
            let lo = idx[d] * m.chunkShape[d], hi = Swift.min(lo + m.chunkShape[d], m.shape[d])
            let a = Swift.max(lo, o[d]), b = Swift.min(hi, o[d] + source.shape[d])
            if a != lo || b != hi { full = false }
            inChunk.append(.slice(Slice(a - lo, b - lo)))
            inData.append(.slice(Slice(a - o[d], b - o[d])))
        }
        // A chunk the data covers completely, inside the array, is a view of the data (no fill,
        // no copy); otherwise it is read (or filled) and updated.
        let inside = idx.indices.allSatisfy { (idx[$0] + 1) * m.chunkShape[$0] <= m.shape[$0] }
        var chunk: AnyNDArray
        if full && inside {
            chunk = try source.index(inData)
        } else {
            chunk = full ? try fillArray(m.chunkShape) : (try await readChunk(idx, needed: nil) ?? fillArray(m.chunkShape))
            try chunk.assign(inChunk, from: try source.index(inData))
        }
        do {
            if try chunk.allEqual(to: m.fillValue ?? (m.dtype.isString ? .string("") : .int(0))) {
                try await wstore.delete(key)
            } else if m.pipeline.bytesToBytes.count == 1, ZarrArrayMetadata.isNativeSingleCompressor(m.pipeline), m.dtype.itemSize > 1 || m.dtype.isNumeric,
                      let encoded = try? chunk.withUnsafeRawBytes({ try m.pipeline.bytesToBytes[0].encode(raw: $0) }) {
                // One compressor over native bytes: compress straight from the array's memory.
                try await wstore.set(key, encoded)
            } else {
                try await wstore.set(key, try m.pipeline.encode(chunk))
            }
        } catch let e as GyreCodecsError {
            throw GyreZarrError(.chunk, "\(label): encoding chunk '\(key)': \(e.message)", cause: e)
        }
    }
}

extension ZarrArray: ChunkedArraySource {
    public var sourceName: String { label }
    public var shape: [Int] { metadata.shape }
    public var dtype: DType { metadata.dtype }
    /// The regular grid of stored chunks (shards, for sharded arrays: the unit read whole).
    public var chunks: [[Int]] {
        zip(metadata.shape, metadata.chunkShape).map { ZarrArray.regularChunks(extent: $0, chunk: $1) }
    }
    public func read(region: [Slice]) async throws -> AnyNDArray { try await read(region) }

    /// Fixed-size dtypes read with positive steps decode straight into the destination.
    public func read(region: [Slice], into destination: ReadDestination) async throws {
        let r = try resolve(region)
        guard destination.shape == r.map(\.count), destination.dtype == dtype else {
            throw GyreZarrError(.selection, "\(label): a destination of shape \(destination.shape) (\(destination.dtype)) does not fit the region")
        }
        if destination.shape.contains(0) { return }
        guard dtype.hasFixedLayout, r.allSatisfy({ $0.step > 0 }) else {
            return try destination.copy(from: try await read(region))
        }
        try await ChunkEngine.read(try ZarrChunkLocator(self), region: r, into: destination)
    }

    /// Slabs along the first dimension through the chunk engine (`ChunkEngine.readSlabs`) where
    /// chunks decode by parts (blosc, or no compressor): the chunks of a batch of rows held as
    /// stored bytes, each slab decoded from them, only its rows of each chunk. Other arrays
    /// (other codecs, shards, strings) and regions read with negative steps are read whole, one
    /// slab: a slab of a chunk they cannot decode by parts costs the whole chunk's decoding,
    /// and slabs cost the reductions that consume them more than they save (measured on the
    /// time-mean benchmark: 25-50% slower).
    public func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        let r = try resolve(region)
        let locator = try ZarrChunkLocator(self)
        guard !r.isEmpty, dtype.hasFixedLayout, r.allSatisfy({ $0.step > 0 }), locator.shard == nil, locator.decoder.decodesRanges else {
            return try await body(try await read(region), 0)
        }
        try await ChunkEngine.readSlabs(locator, region: r, dtype: dtype, maxBytes: maxBytes, body)
    }
}
