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
}

extension ChunkedArraySource {
    /// Regular chunks of `chunk` along an axis of extent `n`, the last one partial.
    public static func regularChunks(extent n: Int, chunk: Int) -> [Int] {
        guard n > 0 else { return [0] }
        let c = Swift.max(chunk, 1)
        return stride(from: 0, to: n, by: c).map { Swift.min(c, n - $0) }
    }
}
