/// The one bounded-concurrency primitive: `count` jobs, at most `limit` in flight (a job starts
/// only when one has finished: back-pressure), each job's result handed over in index order
/// (`map`) or as it comes (`forEach`). The first error cancels the jobs still running and is
/// rethrown; cancelling the caller cancels them too.
public enum Bounded {
    /// Runs `job(0..<count)`, at most `limit` at once, and hands each result to `consume` on the
    /// caller's task as it arrives (with its index). `consume` may throw to stop everything.
    public static func forEach<T: Sendable>(count: Int, limit: Int, _ job: @escaping @Sendable (Int) async throws -> T,
                                            consume: (Int, T) throws -> Void = { _, _ in }) async throws {
        guard count > 0 else { return }
        if count == 1 || limit <= 1 {
            // Serially, with no task group to set up (most reads touch one chunk).
            for k in 0..<count {
                try Task.checkCancellation()
                try consume(k, try await job(k))
            }
            return
        }
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var next = 0
            func launch() {
                let k = next
                next += 1
                group.addTask {
                    try Task.checkCancellation()
                    return (k, try await job(k))
                }
            }
            while next < Swift.min(limit, count) { launch() }
            while let (k, r) = try await group.next() {
                try consume(k, r)
                if next < count { launch() }
            }
        }
    }

    /// `job(0..<count)`, at most `limit` at once, the results in index order.
    public static func map<T: Sendable>(count: Int, limit: Int, _ job: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        var results = [T?](repeating: nil, count: count)
        try await forEach(count: count, limit: limit, job) { k, r in results[k] = r }
        return results.map { $0! }
    }
}
