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


    @Test("the 10^7-chunk mean and an anomaly lowered to task graphs for Dask: under 10^5 tasks and 1 GB")
    func tenMillionChunkGraphs() throws {
        let source = Synthetic()
        let x = LazyArray(source)
        let before = GyreRuntime.residentBytes() ?? 0
        let started = Date()
        let options = ComputeOptions(threads: 1)
        var mean = GraphBuilder()
        let meanResults = try mean.lower("mean", LazyArray(try ReductionSource(x, axes: [0], reduction: .mean, skipna: nil)), result: .values, options: options)
        // x - x.mean("time"), written in chunks of (10, 360, 720).
        let m = LazyArray(try ReductionSource(x, axes: [0], reduction: .mean, skipna: nil))
        let anomaly = try ElementwiseSource("subtract", operands: [ElementwiseOperand(.lazy(x), axes: [0, 1, 2]), ElementwiseOperand(.lazy(m), axes: [1, 2])],
                                            shape: x.shape, dtype: .float32) { try $0[0].binary(.subtract, $0[1]) }
        var write = GraphBuilder()
        let writes = try write.lower("anomaly", LazyArray(anomaly), result: .write(chunkShape: [10, 360, 720]), options: options)
        let graph = TaskGraph(program: ProgramReference(sources: ["synthetic"], expression: "x - x.mean('time')", output: "anomaly.zarr"),
                              tasks: write.tasks, results: writes)
        let lowered = Date().timeIntervalSince(started)
        let json = graph.json.serialized(indent: 0)
        let seconds = Date().timeIntervalSince(started)
        let grown = (GyreRuntime.residentBytes() ?? 0) - before
        print("10^7-chunk graphs: mean \(mean.tasks.count) tasks (\(meanResults.count) result blocks), anomaly \(write.tasks.count) tasks (\(writes.count) writes), JSON \(json.count) bytes, lowered in \(String(format: "%.2f", lowered)) s, \(String(format: "%.2f", seconds)) s with the JSON, resident memory +\(grown / 1_000_000) MB")
        #expect(mean.tasks.count > 1000 && mean.tasks.count <= 100_000)
        #expect(write.tasks.count > 1000 && write.tasks.count <= 100_000)
        // The 10 s goal is measured in a release build by the benchmark (Benchmarks/dask_bench.py
        // runs gyre-bench large-plan); a debug build is many times slower.
        #expect(seconds < 120)
        #expect(grown < 1 << 30)
        // Every piece of the input is in exactly one partial task of each stage.
        var covered = 0
        for t in mean.tasks { if case .partial(_, _, let ps) = t.op { for b in ps { covered += b.reduce(1) { $0 * $1.count } } } }
        #expect(covered == source.shape.reduce(1, *))
    }
}
