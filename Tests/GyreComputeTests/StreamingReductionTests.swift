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
        // With skipna false the cube's NaNs make most float results NaN, and NaN against NaN
        // compares nothing: the same reductions on a NaN-free copy compare finite values.
        let clean = dtype.isFloatingPoint ? try eager.fillna(.double(1)).astype(dtype) : eager
        let cleanSource = RecordingSource(clean, chunks: [3, 4, 2])
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
                if dtype.isFloatingPoint {
                    let node = try ReductionSource(LazyArray(cleanSource), axes: axes, reduction: kind, skipna: false)
                    let got = try await ComputeOptions.$current.withValue(options) { try await LazyArray(node).compute() }
                    let want = try kind.apply(clean, axes: axes, skipna: false)
                    let wantValues = try #require(want.doubles(), "\(kind) over \(axes) of a NaN-free \(dtype)")
                    #expect(!wantValues.isEmpty && !wantValues.contains { $0.isNaN }, "\(kind) over \(axes) of a NaN-free \(dtype): \(wantValues)")
                    #expect(Self.close(got, want), "\(kind) over \(axes) skipna false of a NaN-free \(dtype)")
                }
            }
        }
    }

    /// The same reductions when the source hands out slabs of one row: slabs along a reduced
    /// first axis combine, along a kept one they line up; groups and weights see each slab's
    /// own positions.
    @Test func slabReadsGiveTheSameResults() async throws {
        let eager = Self.cube()
        let source = MemorySource(eager, name: "slabs", chunks: [4, 7, 5])
        // One-row slabs: sums add in place, kept first axes line up. 600-byte slabs: states of
        // at most a few elements (reductions over all but the middle axis, or all) are combined
        // slab by slab.
        for slabBytes in [1, 600] {
            let options = ComputeOptions(threads: 2, taskBytes: 1 << 20, slabBytes: slabBytes)
            for axes in [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]] {
                for kind in [Reduction.sum, .mean, .min, .count, .std(ddof: 1), .first, .last, .median] {
                    if [.first, .last].contains(kind) && axes.count != 1 { continue }
                    let node = try ReductionSource(LazyArray(source), axes: axes, reduction: kind, skipna: nil)
                    let got = try await ComputeOptions.$current.withValue(options) { try await LazyArray(node).compute() }
                    #expect(Self.close(got, try kind.apply(eager, axes: axes, skipna: nil)), "\(kind) over \(axes) in \(slabBytes)-byte slabs")
                }
            }
        }
        let options = ComputeOptions(threads: 2, taskBytes: 1 << 20, slabBytes: 1)
        // Groups along the first axis (slabs add into each group's sums) and along the second (slabs line up).
        let labels0 = [0, 0, 1, 2, -1, 1, 1, 0, 2, 2, 0], labels1 = [1, 0, 0, 1, -1, 1, 0]
        for (axis, labels) in [(0, labels0), (1, labels1)] {
            let count = labels.max()! + 1
            let node = try ReductionSource(LazyArray(source), axes: [axis], reduction: .mean, skipna: nil,
                                           groups: .init(axis: axis, labels: labels, count: count))
            let got = try await ComputeOptions.$current.withValue(options) { try await LazyArray(node).compute() }
            for g in 0..<count {
                let want = try Reduction.mean.apply(try eager.take(labels.indices.filter { labels[$0] == g }, axis: axis), axes: [axis], skipna: nil)
                var it = [AxisIndex](repeating: .slice(.all), count: 3)
                it[axis] = .at(g)
                #expect(Self.close(try got.index(it).contiguous(), want), "group \(g) along \(axis) in slabs")
            }
        }
        // Weights along the second axis, reduced over the last two (the first kept, in slabs).
        let w = AnyNDArray.float64(NDArray((0..<7).map { 1 + Double($0) / 3 }))
        let node = try ReductionSource(LazyArray(source), axes: [1, 2], reduction: .mean, skipna: nil,
                                       weights: ElementwiseOperand(.eager(w), axes: [1]))
        let got = try await ComputeOptions.$current.withValue(options) { try await LazyArray(node).compute() }
        let (s1, s2) = try eager.weightedPartialSums(try w.reshaped([1, 7, 1]), axes: [1, 2])
        let want = AnyNDArray.float64(try ndZip(s1, s2) { $0 / $1 })
        #expect(Self.close(try got.astype(.float64), want), "weighted mean in slabs")
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
            let empty = try #require(try got.index([.at(3)]).doubles())
            #expect(empty.count == 7 * 5, "\(kind): \(empty.count) values in an empty group")
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
        let e = try #require(throws: GyreComputeError.self) {
            try ComputeOptions.$current.withValue(ComputeOptions(threads: 2, memoryBudget: 2000)) { try sum.plan() }
        }
        #expect(e.message.contains("memory budget") && e.message.contains("nothing was read"), "\(e.message)")
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
