import GyreArrays
import GyreCompute
import GyreData
import Testing

/// Eager group reductions (whole arrays in memory) against the streaming ones on the same
/// values seen as a lazy chunked source: the two paths must agree.
@Suite("groupby, eager and lazy alike")
struct GroupByTests {
    @Test(arguments: ["time.month", "time.season", "time.dayofyear"])
    func eagerEqualsLazy(key: String) async throws {
        let ds = try SampleData.sst(days: 90, resolution: 30)
        let eager = try ds.dataArray("sst")
        let source = MemorySource(try eager.data, name: "sample", chunks: [7, 3, 5])
        let lazyVar = try Variable(eager.dims, lazy: LazyArray(source))
        let lazy = try DataArray(lazyVar, coords: eager.coords, name: "sst")
        for r in [Reduction.mean, .max, .count, .median, .first] {
            let a = try eager.groupby(key).reduce(r)
            let b = try await lazy.groupby(key).reduce(r).load()
            #expect(a.dims == b.dims && a.shape == b.shape, "\(key) \(r)")
            #expect(try a.variable.equals(b.variable) || Self.close(try a.doubles(), try b.doubles()), "\(key) \(r)")
            #expect(try a.coords[a.dims[0]]!.equals(b.coords[b.dims[0]]!))
        }
        // Anomalies against the climatology average to zero in every group.
        let anomaly = try eager.groupby(key) - (try eager.groupby(key).mean())
        let again = try anomaly.groupby(key).mean().doubles()
        #expect(again.contains { !$0.isNaN }, "\(key): every group's mean anomaly is NaN")
        #expect(again.allSatisfy { $0.isNaN || abs($0) < 1e-4 })
    }

    /// Same length, and equal values (NaN where NaN) to a relative 1e-5.
    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in (x.isNaN && y.isNaN) || abs(x - y) <= 1e-5 * max(1, abs(x)) }
    }
}
