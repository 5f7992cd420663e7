import GyreCore
import GyreArrays

/// A codec of any kind.
public enum AnyCodec: Sendable {
    case arrayToArray(any ArrayToArrayCodec)
    case arrayToBytes(any ArrayToBytesCodec)
    case bytesToBytes(any BytesToBytesCodec)

    public var kind: CodecKind {
        switch self { case .arrayToArray: return .arrayToArray; case .arrayToBytes: return .arrayToBytes; case .bytesToBytes: return .bytesToBytes }
    }
}

/// Builds codecs from their JSON configurations: Zarr v3 (`{"name", "configuration"}`) and
/// numcodecs / Zarr v2 (`{"id", ...}`).
public enum CodecRegistry {
    static func int(_ c: JSONObject, _ k: String, _ d: Int64, _ codec: String) throws -> Int64 {
        guard let v = c[k] else { return d }
        guard let i = v.integer else { throw GyreCodecsError(.invalidConfiguration, "\(codec): '\(k)' must be an integer, got \(v)") }
        return i
    }

    /// A codec from its Zarr v3 form. `dtype` is the dtype of the array the codec sees (for
    /// codecs whose defaults depend on it).
    public static func v3(_ json: JSON, dtype: DType) throws -> AnyCodec {
        guard let name = json["name"]?.string else {
            throw GyreCodecsError(.invalidConfiguration, "codec entry \(json) has no 'name'")
        }
        let c = json["configuration"]?.object ?? [:]
        switch name {
        case "bytes":
            let endian = c["endian"]?.string ?? "little"
            guard endian == "little" || endian == "big" else { throw GyreCodecsError(.invalidConfiguration, "bytes: endian '\(endian)'") }
            return .arrayToBytes(BytesCodec(bigEndian: endian == "big"))
        case "transpose":
            guard let order = c["order"]?.array?.compactMap({ $0.integer }).map({ Int($0) }) else {
                throw GyreCodecsError(.invalidConfiguration, "transpose: 'order' must be a list of integers")
            }
            return .arrayToArray(try TransposeCodec(order: order))
        case "vlen-utf8": return .arrayToBytes(VLenUTF8Codec())
        case "crc32c", "numcodecs.crc32c": return .bytesToBytes(CRC32CCodec())
        case "fletcher32", "numcodecs.fletcher32": return .bytesToBytes(Fletcher32Codec())
        case "zstd", "numcodecs.zstd":
            return .bytesToBytes(ZstdCodec(level: Int32(try int(c, "level", 3, name)), checksum: c["checksum"]?.bool ?? false))
        case "gzip", "numcodecs.gzip": return .bytesToBytes(ZlibCodec(level: Int32(try int(c, "level", 5, name)), format: .gzip))
        case "numcodecs.zlib", "zlib": return .bytesToBytes(ZlibCodec(level: Int32(try int(c, "level", 1, name)), format: .zlib))
        case "numcodecs.lz4", "lz4": return .bytesToBytes(LZ4Codec(acceleration: Int32(try int(c, "acceleration", 1, name))))
        case "numcodecs.shuffle", "shuffle":
            return .bytesToBytes(ShuffleCodec(elementSize: Int(try int(c, "elementsize", Int64(dtype.itemSize), name))))
        case "numcodecs.delta", "delta":
            return .arrayToArray(try delta(c, dtype: dtype))
        case "sharding_indexed":
            guard let inner = c["chunk_shape"]?.array?.compactMap({ $0.integer }).map({ Int($0) }) else {
                throw GyreCodecsError(.invalidConfiguration, "sharding_indexed: 'chunk_shape' must be a list of integers")
            }
            let codecs = try pipeline(c["codecs"]?.array ?? [["name": "bytes"]], dtype: dtype)
            let index = try pipeline(c["index_codecs"]?.array ?? [["name": "bytes"], ["name": "crc32c"]], dtype: .uint64)
            let loc = c["index_location"]?.string ?? "end"
            guard loc == "end" || loc == "start" else { throw GyreCodecsError(.invalidConfiguration, "sharding_indexed: index_location '\(loc)'") }
            return .arrayToBytes(try ShardingCodec(chunkShape: inner, codecs: codecs, indexCodecs: index, indexAtEnd: loc == "end"))
        case "blosc":
            let shuffleName = c["shuffle"]?.string ?? "noshuffle"
            guard let shuffle = BloscCodec.Shuffle(rawValue: shuffleName) else {
                throw GyreCodecsError(.invalidConfiguration, "blosc: shuffle '\(shuffleName)' is not noshuffle, shuffle or bitshuffle")
            }
            return .bytesToBytes(try BloscCodec(cname: c["cname"]?.string ?? "zstd", clevel: Int32(try int(c, "clevel", 5, name)), shuffle: shuffle,
                                                typesize: Int(try int(c, "typesize", Int64(dtype.itemSize), name)), blocksize: Int(try int(c, "blocksize", 0, name))))
        default:
            throw GyreCodecsError(.unknownCodec, "unknown codec '\(name)'")
        }
    }

    /// A pipeline from a Zarr v3 `codecs` list (checks the array -> array, array -> bytes,
    /// bytes -> bytes order).
    public static func pipeline(_ list: [JSON], dtype: DType) throws -> CodecPipeline {
        var a2a: [any ArrayToArrayCodec] = [], a2b: (any ArrayToBytesCodec)?, b2b: [any BytesToBytesCodec] = []
        var d = dtype
        for entry in list {
            switch try v3(entry, dtype: d) {
            case .arrayToArray(let c):
                guard a2b == nil else { throw GyreCodecsError(.invalidConfiguration, "codec '\(c.name)' (array -> array) comes after the array -> bytes codec") }
                a2a.append(c)
                if let delta = c as? DeltaCodec { d = delta.astype }
            case .arrayToBytes(let c):
                guard a2b == nil else { throw GyreCodecsError(.invalidConfiguration, "two array -> bytes codecs ('\(a2b!.name)' and '\(c.name)')") }
                a2b = c
            case .bytesToBytes(let c):
                guard a2b != nil else { throw GyreCodecsError(.invalidConfiguration, "codec '\(c.name)' (bytes -> bytes) comes before the array -> bytes codec") }
                b2b.append(c)
            }
        }
        guard let a2b else { throw GyreCodecsError(.invalidConfiguration, "the codec list has no array -> bytes codec") }
        return CodecPipeline(arrayToArray: a2a, arrayToBytes: a2b, bytesToBytes: b2b)
    }

    static func delta(_ c: JSONObject, dtype: DType) throws -> DeltaCodec {
        func parse(_ k: String) throws -> DType? {
            guard let s = c[k]?.string else { return nil }
            guard let d = try? parseNumpyDescr(s).0 else { throw GyreCodecsError(.invalidConfiguration, "delta: unknown dtype '\(s)'") }
            return d
        }
        let d = try parse("dtype") ?? dtype
        return DeltaCodec(dtype: d, astype: try parse("astype") ?? d)
    }

    /// A codec from its numcodecs (Zarr v2) form. `itemSize` is the array's element size (blosc
    /// typesize, shuffle element size).
    public static func numcodecs(_ json: JSON, dtype: DType) throws -> AnyCodec {
        guard let id = json["id"]?.string, let c = json.object else {
            throw GyreCodecsError(.invalidConfiguration, "codec entry \(json) has no 'id'")
        }
        switch id {
        case "zstd": return .bytesToBytes(ZstdCodec(level: Int32(try int(c, "level", 1, id)), checksum: c["checksum"]?.bool ?? false))
        case "zlib": return .bytesToBytes(ZlibCodec(level: Int32(try int(c, "level", 1, id)), format: .zlib))
        case "gzip": return .bytesToBytes(ZlibCodec(level: Int32(try int(c, "level", 1, id)), format: .gzip))
        case "lz4": return .bytesToBytes(LZ4Codec(acceleration: Int32(try int(c, "acceleration", 1, id))))
        case "crc32c": return .bytesToBytes(CRC32CCodec())
        case "fletcher32": return .bytesToBytes(Fletcher32Codec())
        case "shuffle": return .bytesToBytes(ShuffleCodec(elementSize: Int(try int(c, "elementsize", 4, id))))
        case "delta": return .arrayToArray(try delta(c, dtype: dtype))
        case "vlen-utf8": return .arrayToBytes(VLenUTF8Codec())
        case "blosc":
            let code = try int(c, "shuffle", 1, id)
            let shuffle: BloscCodec.Shuffle
            switch code {
            case -1: shuffle = dtype.itemSize == 1 ? .bitshuffle : .shuffle  // AUTOSHUFFLE
            case 0: shuffle = .noshuffle
            case 1: shuffle = .shuffle
            case 2: shuffle = .bitshuffle
            default: throw GyreCodecsError(.invalidConfiguration, "blosc: shuffle \(code) is not -1, 0, 1 or 2")
            }
            return .bytesToBytes(try BloscCodec(cname: c["cname"]?.string ?? "lz4", clevel: Int32(try int(c, "clevel", 5, id)), shuffle: shuffle,
                                                typesize: dtype.itemSize, blocksize: Int(try int(c, "blocksize", 0, id))))
        default:
            throw GyreCodecsError(.unknownCodec, "unknown codec '\(id)'")
        }
    }

    /// The numcodecs (Zarr v2) form of a bytes-to-bytes codec, for writing v2 metadata.
    public static func numcodecsConfiguration(_ codec: any Codec) -> JSON? {
        switch codec {
        case let z as ZstdCodec: return ["id": "zstd", "level": .int(Int64(z.level)), "checksum": .bool(z.checksum)]
        case let z as ZlibCodec: return ["id": .string(z.name), "level": .int(Int64(z.level))]
        case let l as LZ4Codec: return ["id": "lz4", "acceleration": .int(Int64(l.acceleration))]
        case let b as BloscCodec:
            return ["id": "blosc", "cname": .string(b.cname), "clevel": .int(Int64(b.clevel)), "shuffle": .int(Int64(b.shuffle.code)), "blocksize": .int(Int64(b.blocksize))]
        case is CRC32CCodec: return ["id": "crc32c"]
        case is Fletcher32Codec: return ["id": "fletcher32"]
        case let s as ShuffleCodec: return ["id": "shuffle", "elementsize": .int(Int64(s.elementSize))]
        case let d as DeltaCodec: return ["id": "delta", "dtype": .string(numpyName(d.dtype)), "astype": .string(numpyName(d.astype))]
        case is VLenUTF8Codec: return ["id": "vlen-utf8"]
        default: return nil
        }
    }
}

extension CodecRegistry {
    /// Compressors by the command line's and recipes' spelling: `zstd:LEVEL`,
    /// `blosc:CNAME:LEVEL[:shuffle|bitshuffle|noshuffle]`, `zlib:LEVEL`, `gzip:LEVEL`, `lz4`, `none`.
    public static func compressors(spec: String) throws -> [any BytesToBytesCodec] {
        let parts = spec.split(separator: ":").map(String.init)
        func fail(_ why: String) -> GyreCodecsError { GyreCodecsError(.invalidConfiguration, "codec '\(spec)': \(why)") }
        func level(_ i: Int, _ d: Int32, _ range: ClosedRange<Int32>) throws -> Int32 {
            guard parts.count > i else { return d }
            guard let l = Int32(parts[i]), range.contains(l) else { throw fail("level '\(parts[i])' is not in \(range)") }
            return l
        }
        switch parts.first ?? "" {
        case "none": return []
        case "zstd": return [ZstdCodec(level: try level(1, 3, -7...22))]
        case "zlib": return [ZlibCodec(level: try level(1, 1, 0...9), format: .zlib)]
        case "gzip": return [ZlibCodec(level: try level(1, 5, 0...9), format: .gzip)]
        case "lz4": return [LZ4Codec()]
        case "blosc":
            guard parts.count >= 2 else { throw fail("blosc needs a compressor name, e.g. blosc:lz4:5") }
            let shuffle = parts.count > 3 ? BloscCodec.Shuffle(rawValue: parts[3]) : .shuffle
            guard let shuffle else { throw fail("shuffle must be shuffle, bitshuffle or noshuffle") }
            do { return [try BloscCodec(cname: parts[1], clevel: try level(2, 5, 0...9), shuffle: shuffle, typesize: 1)] } catch let e as GyreCodecsError {
                throw fail(e.message)
            }
        default:
            throw GyreCodecsError(.invalidConfiguration, "unknown codec '\(spec)'; use zstd:LEVEL, blosc:CNAME:LEVEL[:SHUFFLE], zlib:LEVEL, gzip:LEVEL, lz4 or none")
        }
    }
}
