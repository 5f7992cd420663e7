import GyreCore
import GyreArrays

/// The three kinds of codec, as Zarr v3 names them.
public enum CodecKind: String, Sendable { case arrayToArray = "array -> array", arrayToBytes = "array -> bytes", bytesToBytes = "bytes -> bytes" }

/// What every codec has: a name and a configuration (its Zarr v3 JSON form).
public protocol Codec: Sendable {
    var name: String { get }
    /// The Zarr v3 `{"name": ..., "configuration": ...}` object.
    var v3Configuration: JSON { get }
}

/// Transforms an array into another array (transpose, delta).
public protocol ArrayToArrayCodec: Codec {
    func encode(_ array: AnyNDArray) throws -> AnyNDArray
    /// The shape and dtype an array of `shape`/`dtype` has after encoding.
    func encodedLayout(shape: [Int], dtype: DType) throws -> (shape: [Int], dtype: DType)
    func decode(_ array: AnyNDArray, shape: [Int], dtype: DType) throws -> AnyNDArray
}

/// Serializes an array into bytes (bytes, vlen-utf8, sharding).
public protocol ArrayToBytesCodec: Codec {
    func encode(_ array: AnyNDArray) throws -> [UInt8]
    func decode(_ bytes: [UInt8], shape: [Int], dtype: DType) throws -> AnyNDArray
}

/// Transforms bytes into bytes (compressors, checksums, byte shuffle).
public protocol BytesToBytesCodec: Codec {
    func encode(_ bytes: [UInt8]) throws -> [UInt8]
    func decode(_ bytes: [UInt8]) throws -> [UInt8]
    /// Decodes bytes in memory straight into `destination`, which must be exactly the decoded
    /// size. Returns false when this codec cannot (the caller then decodes the ordinary way).
    func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool
    /// Encodes bytes read straight from memory (no copy into an array first).
    func encode(raw source: UnsafeRawBufferPointer) throws -> [UInt8]
    /// Decodes only the decoded bytes `range` of `bytes` (a chunk of `decodedCount` bytes in
    /// all) into `destination` (exactly `range.count` bytes), decompressing only the parts of
    /// the stream that hold them. Returns false when this codec or this stream cannot (the
    /// caller then decodes the whole chunk).
    func decode(raw bytes: UnsafeRawBufferPointer, range: Range<Int>, decodedCount: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool
    /// Whether `decode(raw:range:...)` can decode parts of this codec's streams at all.
    var decodesRanges: Bool { get }
    /// Which stored bytes `decode(raw:range:...)` needs to decode the decoded byte `ranges`
    /// (of `decodedCount` bytes in all), told from the stream's first bytes `head`: more of the
    /// head, the stored ranges, or nil when this codec or stream cannot tell (the stream is
    /// read whole). Lets a reader fetch only those bytes of a large chunk.
    func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], decodedCount: Int) throws -> StoredRanges?
}

/// What `storedRanges` answers.
public enum StoredRanges: Sendable, Equatable {
    /// The first `n` bytes are needed to tell.
    case head(Int)
    /// The stream is `total` bytes; these ranges of it (the head among them) are all a decode
    /// of the asked ranges reads.
    case ranges(total: Int, [Range<Int>])
}

extension BytesToBytesCodec {
    public func decode(stored bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Bool { false }
    /// `decode(stored:into:)` on an array's bytes.
    public func decode(_ bytes: [UInt8], into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        try bytes.withUnsafeBytes { try decode(stored: $0, into: destination) }
    }
    public func decode(raw bytes: UnsafeRawBufferPointer, range: Range<Int>, decodedCount: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool { false }
    public var decodesRanges: Bool { false }
    public func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], decodedCount: Int) throws -> StoredRanges? { nil }
    /// `decode(raw:range:decodedCount:into:)` on an array's bytes.
    public func decode(_ bytes: [UInt8], range: Range<Int>, decodedCount: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        try bytes.withUnsafeBytes { try decode(raw: $0, range: range, decodedCount: decodedCount, into: destination) }
    }
    public func encode(raw source: UnsafeRawBufferPointer) throws -> [UInt8] { try encode(Array(source)) }
}

/// An ordered list of codecs: array-to-array codecs, one array-to-bytes codec, then
/// bytes-to-bytes codecs. Zarr v2 compressors and filters map onto the same pipeline.
public struct CodecPipeline: Sendable {
    public var arrayToArray: [any ArrayToArrayCodec]
    public var arrayToBytes: any ArrayToBytesCodec
    public var bytesToBytes: [any BytesToBytesCodec]

    public init(arrayToArray: [any ArrayToArrayCodec] = [], arrayToBytes: any ArrayToBytesCodec = BytesCodec(),
                bytesToBytes: [any BytesToBytesCodec] = []) {
        self.arrayToArray = arrayToArray
        self.arrayToBytes = arrayToBytes
        self.bytesToBytes = bytesToBytes
    }

    /// Encodes a chunk.
    public func encode(_ array: AnyNDArray) throws -> [UInt8] {
        var a = array
        for c in arrayToArray { a = try c.encode(a) }
        var b = try arrayToBytes.encode(a)
        for c in bytesToBytes { b = try c.encode(b) }
        return b
    }

    /// Decodes a chunk of the given shape and dtype.
    public func decode(_ bytes: [UInt8], shape: [Int], dtype: DType) throws -> AnyNDArray {
        var layouts: [(shape: [Int], dtype: DType)] = [(shape, dtype)]
        for c in arrayToArray { layouts.append(try c.encodedLayout(shape: layouts.last!.shape, dtype: layouts.last!.dtype)) }
        var b = bytes
        for c in bytesToBytes.reversed() { b = try c.decode(b) }
        var a = try arrayToBytes.decode(b, shape: layouts.last!.shape, dtype: layouts.last!.dtype)
        for (i, c) in arrayToArray.enumerated().reversed() {
            a = try c.decode(a, shape: layouts[i].shape, dtype: layouts[i].dtype)
        }
        return a
    }

    /// The pipeline as a Zarr v3 `codecs` list.
    public var v3Configuration: JSON {
        .array(arrayToArray.map(\.v3Configuration) + [arrayToBytes.v3Configuration] + bytesToBytes.map(\.v3Configuration))
    }
}
