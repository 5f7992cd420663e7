import GyreCore
import GyreArrays

/// Zarr v3 `sharding_indexed`: a shard holds a grid of inner chunks, each encoded with `codecs`,
/// back to back, plus an index of (offset, nbytes) per inner chunk (both 2^64-1 for a missing
/// chunk) encoded with `indexCodecs` at the start or end of the shard.
public struct ShardingCodec: ArrayToBytesCodec {
    public let chunkShape: [Int]
    public let codecs: CodecPipeline
    public let indexCodecs: CodecPipeline
    public let indexAtEnd: Bool
    /// Value of missing inner chunks (set from the array's fill value).
    public var fillValue: Scalar?
    public var name: String { "sharding_indexed" }

    public static let missing = UInt64.max

    public init(chunkShape: [Int], codecs: CodecPipeline = CodecPipeline(), indexCodecs: CodecPipeline = CodecPipeline(bytesToBytes: [CRC32CCodec()]),
                indexAtEnd: Bool = true, fillValue: Scalar? = nil) throws {
        guard !chunkShape.isEmpty, chunkShape.allSatisfy({ $0 > 0 }) else {
            throw GyreCodecsError(.invalidConfiguration, "sharding_indexed: inner chunk shape \(chunkShape) must be positive")
        }
        guard indexCodecs.arrayToArray.isEmpty, indexCodecs.arrayToBytes is BytesCodec,
              indexCodecs.bytesToBytes.allSatisfy({ $0 is CRC32CCodec }) else {
            throw GyreCodecsError(.unsupported, "sharding_indexed: index codecs must be bytes [+ crc32c] (a fixed-size index)")
        }
        self.chunkShape = chunkShape
        self.codecs = codecs
        self.indexCodecs = indexCodecs
        self.indexAtEnd = indexAtEnd
        self.fillValue = fillValue
    }

    public var v3Configuration: JSON {
        .object(["name": "sharding_indexed", "configuration": .object([
            "chunk_shape": .array(chunkShape.map { .int(Int64($0)) }),
            "codecs": codecs.v3Configuration, "index_codecs": indexCodecs.v3Configuration,
            "index_location": indexAtEnd ? "end" : "start"])])
    }

    /// Inner chunks per dimension for a shard of `shape`.
    public func innerGrid(_ shape: [Int]) throws -> [Int] {
        guard shape.count == chunkShape.count else {
            throw GyreCodecsError(.invalidConfiguration, "sharding_indexed: inner chunk shape \(chunkShape) does not fit shard shape \(shape)")
        }
        for (s, c) in zip(shape, chunkShape) where s % c != 0 {
            throw GyreCodecsError(.invalidConfiguration, "sharding_indexed: shard shape \(shape) is not a multiple of inner chunk shape \(chunkShape)")
        }
        return zip(shape, chunkShape).map { $0 / $1 }
    }

    /// Size in bytes of the encoded index for `count` inner chunks.
    public func indexByteCount(_ count: Int) -> Int { 16 * count + 4 * indexCodecs.bytesToBytes.count }

    /// Decodes an index into (offset, nbytes) pairs in C order of the inner grid.
    public func decodeIndex(_ bytes: [UInt8], count: Int) throws -> [(offset: UInt64, nbytes: UInt64)] {
        let arr = try indexCodecs.decode(bytes, shape: [count, 2], dtype: .uint64)
        guard case .uint64(let a) = arr else { throw GyreCodecsError(.corrupt, "sharding_indexed: bad index") }
        let e = a.elements
        return (0..<count).map { (e[2 * $0], e[2 * $0 + 1]) }
    }

    func innerRegion(_ index: [Int]) -> [AxisIndex] {
        zip(index, chunkShape).map { .slice(Slice($0 * $1, ($0 + 1) * $1)) }
    }

    public func encode(_ array: AnyNDArray) throws -> [UInt8] {
        let grid = try innerGrid(array.shape)
        let n = grid.reduce(1, *)
        var index = [UInt64](repeating: ShardingCodec.missing, count: 2 * n)
        var body: [UInt8] = []
        var idx = [Int](repeating: 0, count: grid.count)
        for k in 0..<n {
            let sub = try array.index(innerRegion(idx)).contiguous()
            if try !(fillValue.map { try sub.allEqual(to: $0) } ?? false) {
                let enc = try codecs.encode(sub)
                index[2 * k] = UInt64(body.count)
                index[2 * k + 1] = UInt64(enc.count)
                body.append(contentsOf: enc)
            }
            var d = grid.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < grid[d] { break }; idx[d] = 0; d -= 1 }
        }
        let indexSize = indexByteCount(n)
        if !indexAtEnd {
            for k in 0..<n where index[2 * k] != ShardingCodec.missing { index[2 * k] += UInt64(indexSize) }
        }
        let indexBytes = try indexCodecs.encode(.uint64(try NDArray(shape: [n, 2], index)))
        return indexAtEnd ? body + indexBytes : indexBytes + body
    }

    public func decode(_ bytes: [UInt8], shape: [Int], dtype: DType) throws -> AnyNDArray {
        let grid = try innerGrid(shape)
        let n = grid.reduce(1, *)
        let isz = indexByteCount(n)
        guard bytes.count >= isz else {
            throw GyreCodecsError(.corrupt, "sharding_indexed: \(bytes.count) bytes is too short for an index of \(isz) bytes")
        }
        let indexBytes = indexAtEnd ? Array(bytes.suffix(isz)) : Array(bytes.prefix(isz))
        let index = try decodeIndex(indexBytes, count: n)
        var out = try AnyNDArray.full(shape, fillValue ?? .int(0), dtype: dtype)
        var idx = [Int](repeating: 0, count: grid.count)
        for k in 0..<n {
            let (off, nb) = index[k]
            if !(off == ShardingCodec.missing && nb == ShardingCodec.missing) {
                guard off <= UInt64(bytes.count), nb <= UInt64(bytes.count) - off else {
                    throw GyreCodecsError(.corrupt, "sharding_indexed: inner chunk \(idx) at bytes \(off)+\(nb) lies outside the \(bytes.count)-byte shard")
                }
                let chunk = try codecs.decode(Array(bytes[Int(off)..<Int(off + nb)]), shape: chunkShape, dtype: dtype)
                try out.assign(innerRegion(idx), from: chunk)
            }
            var d = grid.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < grid[d] { break }; idx[d] = 0; d -= 1 }
        }
        return out
    }
}
