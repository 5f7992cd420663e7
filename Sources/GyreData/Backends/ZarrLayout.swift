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
        default: return .int(0)
        }
    }
}
