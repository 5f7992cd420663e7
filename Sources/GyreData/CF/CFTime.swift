import GyreCore
import Foundation
import GyreArrays

extension CF {
    /// Decodes numbers in "UNITS since DATE" to times: datetime64[ns] for the standard calendars
    /// when every date fits (and, for "standard", falls after the 1582 reform), otherwise
    /// calendar-aware cftime values, as xarray does. NaN and NaT-sentinel inputs give NaT.
    public static func decodeTimes(_ values: AnyNDArray, units unitsText: String, calendar calendarName: String?) throws -> AnyNDArray {
        let units: CFTimeUnits
        do { units = try CFTimeUnits(unitsText) } catch let e as GyreArraysError { throw GyreDataError(.cfDecoding, e.message, cause: e) }
        let calName = calendarName ?? "standard"
        guard let calendar = CFCalendar(cfName: calName) else {
            throw GyreDataError(.cfDecoding, "unknown calendar '\(calName)'")
        }
        // Numbers as either exact integers or doubles.
        var ints: [Int64]? = nil
        var doubles: [Double]? = nil
        switch values {
        case .float32, .float64: doubles = values.doubles()
        case .int64(let a): ints = a.elements
        default:
            guard values.dtype.isNumeric else {
                throw GyreDataError(.cfDecoding, "cannot decode times from dtype \(values.dtype)")
            }
            ints = try values.numericArray(Int64.self).elements
        }
        let n = values.count
        let ref = units.reference
        // Standard calendars: try nanoseconds since 1970 in the proleptic Gregorian calendar.
        if calendar.isStandardLike {
            let refKey: Int64 = ref.year * 10000 + ref.month * 100 + ref.day
            let refIsAfterReform = refKey >= 15821015
            if calendar == .proleptic_gregorian || refIsAfterReform, let refNs = try? datetime64Ticks(ref, unit: .nanoseconds),
               refNs != Int64.min
            {
                let unitNs = units.microseconds * 1000
                var out = [Int64](repeating: Int64.min, count: n)
                var ok = true
                for i in 0..<n {
                    if let ints {
                        let v = ints[i]
                        if v == Int64.min { continue }
                        let (m, o1) = v.multipliedReportingOverflow(by: unitNs)
                        let (s, o2) = refNs.addingReportingOverflow(m)
                        if o1 || o2 { ok = false; break }
                        out[i] = s
                    } else {
                        let v = doubles![i]
                        if v.isNaN { continue }
                        let x = (v * Double(unitNs)).rounded()
                        guard x.isFinite, Swift.abs(x) < 9.2e18 else { ok = false; break }
                        let (s, o) = refNs.addingReportingOverflow(Int64(x))
                        if o { ok = false; break }
                        out[i] = s
                    }
                }
                if ok {
                    return try .datetime64(NDArray(shape: values.shape, out), .nanoseconds)
                }
            }
        }
        // Calendar-aware: microseconds since 1970-01-01 of the calendar.
        let refDate: CFDate
        do {
            refDate = try CFDate(Int(ref.year), Int(ref.month), Int(ref.day), Int(ref.hour), Int(ref.minute), Int(ref.second),
                                 Int(ref.nanosecond / 1000), calendar: calendar)
        } catch {
            throw GyreDataError(.cfDecoding, "reference date of '\(unitsText)' does not exist in the \(calendar.cfName) calendar", cause: error as? GyreArraysError)
        }
        let refUs = refDate.ticks - ref.utcOffsetMinutes * 60_000_000
        var out = [Int64](repeating: Int64.min, count: n)
        for i in 0..<n {
            if let ints {
                let v = ints[i]
                if v == Int64.min { continue }
                let (m, o) = v.multipliedReportingOverflow(by: units.microseconds)
                if o { throw GyreDataError(.cfDecoding, "time value \(v) \(units.unitName) overflows") }
                out[i] = refUs + m
            } else {
                let v = doubles![i]
                if v.isNaN { continue }
                let x = (v * Double(units.microseconds)).rounded()
                guard x.isFinite, Swift.abs(x) < 9.2e18 else { throw GyreDataError(.cfDecoding, "time value \(v) \(units.unitName) overflows") }
                out[i] = refUs + Int64(x)
            }
        }
        let cf = AnyNDArray.cftime(try NDArray(shape: values.shape, out), calendar)
        // As xarray: standard-calendar dates that all fit datetime64[ns] (and, for the mixed
        // calendar, fall after the 1582 reform) become datetime64 after all.
        if calendar.isStandardLike {
            let reformUs: Int64 = -141427 * 86_400_000_000
            let lowUs: Int64 = -9_223_372_036_854_775, highUs: Int64 = 9_223_372_036_854_775
            let valid = out.filter { $0 != Int64.min }
            if valid.allSatisfy({ $0 > lowUs && $0 < highUs && (calendar == .proleptic_gregorian || $0 >= reformUs) }) {
                if let dt = try? cf.astype(.datetime64(.nanoseconds)) { return dt }
            }
        }
        return cf
    }

    /// The units xarray infers for encoding times: the coarsest of days, hours, minutes,
    /// seconds, milliseconds, microseconds (nanoseconds for datetime64) that divides every
    /// difference, since the first valid date.
    public static func inferTimeUnits(_ values: AnyNDArray) throws -> String {
        let ticks: [Int64]
        let tickNs: Int64
        var refText: String
        switch values {
        case .datetime64(let a, let u):
            ticks = a.elements.filter { $0 != Int64.min }
            tickNs = u.nanoseconds
            let first = ticks.first ?? 0
            let f = datetimeFields(ticks.isEmpty ? 0 : first, unit: ticks.isEmpty ? .nanoseconds : u)
            refText = String(format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", f.year, f.month, f.day, f.hour, f.minute, f.second)
            if f.nanosecond != 0 {
                var frac = String(format: "%09lld", f.nanosecond)
                while frac.hasSuffix("0") { frac.removeLast() }
                refText += "." + frac
            }
        case .cftime(let a, let c):
            ticks = a.elements.filter { $0 != Int64.min }
            tickNs = 1000
            let d = CFDate(ticks: ticks.first ?? 0, calendar: c)
            refText = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
        default:
            throw GyreDataError(.cfEncoding, "cannot infer time units for dtype \(values.dtype)")
        }
        let diffs = Set(zip(ticks, ticks.dropFirst()).map { ($1 &- $0) })
        var candidates: [(String, Int64)] = CFTimeUnits.unitNames.map { ($0.canonical, $0.us * 1000) }
        if case .datetime64 = values { candidates.append(("nanoseconds", 1)) }
        var chosen = "seconds"
        for (name, ns) in candidates {
            if diffs.allSatisfy({ ($0 &* tickNs) % ns == 0 }) { chosen = name; break }
        }
        return "\(chosen) since \(refText)"
    }

    /// Encodes times as numbers in `units` (int64 when exact, float64 otherwise; NaT becomes
    /// NaN in float output or the int64 minimum sentinel in integer output).
    public static func encodeTimes(_ values: AnyNDArray, units unitsText: String, calendar calendarName: String?) throws -> AnyNDArray {
        let units: CFTimeUnits
        do { units = try CFTimeUnits(unitsText) } catch let e as GyreArraysError { throw GyreDataError(.cfDecoding, e.message, cause: e) }
        let ref = units.reference
        var deltasUs: [Int64?] = []
        var deltasNs: [Int64?] = []
        switch values {
        case .datetime64(let a, let u):
            let refNs = try datetime64Ticks(ref, unit: .nanoseconds)
            deltasNs = a.elements.map { $0 == Int64.min ? nil : convertTick($0, from: u, to: .nanoseconds) - refNs }
        case .cftime(let a, let c):
            if let name = calendarName, let given = CFCalendar(cfName: name), given != c {
                throw GyreDataError(.cfEncoding, "cannot encode \(c.cfName) dates with calendar '\(name)'")
            }
            let r = try CFDate(Int(ref.year), Int(ref.month), Int(ref.day), Int(ref.hour), Int(ref.minute), Int(ref.second),
                               Int(ref.nanosecond / 1000), calendar: c)
            deltasUs = a.elements.map { $0 == Int64.min ? nil : $0 - r.ticks }
            deltasNs = deltasUs.map { $0.map { $0 * 1000 } }
        default:
            throw GyreDataError(.cfEncoding, "cannot encode dtype \(values.dtype) as CF times")
        }
        let unitNs = units.microseconds * 1000
        let exact = deltasNs.allSatisfy { $0 == nil || $0! % unitNs == 0 }
        let hasNaT = deltasNs.contains { $0 == nil }
        if exact && !hasNaT {
            return try .int64(NDArray(shape: values.shape, deltasNs.map { $0! / unitNs }))
        }
        return try .float64(NDArray(shape: values.shape, deltasNs.map { $0.map { Double($0) / Double(unitNs) } ?? .nan }))
    }
}
