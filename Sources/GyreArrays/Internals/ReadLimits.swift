/// How much decoded data a reader may hold in flight at once. Readers that fetch and decode
/// many chunks for one region (a time series at one point touches every chunk of a store) keep
/// at most `inFlightBytes` of decoded chunks (and always at least one chunk) in flight, so a
/// read's memory follows the chunk size rather than the number of chunks. The compute engine
/// lowers it under a memory budget.
public enum ReadLimits {
    @TaskLocal public static var inFlightBytes: Int = 192 << 20

    /// Chunks to fetch and decode at once for chunks of `chunkBytes` decoded bytes: within
    /// `inFlightBytes`, at least 1, at most `cap`.
    public static func concurrency(chunkBytes: Int, cap: Int) -> Int {
        Swift.max(1, Swift.min(cap, inFlightBytes / Swift.max(chunkBytes, 1)))
    }
}
