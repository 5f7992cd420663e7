import GyreCore
import GyreArrays
import GyreCodecs
import GyreStorage

/// One piece of a selection along one dimension: the part of chunk `chunk` it reads (in chunk
/// coordinates, with the selection's step) and where that lands in the output.
struct DimPiece: Sendable {
    let chunk: Int
    let inner: Slice
    let out: Range<Int>
}

/// Splits a resolved selection (start, count, step) of one dimension into per-chunk pieces.
func pieces(start: Int, count: Int, step: Int, chunk: Int) -> [DimPiece] {
    var out: [DimPiece] = []
    var k = 0
    while k < count {
        let p = start + k * step
        let c = p / chunk
        var k1 = k + 1
        while k1 < count && (start + k1 * step) / chunk == c { k1 += 1 }
        let first = p - c * chunk
        let last = start + (k1 - 1) * step - c * chunk
        let stop = step > 0 ? last + 1 : (last - 1 < 0 ? nil : last - 1)
        out.append(DimPiece(chunk: c, inner: Slice(first, stop, step: step), out: k..<k1))
        k = k1
    }
    return out
}

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

    var prefix: String { path.isEmpty ? "" : path + "/" }
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
                    let ps = r.count == 0 ? [] : pieces(start: r.start, count: r.count, step: r.step, chunk: shard.chunkShape[d]).map(\.chunk)
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
        let sel = selection ?? Array(repeating: Slice.all, count: m.shape.count)
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
        // Size check first: nothing proportional to the selection is built before it.
        var outBytes = Swift.max(m.dtype.itemSize, 1), tooBig = false
        for n in outShape {
            let (p, o) = outBytes.multipliedReportingOverflow(by: n)
            if o { tooBig = true; break }
            outBytes = p
        }
        if !outShape.contains(0) && (tooBig || outBytes > ZarrArray.maxReadBytes) {
            throw GyreZarrError(.selection, "\(label): a selection of shape \(outShape) (\(m.dtype)) is too large to read into memory at once; select a smaller region")
        }
        let perDim: [[DimPiece]] = zip(resolved, m.chunkShape).map { r, c in
            r.count == 0 ? [] : pieces(start: r.start, count: r.count, step: r.step, chunk: c)
        }
        // Decode-in-place: with native-endian bytes and at most one compressor, a chunk read whole
        // whose region is one contiguous span of the output is decoded straight into it (no
        // chunk-sized temporaries). The output then starts uninitialized; every region is
        // written exactly once, missing chunks by an explicit fill.
        let fixedSize = m.dtype.hasFixedLayout
        let direct = fixedSize && ZarrArrayMetadata.isNativeSingleCompressor(m.pipeline)
        // The same for shards: inner chunks of native bytes with at most one compressor.
        let shardDirect: ShardingCodec? = {
            guard let sh = m.sharding, m.pipeline.arrayToArray.isEmpty, m.pipeline.bytesToBytes.isEmpty, fixedSize,
                  ZarrArrayMetadata.isNativeSingleCompressor(sh.codecs) else { return nil }
            return sh
        }()
        let inPlace = direct || shardDirect != nil
        var out = inPlace ? try AnyNDArray.uninitialized(outShape, dtype: m.dtype) : try fillArray(outShape)
        if outShape.contains(0) { return out }
        let base = UnsafeAddress(out.unsafeRawBase)
        let itemSize = m.dtype.itemSize
        var outStrides = [Int](repeating: 1, count: outShape.count)
        for d in stride(from: outShape.count - 2, through: 0, by: -1) { outStrides[d] = outStrides[d + 1] * outShape[d + 1] }
        // Every combination of per-dimension pieces is one chunk to read.
        var tasks: [[DimPiece]] = [[]]
        for dimPieces in perDim { tasks = tasks.flatMap { t in dimPieces.map { t + [$0] } } }
        enum Outcome: Sendable {
            case part(AnyNDArray), missing, done
            /// A shard decoded in place, but for missing inner chunks and inner chunks that had to
            /// be decoded the ordinary way (output regions given as ranges).
            case shard(missing: [[Range<Int>]], parts: [([Range<Int>], AnyNDArray)])
        }
        let shapeOut = outShape, stridesOut = outStrides
        let limit = ReadLimits.concurrency(chunkBytes: m.chunkShape.reduce(m.dtype.itemSize, *), cap: maxConcurrency)
        try await Bounded.forEach(count: tasks.count, limit: limit, { [tasks] k -> ([DimPiece], Outcome) in
            let t = tasks[k]
            let inner = t.map(\.inner)
            let idx = t.map(\.chunk)
            if let sh = shardDirect, self.isWholeChunk(t) {
                let key = self.prefix + m.chunkKey(idx)
                do {
                    guard let bytes = try await self.store.get(key) else { return (t, .missing) }
                    let grid = try sh.innerGrid(m.chunkShape)
                    let n = grid.reduce(1, *)
                    let isz = sh.indexByteCount(n)
                    guard bytes.count >= isz else {
                        throw GyreCodecsError(.corrupt, "shard of \(bytes.count) bytes is shorter than its \(isz)-byte index")
                    }
                    let entries = try sh.decodeIndex(sh.indexAtEnd ? Array(bytes.suffix(isz)) : Array(bytes.prefix(isz)), count: n)
                    var missing: [[Range<Int>]] = [], parts: [([Range<Int>], AnyNDArray)] = []
                    let innerBytes = sh.chunkShape.reduce(1, *) * itemSize
                    var ii = [Int](repeating: 0, count: grid.count)
                    for k in 0..<n {
                        let ranges = (0..<grid.count).map { d in
                            (t[d].out.lowerBound + ii[d] * sh.chunkShape[d])..<(t[d].out.lowerBound + (ii[d] + 1) * sh.chunkShape[d])
                        }
                        let (off, nb) = entries[k]
                        if off == ShardingCodec.missing && nb == ShardingCodec.missing {
                            missing.append(ranges)
                        } else {
                            guard off <= UInt64(bytes.count), nb <= UInt64(bytes.count) - off else {
                                throw GyreCodecsError(.corrupt, "inner chunk \(ii) at bytes \(off)+\(nb) lies outside the \(bytes.count)-byte shard")
                            }
                            let inner = Array(bytes[Int(off)..<Int(off + nb)])
                            var placed = false
                            if ZarrArray.isContiguous(ranges, in: shapeOut) {
                                let offset = zip(ranges, stridesOut).reduce(0) { $0 + $1.0.lowerBound * $1.1 } * itemSize
                                let dst = UnsafeMutableRawBufferPointer(start: base.pointer + offset, count: innerBytes)
                                if let c = sh.codecs.bytesToBytes.first {
                                    placed = try c.decode(inner, into: dst)
                                } else {
                                    guard inner.count == innerBytes else {
                                        throw GyreCodecsError(.corrupt, "inner chunk \(ii) has \(inner.count) bytes, expected \(innerBytes)")
                                    }
                                    inner.withUnsafeBytes { dst.copyMemory(from: $0) }
                                    placed = true
                                }
                            }
                            if !placed { parts.append((ranges, try sh.codecs.decode(inner, shape: sh.chunkShape, dtype: m.dtype))) }
                        }
                        var d = grid.count - 1
                        while d >= 0 { ii[d] += 1; if ii[d] < grid[d] { break }; ii[d] = 0; d -= 1 }
                    }
                    return (t, .shard(missing: missing, parts: parts))
                } catch let e as GyreCodecsError {
                    throw GyreZarrError(.chunk, "\(self.label): shard '\(key)': \(e.message)", cause: e)
                } catch let e as GyreStorageError {
                    throw GyreZarrError(.chunk, "\(self.label): shard '\(key)': \(e.message)", cause: e)
                }
            }
            if direct && self.isWholeChunk(t) && ZarrArray.isContiguous(t.map(\.out), in: shapeOut) {
                let key = self.prefix + m.chunkKey(idx)
                let bytes: [UInt8]?
                do { bytes = try await self.store.get(key) } catch let e as GyreStorageError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
                guard let bytes else { return (t, .missing) }
                let offset = zip(t, stridesOut).reduce(0) { $0 + $1.0.out.lowerBound * $1.1 } * itemSize
                let count = m.chunkShape.reduce(1, *) * itemSize
                let dst = UnsafeMutableRawBufferPointer(start: base.pointer + offset, count: count)
                do {
                    if let codec = m.pipeline.bytesToBytes.first {
                        if try codec.decode(bytes, into: dst) { return (t, .done) }
                    } else {
                        guard bytes.count == count else {
                            throw GyreCodecsError(.corrupt, "chunk has \(bytes.count) bytes, expected \(count)")
                        }
                        bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
                        return (t, .done)
                    }
                    let chunk = try m.pipeline.decode(bytes, shape: m.chunkShape, dtype: m.dtype)
                    return (t, .part(chunk))
                } catch let e as GyreCodecsError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
            }
            if direct && m.sharding == nil, let codec = m.pipeline.bytesToBytes.first, codec.decodesRanges,
               ZarrArray.partSpans(inner, chunk: m.chunkShape, itemSize: itemSize) != nil {
                // A small part of a chunk whose codec decodes byte ranges (a point's
                // series, a few rows): decode only the spans that hold it.
                let key = self.prefix + m.chunkKey(idx)
                let stored: StoredBytes?
                do { stored = try await self.store.getStored(key) } catch let e as GyreStorageError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
                guard let stored else { return (t, .missing) }
                do {
                    if let part = try ZarrArray.decodePart(stored, codec: codec, inner: inner, chunk: m.chunkShape, dtype: m.dtype) {
                        return (t, .part(part))
                    }
                    let chunk = try m.pipeline.decode(stored.array, shape: m.chunkShape, dtype: m.dtype)
                    return (t, .part(try chunk.index(inner.map { .slice($0) })))
                } catch let e as GyreCodecsError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
            }
            if direct && m.sharding == nil, let codec = m.pipeline.bytesToBytes.first {
                // Part of a chunk: decode it whole into a pooled buffer (a large chunk
                // decoded into fresh memory costs more in page clearing than in
                // decompression), then take the part.
                let key = self.prefix + m.chunkKey(idx)
                let bytes: [UInt8]?
                do { bytes = try await self.store.get(key) } catch let e as GyreStorageError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
                guard let bytes else { return (t, .missing) }
                let whole = try AnyNDArray.uninitialized(m.chunkShape, dtype: m.dtype)
                let count = m.chunkShape.reduce(1, *) * itemSize
                do {
                    if try codec.decode(bytes, into: UnsafeMutableRawBufferPointer(start: whole.unsafeRawBase, count: count)) {
                        return (t, .part(try whole.index(inner.map { .slice($0) })))
                    }
                    // The codec cannot decode in place: the pipeline, on the bytes already fetched.
                    let chunk = try m.pipeline.decode(bytes, shape: m.chunkShape, dtype: m.dtype)
                    return (t, .part(try chunk.index(inner.map { .slice($0) })))
                } catch let e as GyreCodecsError {
                    throw GyreZarrError(.chunk, "\(self.label): chunk '\(key)': \(e.message)", cause: e)
                }
            }
            guard let chunk = try await self.readChunk(idx, needed: inner) else { return (t, .missing) }
            return (t, .part(try chunk.index(inner.map { .slice($0) })))
        }, consume: { _, result in
            let (t, outcome) = result
            let region = t.map { AxisIndex.slice(Slice($0.out.lowerBound, $0.out.upperBound)) }
            switch outcome {
            case .part(let p): try out.assign(region, from: p)
            case .missing: if inPlace { try out.assign(region, from: try fillArray(t.map { $0.out.count })) }
            case .done: break
            case .shard(let missing, let parts):
                for r in missing { try out.assign(r.map { .slice(Slice($0.lowerBound, $0.upperBound)) }, from: try fillArray(r.map(\.count))) }
                for (r, p) in parts { try out.assign(r.map { .slice(Slice($0.lowerBound, $0.upperBound)) }, from: p) }
            }
        })
        return out
    }

    /// Whether a task reads its chunk whole (every dimension from 0 to the chunk length, step 1,
    /// and the chunk lies fully inside the array).
    func isWholeChunk(_ t: [DimPiece]) -> Bool {
        for (d, p) in t.enumerated() {
            let c = metadata.chunkShape[d]
            guard (p.chunk + 1) * c <= metadata.shape[d], p.inner.step == 1, (p.inner.start ?? 0) == 0, p.inner.stop == c, p.out.count == c else { return false }
        }
        return true
    }

    /// Whether output ranges form one contiguous span of a C-order array of `shape`.
    static func isContiguous(_ ranges: [Range<Int>], in shape: [Int]) -> Bool {
        var d = 0
        while d < ranges.count && ranges[d].count == 1 { d += 1 }
        guard d < ranges.count else { return true }
        for e in (d + 1)..<ranges.count where ranges[e].count != shape[e] { return false }
        return true
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

    func writeChunk(_ idx: [Int], source: AnyNDArray, origin o: [Int], store wstore: any WritableStore) async throws {
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

    /// Slabs along the first dimension, decoding only each slab's part of a chunk where the
    /// codec can (blosc, or no compressor): one chunk's stored bytes and one slab are held at a
    /// time. Regions that cross chunks along another dimension, read with steps, or of sharded,
    /// filtered or byte-swapped arrays are read whole (one slab).
    public func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        let m = metadata
        let n = m.shape.count
        guard n >= 1, region.count == n, m.sharding == nil, m.dtype.hasFixedLayout, ZarrArrayMetadata.isNativeSingleCompressor(m.pipeline),
              let resolved = try? zip(region, m.shape).map({ try $0.resolve(extent: $1) }),
              resolved.allSatisfy({ $0.step == 1 || $0.count <= 1 }), !resolved.contains(where: { $0.count == 0 }) else {
            return try await body(try await read(region), 0)
        }
        let chunk = m.chunkShape, itemSize = m.dtype.itemSize
        // Along every other dimension the region must lie in one chunk.
        for d in 1..<n where resolved[d].start / chunk[d] != (resolved[d].start + resolved[d].count - 1) / chunk[d] {
            return try await body(try await read(region), 0)
        }
        let rowBytes = chunk.dropFirst().reduce(itemSize, *)
        let chunkBytes = rowBytes * chunk[0]
        guard rowBytes > 0, chunkBytes > maxBytes else { return try await body(try await read(region), 0) }
        let slabRows = Swift.max(1, maxBytes / rowBytes)
        let otherChunks = (1..<n).map { resolved[$0].start / chunk[$0] }
        // The region's part of a chunk along the other dimensions; nil when it is all of it.
        let inner: [AxisIndex] = (1..<n).map { d in
            let lo = resolved[d].start - otherChunks[d - 1] * chunk[d]
            return .slice(Slice(lo, lo + resolved[d].count))
        }
        let wholeRows = (1..<n).allSatisfy { resolved[$0].count == chunk[$0] }
        let codec = m.pipeline.bytesToBytes.first
        let (start0, count0) = (resolved[0].start, resolved[0].count)
        var pos = start0
        while pos < start0 + count0 {
            let c0 = pos / chunk[0]
            let chunkEnd = Swift.min((c0 + 1) * chunk[0], start0 + count0)
            let key = prefix + m.chunkKey([c0] + otherChunks)
            func failed(_ why: String, _ cause: any Error & Sendable) -> GyreZarrError {
                GyreZarrError(.chunk, "\(label): chunk '\(key)': \(why)", cause: cause)
            }
            // Codecs that decode parts (and raw chunks) read the stored bytes into a reusable
            // block (chunks of slightly different sizes then never fragment the heap) and
            // decode a slab at a time; other codecs decode the chunk whole.
            var held: HeldChunk
            if codec == nil || codec!.decodesRanges {
                do { held = try await store.getStored(key).map { .stored($0) } ?? .missing } catch let e as GyreStorageError { throw failed(e.message, e) }
            } else {
                held = try await readChunk([c0] + otherChunks, needed: nil).map { .decoded($0) } ?? .missing
            }
            var r = pos
            while r < chunkEnd {
                let rEnd = Swift.min(r + slabRows, chunkEnd)
                let rows = (r - c0 * chunk[0])..<(rEnd - c0 * chunk[0])
                var slab: AnyNDArray
                switch held {
                case .missing:
                    slab = try fillArray([rows.count] + chunk.dropFirst())
                case .decoded(let whole):
                    slab = try whole.index([.slice(Slice(rows.lowerBound, rows.upperBound))])
                case .stored(let stored):
                    slab = try AnyNDArray.uninitialized([rows.count] + chunk.dropFirst(), dtype: m.dtype)
                    let dst = UnsafeMutableRawBufferPointer(start: slab.unsafeRawBase, count: rows.count * rowBytes)
                    let range = (rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)
                    do {
                        if let codec {
                            if try !stored.withUnsafeBytes({ try codec.decode(raw: $0, range: range, decodedCount: chunkBytes, into: dst) }) {
                                // This stream cannot be decoded in parts: the chunk whole, once.
                                let whole = try m.pipeline.decode(stored.array, shape: chunk, dtype: m.dtype)
                                held = .decoded(whole)
                                slab = try whole.index([.slice(Slice(rows.lowerBound, rows.upperBound))])
                            }
                        } else {
                            guard stored.count == chunkBytes else {
                                throw GyreCodecsError(.corrupt, "chunk has \(stored.count) bytes, expected \(chunkBytes)")
                            }
                            stored.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[range])) }
                        }
                    } catch let e as GyreCodecsError { throw failed(e.message, e) }
                }
                if !wholeRows { slab = try slab.index([.slice(.all)] + inner) }
                try await body(slab, r - start0)
                r = rEnd
            }
            pos = chunkEnd
        }
    }
}

/// One chunk as `readSlabs` holds it while handing out its slabs.
private enum HeldChunk {
    case missing
    /// Stored bytes, decoded a slab at a time.
    case stored(StoredBytes)
    /// Decoded whole (its codec cannot decode parts).
    case decoded(AnyNDArray)
}

extension ZarrArray {
    /// Where a part of a chunk lies within each row (the chunk's extent along its first axis
    /// is its rows): the first byte and one past the last byte of the part in a row, the rows,
    /// and whether the rows' spans are decoded together (they lie close) or one by one. Nil
    /// when decoding those spans would not be much less work than decoding the chunk whole
    /// (a range decode decompresses whole compressed blocks, assumed up to 256 KiB), or the
    /// part has steps.
    static func partSpans(_ inner: [Slice], chunk: [Int], itemSize: Int) -> (lo: Int, hi: Int, rows: Range<Int>, together: Bool)? {
        guard !chunk.isEmpty, inner.count == chunk.count, itemSize > 0,
              let rs = try? zip(inner, chunk).map({ try $0.resolve(extent: $1) }),
              rs.allSatisfy({ $0.count > 0 && ($0.step == 1 || $0.count == 1) }) else { return nil }
        var step = itemSize, lo = 0, hi = 0
        for d in Swift.stride(from: chunk.count - 1, through: 1, by: -1) {
            lo += rs[d].start * step
            hi += (rs[d].start + rs[d].count - 1) * step
            step *= chunk[d]
        }
        let rowBytes = step, chunkBytes = rowBytes * chunk[0]
        hi += itemSize
        let rows = rs[0].start..<(rs[0].start + rs[0].count)
        let block = 256 << 10
        let together = rowBytes - (hi - lo) < block
        let work = together ? (rows.count - 1) * rowBytes + (hi - lo) + block : rows.count * Swift.max(hi - lo, block)
        guard work * 2 <= chunkBytes else { return nil }
        return (lo, hi, rows, together)
    }

    /// The part `inner` of a chunk, decoding only the byte spans that hold it (see `partSpans`);
    /// nil when the codec cannot decode this stream in parts.
    static func decodePart(_ stored: StoredBytes, codec: any BytesToBytesCodec, inner: [Slice], chunk: [Int], dtype: DType) throws -> AnyNDArray? {
        let itemSize = dtype.itemSize
        guard let spans = partSpans(inner, chunk: chunk, itemSize: itemSize) else { return nil }
        let rowShape = Array(chunk.dropFirst())
        let rowBytes = rowShape.reduce(itemSize, *), chunkBytes = rowBytes * chunk[0]
        let within: [AxisIndex] = inner.dropFirst().map { .slice($0) }
        /// Decodes `range` of the chunk into `buffer` at `at`; false when the codec cannot.
        func decode(_ range: Range<Int>, into buffer: AnyNDArray, at: Int) throws -> Bool {
            let dst = UnsafeMutableRawBufferPointer(start: buffer.unsafeRawBase + at, count: range.count)
            return try stored.withUnsafeBytes { try codec.decode(raw: $0, range: range, decodedCount: chunkBytes, into: dst) }
        }
        if spans.together {
            // One span from the first row's part to the last row's, in a buffer of those rows
            // (bytes outside the span are never read).
            let buffer = try AnyNDArray.uninitialized([spans.rows.count] + rowShape, dtype: dtype)
            let start = spans.rows.lowerBound * rowBytes + spans.lo
            let end = (spans.rows.upperBound - 1) * rowBytes + spans.hi
            guard try decode(start..<end, into: buffer, at: spans.lo) else { return nil }
            return try buffer.index([.slice(.all)] + within).contiguous()
        }
        // Row by row, each row's span decoded into one reused row buffer.
        var out = try AnyNDArray.uninitialized([spans.rows.count] + inner.dropFirst().enumerated().map { d, s in
            (try s.resolve(extent: chunk[d + 1])).count
        }, dtype: dtype)
        let row = try AnyNDArray.uninitialized(rowShape, dtype: dtype)
        for (i, r) in spans.rows.enumerated() {
            guard try decode((r * rowBytes + spans.lo)..<(r * rowBytes + spans.hi), into: row, at: spans.lo) else { return nil }
            try out.assign([.at(i)], from: try row.index(within))
        }
        return out
    }
}

