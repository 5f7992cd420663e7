import Testing
@testable import GyreArrays

@Suite("Datetimes and CF calendars")
struct TimeTests {
    @Test("datetime64 parsing at every precision, and formatting")
    func parsing() throws {
        #expect(try parseDatetime64("2000-01-01", unit: .days) == 10957)
        #expect(try parseDatetime64("1970-01-01T00:00:01.5", unit: .milliseconds) == 1500)
        #expect(try parseDatetime64("1969-12-31T23", unit: .days) == -1)  // floors
        #expect(try parseDateComponents("2001-03").resolution == .month)
        #expect(try parseDateComponents("2001-3-4 5:6:7").second == 7)
        #expect(try parseDateComponents("1970-01-01 00:00:00 -6:00").utcOffsetMinutes == -360)
        #expect(formatDatetime64(0, unit: .nanoseconds) == "1970-01-01T00:00:00.000000000")
        #expect(formatDatetimeCompact(86_400, unit: .seconds) == "1970-01-02")
        #expect(throws: GyreArraysError.self) { try parseDatetime64("2001-13-01", unit: .days) }
        #expect(throws: GyreArraysError.self) { try parseDatetime64("yesterday", unit: .days) }
    }

    @Test("calendar day counts against independent formulas", arguments: CFCalendar.allCases)
    func roundTrips(calendar: CFCalendar) throws {
        var rng = TestRNG(UInt64(calendar.rawValue.count))
        for _ in 0..<300 {
            let ticks = Int64.random(in: -80_000_000_000_000_000...80_000_000_000_000_000, using: &rng)
            let d = CFDate(ticks: ticks, calendar: calendar)
            let back = try CFDate(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, calendar: calendar)
            #expect(back.ticks == ticks, "\(calendar) \(d)")
        }
        // Consecutive days always advance by one field step.
        var d = try CFDate(1999, 12, 25, calendar: calendar)
        for _ in 0..<800 {
            let next = d.adding(microseconds: CFDate.microsecondsPerDay)
            if next.day != 1 { #expect(next.day == d.day + 1) } else { #expect(d.day == d.daysInMonth) }
            d = next
        }
    }

    @Test("calendar specifics: leap days, 360-day months, the 1582 reform")
    func specifics() throws {
        #expect(throws: GyreArraysError.self) { try CFDate(2001, 2, 29, calendar: .standard) }
        #expect(try CFDate(2000, 2, 29, calendar: .standard).dayOfYear == 60)
        #expect(throws: GyreArraysError.self) { try CFDate(2000, 2, 29, calendar: .noleap) }
        #expect(try CFDate(2001, 2, 29, calendar: .all_leap).dayOfYear == 60)
        #expect(try CFDate(2001, 2, 30, calendar: .day360).dayOfYear == 60)
        #expect(try CFDate(2001, 12, 30, calendar: .day360).dayOfYear == 360)
        #expect(try CFDate(1900, 2, 29, calendar: .julian).day == 29)  // Julian leap rule
        #expect(throws: GyreArraysError.self) { try CFDate(1900, 2, 29, calendar: .proleptic_gregorian) }
        // The day after 1582-10-04 (Julian) is 1582-10-15 (Gregorian) in the standard calendar.
        let before = try CFDate(1582, 10, 4, calendar: .standard)
        let after = before.adding(microseconds: CFDate.microsecondsPerDay)
        #expect((after.year, after.month, after.day) == (1582, 10, 15))
        #expect(throws: GyreArraysError.self) { try CFDate(1582, 10, 10, calendar: .standard) }
        // Day counts for 2000-01-01 since 1970-01-01: 10957 in the real-world calendars.
        #expect(try CFDate(2000, 1, 1, calendar: .noleap).ticks / CFDate.microsecondsPerDay == 30 * 365)
        #expect(try CFDate(2000, 1, 1, calendar: .day360).ticks / CFDate.microsecondsPerDay == 30 * 360)
        #expect(try CFDate(2000, 1, 1, calendar: .proleptic_gregorian).ticks / CFDate.microsecondsPerDay == 10957)
        #expect(try CFDate(2001, 1, 15, calendar: .noleap).season == "DJF")
        #expect(try CFDate(2024, 11, 21, calendar: .standard).dayOfWeek == 3)  // a Thursday
    }

    @Test("datetime arithmetic and NaT")
    func arithmetic() throws {
        let t = AnyNDArray.datetime64(NDArray([0, 86_400, Int64.min]), .seconds)
        let d = AnyNDArray.timedelta64(NDArray([1]), .days)
        let r = try t.binary(.add, d)
        #expect(r.dtype == .datetime64(.seconds))
        #expect(r.typed(Int64.self)!.elements == [86_400, 172_800, Int64.min])
        let diff = try r.binary(.subtract, t)
        #expect(diff.dtype == .timedelta64(.seconds))
        #expect(try t.compare(.less, .string("1970-01-01T12")).truthValues().elements == [true, false, false])
        #expect(try t.max().scalarValue == .datetime(86_400, .seconds))
        let cf = try AnyNDArray.cftime(NDArray([try CFDate(2001, 2, 30, calendar: .day360).ticks]), .day360)
        let next = try cf.binary(.add, d)
        guard case .cftime(let nt, _) = next else { Issue.record("expected cftime"); return }
        #expect(CFDate(ticks: nt.first!, calendar: .day360).isoformat() == "2001-03-01 00:00:00")
    }

    @Test("the missing calendar time prints as NaT and never traps")
    func calendarNaT() {
        #expect(Scalar.cftime(Int64.min, .noleap).description == "NaT")
        #expect(CFDate.isoformat(ticks: Int64.min, calendar: .day360) == "NaT")
        _ = CFDate(ticks: Int64.min, calendar: .standard)  // used to trap on overflow
    }
}
