import CGyreSupport
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for programs that move large chunks (the CLI, benchmarks).
public enum GyreRuntime {
    /// Makes glibc keep freed large blocks for reuse instead of returning them to the system (by
    /// default every allocation over 32 MB is a fresh mmap, so each chunk-sized buffer costs page
    /// faults and zeroing that can exceed the time to decode the chunk). Call once at startup.
    public static func tuneAllocatorForLargeBuffers() { gyre_keep_large_blocks() }

    /// Caps the bytes of freed large blocks kept for reuse (1 GiB by default), for programs
    /// that must stay under a memory budget.
    public static func limitBlockCache(_ bytes: Int) { gyre_large_cache_limit(bytes) }

    /// The most memory this process has had resident since it started (`VmHWM` of
    /// /proc/self/status; nil where that is not available). Unlike `getrusage`'s `ru_maxrss`,
    /// it does not include the parent's peak when the process was started by vfork and exec.
    public static func peakResidentBytes() -> Int? { statusField("VmHWM:") }

    /// The memory this process has resident now (`VmRSS` of /proc/self/status).
    public static func residentBytes() -> Int? { statusField("VmRSS:") }

    static func statusField(_ name: String) -> Int? {
        guard let f = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(name) else { continue }
            let digits = text.dropFirst(name.count).filter { $0.isNumber }
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
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
