import Foundation
import GyreArrays
import GyreCodecs
import GyreCore

/// How a variable is laid out in a new Zarr array: shared by `ZarrConverter` and GyreData's
/// `writeZarr`.
package enum ZarrLayout {
    /// Compressors adapted to the element size (blosc shuffles by its typesize).
    package static func compressors(_ codecs: [any BytesToBytesCodec], dtype: DType) -> [any BytesToBytesCodec] {
        codecs.map { c in
            guard let b = c as? BloscCodec else { return c }
            return (try? BloscCodec(cname: b.cname, clevel: b.clevel, shuffle: b.shuffle, typesize: dtype.itemSize, blocksize: b.blocksize)) ?? b
        }
    }

    /// The stored chunk shape and codec pipeline for chunks of `chunks`: with `shards` naming any
    /// dimension (v3, fixed-size types), the chunks become inner chunks of shards that are whole
    /// multiples of them.
    package static func storage(dims: [String], shape: [Int], chunks: [Int], shards: [String: Int], compressors: [any BytesToBytesCodec],
                        dtype: DType, format: ZarrArrayMetadata.Format) throws -> (chunkShape: [Int], pipeline: CodecPipeline) {
        let isString = dtype == .string(.variable)
        let pipeline = CodecPipeline(arrayToBytes: isString ? VLenUTF8Codec() : BytesCodec(),
                                     bytesToBytes: ZarrLayout.compressors(compressors, dtype: dtype))
        // A 0-d array has no dimension to shard along (and sharding needs an inner chunk shape).
        guard format == .v3, !shards.isEmpty, !isString, !shape.isEmpty else { return (chunks, pipeline) }
        let shardShape = zip(dims, zip(shape, chunks)).map { d, p -> Int in
            guard let s = shards[d] else { return p.1 }
            return Swift.max(p.1, (Swift.min(s, Swift.max(p.0, 1)) + p.1 - 1) / p.1 * p.1)
        }
        return (shardShape, CodecPipeline(arrayToBytes: try ShardingCodec(chunkShape: chunks, codecs: pipeline)))
    }

    /// The fill value a v3 array gets when the data has none: NaN, "", false or 0.
    package static func defaultFill(_ dtype: DType) -> Scalar {
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

    /// xarray's v3 `_FillValue` attribute for a fill value: floats as base64 of a little-endian
    /// double, integers as numbers.
    package static func xarrayFillAttribute(_ d: Double, dtype: DType) -> JSON {
        if dtype.isFloatingPoint {
            var bits = d.bitPattern.littleEndian
            return .string(Data(bytes: &bits, count: 8).base64EncodedString())
        }
        return .int(Int64(d))
    }

    /// The value of such an attribute (nil when it is neither a number nor a base64 double).
    package static func xarrayFill(_ j: JSON, dtype: DType) -> Double? {
        if dtype.isFloatingPoint, let s = j.string, let data = Data(base64Encoded: s), data.count == 8 {
            let bits = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            return Double(bitPattern: UInt64(littleEndian: bits))
        }
        return j.number
    }
}
