import GyreCore
import Foundation
import GyreArrays
import GyreCodecs
import GyreCompute
import GyreStorage
import GyreZarr
import OrderedCollections

/// How one variable is stored, overriding the dataset-wide options (xarray's `encoding`).
public struct VariableEncoding: Sendable {
    /// Chunk shape, one length per dimension.
    public var chunks: [Int]?
    public var compressors: [any BytesToBytesCodec]?
    public init(chunks: [Int]? = nil, compressors: [any BytesToBytesCodec]? = nil) {
        self.chunks = chunks
        self.compressors = compressors
    }
}

/// Options for writing a Dataset to Zarr.
public struct ZarrWriteOptions: Sendable {
    /// Per-variable storage, by variable name (wins over `chunks` and `compressors`).
    public var encoding: [String: VariableEncoding] = [:]
    public var format: ZarrArrayMetadata.Format = .v3
    /// Chunk length per dimension; dimensions not named are one chunk.
    public var chunks: [String: Int] = [:]
    /// Shard length per dimension (v3 only); chunks then become inner chunks of shards.
    public var shards: [String: Int] = [:]
    /// Bytes-to-bytes codecs (compressors) for every variable.
    public var compressors: [any BytesToBytesCodec] = [ZstdCodec(level: 3)]
    /// Replace an existing store instead of refusing.
    public var overwrite = false
    public init(format: ZarrArrayMetadata.Format = .v3, chunks: [String: Int] = [:], shards: [String: Int] = [:],
                compressors: [any BytesToBytesCodec] = [ZstdCodec(level: 3)], overwrite: Bool = false,
                encoding: [String: VariableEncoding] = [:]) {
        self.encoding = encoding
        self.format = format
        self.chunks = chunks
        self.shards = shards
        self.compressors = compressors
        self.overwrite = overwrite
    }
}

/// Attribute values to and from JSON, as xarray stores them in Zarr.
package enum ZarrAttributes {
    package static func decode(_ j: JSON) -> AttributeValue? {
        switch j {
        case .null: return nil
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .values(.bool(NDArray(scalar: b)))
        case .array(let a):
            if a.allSatisfy({ $0.string != nil }) { return .strings(a.compactMap(\.string)) }
            if a.allSatisfy({ if case .int = $0 { return true }; return false }) { return .values(.int64(NDArray(a.compactMap(\.integer)))) }
            if a.allSatisfy({ $0.number != nil || $0.string == "NaN" }) {
                return .values(.float64(NDArray(a.map { $0.number ?? .nan })))
            }
            return .string(j.description)
        case .object: return .string(j.description)
        }
    }

    package static func encode(_ a: AttributeValue) -> JSON {
        switch a {
        case .string(let s): return .string(s)
        case .strings(let s): return .array(s.map { .string($0) })
        case .values(let v):
            let items: [JSON] = v.scalars.map { s in
                switch s {
                case .bool(let b): return .bool(b)
                case .int(let i): return .int(i)
                case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
                case .float32(let f): return f.isNaN ? "NaN" : .double(Double(f))
                case .double(let d): return d.isNaN ? "NaN" : (d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : .double(d))
                default: return .string(s.description)
                }
            }
            return items.count == 1 ? items[0] : .array(items)
        }
    }

    /// xarray's v3 `_FillValue` coding: floats are base64 of a little-endian double.
    package static func decodeFill(_ j: JSON, dtype: DType) -> AttributeValue? {
        if let d = ZarrLayout.xarrayFill(j, dtype: dtype) { return try? .scalar(.double(d), dtype: dtype.isNumeric ? dtype : nil) }
        return decode(j)
    }

    package static func encodeFill(_ d: Double, dtype: DType) -> JSON { ZarrLayout.xarrayFillAttribute(d, dtype: dtype) }
}

extension Dataset {
    /// Coordinates that are not dimension coordinates are read when a store is opened if they
    /// take at most this many bytes (64 MiB), so that operations that compare, align or coarsen
    /// them need no extra pass; larger ones stay lazy, like data variables.
    public static let coordinateLoadBytes = 64 << 20

    /// Splits what a backend opened into coordinates (dimension coordinates and those a
    /// `coordinates` attribute names, small ones read now) and data variables, CF-decoded.
    static func splitOpened(_ raw: OrderedDictionary<String, Variable>, coordNames: Set<String>, options: CFDecodeOptions,
                            source: String) async throws -> (coords: OrderedDictionary<String, Variable>, dataVars: OrderedDictionary<String, Variable>) {
        var coords: OrderedDictionary<String, Variable> = [:], dataVars: OrderedDictionary<String, Variable> = [:]
        for (k, v) in raw {
            var decoded = try CF.decode(v, name: k, options: options)
            guard coordNames.contains(k) || v.dims == [k] else { dataVars[k] = decoded; continue }
            if decoded.isLazy && decoded.nbytes <= coordinateLoadBytes {
                do { decoded = try await decoded.load() } catch let e as GyreDataError {
                    throw GyreDataError(.read, "\(source): reading coordinate '\(k)': \(e.message)", cause: e)
                }
            }
            coords[k] = decoded
        }
        return (coords, dataVars)
    }

    /// Opens a Zarr store (v2 or v3, consolidated or not) written with xarray's conventions and
    /// decodes it by the CF conventions. Data variables are lazy: nothing is read until they are
    /// loaded or a region of them is read, and then only the chunks that region touches. Like
    /// xarray, dimension coordinates (which build indexes) are read now, and so are variables
    /// whose decoding depends on their values (times) and strings; other coordinates are read
    /// now when small (``Dataset/coordinateLoadBytes``).
    public static func openZarr(_ store: any ReadableStore, path: String = "", decode options: CFDecodeOptions = CFDecodeOptions()) async throws -> Dataset {
        let group: ZarrGroup
        do { group = try await ZarrGroup.open(store, path: path) } catch let e as GyreZarrError {
            throw GyreDataError(.missingVariable, e.message, cause: e)
        }
        var raw: OrderedDictionary<String, Variable> = [:]
        var coordNames = Set<String>()
        for name in group.arrays.keys.sorted() where !name.contains("/") {
            let arr = try group.array(name)
            let m = arr.metadata
            var attrs: Attributes = [:]
            for (k, v) in m.attributes.sorted(by: { $0.key < $1.key }) where k != "_ARRAY_DIMENSIONS" {
                if k == "_FillValue" { if let f = ZarrAttributes.decodeFill(v, dtype: m.dtype) { attrs[k] = f }; continue }
                if let a = ZarrAttributes.decode(v) { attrs[k] = a }
            }
            guard let dimNames = m.dimensionNames, dimNames.count == m.shape.count, dimNames.allSatisfy({ $0 != nil }) else {
                throw GyreDataError(.dimensionMismatch, "\(store.name): array '\(name)' has no dimension names (_ARRAY_DIMENSIONS or dimension_names); not an xarray-style store")
            }
            // Zarr v2's fill_value doubles as the CF _FillValue (xarray's convention); v3 keeps them apart.
            if m.format == .v2, let f = m.fillValue, attrs["_FillValue"] == nil, m.dtype.isNumeric {
                attrs["_FillValue"] = try .scalar(f, dtype: m.dtype)
            }
            if case .string(let c)? = attrs["coordinates"] {
                coordNames.formUnion(c.split(separator: " ").map(String.init))
                attrs.removeValue(forKey: "coordinates")
            }
            var v = try Variable(dimNames.map { $0! }, lazy: LazyArray(arr), attrs: attrs)
            v.encoding["chunks"] = .values(.int64(NDArray(m.chunkShape.map(Int64.init))))
            if v.dims == [name] || CF.decodingNeedsValues(v, options: options) {
                do { v = try await v.load() } catch let e as GyreDataError {
                    throw GyreDataError(.read, "\(store.name): reading '\(name)': \(e.message)", cause: e)
                }
            }
            raw[name] = v
        }
        var globalAttrs: Attributes = [:]
        for (k, v) in group.attributes.sorted(by: { $0.key < $1.key }) where !k.lowercased().hasPrefix("_nc") {
            if k == "coordinates", let s = v.string { coordNames.formUnion(s.split(separator: " ").map(String.init)); continue }
            if let a = ZarrAttributes.decode(v) { globalAttrs[k] = a }
        }
        let (coords, dataVars) = try await splitOpened(raw, coordNames: coordNames, options: options, source: store.name)
        return try Dataset(dataVars: dataVars, coords: coords, attrs: globalAttrs)
    }

    /// Writes the dataset to a Zarr store with xarray's conventions: CF-encoded variables,
    /// dimension names, `coordinates` attributes, consolidated metadata. The root metadata is
    /// written last, so an interrupted write never opens as a complete store.
    public func writeZarr(to store: any WritableStore & ListableStore, path: String = "", options: ZarrWriteOptions = ZarrWriteOptions(),
                          progress: (@Sendable (ConvertProgress) -> Void)? = nil) async throws {
        let prefix = path.isEmpty ? "" : path + "/"
        let existing = try await store.list(prefix: prefix)
        if !existing.isEmpty {
            guard options.overwrite else {
                throw GyreDataError(.conflict, "\(store.name)/\(path) already holds \(existing.count) keys; pass overwrite to replace it")
            }
            try await store.delete(keys: existing)
        }
        let plan = try zarrPlan(options: options)
        let total = plan.arrays.reduce(0) { $0 + $1.variable.nbytes }
        var done = 0
        for a in plan.arrays {
            let (name, v, meta) = (a.name, a.variable, a.metadata)
            do {
                let arr = try await ZarrArray.create(store, path: prefix + name, metadata: meta, overwrite: true)
                switch v.storage {
                case .eager(let data):
                    try await arr.write(data)
                    done += data.nbytes
                    progress?(ConvertProgress(bytesDone: done, bytesTotal: total, array: name))
                case .lazy(let unprepared):
                    let lazy = try await unprepared.preparedForStreaming()
                    // Streamed: never more than three blocks of the variable in memory (two
                    // being compressed and written, one being read).
                    try await BlockCopy.run(shape: lazy.shape, sourceChunks: lazy.chunks.map { $0.max() ?? 1 }, targetChunks: meta.chunkShape,
                                            read: { try await lazy.read($0) },
                                            write: { origin, data in try await arr.write(data, at: origin) },
                                            written: { bytes in
                                                done += bytes
                                                progress?(ConvertProgress(bytesDone: done, bytesTotal: total, array: name))
                                            })
                }
            } catch let e as GyreZarrError {
                throw GyreDataError(.conflict, "writing '\(name)': \(e.message)", cause: e)
            } catch let e as GyreComputeError {
                throw GyreDataError(.read, "writing '\(name)': \(e.message)", cause: e)
            }
        }
        try await ZarrGroup.create(store, path: path, format: options.format, attributes: plan.attributes)
        try await ZarrGroup.consolidate(store, path: path)
    }

    /// What writing the dataset as Zarr stores, before any chunk is written: each variable
    /// CF-encoded, with the Zarr metadata it gets (chunks, codecs, fill value, attributes,
    /// dimension names), and the group's attributes. `writeZarr` writes it; a served Zarr view
    /// (``DatasetZarrStore``) answers with it.
    ///
    /// With `keepStoredLayout`, a variable that is a whole Zarr array read as stored (no
    /// selection, no decoding maps, no encoding asked for it) keeps that array's layout (chunks,
    /// codecs, fill value; key encoding too in the same format) and is returned as its `stored`
    /// source: its chunks are the stored chunks, byte for byte. That holds for a v2 array in a
    /// v3 view too when it has no filters (its compressor follows the bytes codec).
    package func zarrPlan(options: ZarrWriteOptions, keepStoredLayout: Bool = false) throws
        -> (arrays: [(name: String, variable: Variable, metadata: ZarrArrayMetadata, stored: ZarrArray?)], attributes: JSONObject) {
        for name in options.encoding.keys where variables[name] == nil {
            throw GyreDataError(.missingVariable, "encoding given for '\(name)', which is not a variable; variables are \(Array(variables.keys))")
        }
        let encoded = try encodeCF()
        let nonDimCoords = encoded.coords.keys.filter { !(encoded.variables[$0]!.dims == [$0]) }
        var arrays: [(name: String, variable: Variable, metadata: ZarrArrayMetadata, stored: ZarrArray?)] = []
        for (name, v) in encoded.variables {
            var attrs: JSONObject = [:]
            for (k, a) in v.attrs where k != "_FillValue" { attrs[k] = ZarrAttributes.encode(a) }
            if !encoded.coordNames.contains(name) {
                let mine = nonDimCoords.filter { Set(encoded.variables[$0]!.dims).isSubset(of: v.dims) }
                if !mine.isEmpty { attrs["coordinates"] = .string(mine.joined(separator: " ")) }
            }
            let dims = v.dims
            // Chunks: this variable's encoding, else the per-dimension option, else the chunks it
            // was read with (as xarray keeps them), else one chunk.
            let enc = options.encoding[name]
            let readChunks = v.encoding["chunks"]?.doubles.map { $0.map { Int($0) } } ?? v.lazyData?.chunks.map { $0.max() ?? 1 }
            let chunkShape: [Int]
            if let c = enc?.chunks {
                guard c.count == v.ndim, c.allSatisfy({ $0 > 0 }) else {
                    throw GyreDataError(.invalidArgument, "encoding of '\(name)': chunks \(c) must give one positive length for each of \(dims)")
                }
                chunkShape = zip(c, v.shape).map { Swift.min($0, Swift.max($1, 1)) }
            } else {
                chunkShape = dims.indices.map { i in
                    let n = v.shape[i]
                    let fallback = (readChunks?.count == v.ndim) ? readChunks![i] : n
                    return Swift.max(1, Swift.min(options.chunks[dims[i]] ?? fallback, Swift.max(n, 1)))
                }
            }
            let layout = try ZarrLayout.storage(dims: dims, shape: v.shape, chunks: chunkShape, shards: options.shards,
                                                compressors: enc?.compressors ?? options.compressors, dtype: v.dtype, format: options.format)
            var fill: Scalar? = nil
            if let fv = v.attrs["_FillValue"], let d = fv.doubleValue {
                if options.format == .v2 { fill = try AnyNDArray(scalar: .double(d)).astype(v.dtype).scalarValue }
                else { attrs["_FillValue"] = ZarrAttributes.encodeFill(d, dtype: v.dtype) }
            }
            if options.format == .v3 && fill == nil { fill = ZarrLayout.defaultFill(v.dtype) }
            let meta = try ZarrArrayMetadata(format: options.format, shape: v.shape, chunkShape: layout.chunkShape, dtype: v.dtype, fillValue: fill,
                                             pipeline: layout.pipeline, attributes: attrs, dimensionNames: dims)
            if keepStoredLayout, enc == nil, options.chunks.isEmpty, let lazy = v.lazyData, lazy.isWholeSource, let src = lazy.source as? ZarrArray,
               src.metadata.dtype == v.dtype, src.metadata.shape == v.shape, src.metadata.order == "C" {
                let sm = src.metadata
                if sm.format == options.format, options.format == .v3 || Self.sameFill(sm.fillValue, fill) {
                    // v2's fill value is also the CF _FillValue, so it must agree with the encoding's.
                    var kept = sm
                    kept.attributes = attrs
                    kept.dimensionNames = dims
                    arrays.append((name, v, kept, src))
                    continue
                }
                if sm.format == .v2, options.format == .v3, sm.pipeline.arrayToArray.isEmpty, let f = sm.fillValue, Self.sameFill(f, fill) {
                    // A v2 chunk with no filters is a v3 chunk of the bytes codec and the same
                    // compressor, byte for byte; missing chunks mean the same fill value.
                    let kept = try ZarrArrayMetadata(format: .v3, shape: v.shape, chunkShape: sm.chunkShape, dtype: v.dtype, fillValue: f,
                                                     pipeline: sm.pipeline, attributes: attrs, dimensionNames: dims)
                    arrays.append((name, v, kept, src))
                    continue
                }
            }
            arrays.append((name, v, meta, nil))
        }
        var gattrs: JSONObject = [:]
        for (k, a) in attrs { gattrs[k] = ZarrAttributes.encode(a) }
        return (arrays, gattrs)
    }

    /// Fill values alike, NaN equal to NaN.
    static func sameFill(_ a: Scalar?, _ b: Scalar?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (.float32(let x)?, .float32(let y)?): return x == y || (x.isNaN && y.isNaN)
        case (.double(let x)?, .double(let y)?): return x == y || (x.isNaN && y.isNaN)
        case (let x?, let y?): return x == y
        default: return false
        }
    }
}

extension Dataset {
    /// Whether any variable is still lazy.
    public var isLazy: Bool { variables.values.contains { $0.isLazy } }

    /// The dataset with every variable's values in memory (xarray's `load()`).
    public func load() async throws -> Dataset {
        var out = self
        for (k, v) in variables where v.isLazy {
            let loaded: Variable
            do { loaded = try await v.load() } catch let e as GyreDataError {
                throw GyreDataError(e.code, "variable '\(k)': \(e.message)", cause: e)
            }
            try out.replaceVariable(k, loaded)
        }
        return out
    }
}

extension DataArray {
    /// The array (and its coordinates) with values in memory.
    public func load() async throws -> DataArray {
        try await DataArray.fromTempDataset(toTempDataset().load(), name: name)
    }
}

extension Dataset {
    /// Writes the dataset as a Zarr store at `path` (xarray's `to_zarr`): per-variable chunks and
    /// codecs through `options.encoding`, consolidated metadata. Lazy variables stream block by
    /// block, so a dataset larger than memory can be written.
    public func write(to path: String, options: ZarrWriteOptions = ZarrWriteOptions(), storageOptions: [String: String] = [:]) async throws {
        try await writeZarr(to: Dataset.writableStore(path, storageOptions: storageOptions), options: options)
    }

    /// The store a Zarr output goes to: a local directory, or `s3://` (or `file://`) with
    /// fsspec's storage options. HTTP stores are read-only.
    public static func writableStore(_ location: String, storageOptions: [String: String] = [:]) throws -> any WritableStore & ListableStore {
        let store = try StoreResolver.store(for: location, options: storageOptions)
        guard let w = store as? any WritableStore & ListableStore else {
            throw GyreDataError(.invalidArgument, "\(store.name): Gyre cannot write there (HTTP stores are read-only); write to a path or an s3:// URL")
        }
        return w
    }
}
