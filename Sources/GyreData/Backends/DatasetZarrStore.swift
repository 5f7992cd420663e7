import GyreArrays
import GyreCodecs
import GyreCompute
import GyreCore
import GyreStorage
import GyreZarr

/// Any dataset seen as a Zarr store (xpublish's Zarr view): the keys `writeZarr` would write,
/// answered when asked, nothing written anywhere. Metadata keys (`.zmetadata`, `.zgroup`,
/// `.zattrs`, `{var}/.zarray`, `{var}/.zattrs` for v2; `zarr.json` with consolidated metadata
/// and `{var}/zarr.json` for v3) are made once; a chunk key reads that chunk's region of the
/// CF-encoded variable (only the source chunks it touches) and encodes it with the view's
/// codecs. A chunk left all fill value is missing, as Zarr writers leave it.
public final class DatasetZarrStore: ReadableStore {
    public let name: String
    public let format: ZarrArrayMetadata.Format
    private let metadata: MemoryStore
    private let arrays: [String: (variable: Variable, array: ZarrArray)]
    /// Variables whose chunks are a Zarr source's stored chunks, passed through untouched.
    private let stored: [String: ZarrArray]
    /// The metadata keys, in order (for listings that want them).
    public let metadataKeys: [String]

    /// - Parameters:
    ///   - options: the view's layout as for `writeZarr` (format, chunks, codecs, per-variable
    ///     encoding); by default a variable keeps the chunks it was read with.
    ///   - passThrough: a variable that is a whole Zarr array of the view's format, read as
    ///     stored, keeps its stored layout, and its chunk keys answer the stored bytes untouched
    ///     (no decoding, no encoding), as long as no encoding or chunks are asked for it.
    public init(_ dataset: Dataset, name: String, options: ZarrWriteOptions, passThrough: Bool = true) async throws {
        self.name = name
        self.format = options.format
        let plan = try dataset.zarrPlan(options: options, keepStoredLayout: passThrough)
        let memory = MemoryStore(name: name)
        var arrays: [String: (variable: Variable, array: ZarrArray)] = [:]
        var stored: [String: ZarrArray] = [:]
        for a in plan.arrays {
            let arr = try await ZarrArray.create(memory, path: a.name, metadata: a.metadata, overwrite: true)
            arrays[a.name] = (a.variable, arr)
            if let s = a.stored { stored[a.name] = s }
        }
        self.stored = stored
        try await ZarrGroup.create(memory, path: "", format: options.format, attributes: plan.attributes)
        try await ZarrGroup.consolidate(memory, path: "")
        self.metadata = memory
        self.arrays = arrays
        self.metadataKeys = try await memory.list(prefix: "").sorted()
    }

    /// The array a variable is served as.
    public func array(_ variable: String) -> ZarrArray? { arrays[variable]?.array }

    /// Where a key's bytes are stored, when it is a chunk passed through untouched: the source
    /// store and its key (a server reads them from there the fastest way the store allows).
    public func storedLocation(_ key: String) throws -> (store: any ReadableStore, key: String)? {
        guard let (variable, index) = try chunk(key), let src = stored[variable] else { return nil }
        return (src.store, src.prefix + src.metadata.chunkKey(index))
    }

    /// Whether a variable's chunks are passed through from its Zarr source untouched.
    public func passesThrough(_ variable: String) -> Bool { stored[variable] != nil }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        if let m = try await metadata.get(key, range: range) { return m }
        guard let (variable, index) = try chunk(key) else { return nil }
        if let src = stored[variable] {
            // The stored chunk (or shard) itself, by range too.
            return try await src.store.get(src.prefix + src.metadata.chunkKey(index), range: range)
        }
        guard let bytes = try await encodedChunk(variable, index) else { return nil }
        let r = try range.resolve(size: bytes.count, key: key, store: name)
        return r == 0..<bytes.count ? bytes : Array(bytes[r])
    }

    /// The variable and chunk grid position a chunk key names; nil for a key that is not one
    /// (an unknown variable, indices off the grid, another spelling of the key).
    func chunk(_ key: String) throws -> (String, [Int])? {
        guard let slash = key.firstIndex(of: "/") else { return nil }
        let v = String(key[..<slash]), rest = String(key[key.index(after: slash)...])
        guard let (_, arr) = arrays[v] else { return nil }
        let m = arr.metadata
        let rank = m.shape.count
        var parts = rest.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "." }.map(String.init)
        if case .default = m.keyEncoding {
            guard parts.first == "c" else { return nil }
            parts.removeFirst()
        }
        let index: [Int]
        if rank == 0 {
            index = []
        } else {
            guard parts.count == rank else { return nil }
            var idx: [Int] = []
            for (d, p) in parts.enumerated() {
                guard p.count <= 18, p.allSatisfy(\.isASCII), let i = Int(p), i >= 0 else { return nil }
                let n = m.chunkShape[d] > 0 ? (m.shape[d] + m.chunkShape[d] - 1) / m.chunkShape[d] : 0
                guard i < Swift.max(n, 1) else { return nil }
                idx.append(i)
            }
            index = idx
        }
        // One spelling per chunk: the one the metadata gives.
        guard m.chunkKey(index) == rest else { return nil }
        return (v, index)
    }

    /// The stored bytes of one chunk of a variable, encoded as its metadata says; nil when the
    /// chunk is all fill value.
    public func encodedChunk(_ variable: String, _ index: [Int]) async throws -> [UInt8]? {
        guard let (v, arr) = arrays[variable] else {
            throw GyreDataError(.missingVariable, "\(name): no variable '\(variable)'; variables are \(arrays.keys.sorted())")
        }
        let m = arr.metadata
        guard index.count == m.shape.count else {
            throw GyreDataError(.invalidArgument, "\(name): chunk \(index) of '\(variable)', which has \(m.shape.count) dimensions")
        }
        let origin = zip(index, m.chunkShape).map { $0 * $1 }
        let region = m.shape.indices.map { d in Slice(origin[d], Swift.min(origin[d] + m.chunkShape[d], m.shape[d])) }
        let data: AnyNDArray
        do {
            switch v.storage {
            case .eager(let a): data = try a.index(region.map { .slice($0) })
            case .lazy(let lazy): data = try await lazy.read(region)
            }
        } catch let e as GyreComputeError {
            throw GyreDataError(.read, "\(name): reading chunk \(index) of '\(variable)': \(e.message)", cause: e)
        }
        // Encoded as a write encodes it, into a scratch store of its own.
        let scratch = MemoryStore(name: name)
        let target = ZarrArray(store: scratch, path: variable, metadata: m)
        do {
            try await target.writeChunk(index, source: data, origin: origin, store: scratch)
        } catch let e as GyreZarrError {
            throw GyreDataError(.read, "\(name): encoding chunk \(index) of '\(variable)': \(e.message)", cause: e)
        }
        return try await scratch.get(variable + "/" + m.chunkKey(index))
    }
}
