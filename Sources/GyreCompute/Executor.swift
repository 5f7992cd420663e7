import Foundation
import GyreArrays

/// How computations run: threads, memory budget and where progress goes. Set it for a scope
/// with `ComputeOptions.$current.withValue(...)`; every lazy computation started inside uses it.
public struct ComputeOptions: Sendable {
    /// Tasks run at once (reads and kernels); the cores by default.
    public var threads: Int
    /// Peak memory the computation may plan for, in bytes (nil: no limit).
    public var memoryBudget: Int?
    /// Counters a caller can watch (tasks, bytes, memory in use).
    public var progress: ComputeProgress?
    /// Bytes of input one streaming task reads at most (several source chunks are read together
    /// up to this size; a larger chunk is one task).
    public var taskBytes: Int
    /// Decoded bytes a streaming reduction task holds at once where its source decodes chunks
    /// in slabs (blosc and uncompressed Zarr): the task then holds one chunk's stored bytes and
    /// one slab rather than the decoded chunk.
    public var slabBytes: Int

    public init(threads: Int? = nil, memoryBudget: Int? = nil, progress: ComputeProgress? = nil, taskBytes: Int = 96 << 20,
                slabBytes: Int = 8 << 20) {
        self.threads = Swift.max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.memoryBudget = memoryBudget
        self.progress = progress
        self.taskBytes = taskBytes
        self.slabBytes = Swift.max(1, slabBytes)
    }

    @TaskLocal public static var current = ComputeOptions()
}

/// Live counters of a computation, safe to read from another thread (a progress display).
public final class ComputeProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var _tasksTotal = 0, _tasksDone = 0, _bytesRead = 0, _memoryInUse = 0, _peakMemory = 0
    public let started = Date()

    public init() {}

    public struct Snapshot: Sendable {
        public let tasksTotal: Int, tasksDone: Int, bytesRead: Int, memoryInUse: Int, peakMemory: Int
        public let elapsed: TimeInterval
        /// Bytes read per second so far.
        public var rate: Double { elapsed > 0 ? Double(bytesRead) / elapsed : 0 }
        /// Seconds left at the pace so far (nil before the first task ends).
        public var eta: TimeInterval? {
            guard tasksDone > 0, tasksTotal >= tasksDone else { return nil }
            return elapsed / Double(tasksDone) * Double(tasksTotal - tasksDone)
        }
    }

    public var snapshot: Snapshot {
        lock.withLock {
            Snapshot(tasksTotal: _tasksTotal, tasksDone: _tasksDone, bytesRead: _bytesRead, memoryInUse: _memoryInUse,
                     peakMemory: _peakMemory, elapsed: Date().timeIntervalSince(started))
        }
    }

    package func addTasks(_ n: Int) { lock.withLock { _tasksTotal += n } }
    package func taskDone(bytesRead: Int) { lock.withLock { _tasksDone += 1; _bytesRead += bytesRead } }
    func reserve(_ bytes: Int) { lock.withLock { _memoryInUse += bytes; _peakMemory = Swift.max(_peakMemory, _memoryInUse) } }
    func release(_ bytes: Int) { lock.withLock { _memoryInUse -= bytes } }
}

/// Partial states combined as a binary tree (a carry chain, like a binary counter): at most
/// log2(n) + 1 states are alive, and each value goes through O(log n) combines, which keeps
/// float sums accurate. A task that has no state for what is being combined (a group absent
/// from its piece of the input) still takes its place in the tree, so every group is combined
/// in the shape the tasks give, the same here and in a distributed run (`StageGraph`).
struct TreeCombiner {
    var levels: [ReductionState?] = []
    var occupied: [Bool] = []
    var count = 0

    mutating func add(_ s: ReductionState?, _ combine: (ReductionState, ReductionState) throws -> ReductionState) rethrows {
        var carry = s
        var i = 0
        while true {
            if i == levels.count { levels.append(carry); occupied.append(true); break }
            if occupied[i] {
                carry = try Self.merge(levels[i], carry, combine)
                levels[i] = nil
                occupied[i] = false
                i += 1
            } else {
                levels[i] = carry
                occupied[i] = true
                break
            }
        }
        count += 1
    }

    /// The combination of everything added, earlier input first.
    func result(_ combine: (ReductionState, ReductionState) throws -> ReductionState) rethrows -> ReductionState? {
        var acc: ReductionState?
        for i in levels.indices.reversed() where occupied[i] { acc = try Self.merge(acc, levels[i], combine) }
        return acc
    }

    /// Two states combined, earlier first; an absent state leaves the other as it is.
    static func merge(_ a: ReductionState?, _ b: ReductionState?, _ combine: (ReductionState, ReductionState) throws -> ReductionState) rethrows -> ReductionState? {
        guard let a else { return b }
        guard let b else { return a }
        return try combine(a, b)
    }
}
