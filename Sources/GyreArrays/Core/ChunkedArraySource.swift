import GyreCore
/// An array stored somewhere in chunks that can be read by region: a Zarr array, a netCDF
/// variable, a reference-store array. It sits on the lowest floor so the compute engine reads
/// any backend without importing it; selections pushed down by the planner arrive here as
/// regions (one `Slice` per dimension, steps allowed).
public protocol ChunkedArraySource: Sendable {
    /// What the source is, for error messages: the store and the array's path.
    var sourceName: String { get }
    var shape: [Int] { get }
    var dtype: DType { get }
    /// The chunk grid as explicit per-dimension chunk lengths (dask's `chunks`): for each
    /// dimension the lengths of its chunks, in order, summing to the extent.
    var chunks: [[Int]] { get }
    /// Reads a region, one slice per dimension (steps allowed). The result has the region's
    /// shape, one dimension per slice (none is dropped).
    func read(region: [Slice]) async throws -> AnyNDArray
    /// Reads a region straight into a caller's buffer of the source's dtype (fixed-size dtypes
    /// only). Sources that decode in place implement it; the default reads and copies.
    func read(region: [Slice], into destination: ReadDestination) async throws
    /// Reads a region as consecutive slabs along its first dimension, in order, each of about
    /// `maxBytes` decoded or less, passing each slab and its offset along that dimension to
    /// `body`. Sources that can decode part of a chunk (blosc, uncompressed) hold one chunk's
    /// stored bytes and one slab at a time instead of the whole region; the default reads the
    /// region whole as one slab.
    func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws
}

extension ChunkedArraySource {
    public func read(region: [Slice], into destination: ReadDestination) async throws {
        try destination.copy(from: try await read(region: region))
    }

    public func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        try await body(try await read(region: region), 0)
    }

    /// Regular chunks of `chunk` along an axis of extent `n`, the last one partial.
    public static func regularChunks(extent n: Int, chunk: Int) -> [Int] {
        guard n > 0 else { return [0] }
        let c = Swift.max(chunk, 1)
        return stride(from: 0, to: n, by: c).map { Swift.min(c, n - $0) }
    }
}

/// Where a region read lands in place: a buffer of `dtype` elements the caller owns and keeps
/// alive until the read returns, addressed with element strides (a sub-block of a larger array,
/// for instance one file's slab of a concatenated result).
public struct ReadDestination: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let shape: [Int]
    /// Strides in elements.
    public let strides: [Int]
    public let dtype: DType

    public init(base: UnsafeMutableRawPointer, shape: [Int], strides: [Int], dtype: DType) {
        self.base = base
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
    }

    /// The sub-block starting at `offset` along `axis`, `count` long.
    public func slab(axis: Int, offset: Int, count: Int) -> ReadDestination {
        var s = shape
        s[axis] = count
        return ReadDestination(base: base + offset * strides[axis] * dtype.itemSize, shape: s, strides: strides, dtype: dtype)
    }

    /// The sub-block at `origin` of shape `shape`.
    public func block(origin: [Int], shape: [Int]) -> ReadDestination {
        let offset = zip(origin, strides).reduce(0) { $0 + $1.0 * $1.1 }
        return ReadDestination(base: base + offset * dtype.itemSize, shape: shape, strides: strides, dtype: dtype)
    }

    /// Whether the destination is one C-ordered span.
    public var isContiguous: Bool {
        if shape.contains(0) { return true }
        var expected = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
            guard strides[d] == expected else { return false }
            expected *= shape[d]
        }
        return true
    }

    /// The destination's bytes when it is one C-ordered span.
    public var contiguousBytes: UnsafeMutableRawBufferPointer? {
        isContiguous ? UnsafeMutableRawBufferPointer(start: base, count: shape.reduce(1, *) * dtype.itemSize) : nil
    }

    /// Copies `array` (the destination's shape and dtype; any layout) into the destination.
    public func copy(from array: AnyNDArray) throws {
        guard array.shape == shape else {
            throw GyreArraysError(.shapeMismatch, "cannot place an array of shape \(array.shape) into a region of shape \(shape)")
        }
        guard array.dtype == dtype else {
            throw GyreArraysError(.unsupportedDType, "cannot place \(array.dtype) values into a \(dtype) region")
        }
        try array.contiguous().withUnsafeRawBytes { raw in
            guard let from = raw.baseAddress else { return }
            copy(from: from, strides: NDArray<UInt8>.contiguousStrides(shape))
        }
    }

    /// Copies elements of the destination's dtype from `source`, laid out with element
    /// `strides`, in the destination's shape.
    public func copy(from source: UnsafeRawPointer, strides sourceStrides: [Int]) {
        let size = dtype.itemSize
        _forEachRow(shape: shape, strides: [strides, sourceStrides], offsets: [0, 0]) { offs, n, st in
            if st[0] == 1 && st[1] == 1 {
                (base + offs[0] * size).copyMemory(from: source + offs[1] * size, byteCount: n * size)
            } else {
                var p = offs[0], q = offs[1]
                for _ in 0..<n {
                    (base + p * size).copyMemory(from: source + q * size, byteCount: size)
                    p += st[0]
                    q += st[1]
                }
            }
        }
    }
}
