import GyreArrays
import GyreCompute
import GyreData
import OrderedCollections
import Testing

/// resample, coarsen, interp and dropna: eager against lazy (a chunked in-memory source) and
/// against plain loops; bin edges against pandas' rules worked by hand.
@Suite("resample, coarsen, interp, dropna")
struct ResampleCoarsenTests {
    static func pair(days: Int) throws -> (eager: DataArray, lazy: DataArray) {
        let eager = try SampleData.sst(days: days, resolution: 30).dataArray("sst")
        let source = MemorySource(try eager.data, name: "sample", chunks: [11, 2, 5])
        let lazy = try DataArray(try Variable(eager.dims, lazy: LazyArray(source)), coords: eager.coords, name: "sst")
        return (eager, lazy)
    }

    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in (x.isNaN && y.isNaN) || abs(x - y) <= 1e-5 * max(1, abs(x)) }
    }

    static func isoDates(_ a: DataArray) throws -> [String] {
        guard case .datetime64(let t, let u) = try a.data else { return [] }
        return t.elements.map { let f = datetimeFields($0, unit: u); return "\(f.year)-\(f.month)-\(f.day)" }
    }

    @Test("resample bins: labels and members follow pandas' rules")
    func bins() throws {
        let (x, _) = try Self.pair(days: 75)   // 2001-01-01 ... 2001-03-16
        let ms = try x.resample("time", "MS")
        #expect(try Self.isoDates(DataArray(ms.groupValues)) == ["2001-1-1", "2001-2-1", "2001-3-1"])
        #expect(ms.labels.prefix(31).allSatisfy { $0 == 0 } && ms.labels[31] == 1 && ms.labels[59] == 2)
        let me = try x.resample("time", "ME")
        #expect(try Self.isoDates(DataArray(me.groupValues)) == ["2001-1-31", "2001-2-28", "2001-3-31"])
        #expect(me.labels[30] == 0 && me.labels[31] == 1)
        // 2001-01-01 is a Monday: W (W-SUN) bins end on Sundays, right-closed.
        let w = try x.resample("time", "W")
        #expect(try Self.isoDates(DataArray(w.groupValues)).prefix(2) == ["2001-1-7", "2001-1-14"])
        #expect(w.labels[6] == 0 && w.labels[7] == 1)
        // Five-day bins from the first day's midnight; the last bin is partial.
        let d5 = try x.resample("time", "5D")
        #expect(d5.groupCount == 15 && d5.labels[4] == 0 && d5.labels[5] == 1 && d5.labels[74] == 14)
        // Quarters starting in December: the first bin starts 2000-12-01.
        let q = try x.resample("time", "QS-DEC")
        #expect(try Self.isoDates(DataArray(q.groupValues)) == ["2000-12-1", "2001-3-1"])
        // Left-labelled right-closed month ends.
        let l = try x.resample("time", "ME", label: "left")
        #expect(try Self.isoDates(DataArray(l.groupValues)).first == "2000-12-31")
    }

    @Test("resample reductions: eager equals lazy equals a loop over the bins")
    func reductions() async throws {
        let (x, lazy) = try Self.pair(days: 75)
        for freq in ["MS", "ME", "5D", "W", "2MS"] {
            let g = try x.resample("time", freq)
            for r in [Reduction.mean, .sum, .max, .count, .median] {
                let a = try g.reduce(r)
                let b = try await lazy.resample("time", freq).reduce(r).load()
                #expect(a.dims == ["time", "lat", "lon"] && a.shape == b.shape, "\(freq) \(r)")
                #expect(Self.close(try a.astype(.float64).doubles(), try b.astype(.float64).doubles()), "\(freq) \(r)")
                // Reference: the reduction of each bin's positions, one by one.
                let data = try x.data
                var members = [[Int]](repeating: [], count: g.groupCount)
                for (i, l) in g.labels.enumerated() where l >= 0 { members[l].append(i) }
                for (k, members) in members.enumerated() where !members.isEmpty {
                    let want = try r.apply(try data.take(members, axis: 0), axes: [0], skipna: nil).astype(.float64).doubles()!
                    let got = try a.isel(["time": .at(k)]).astype(.float64).doubles()
                    #expect(Self.close(got, want), "\(freq) \(r) bin \(k)")
                }
            }
        }
    }

    @Test("resample: empty bins are NaN for every reduction, bad frequencies are refused")
    func emptyBinsAndErrors() throws {
        let (x, _) = try Self.pair(days: 75)
        let gappy = try x.isel(["time": .positions([0, 1, 70])])
        let c = try gappy.resample("time", "MS").count()
        #expect(c.shape[0] == 3)
        let emptyBin = try c.isel(["time": .at(1)]).doubles(), firstBin = try c.isel(["time": .at(0)]).doubles()
        #expect(emptyBin.count == 6 * 12 && firstBin.count == 6 * 12, "\(emptyBin.count) and \(firstBin.count) values, not one per (lat, lon)")
        #expect(emptyBin.allSatisfy { $0.isNaN })
        #expect(firstBin.allSatisfy { $0 <= 2 && !$0.isNaN })
        for bad in ["", "X", "0D", "3", "MS-JAN", "W-XYZ", "QS-FOO", "-1D"] {
            #expect(throws: GyreDataError.self, "\(bad)") { _ = try x.resample("time", bad) }
        }
        #expect(throws: GyreDataError.self) { _ = try x.resample("lat", "MS") }
        #expect(throws: GyreDataError.self) { _ = try x.resample("time", "MS", closed: "middle") }
    }

    @Test("coarsen: eager equals lazy equals block loops; coordinates become window means")
    func coarsen() async throws {
        let (x, lazy) = try Self.pair(days: 28)
        let shape = x.shape   // (28, 6, 12)
        for r in [Reduction.mean, .sum, .max, .count, .median] {
            let a = try x.coarsen([("time", 7), ("lon", 3)]).reduce(r)
            let b = try await lazy.coarsen([("time", 7), ("lon", 3)]).reduce(r).load()
            #expect(a.shape == [4, shape[1], 4] && b.shape == a.shape)
            #expect(Self.close(try a.astype(.float64).doubles(), try b.astype(.float64).doubles()), "\(r)")
            let data = try x.data
            for (t, la, lo) in [(0, 0, 0), (3, 2, 3), (1, 5, 1)] {
                var block: [Int] = []
                for i in 0..<7 { for j in 0..<3 { block.append(((t * 7 + i) * shape[1] + la) * shape[2] + lo * 3 + j) } }
                let values = try data.reshaped([-1]).take(block, axis: 0)
                let want = try r.apply(values, axes: [0], skipna: nil).astype(.float64).doubles()![0]
                let got = try a.isel(["time": .at(t), "lat": .at(la), "lon": .at(lo)]).astype(.float64).doubles()[0]
                #expect(Self.close([got], [want]), "\(r) at \(t),\(la),\(lo)")
            }
        }
        let m = try x.coarsen([("lon", 3)]).mean()
        let lon = try x.coord("lon").doubles()
        let windowMeans: [Double] = stride(from: 0, to: 12, by: 3).map { i -> Double in
            let s: Double = lon[i] + lon[i + 1] + lon[i + 2]
            return s / 3
        }
        #expect(try m.coord("lon").doubles() == windowMeans)
        // Times: the middle of each week (day 3 at midnight).
        #expect(try Self.isoDates(try x.coarsen([("time", 7)]).mean().coord("time")) == ["2001-1-4", "2001-1-11", "2001-1-18", "2001-1-25"])
        #expect(throws: GyreDataError.self) { _ = try x.coarsen([("time", 5)]).mean() }       // 28 % 5 != 0
        #expect(try x.coarsen([("time", 5)], boundary: "trim").mean().shape[0] == 5)
        // Padding: 28 days in windows of 5, the last window the 3 real days; eager equals lazy.
        for r in [Reduction.mean, .sum, .max, .count] {
            let a = try x.coarsen([("time", 5)], boundary: "pad").reduce(r)
            let b = try await lazy.coarsen([("time", 5)], boundary: "pad").reduce(r).load()
            #expect(a.shape == [6, shape[1], shape[2]] && b.shape == a.shape)
            #expect(Self.close(try a.astype(.float64).doubles(), try b.astype(.float64).doubles()), "pad \(r)")
            let last = try x.isel(["time": .slice(Slice(25, 28))]).reduce(r, dims: ["time"])
            #expect(Self.close(try a.isel(["time": .at(5)]).astype(.float64).doubles(), try last.astype(.float64).doubles()), "pad \(r), last window")
        }
        // The padded window's time is the mean of its real days (day 26 at midnight).
        #expect(try Self.isoDates(try x.coarsen([("time", 5)], boundary: "pad").mean().coord("time")).last == "2001-1-27")
        #expect(throws: GyreDataError.self) { _ = try x.coarsen([("time", 5)], boundary: "wrap") }
        #expect(throws: GyreDataError.self) { _ = try x.coarsen([("time", 0)]) }
    }

    @Test("interp: linear between neighbours, NaN outside, eager equals lazy")
    func interp() async throws {
        let (x, lazy) = try Self.pair(days: 10)
        let lon = try x.coord("lon").doubles()   // 15, 45, ..., 345
        let at: [Scalar] = [.double(15), .double(20), .double(344), .double(5), .double(400)]
        let a = try x.interp("lon", at: at)
        let b = try await lazy.interp("lon", at: at).load()
        #expect(Self.close(try a.doubles(), try b.doubles()))
        let data = try x.data.astype(.float64)
        for t in [0, 9] {
            let row = try data.index([.at(t), .at(2), .slice(.all)]).doubles()!
            let got = try a.isel(["time": .at(t), "lat": .at(2)]).doubles()
            let w20 = (20 - lon[0]) / (lon[1] - lon[0]), w344 = (344 - lon[10]) / (lon[11] - lon[10])
            #expect(Self.close(Array(got[0..<3]), [row[0], row[0] + (row[1] - row[0]) * w20, row[10] + (row[11] - row[10]) * w344]))
            #expect(got[3].isNaN && got[4].isNaN)
        }
        #expect(try a.coord("lon").doubles() == [15, 20, 344, 5, 400])
        let s = try x.interp("lat", at: [.double(0)], scalar: true)
        #expect(s.dims == ["time", "lon"] && s.coords["lat"]?.dims == [])
        #expect(throws: GyreDataError.self) { _ = try x.interp("depth", at: [.double(1)]) }
    }

    @Test("interp: other coordinates along the dimension follow xarray (numbers and times interpolated, labels nearest)")
    func interpCoordinates() async throws {
        // x descending, so neighbours and nearest positions are found through the sort order.
        let xs: [Double] = [3, 2, 1, 0]
        let hour: Int64 = 3_600_000_000
        let coords: OrderedDictionary<String, Variable> = [
            "x": try Variable(["x"], .float64(NDArray(xs))),
            "lab": try Variable(["x"], .string(NDArray(["d", "c", "b", "a"]), .variable)),
            "i": try Variable(["x"], .int32(NDArray([4, 3, 2, 1]))),
            "t": try Variable(["x"], .datetime64(NDArray([4 * hour, Scalar.natTicks, 2 * hour, 1 * hour]), .microseconds)),
            "flag": try Variable(["x"], .bool(NDArray([false, true, false, true]))),
            "cf": try Variable(["x"], .cftime(NDArray([40, 30, 20, 10]), .noleap)),
            "yx": try Variable(["y", "x"], .float32(try NDArray(shape: [2, 4], [3, 2, 1, 0, 30, 20, 10, 0]))),
            "y": try Variable(["y"], .int64(NDArray([7, 8]))),
        ]
        let values = try Variable(["y", "x"], .float64(try NDArray(shape: [2, 4], [30, 20, 10, 0, 3, 2, 1, 0])))
        let eager = try DataArray(values, coords: coords, name: "v")
        let lazySource = MemorySource(try eager.data, name: "v", chunks: [1, 3])
        let lazy = try DataArray(try Variable(["y", "x"], lazy: LazyArray(lazySource)), coords: coords, name: "v")
        let at: [Scalar] = [.double(0.5), .double(1.5), .double(2.5), .double(-1), .double(2.25)]
        for a in [try eager.interp("x", at: at), try await lazy.interp("x", at: at).load()] {
            #expect(Self.close(try a.isel(["y": .at(0)]).doubles(), [5, 15, 25, .nan, 22.5]))
            #expect(Self.close(try a.coord("i").doubles(), [1.5, 2.5, 3.5, .nan, 3.25]))
            #expect(Self.close(try a.coord("yx").isel(["y": .at(1)]).doubles(), [5, 15, 25, .nan, 22.5]))
            guard case .datetime64(let t, .microseconds) = try a.coord("t").data else { Issue.record("t is not datetime64[us]"); continue }
            // A NaT neighbour gives NaT, as outside the range.
            #expect(t.elements == [hour + hour / 2, Scalar.natTicks, Scalar.natTicks, Scalar.natTicks, Scalar.natTicks])
            // Labels take the nearest position, ties to the larger coordinate value.
            guard case .string(let lab, _) = try a.coord("lab").data else { Issue.record("lab is not strings"); continue }
            #expect(lab.elements == ["b", "c", "d", "a", "c"])
            guard case .bool(let flag) = try a.coord("flag").data else { Issue.record("flag is not bool"); continue }
            #expect(flag.elements == [false, true, false, true, true])
            guard case .cftime(let cf, .noleap) = try a.coord("cf").data else { Issue.record("cf is not cftime"); continue }
            #expect(cf.elements == [20, 30, 40, 10, 30])
            #expect(try a.coord("y").data.doubles() == [7, 8])
            #expect(try a.coord("x").doubles() == [0.5, 1.5, 2.5, -1, 2.25])
        }
        // A scalar target keeps numbers and times as scalars and drops the labels.
        let s = try eager.interp("x", at: [.double(1.5)], scalar: true)
        #expect(Set(s.coords.keys) == ["x", "i", "t", "yx", "y"])
        #expect(s.coords["i"]?.dims == [] && s.coords["yx"]?.dims == ["y"])
    }

    @Test("dropna: positions with any / all values missing go")
    func dropna() async throws {
        var values = [Double](repeating: 1, count: 12)
        values[1] = .nan; values[4] = .nan; values[5] = .nan; values[6] = .nan; values[7] = .nan
        let x = try DataArray(.float64(try NDArray(shape: [3, 4], values)), dims: ["y", "x"])
        #expect(try await x.dropna("x", how: "any").shape == [3, 0])     // row 1 is all NaN
        #expect(try await x.dropna("y", how: "all").shape == [2, 4])
        #expect(try await x.dropna("y", how: "any").shape == [1, 4])
        let lazy = try DataArray(try Variable(["y", "x"], lazy: LazyArray(MemorySource(try x.data, name: "m", chunks: [2, 3]))))
        let d = try await lazy.dropna("y", how: "all")
        #expect(d.variable.isLazy)
        #expect(try await d.load().doubles().filter(\.isNaN).count == 1)
        await #expect(throws: GyreDataError.self) { _ = try await x.dropna("y", how: "some") }
    }
}
