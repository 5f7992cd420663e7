import GyreArrays
@testable import GyreCompute
import Testing

/// Streaming reductions against the eager kernels on the whole array (which are themselves
/// checked against naive loops in GyreArraysTests), on odd chunkings and tiny task sizes so
/// that every path (many tasks per output block, tree combines, out-of-order completion,
/// groups split across tasks) runs.
@Suite struct StreamingReductionTests {
    /// (11, 7, 5) float32 with NaNs in a fixed pseudo-random pattern, one all-NaN column.
    static func cube(dtype: DType = .float32) -> AnyNDArray {
        var state: UInt64 = 12345
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        var v = (0..<(11 * 7 * 5)).map { _ in next() * 20 - 5 }
        for i in v.indices where next() < 0.1 { v[i] = .nan }
        for t in 0..<11 { v[t * 35 + 2 * 5 + 3] = .nan }
        let a = AnyNDArray.float64(try! NDArray(shape: [11, 7, 5], v))
        return dtype == .float64 ? a : (dtype.isInteger ? try! a.fillna(.double(0)).astype(dtype) : try! a.astype(dtype))
    }

    static func close(_ a: AnyNDArray, _ b: AnyNDArray, rtol: Double = 2e-6) -> Bool {
        guard a.shape == b.shape, a.dtype == b.dtype, let x = a.doubles(), let y = b.doubles() else { return false }
        return zip(x, y).allSatisfy { p, q in (p.isNaN && q.isNaN) || abs(p - q) <= rtol * max(1, abs(q)) }
    }

    static let kinds: [Reduction] = [.sum, .mean, .min, .max, .count, .std(ddof: 0), .variance(ddof: 1), .prod, .median, .quantile(0.3), .first, .last, .any, .all]

    @Test(arguments: [DType.float32, .float64, .int32])
    func everyReductionMatchesTheEagerKernel(dtype: DType) async throws {
        let eager = Self.cube(dtype: dtype)
        let source = RecordingSource(eager, chunks: [3, 4, 2])
        let options = ComputeOptions(threads: 3, taskBytes: 64)
        for axes in [[0], [1], [2], [0, 2], [0, 1, 2]] {
            for kind in Self.kinds {
                if case .prod = kind, dtype != .float64 { continue }  // float32 products overflow differently
                if [.first, .last].contains(kind) && axes.count != 1 { continue }
                for skipna in [nil, false] as [Bool?] {
                    let node = try ReductionSource(LazyArray(source), axes: axes, reduction: kind, skipna: skipna)
                    let got = try await ComputeOptions.$current.withValue(options) { try await LazyArray(node).compute() }
                    let want = try kind.apply(eager, axes: axes, skipna: skipna)
                    #expect(Self.close(got, want), "\(kind) over \(axes) skipna \(String(describing: skipna)) of \(dtype)")
                }
            }
        }
    }

    @Test func groupedReductionsMatchReducingEachGroup() async throws {
        let eager = Self.cube()
        let source = RecordingSource(eager, chunks: [3, 7, 5])
        // Groups interleaved and split across chunks; position 4 in no group; group 3 empty.
        let labels = [0, 0, 1, 2, -1, 1, 1, 0, 2, 2, 0]
        for kind in [Reduction.mean, .sum, .max, .count, .std(ddof: 0), .median, .first, .last] {
            let node = try ReductionSource(LazyArray(source), axes: [0], reduction: kind, skipna: nil,
                                           groups: .init(axis: 0, labels: labels, count: 4))
            #expect(node.shape == [4, 7, 5])
            let got = try await ComputeOptions.$current.withValue(ComputeOptions(threads: 2, taskBytes: 100)) {
                try await LazyArray(node).compute()
            }
            for g in 0..<3 {
                let ps = labels.indices.filter { labels[$0] == g }
                let want = try kind.apply(try eager.take(ps, axis: 0), axes: [0], skipna: nil)
                #expect(Self.close(try got.index([.at(g)]).contiguous(), want), "\(kind) group \(g)")
            }
            let empty = try got.index([.at(3)]).doubles()!
            switch kind {
            case .sum, .count: #expect(empty.allSatisfy { $0 == 0 }, "\(kind) of an empty group")
            default: #expect(empty.allSatisfy { $0.isNaN }, "\(kind) of an empty group")
            }
        }
    }

    @Test func readingPartOfAReductionReadsOnlyWhatItNeeds() async throws {
        let eager = Self.cube()
        let source = RecordingSource(eager, chunks: [3, 1, 5])
        let mean = LazyArray(try ReductionSource(LazyArray(source), axes: [0], reduction: .mean, skipna: nil))
        let part = try mean.index([.at(2)])
        let got = try await ComputeOptions.$current.withValue(ComputeOptions(threads: 2, taskBytes: 16)) { try await part.compute() }
        #expect(Self.close(got, try eager.mean(axes: [0]).index([.at(2)]).contiguous()))
        #expect(source.reads.allSatisfy { $0[1] == Slice(2, 3) }, "only row 2 of axis 1 is read: \(source.reads)")
        #expect(source.reads.count == 4, "one read per chunk along the reduced axis")
    }

    @Test func sharedReductionsAreComputedOnce() async throws {
        // anomaly = x - x.mean(axis 0), then its sum over axis 1: the mean is needed by every
        // block of the anomaly but computed once.
        let eager = Self.cube(dtype: .float64)
        let source = RecordingSource(eager, chunks: [2, 7, 5])
        let x = LazyArray(source)
        let mean = LazyArray(try ReductionSource(x, axes: [0], reduction: .mean, skipna: nil))
        let anomaly = LazyArray(try ElementwiseSource("subtract", operands: [.init(.lazy(x), axes: [0, 1, 2]), .init(.lazy(mean), axes: [1, 2])],
                                                      shape: [11, 7, 5], dtype: .float64) { try $0[0].binary(.subtract, $0[1]) })
        let total = LazyArray(try ReductionSource(anomaly, axes: [1], reduction: .sum, skipna: nil))
        let plan = try ComputeOptions.$current.withValue(ComputeOptions(threads: 2, taskBytes: 200)) { try total.plan() }
        #expect(plan.chunksRead == 12, "the cube's 6 chunks twice: once for the mean, once for the anomaly\n\(plan)")
        #expect(plan.steps.contains { $0.contains("computed once") }, "\(plan)")
        let got = try await ComputeOptions.$current.withValue(ComputeOptions(threads: 2, taskBytes: 200)) { try await total.compute() }
        #expect(source.reads.count == 12, "\(source.reads.count) reads")
        let want = try eager.binary(.subtract, try eager.mean(axes: [0]).expandingDims(at: 0)).sum(axes: [1])
        #expect(Self.close(got, want, rtol: 1e-9))
    }

    @Test func memoryBudgetShrinksTasksOrRefusesBeforeReading() async throws {
        let eager = Self.cube(dtype: .float64)  // 3080 bytes
        let source = RecordingSource(eager, chunks: [11, 7, 5])  // one chunk
        let sum = LazyArray(try ReductionSource(LazyArray(source), axes: [0], reduction: .sum, skipna: nil))
        // Too small even for the one chunk's decode: refused, nothing read.
        await #expect(throws: GyreComputeError.self) {
            try await ComputeOptions.$current.withValue(ComputeOptions(threads: 2, memoryBudget: 2000)) { try await sum.compute() }
        }
        #expect(source.reads.isEmpty)
        do {
            _ = try ComputeOptions.$current.withValue(ComputeOptions(threads: 2, memoryBudget: 2000)) { try sum.plan() }
        } catch let e as GyreComputeError {
            #expect(e.message.contains("memory budget") && e.message.contains("nothing was read"), "\(e.message)")
        }
        // Enough for the chunk and a piece of it at a time: split along the kept axes.
        let options = ComputeOptions(threads: 2, memoryBudget: 7000)
        let plan = try ComputeOptions.$current.withValue(options) { try sum.plan() }
        #expect(plan.peakMemory <= 7000 && plan.tasks > 1, "\(plan)")
        let got = try await ComputeOptions.$current.withValue(options) { try await sum.compute() }
        #expect(Self.close(got, try eager.sum(axes: [0]), rtol: 1e-12))
    }

    @Test func progressCountsTasksAndBytes() async throws {
        let eager = Self.cube()
        let progress = ComputeProgress()
        let sum = LazyArray(try ReductionSource(LazyArray(RecordingSource(eager, chunks: [3, 7, 5])), axes: [0, 1], reduction: .sum, skipna: nil))
        _ = try await ComputeOptions.$current.withValue(ComputeOptions(threads: 2, progress: progress, taskBytes: 1)) { try await sum.compute() }
        let s = progress.snapshot
        #expect(s.tasksTotal == 4 && s.tasksDone == 4)
        #expect(s.bytesRead == 11 * 7 * 5 * 4)
        #expect(s.memoryInUse == 0 && s.peakMemory > 0)
    }

    @Test func cancellationStopsTheComputation() async throws {
        let eager = Self.cube()
        let sum = LazyArray(try ReductionSource(LazyArray(RecordingSource(eager, chunks: [1, 7, 5])), axes: [0], reduction: .sum, skipna: nil))
        let task = Task {
            try await ComputeOptions.$current.withValue(ComputeOptions(threads: 1, taskBytes: 1)) { try await sum.compute() }
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
