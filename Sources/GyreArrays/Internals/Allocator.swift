import CGyreSupport

/// Process-wide allocator settings for programs that move large chunks (the CLI, benchmarks).
public enum GyreRuntime {
    /// Makes glibc keep freed large blocks for reuse instead of returning them to the system (by
    /// default every allocation over 32 MB is a fresh mmap, so each chunk-sized buffer costs page
    /// faults and zeroing that can exceed the time to decode the chunk). Call once at startup.
    public static func tuneAllocatorForLargeBuffers() { gyre_keep_large_blocks() }

    /// Caps the bytes of freed large blocks kept for reuse (1 GiB by default), for programs
    /// that must stay under a memory budget.
    public static func limitBlockCache(_ bytes: Int) { gyre_large_cache_limit(bytes) }
}

/// A scratch buffer for decoders from Gyre's block cache (64-byte aligned; large ones reused
/// rather than mapped afresh). Give it back with `freeScratch`.
package func allocateScratch(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
    let n = Swift.max(bytes, 1)
    guard let p = gyre_large_alloc(n) else { fatalError("out of memory allocating a \(n)-byte buffer") }
    return UnsafeMutableRawBufferPointer(start: p, count: n)
}

package func freeScratch(_ buffer: UnsafeMutableRawBufferPointer) {
    gyre_large_free(buffer.baseAddress, buffer.count)
}
