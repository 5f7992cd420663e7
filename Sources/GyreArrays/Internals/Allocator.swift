import CGyreSupport

/// Process-wide allocator settings for programs that move large chunks (the CLI, benchmarks).
public enum GyreRuntime {
    /// Makes glibc keep freed large blocks for reuse instead of returning them to the system (by
    /// default every allocation over 32 MB is a fresh mmap, so each chunk-sized buffer costs page
    /// faults and zeroing that can exceed the time to decode the chunk). Call once at startup.
    public static func tuneAllocatorForLargeBuffers() { gyre_keep_large_blocks() }
}
