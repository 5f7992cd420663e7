import GyreCore
import GyreArrays
import GyreCodecs

/// Everything needed to read and write one Zarr array, from either format.
public struct ZarrArrayMetadata: Sendable {
    public enum Format: Int, Sendable { case v2 = 2, v3 = 3 }
    /// How chunk coordinates become store keys.
    public enum KeyEncoding: Sendable, Equatable {
        /// v3 default: "c/0/1" (or "c.0.1" with "." as separator).
        case `default`(separator: String)
        /// v2 style: "0.1" (or "0/1").
        case v2(separator: String)
    }

    public var format: Format
    public var shape: [Int]
    /// The chunk (or shard, when sharded) shape.
    public var chunkShape: [Int]
    public var dtype: DType
    public var fillValue: Scalar?
    public var pipeline: CodecPipeline
    public var keyEncoding: KeyEncoding
    public var attributes: JSONObject
    public var dimensionNames: [String?]?
    /// v2 only: the memory order chunks are stored in ("C" or "F").
    public var order: String = "C"

    public init(format: Format, shape: [Int], chunkShape: [Int], dtype: DType, fillValue: Scalar?, pipeline: CodecPipeline,
                keyEncoding: KeyEncoding? = nil, attributes: JSONObject = [:], dimensionNames: [String?]? = nil) throws {
        guard shape.count == chunkShape.count else {
            throw GyreZarrError(.metadata, "chunk shape \(chunkShape) does not match array shape \(shape)")
        }
        guard shape.allSatisfy({ $0 >= 0 }), chunkShape.allSatisfy({ $0 > 0 }) else {
            throw GyreZarrError(.metadata, "shape \(shape) and chunk shape \(chunkShape) must be non-negative and positive")
        }
        // Absurd sizes are errors here, before anything tries to allocate them.
        var elements = 1, chunkElements = 1
        for n in shape {
            let (p, o) = elements.multipliedReportingOverflow(by: n)
            guard !o else { throw GyreZarrError(.metadata, "shape \(shape) has more elements than can be addressed") }
            elements = p
        }
        guard !elements.multipliedReportingOverflow(by: Swift.max(dtype.itemSize, 1)).overflow else {
            throw GyreZarrError(.metadata, "shape \(shape) of \(dtype) has more bytes than can be addressed")
        }
        for n in chunkShape {
            let (p, o) = chunkElements.multipliedReportingOverflow(by: n)
            guard !o, p <= ZarrArrayMetadata.maxChunkBytes / Swift.max(dtype.itemSize, 1) else {
                throw GyreZarrError(.metadata, "chunk shape \(chunkShape) of \(dtype) exceeds \(ZarrArrayMetadata.maxChunkBytes >> 30) GiB per chunk")
            }
            chunkElements = p
        }
        self.format = format
        self.shape = shape
        self.chunkShape = chunkShape
        self.dtype = dtype
        self.fillValue = fillValue
        self.pipeline = pipeline
        self.keyEncoding = keyEncoding ?? (format == .v3 ? .default(separator: "/") : .v2(separator: "."))
        self.attributes = attributes
        self.dimensionNames = dimensionNames
        if var s = pipeline.arrayToBytes as? ShardingCodec {
            s.fillValue = fillValue
            self.pipeline.arrayToBytes = s
        }
    }

    /// The largest chunk (or shard) Gyre will decode: 16 GiB.
    public static let maxChunkBytes = 16 << 30

    /// Chunks per dimension.
    public var chunkGrid: [Int] { zip(shape, chunkShape).map { ($0 + $1 - 1) / $1 } }

    /// The store key of a chunk (relative to the array).
    public func chunkKey(_ index: [Int]) -> String {
        switch keyEncoding {
        case .default(let sep): return index.isEmpty ? "c" : "c" + sep + index.map(String.init).joined(separator: sep)
        case .v2(let sep): return index.isEmpty ? "0" : index.map(String.init).joined(separator: sep)
        }
    }

    /// Whether chunks (or, when sharded, inner chunks) are elements in this machine's byte order
    /// under at most one compressor: then they can be decoded into, and encoded from, array
    /// memory directly.
    static func isNativeSingleCompressor(_ p: CodecPipeline) -> Bool {
        guard p.arrayToArray.isEmpty, let b = p.arrayToBytes as? BytesCodec, p.bytesToBytes.count <= 1 else { return false }
        return b.bigEndian == (UInt16(1).bigEndian == 1)
    }

    /// The sharding codec, when chunks are shards.
    public var sharding: ShardingCodec? { pipeline.arrayToBytes as? ShardingCodec }

    // MARK: Parsing

    /// Parses v2 `.zarray` (and `.zattrs`) JSON.
    public static func v2(_ j: JSON, attributes: JSON?, source: String) throws -> ZarrArrayMetadata {
        func fail(_ why: String) -> GyreZarrError { GyreZarrError(.metadata, "\(source): \(why)") }
        guard j["zarr_format"]?.integer == 2 else { throw fail("zarr_format is not 2") }
        guard let shape = j["shape"]?.array?.compactMap({ $0.integer }).map({ Int($0) }),
              let chunks = j["chunks"]?.array?.compactMap({ $0.integer }).map({ Int($0) }) else {
            throw fail("'shape' and 'chunks' must be lists of integers")
        }
        guard let dtypeText = j["dtype"]?.string else {
            throw GyreZarrError(.unsupported, "\(source): dtype \(j["dtype"] ?? "missing") (structured dtypes are not supported)")
        }
        let (dtype, bigEndian) = try ZarrTypes.v2(dtypeText, source: source)
        let order = j["order"]?.string ?? "C"
        guard order == "C" || order == "F" else { throw fail("order '\(order)' is not C or F") }
        var a2a: [any ArrayToArrayCodec] = []
        if order == "F" && shape.count > 1 { a2a.append(try TransposeCodec(order: Array((0..<shape.count).reversed()))) }
        var a2b: any ArrayToBytesCodec = BytesCodec(bigEndian: bigEndian)
        var b2b: [any BytesToBytesCodec] = []
        for f in j["filters"]?.array ?? [] {
            let codec: AnyCodec
            do { codec = try CodecRegistry.numcodecs(f, dtype: dtype) } catch let e as GyreCodecsError { throw GyreZarrError(.unsupported, "\(source): filter: \(e.message)", cause: e) }
            switch codec {
            case .arrayToArray(let c):
                guard b2b.isEmpty else { throw GyreZarrError(.unsupported, "\(source): array filter '\(c.name)' after a bytes filter") }
                a2a.append(c)
            case .arrayToBytes(let c): a2b = c
            case .bytesToBytes(let c): b2b.append(c)
            }
        }
        if dtype == .string(.variable) && !(a2b is VLenUTF8Codec) {
            throw GyreZarrError(.unsupported, "\(source): object dtype without a vlen-utf8 filter")
        }
        if let comp = j["compressor"], comp != .null {
            do {
                guard case .bytesToBytes(let c) = try CodecRegistry.numcodecs(comp, dtype: dtype) else { throw fail("compressor \(comp) is not a compressor") }
                b2b.append(c)
            } catch let e as GyreCodecsError { throw GyreZarrError(.unsupported, "\(source): compressor: \(e.message)", cause: e) }
        }
        let sep = j["dimension_separator"]?.string ?? "."
        guard sep == "." || sep == "/" else { throw fail("dimension_separator '\(sep)'") }
        let fill = try ZarrTypes.fill(j["fill_value"], dtype: dtype, source: source)
        var m = try ZarrArrayMetadata(format: .v2, shape: shape, chunkShape: chunks, dtype: dtype, fillValue: fill,
                                      pipeline: CodecPipeline(arrayToArray: a2a, arrayToBytes: a2b, bytesToBytes: b2b),
                                      keyEncoding: .v2(separator: sep), attributes: attributes?.object ?? [:])
        m.order = order
        if case .array(let dims)? = attributes?["_ARRAY_DIMENSIONS"] { m.dimensionNames = dims.map { $0.string } }
        return m
    }

    /// Parses a v3 array `zarr.json`.
    public static func v3(_ j: JSON, source: String) throws -> ZarrArrayMetadata {
        func fail(_ why: String) -> GyreZarrError { GyreZarrError(.metadata, "\(source): \(why)") }
        guard j["zarr_format"]?.integer == 3 else { throw fail("zarr_format is not 3") }
        guard j["node_type"]?.string == "array" else { throw fail("node_type is not 'array'") }
        guard let shape = j["shape"]?.array?.compactMap({ $0.integer }).map({ Int($0) }) else { throw fail("'shape' must be a list of integers") }
        guard j["chunk_grid"]?["name"]?.string == "regular",
              let chunks = j["chunk_grid"]?["configuration"]?["chunk_shape"]?.array?.compactMap({ $0.integer }).map({ Int($0) }) else {
            throw GyreZarrError(.unsupported, "\(source): only regular chunk grids are supported, got \(j["chunk_grid"] ?? "none")")
        }
        guard let dt = j["data_type"] else { throw fail("no data_type") }
        let dtype = try ZarrTypes.v3(dt, source: source)
        if let st = j["storage_transformers"]?.array, !st.isEmpty {
            throw GyreZarrError(.unsupported, "\(source): storage transformers \(st)")
        }
        let pipeline: CodecPipeline
        do { pipeline = try CodecRegistry.pipeline(j["codecs"]?.array ?? [], dtype: dtype) } catch let e as GyreCodecsError {
            throw GyreZarrError(e.code == .unknownCodec ? .unsupported : .metadata, "\(source): \(e.message)", cause: e)
        }
        var keys = KeyEncoding.default(separator: "/")
        if let cke = j["chunk_key_encoding"] {
            let sep = cke["configuration"]?["separator"]?.string
            switch cke["name"]?.string {
            case "default": keys = .default(separator: sep ?? "/")
            case "v2": keys = .v2(separator: sep ?? ".")
            default: throw GyreZarrError(.unsupported, "\(source): chunk_key_encoding \(cke)")
            }
        }
        let fill = try ZarrTypes.fill(j["fill_value"], dtype: dtype, source: source)
        let names = j["dimension_names"]?.array?.map { $0.string }
        return try ZarrArrayMetadata(format: .v3, shape: shape, chunkShape: chunks, dtype: dtype, fillValue: fill, pipeline: pipeline,
                                     keyEncoding: keys, attributes: j["attributes"]?.object ?? [:], dimensionNames: names)
    }

    // MARK: Serializing

    /// The v3 `zarr.json` document.
    public var v3JSON: JSON {
        var o: JSONObject = [
            "zarr_format": 3, "node_type": "array",
            "shape": .array(shape.map { .int(Int64($0)) }),
            "data_type": ZarrTypes.v3JSON(dtype),
            "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": .array(chunkShape.map { .int(Int64($0)) })]],
            "fill_value": ZarrTypes.fillJSON(fillValue, dtype: dtype, v2: false),
            "codecs": pipeline.v3Configuration,
            "attributes": .object(attributes),
        ]
        switch keyEncoding {
        case .default(let s): o["chunk_key_encoding"] = ["name": "default", "configuration": ["separator": .string(s)]]
        case .v2(let s): o["chunk_key_encoding"] = ["name": "v2", "configuration": ["separator": .string(s)]]
        }
        if let dimensionNames { o["dimension_names"] = .array(dimensionNames.map { $0.map { .string($0) } ?? .null }) }
        return .object(o)
    }

    /// The v2 `.zarray` document (fails for pipelines v2 cannot express).
    public func v2JSON() throws -> JSON {
        var filters: [JSON] = []
        let bytesCodec = pipeline.arrayToBytes
        var bigEndian = false
        if let b = bytesCodec as? BytesCodec { bigEndian = b.bigEndian }
        else if bytesCodec is VLenUTF8Codec { filters.append(["id": "vlen-utf8"]) }
        else { throw GyreZarrError(.unsupported, "Zarr v2 cannot express the '\(bytesCodec.name)' codec (sharding needs v3)") }
        var ord = "C"
        for c in pipeline.arrayToArray {
            if let t = c as? TransposeCodec, t.order == Array((0..<shape.count).reversed()) { ord = "F"; continue }
            guard let cfg = CodecRegistry.numcodecsConfiguration(c) else { throw GyreZarrError(.unsupported, "Zarr v2 cannot express the '\(c.name)' codec") }
            filters.append(cfg)
        }
        var compressor: JSON = .null
        for (i, c) in pipeline.bytesToBytes.enumerated() {
            guard let cfg = CodecRegistry.numcodecsConfiguration(c) else { throw GyreZarrError(.unsupported, "Zarr v2 cannot express the '\(c.name)' codec") }
            if i == pipeline.bytesToBytes.count - 1 { compressor = cfg } else { filters.append(cfg) }
        }
        let sep: String
        switch keyEncoding { case .v2(let s): sep = s; case .default(let s): sep = s }
        return .object([
            "zarr_format": 2, "shape": .array(shape.map { .int(Int64($0)) }), "chunks": .array(chunkShape.map { .int(Int64($0)) }),
            "dtype": .string(dtype == .string(.variable) ? "|O" : numpyName(dtype, bigEndian: bigEndian)),
            "fill_value": ZarrTypes.fillJSON(fillValue, dtype: dtype, v2: true),
            "order": .string(ord), "filters": filters.isEmpty ? .null : .array(filters),
            "compressor": compressor, "dimension_separator": .string(sep),
        ])
    }
}
