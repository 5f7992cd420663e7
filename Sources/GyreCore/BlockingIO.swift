import Dispatch

/// Where blocking calls (file reads and writes, `pread`, `rename`, `fsync`) run: a concurrent
/// dispatch queue of its own, never Swift's cooperative pool, whose few threads must stay free
/// for async work. The caller awaits the result.
public enum BlockingIO {
    static let queue = DispatchQueue(label: "gyre.blocking-io", qos: .userInitiated, attributes: .concurrent)

    /// Runs `work` on the blocking-I/O queue and returns (or throws) what it did.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: queue, work)
    }

    /// Runs `work` on `queue` (a serial one for a library that is not thread-safe).
    public static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async {
                do { c.resume(returning: try work()) } catch { c.resume(throwing: error) }
            }
        }
    }
}
