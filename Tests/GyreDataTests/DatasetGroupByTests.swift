import GyreArrays
import GyreCompute
import GyreData
import Testing

/// Dataset-level groupby and resample: each data variable as its own groupby, a variable
/// without the grouped dimension reduced over no dimension and repeated per group (xarray's
/// semantics), lazy equal to eager, arithmetic pairing variables by name.
@Suite("Dataset groupby and resample")
struct DatasetGroupByTests {
    /// The sample dataset (sst, err on time × lat × lon) with a `depth` (lat × lon) holding a
    /// NaN; eagerly and as chunked lazy variables.
    static func pair() throws -> (eager: Dataset, lazy: Dataset) {
        var eager = try SampleData.sst(days: 70, resolution: 30)
        var depth = (0..<(6 * 12)).map { Double($0) }
        depth[5] = .nan
        eager = try eager.assigning("depth", try Variable(["lat", "lon"], .float64(try NDArray(shape: [6, 12], depth))))
        var lazy = eager
        for (k, v) in eager.dataVars {
            let chunks = v.dims.map { $0 == "time" ? 9 : 4 }
            lazy = try lazy.assigning(k, try Variable(v.dims, lazy: LazyArray(MemorySource(try v.data, name: k, chunks: chunks))))
        }
        return (eager, lazy)
    }

    static func values(_ v: Variable) throws -> [Double] { try #require(try v.data.astype(.float64).doubles(), "\(v.dtype) has no float values") }

    static func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in (x.isNaN && y.isNaN) || abs(x - y) <= 1e-6 * max(1, abs(x)) }
    }

    @Test("reductions: every variable as its own groupby; lazy equals eager")
    func reductions() async throws {
        let (ds, lazy) = try Self.pair()
        let groupings: [(String, (Dataset) throws -> DatasetGroupBy, (DataArray) throws -> GroupBy)] = [
            ("time.month", { try $0.groupby("time.month") }, { try $0.groupby("time.month") }),
            ("resample 10D", { try $0.resample("time", "10D") }, { try $0.resample("time", "10D") }),
        ]
        for (what, byDataset, byArray) in groupings {
            for r in [Reduction.mean, .sum, .count, .std(ddof: 0), .median] {
                let eager = try byDataset(ds).reduce(r)
                let streamed = try byDataset(lazy).reduce(r)
                #expect(Array(eager.dataVars.keys) == ["sst", "err", "depth"], "\(what) \(r)")
                for name in ["sst", "err"] {
                    let want = try byArray(ds.dataArray(name)).reduce(r)
                    let got = eager.dataVars[name]!
                    let equal = Self.same(try Self.values(got), try Self.values(want.variable))
                    #expect(got.dims == want.dims && equal, "\(what) \(r) \(name)")
                    let l = try await streamed.dataVars[name]!.load()
                    #expect(Self.same(try Self.values(l), try Self.values(got)), "\(what) \(r) \(name) lazy")
                }
                // depth has no time: reduced over nothing in each group.
                let d = eager.dataVars["depth"]!
                let groups = try byDataset(ds).grouping.groupValues.count
                #expect(d.dims == [try byDataset(ds).name, "lat", "lon"] && d.shape == [groups, 6, 12], "\(what) \(r)")
                let once = try Self.values(try ds.dataVars["depth"]!.reduce(r, dims: []))
                #expect(Self.same(try Self.values(d), Array((0..<groups).map { _ in once }.joined())), "\(what) \(r) depth")
                let dl = try await streamed.dataVars["depth"]!.load()
                #expect(Self.same(try Self.values(dl), try Self.values(d)), "\(what) \(r) depth lazy")
            }
        }
        // count of depth: 1 where a value, 0 at the NaN; std: 0 (NaN at the NaN).
        let count = try Self.values(try ds.groupby("time.month").count().dataVars["depth"]!)
        #expect(count[5] == 0 && count[4] == 1 && count[72 + 5] == 0)
        #expect(try ds.groupby("time.month").mean().coords["month"] != nil)
    }

    @Test("anomalies: each variable minus its own group's value, by name")
    func arithmetic() async throws {
        let (ds, lazy) = try Self.pair()
        let clim = try ds.groupby("time.month").mean()
        let anomaly = try ds.groupby("time.month") - clim
        #expect(Set(anomaly.dataVars.keys) == ["sst", "err", "depth"])
        for name in ["sst", "err"] {
            let want = try ds.dataArray(name).groupby("time.month") - clim.dataArray(name)
            #expect(Self.same(try Self.values(anomaly.dataVars[name]!), try Self.values(want.variable)), "\(name)")
        }
        // depth minus its own (repeated) mean is zero everywhere it has a value, along time.
        let d = anomaly.dataVars["depth"]!
        #expect(d.dims == ["time", "lat", "lon"])
        let dv = try Self.values(d)
        try #require(dv.count == 70 * 6 * 12, "depth anomaly: \(dv.count) values")
        #expect(dv.contains { !$0.isNaN }, "depth anomaly: every value is NaN")
        #expect(dv.allSatisfy { $0 == 0 || $0.isNaN })
        let streamed = try lazy.groupby("time.month") - lazy.groupby("time.month").mean()
        let l = try await streamed.dataVars["sst"]!.load()
        #expect(Self.same(try Self.values(l), try Self.values(anomaly.dataVars["sst"]!)))
        // A variable of the other side that is missing is dropped; one array for every variable.
        let one = try ds.select(["sst"]).groupby("time.month") - clim.select(["sst"])
        #expect(Array(one.dataVars.keys) == ["sst"])
        let byArray = try ds.groupby("time.month") / clim.dataArray("sst")
        #expect(Set(byArray.dataVars.keys) == ["sst", "err", "depth"])
    }

    @Test("errors name the variable and what is wrong")
    func errors() throws {
        let (ds, _) = try Self.pair()
        #expect(throws: GyreDataError.self) { try ds.groupby("nope.month") }
        #expect(throws: GyreDataError.self) { try ds.resample("lat", "MS") }
        let clim = try ds.groupby("time.season").mean()
        do {
            _ = try ds.groupby("time.month") - clim
            Issue.record("months against seasons should fail")
        } catch let e as GyreDataError {
            #expect(e.message.contains("other dataset") && e.message.contains("'month'"), "\(e.message)")
        }
        // A variable whose groups the other array lacks is named.
        let partial = try ds.isel(["time": .slice(Slice(0, 40))]).groupby("time.month").mean()
        do {
            _ = try ds.groupby("time.month") - partial.dataArray("err")
            Issue.record("months the climatology lacks should fail")
        } catch let e as GyreDataError {
            #expect(e.message.contains("variable 'sst'") && e.message.contains("lacks"), "\(e.message)")
        }
    }
}
