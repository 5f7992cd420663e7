import Testing
import OrderedCollections
@testable import GyreArrays
@testable import GyreData

/// A small dataset: temp(time, lat, lon) with daily times, descending latitudes.
func sampleDataset() throws -> Dataset {
    let times = (0..<6).map { Int64($0) * 86_400 + 978_307_200 }  // 2001-01-01 + days, seconds
    let t = try Variable(["time"], .datetime64(NDArray(times), .seconds))
    let lat = Variable("lat", [30, 20, 10])
    let lon = Variable("lon", [0, 90, 180, 270])
    let values = (0..<72).map { Double($0) }
    let temp = try Variable(["time", "lat", "lon"], .float64(try NDArray(shape: [6, 3, 4], values)), attrs: ["units": "K"])
    return try Dataset(dataVars: ["temp": temp], coords: ["time": t, "lat": lat, "lon": lon], attrs: ["title": "test"])
}

@Suite("Labeled model: Variable, DataArray, Dataset")
struct DataModelTests {
    @Test("arithmetic broadcasts by dimension name, not position")
    func nameBroadcasting() throws {
        let a = try Variable(["x", "y"], .float64(try NDArray(shape: [2, 3], [1, 2, 3, 4, 5, 6])))
        let b = try Variable(["y"], .float64(NDArray([10, 20, 30])))
        let c = try Variable(["z", "x"], .float64(try NDArray(shape: [1, 2], [100, 200])))
        let r = try a.binary(.add, b)
        #expect(try r.dims == ["x", "y"] && r.data.doubles() == [11, 22, 33, 14, 25, 36])
        let r2 = try a.binary(.add, c)
        #expect(r2.dims == ["x", "y", "z"] && r2.shape == [2, 3, 1])
        #expect(try r2.data.doubles() == [101, 102, 103, 204, 205, 206])
        let bad = try Variable(["y"], .float64(NDArray([1, 2])))
        #expect(throws: GyreDataError.self) { try a.binary(.add, bad) }
        #expect(throws: GyreDataError.self) { try Variable(["x"], .float64(try NDArray(shape: [2, 2], [1, 2, 3, 4]))) }
    }

    @Test("isel by integer, slice and integer array; scalar coordinates remain")
    func isel() throws {
        let ds = try sampleDataset()
        let a = try ds.isel(["time": .at(1), "lon": .slice(Slice(1, nil, step: 2))])
        #expect(a.sizes == ["lat": 3, "lon": 2])
        #expect(a.coords["time"]?.dims == [])
        #expect(a.indexes["time"] == nil && a.indexes["lon"] != nil)
        #expect(try a.dataArray("temp").doubles() == [13, 15, 17, 19, 21, 23])
        let b = try ds.isel(["lat": .positions([2, 0, 2])])
        #expect(try b["lat"]!.data.doubles() == [10, 30, 10])
        #expect(throws: GyreDataError.self) { try ds.isel(["depth": .at(0)]) }
        #expect(throws: GyreDataError.self) { try ds.isel(["time": .at(6)]) }
    }

    @Test("sel: exact labels, nearest with tolerance, inclusive slices, decreasing indexes")
    func sel() throws {
        let da = try sampleDataset().dataArray("temp")
        #expect(try da.sel(["lat": 20, "lon": 90, "time": "2001-01-02"]).data.scalarValue == .double(17))
        #expect(throws: GyreDataError.self) { try da.sel(["lat": 21]) }
        #expect(try da.sel(["lat": 24.9], method: .nearest).coord("lat").data.scalarValue == .double(20))
        #expect(try da.sel(["lat": 25], method: .nearest).coord("lat").data.scalarValue == .double(20), "ties go to the later label")
        #expect(throws: GyreDataError.self) { try da.sel(["lat": 24.9], method: .nearest, tolerance: 1) }
        #expect(try da.sel(["lon": 100], method: .pad).coord("lon").data.scalarValue == .double(90))
        #expect(try da.sel(["lon": 100], method: .backfill).coord("lon").data.scalarValue == .double(180))
        // Inclusive at both ends; the latitude index decreases, so slices run high to low.
        #expect(try da.sel(["lon": .slice(90, 270)]).coord("lon").doubles() == [90, 180, 270])
        #expect(try da.sel(["lat": .slice(25, 10)]).coord("lat").doubles() == [20, 10])
        #expect(try da.sel(["lon": .values([.double(270), .double(0)])]).coord("lon").doubles() == [270, 0])
    }

    @Test("sel with partial date strings selects whole periods")
    func partialDates() throws {
        let hours = (0..<(24 * 70)).map { Int64($0) * 3600 }  // hourly from 1970-01-01 for 70 days
        let da = try DataArray(.float64(NDArray(hours.map(Double.init))), dims: ["time"],
                               coords: ["time": try Variable(["time"], .datetime64(NDArray(hours), .seconds))])
        #expect(try da.sel(["time": "1970-02"]).shape == [24 * 28])
        #expect(try da.sel(["time": "1970-01-05"]).shape == [24])
        #expect(try da.sel(["time": "1970-01-05T03"]).shape == [])  // as precise as the index: one label
        #expect(try da.sel(["time": .slice(.string("1970-01-30"), .string("1970-02-01"))]).shape == [72])
        #expect(throws: GyreDataError.self) { try da.sel(["time": "1971-01-01T00"]) }
    }

    @Test("reductions over named dims drop coordinates along them")
    func reductions() throws {
        let da = try sampleDataset().dataArray("temp")
        let m = try da.mean("time")
        #expect(m.dims == ["lat", "lon"] && m.coords["time"] == nil && m.coords["lat"] != nil)
        #expect(try m.doubles() == (0..<12).map { Double($0) + 30 })
        let s = try da.sum("lat", "lon")
        #expect(s.dims == ["time"])
        #expect(try s.doubles()[0] == 66)
        #expect(try da.max().data.scalarValue == .double(71))
        #expect(throws: GyreDataError.self) { try da.mean("depth") }
        let ds = try sampleDataset().assigning("label", try Variable(["lat"], .string(NDArray(["a", "b", "c"]), .variable)))
        let dm = try ds.mean("time")
        #expect(dm.dataVars.keys.contains("temp") && !dm.dataVars.keys.contains("label"))
    }

    @Test("alignment joins: inner, outer (NaN fill), left, right, exact")
    func alignment() throws {
        let a = try DataArray(.int64(NDArray([1, 2, 3])), dims: ["x"], coords: ["x": Variable("x", [0, 1, 2])], name: "a")
        let b = try DataArray(.float64(NDArray([10, 20])), dims: ["x"], coords: ["x": Variable("x", [1, 3])], name: "b")
        let inner = try align([a, b], join: .inner)
        #expect(try inner[0].coord("x").doubles() == [1])
        #expect(try inner[1].doubles() == [10])
        let outer = try align([a, b], join: .outer)
        #expect(try outer[0].coord("x").doubles() == [0, 1, 2, 3])
        #expect(try outer[0].doubles().map { $0.isNaN ? -1 : $0 } == [1, 2, 3, -1])
        #expect(outer[0].dtype == .float64)  // ints promote to float for NaN
        #expect(try align([a, b], join: .left)[1].doubles().map { $0.isNaN ? -1 : $0 } == [-1, 10, -1])
        #expect(try align([a, b], join: .right)[0].doubles().map { $0.isNaN ? -1 : $0 } == [2, -1])
        #expect(throws: GyreDataError.self) { try align([a, b], join: .exact) }
        let sum = try a + b  // arithmetic uses an inner join
        #expect(try sum.doubles() == [12])
        #expect(sum.name == nil)
        #expect(try (a * 2).doubles() == [2, 4, 6])
    }

    @Test("where, concat, merge, rename, transpose, expand_dims, squeeze, drop_vars, assign_coords")
    func structure() throws {
        let ds = try sampleDataset()
        let da = try ds.dataArray("temp")
        let w = try da.where(try da.compare(.greater, .double(60)))
        #expect(try w.count().data.scalarValue == .int(11))
        let parts = [try ds.isel(["time": .slice(Slice(0, 2))]), try ds.isel(["time": .slice(Slice(2, nil))])]
        let joined = try Dataset.concat(parts, dim: "time")
        #expect(try joined.equals(ds))
        let stacked = try DataArray.concat([da.isel(["time": .at(0)]), da.isel(["time": .at(1)])], dim: "member",
                                           coordinate: Variable("member", [1, 2]))
        #expect(stacked.dims == ["member", "lat", "lon"])
        let other = try Dataset(dataVars: ["p": try Variable(["lat"], .float64(NDArray([1, 2, 3])))], coords: ["lat": Variable("lat", [30, 20, 10])])
        let merged = try Dataset.merge([ds, other])
        #expect(Set(merged.dataVars.keys) == ["temp", "p"])
        let conflicting = try Dataset(dataVars: ["temp": try Variable(["lat"], .float64(NDArray([0, 0, 0])))], coords: ["lat": Variable("lat", [30, 20, 10])])
        #expect(throws: GyreDataError.self) { try Dataset.merge([ds, conflicting], compat: .equals) }
        let renamed = try ds.rename(["lat": "latitude", "temp": "t"])
        #expect(renamed.dims.contains("latitude") && renamed.variables["t"] != nil && renamed.indexes["latitude"] != nil)
        #expect(try da.transposed("lon", "time").dims == ["lon", "time", "lat"])
        let e = try da.expandDims("ensemble")
        #expect(e.dims == ["ensemble", "time", "lat", "lon"])
        #expect(try e.squeeze().dims == da.dims)
        #expect(try ds.dropVars(["lon"]).coords["lon"] == nil)
        #expect(throws: GyreDataError.self) { try ds.dropVars(["nope"]) }
        let shifted = try da.assignCoords(["lon": Variable("lon", [-180, -90, 0, 90])])
        #expect(try shifted.sel(["lon": -90]).shape == [6, 3])
    }

    @Test("dt accessor on datetime64 and calendar-aware times")
    func dtFields() throws {
        let da = try sampleDataset().dataArray("time")
        #expect(try da.dt.day.doubles() == [1, 2, 3, 4, 5, 6])
        #expect(try da.dt.month.doubles() == [1, 1, 1, 1, 1, 1])
        #expect(try da.dt.dayofyear.doubles() == [1, 2, 3, 4, 5, 6])
        let ticks = try [CFDate(2001, 2, 30, calendar: .day360), CFDate(2001, 6, 1, calendar: .day360)].map(\.ticks)
        let cf = try DataArray(.cftime(NDArray(ticks), .day360), dims: ["time"])
        #expect(try cf.dt.dayofyear.doubles() == [60, 151])
        #expect(try cf.dt.season.data.scalars.map(\.description) == ["DJF", "JJA"])
    }

    @Test("repr follows xarray's layout")
    func repr() throws {
        let text = try sampleDataset().description
        #expect(text.hasPrefix("<xarray.Dataset> Size: "))
        #expect(text.contains("Dimensions:  (time: 6, lat: 3, lon: 4)"))
        #expect(text.contains("Coordinates:\n  * time"))
        #expect(text.contains("datetime64[s]"))
        #expect(text.contains("Data variables:\n    temp     (time, lat, lon) float64 576B 0. 1. 2."))
        #expect(text.contains("Attributes:\n    title: test"))
        let da = try sampleDataset().dataArray("temp").isel(["time": .at(0), "lat": .at(0)])
        #expect(da.description.hasPrefix("<xarray.DataArray 'temp' (lon: 4)> Size: 32B\narray([0., 1., 2., 3.], dtype=float64)") || da.description.contains("(lon: 4)"))
    }
}
