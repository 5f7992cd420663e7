import Foundation
import GyreArrays
@testable import GyreCompute
import Testing

/// A source of 10^7 chunks (a terabyte of float32): planning a
/// reduction over it must stay cheap, as issue 26 needs for petabyte-class plans.
@Suite struct LargePlanTests {
    /// (10,000, 3,600, 7,200) float32 in chunks of (10, 36, 72): 1000 x 100 x 100 chunks.
    /// Planning never reads it (a read is an error).
    struct Synthetic: ChunkedArraySource {
        var sourceName: String { "synthetic" }
        var shape: [Int] { [10_000, 3_600, 7_200] }
        var dtype: DType { .float32 }
        var chunks: [[Int]] { [[Int](repeating: 10, count: 1000), [Int](repeating: 36, count: 100), [Int](repeating: 72, count: 100)] }
        func read(region: [Slice]) async throws -> AnyNDArray {
            throw GyreComputeError(.invalidArgument, "the synthetic source is planned, not read")
        }
    }

    @Test("a time mean over 10^7 chunks plans in seconds, with at most 10^5 tasks")
    func tenMillionChunks() async throws {
        let source = Synthetic()
        #expect(source.chunks.map(\.count).reduce(1, *) == 10_000_000)
        let started = Date()
        let node = try ReductionSource(LazyArray(source), axes: [0], reduction: .mean, skipna: nil)
        let plan = try ComputeOptions.$current.withValue(ComputeOptions(threads: 2)) { try LazyArray(node).plan() }
        let seconds = Date().timeIntervalSince(started)
        print("10^7-chunk mean: planned in \(String(format: "%.3f", seconds)) s, \(plan.tasks) tasks, \(plan.chunksRead) chunks, peak \(plan.peakMemory) bytes")
        #expect(plan.chunksRead == 10_000_000)
        #expect(seconds < 10)
        #expect(plan.tasks > 0 && plan.tasks <= 100_000)
    }
}
