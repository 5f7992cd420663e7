import GyreCore

/// Copies an array block by block in bounded memory: blocks are aligned to the target's chunks
/// and at least one source chunk long. Up to `concurrentWrites` blocks are encoded and written
/// at once while the next block is read, so a compressor that runs on one core per chunk keeps
/// every core busy; at most `concurrentWrites + 1` blocks are in memory. `written` runs on the
/// caller's task after each block is stored, with its size in bytes (for progress).
package enum BlockCopy {
    package static func run(shape: [Int], sourceChunks: [Int], targetChunks: [Int], concurrentWrites: Int = 2,
                    read: @escaping @Sendable ([Slice]) async throws -> AnyNDArray,
                    write: @escaping @Sendable (_ origin: [Int], AnyNDArray) async throws -> Void,
                    written: (_ bytes: Int) -> Void = { _ in }) async throws {
        let block = zip(sourceChunks, targetChunks).map { s, c in (Swift.max(s, c) + c - 1) / c * c }
        let grid = zip(shape, block).map { ($0 + $1 - 1) / $1 }
        let blocks = shape.contains(0) ? 0 : grid.reduce(1, *)
        @Sendable func selection(_ k: Int) -> [Slice] {
            var rem = k
            var idx = [Int](repeating: 0, count: grid.count)
            for d in stride(from: grid.count - 1, through: 0, by: -1) { idx[d] = rem % grid[d]; rem /= grid[d] }
            return idx.indices.map { d in Slice(idx[d] * block[d], Swift.min((idx[d] + 1) * block[d], shape[d])) }
        }
        guard blocks > 0 else { return }
        let slots = Swift.max(1, concurrentWrites)
        try await withThrowingTaskGroup(of: Int.self) { group in
            var pending: Task<AnyNDArray, any Error>? = Task { try await read(selection(0)) }
            defer { pending?.cancel() }
            var inFlight = 0
            for k in 0..<blocks {
                let data = try await pending!.value
                pending = nil
                if inFlight == slots, let bytes = try await group.next() {
                    inFlight -= 1
                    written(bytes)
                }
                let origin = selection(k).map { $0.start! }
                group.addTask { try await write(origin, data); return data.nbytes }
                inFlight += 1
                if k + 1 < blocks { pending = Task { try await read(selection(k + 1)) } }
            }
            while let bytes = try await group.next() { written(bytes) }
        }
    }
}
