import Testing
import OrderedCollections
@testable import GyreArrays
@testable import GyreData

@Suite("CF conventions")
struct CFTests {
    @Test("mask and scale: packed int16 with _FillValue decodes to float32 with NaN (xarray's choice)")
    func maskAndScale() throws {
        let raw = try Variable(["x"], .int16(NDArray([0, 100, -32767, 200])),
                               attrs: ["_FillValue": .values(.int16(NDArray(scalar: -32767))),
                                       "scale_factor": .float(0.5), "add_offset": .float(10)])
        let v = try CF.decode(raw, name: "sst")
        #expect(v.dtype == .float32)
        #expect(try v.data.doubles()!.map { $0.isNaN ? -1 : $0 } == [10, 60, -1, 110])
        #expect(v.attrs["scale_factor"] == nil && v.encoding["scale_factor"] != nil)
        // float64 scale on int32 data decodes to float64; only scale_factor: its type.
        let r2 = try Variable(["x"], .int32(NDArray([1])), attrs: ["scale_factor": .double(0.1), "add_offset": .double(0)])
        #expect(try CF.decode(r2, name: "a").dtype == .float64)
        let r3 = try Variable(["x"], .int16(NDArray([1])), attrs: ["scale_factor": .float(0.1)])
        #expect(try CF.decode(r3, name: "a").dtype == .float32)
        // missing_value alone masks too; int8 promotes to float32.
        let r4 = try Variable(["x"], .int8(NDArray([1, -1])), attrs: ["missing_value": .values(.int8(NDArray(scalar: -1)))])
        let d4 = try CF.decode(r4, name: "a")
        #expect(try d4.dtype == .float32 && d4.data.doubles()![1].isNaN)
    }

    @Test("valid_range masking only when asked (netCDF4 style)")
    func validRange() throws {
        let raw = try Variable(["x"], .int16(NDArray([-5, 0, 50, 500])), attrs: ["valid_range": .values(.int16(NDArray([0, 100])))])
        #expect(try CF.decode(raw, name: "a").data.doubles() == [-5, 0, 50, 500])
        let masked = try CF.decode(raw, name: "a", options: CFDecodeOptions(maskValidRange: true))
        #expect(try masked.data.doubles()!.map { $0.isNaN ? -1 : $0 } == [-1, 0, 50, -1])
    }

    @Test("times decode to datetime64 for standard calendars and to cftime otherwise", arguments: CFCalendar.allCases)
    func times(calendar: CFCalendar) throws {
        let raw = try Variable(["time"], .float64(NDArray([0, 31.5, 59, 365])),
                               attrs: ["units": "days since 2000-01-01", "calendar": .string(calendar.cfName)])
        let v = try CF.decode(raw, name: "time")
        if calendar.isStandardLike {
            #expect(v.dtype == .datetime64(.nanoseconds))
            #expect(try v.data.scalars.map { "\($0)" }[1] == "2000-02-01T12:00:00.000000000")
        } else {
            #expect(v.dtype == .cftime(calendar))
            guard case .cftime(let t, _) = try v.data else { return }
            let last = CFDate(ticks: t.elements[3], calendar: calendar)
            switch calendar {
            case .noleap: #expect(last.isoformat() == "2001-01-01 00:00:00")
            case .all_leap: #expect(last.isoformat() == "2000-12-31 00:00:00")
            case .day360: #expect(last.isoformat() == "2001-01-06 00:00:00")
            case .julian: #expect(last.isoformat() == "2000-12-31 00:00:00")
            default: break
            }
        }
        // Round trip through encoding.
        let enc = try CF.encode(v, name: "time")
        let back = try CF.decode(enc, name: "time")
        #expect(try back.data.scalars == v.data.scalars)
    }

    @Test("standard calendar before the 1582 reform decodes to cftime; a reference in year 1 still gives datetime64 when dates fit")
    func reform() throws {
        let early = try Variable(["t"], .int64(NDArray([0, 1])), attrs: ["units": "days since 1500-01-01", "calendar": "standard"])
        #expect(try CF.decode(early, name: "t").dtype == .cftime(.standard))
        let modern = try Variable(["t"], .int64(NDArray([730119])), attrs: ["units": "days since 0001-01-01", "calendar": "standard"])
        let d = try CF.decode(modern, name: "t")
        #expect(d.dtype == .datetime64(.nanoseconds))
    }

    @Test("bad units and calendars give errors naming the variable")
    func errors() throws {
        let a = try Variable(["t"], .int64(NDArray([1])), attrs: ["units": "days since yesterday"])
        do { _ = try CF.decode(a, name: "mytime"); Issue.record("must fail") } catch let e as GyreDataError {
            #expect(e.message.contains("mytime"))
        }
        let b = try Variable(["t"], .int64(NDArray([1])), attrs: ["units": "days since 2000-01-01", "calendar": "martian"])
        #expect(throws: GyreDataError.self) { try CF.decode(b, name: "t") }
        // "months since" is not a fixed unit: left undecoded (not a time unit).
        let c = try Variable(["t"], .int64(NDArray([1])), attrs: ["units": "months since 2000-01-01"])
        #expect(try CF.decode(c, name: "t").dtype == .int64)
    }

    @Test("inferred units: the coarsest unit that divides every step, since the first date")
    func inferUnits() throws {
        let hourly = AnyNDArray.datetime64(NDArray([0, 3600, 7200]), .seconds)
        #expect(try CF.inferTimeUnits(hourly) == "hours since 1970-01-01 00:00:00")
        let daily = AnyNDArray.datetime64(NDArray([86_400, 172_800]), .seconds)
        #expect(try CF.inferTimeUnits(daily) == "days since 1970-01-02 00:00:00")
    }

    @Test("packing floats to int16 round-trips within half a step")
    func packing() throws {
        var v = try Variable(["x"], .float32(NDArray([10.0, 10.26, .nan])))
        v.encoding = ["dtype": "int16", "scale_factor": .float(0.1), "add_offset": .float(10), "_FillValue": .values(.int16(NDArray(scalar: -999)))]
        let enc = try CF.encode(v, name: "p")
        #expect(try enc.dtype == .int16 && enc.data.doubles() == [0, 3, -999])
        let back = try CF.decode(enc, name: "p")
        #expect(try close(back.data.doubles()![1], 10.3) && back.data.doubles()![2].isNaN)
    }
}

func close(_ a: Double, _ b: Double) -> Bool { Swift.abs(a - b) < 1e-5 }
