import GyreCore
/// Day arithmetic for the CF calendars. Days are counted from 1970-01-01 of each calendar.
/// Years use astronomical numbering (year 0 exists) in every calendar.
package enum CalendarMath {
    static let cumulativeDays: [Int64] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]
    static let cumulativeDaysLeap: [Int64] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366]

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func isGregorianLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    static func isJulianLeap(_ y: Int64) -> Bool { floorDiv(y, 4) * 4 == y }

    /// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func gregorianDays(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func gregorianDate(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = floorDiv(z, 146097)
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days from 1970-01-01 (Gregorian) to a Julian-calendar date, via the Julian day number.
    static func julianDays(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let a = (14 - m) / 12
        let yy = y + 4800 - a
        let mm = m + 12 * a - 3
        let jdn = d + (153 * mm + 2) / 5 + 365 * yy + floorDiv(yy, 4) - 32083
        return jdn - 2440588
    }

    static func julianDate(_ days: Int64) -> (Int64, Int64, Int64) {
        let c = days + 2440588 + 32082
        let dd = floorDiv(4 * c + 3, 1461)
        let e = c - floorDiv(1461 * dd, 4)
        let m = (5 * e + 2) / 153
        let day = e - (153 * m + 2) / 5 + 1
        let month = m + 3 - 12 * (m / 10)
        let year = dd - 4800 + m / 10
        return (year, month, day)
    }

    /// First day of the Gregorian calendar in the mixed "standard" calendar: 1582-10-15.
    static let gregorianStart: Int64 = -141427

    package static func daysInMonth(_ y: Int64, _ m: Int64, _ cal: CFCalendar) -> Int64 {
        switch cal {
        case .day360: return 30
        case .noleap: return cumulativeDays[Int(m)] - cumulativeDays[Int(m) - 1]
        case .all_leap: return cumulativeDaysLeap[Int(m)] - cumulativeDaysLeap[Int(m) - 1]
        case .julian: return (isJulianLeap(y) ? cumulativeDaysLeap : cumulativeDays)[Int(m)] - (isJulianLeap(y) ? cumulativeDaysLeap : cumulativeDays)[Int(m) - 1]
        case .proleptic_gregorian:
            let t = isGregorianLeap(y) ? cumulativeDaysLeap : cumulativeDays
            return t[Int(m)] - t[Int(m) - 1]
        case .standard:
            let leap = (y, m) < (1582, 10) ? isJulianLeap(y) : isGregorianLeap(y)
            let t = leap ? cumulativeDaysLeap : cumulativeDays
            return t[Int(m)] - t[Int(m) - 1]
        }
    }

    /// Days since 1970-01-01 of the calendar, validating the date.
    static func days(_ y: Int64, _ m: Int64, _ d: Int64, _ cal: CFCalendar) throws -> Int64 {
        guard m >= 1 && m <= 12 else { throw GyreArraysError(.calendar, "month \(m) is not in 1...12") }
        let dim = daysInMonth(y, m, cal)
        guard d >= 1 && d <= dim else {
            throw GyreArraysError(.calendar, "day \(d) does not exist in \(y)-\(m) of the \(cal.cfName) calendar")
        }
        switch cal {
        case .proleptic_gregorian: return gregorianDays(y, m, d)
        case .julian: return julianDays(y, m, d)
        case .standard:
            if (y, m, d) >= (1582, 10, 15) { return gregorianDays(y, m, d) }
            if (y, m, d) <= (1582, 10, 4) { return julianDays(y, m, d) }
            throw GyreArraysError(.calendar, "\(y)-\(m)-\(d) falls in the gap between the Julian and Gregorian calendars (1582-10-05 to 1582-10-14)")
        case .noleap: return 365 * (y - 1970) + cumulativeDays[Int(m) - 1] + d - 1
        case .all_leap: return 366 * (y - 1970) + cumulativeDaysLeap[Int(m) - 1] + d - 1
        case .day360: return 360 * (y - 1970) + 30 * (m - 1) + d - 1
        }
    }

    static func date(_ days: Int64, _ cal: CFCalendar) -> (Int64, Int64, Int64) {
        switch cal {
        case .proleptic_gregorian: return gregorianDate(days)
        case .julian: return julianDate(days)
        case .standard: return days >= gregorianStart ? gregorianDate(days) : julianDate(days)
        case .noleap, .all_leap:
            let len: Int64 = cal == .noleap ? 365 : 366
            let table = cal == .noleap ? cumulativeDays : cumulativeDaysLeap
            let y = floorDiv(days, len)
            var doy = days - y * len
            var m = 1
            while m < 12 && table[m] <= doy { m += 1 }
            doy -= table[m - 1]
            return (y + 1970, Int64(m), doy + 1)
        case .day360:
            let y = floorDiv(days, 360)
            let doy = days - y * 360
            return (y + 1970, doy / 30 + 1, doy % 30 + 1)
        }
    }

    /// Day of the year, 1-based.
    static func dayOfYear(_ y: Int64, _ m: Int64, _ d: Int64, _ cal: CFCalendar) -> Int64 {
        switch cal {
        case .day360: return 30 * (m - 1) + d
        case .noleap: return cumulativeDays[Int(m) - 1] + d
        case .all_leap: return cumulativeDaysLeap[Int(m) - 1] + d
        default:
            let start = (try? days(y, 1, 1, cal)) ?? 0
            let here = (try? days(y, m, d, cal)) ?? 0
            return here - start + 1
        }
    }
}

/// A calendar-aware date and time (what cftime's datetime objects are to Python), ordered and
/// comparable within one calendar, with the fields groupby needs.
public struct CFDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let calendar: CFCalendar
    /// Microseconds since 1970-01-01T00:00 of `calendar`.
    public let ticks: Int64
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int
    public let microsecond: Int

    public static let microsecondsPerDay: Int64 = 86_400_000_000

    public init(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
                _ microsecond: Int = 0, calendar: CFCalendar) throws {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<61).contains(second),
              (0..<1_000_000).contains(microsecond)
        else {
            throw GyreArraysError(.calendar, "invalid time of day \(hour):\(minute):\(second).\(microsecond)")
        }
        let days = try CalendarMath.days(Int64(year), Int64(month), Int64(day), calendar)
        self.calendar = calendar
        self.ticks = days * CFDate.microsecondsPerDay + Int64(hour) * 3_600_000_000 + Int64(minute) * 60_000_000
            + Int64(second) * 1_000_000 + Int64(microsecond)
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second; self.microsecond = microsecond
    }

    public init(ticks: Int64, calendar: CFCalendar) {
        self.calendar = calendar
        self.ticks = ticks
        // NaT (Int64.min) must not trap: wrapping arithmetic gives some date, and callers print
        // NaT for it.
        let days = CalendarMath.floorDiv(ticks, CFDate.microsecondsPerDay)
        var rem = ticks &- days &* CFDate.microsecondsPerDay
        let (y, m, d) = CalendarMath.date(days, calendar)
        year = Int(y); month = Int(m); day = Int(d)
        hour = Int(rem / 3_600_000_000); rem %= 3_600_000_000
        minute = Int(rem / 60_000_000); rem %= 60_000_000
        second = Int(rem / 1_000_000)
        microsecond = Int(rem % 1_000_000)
    }

    public var dayOfYear: Int { Int(CalendarMath.dayOfYear(Int64(year), Int64(month), Int64(day), calendar)) }
    /// Days in this date's month.
    public var daysInMonth: Int { Int(CalendarMath.daysInMonth(Int64(year), Int64(month), calendar)) }
    /// The meteorological season: "DJF", "MAM", "JJA" or "SON".
    public var season: String { seasonName(month: month) }
    /// Day of the week, Monday = 0, for the real-world calendars (nil for idealized ones).
    public var dayOfWeek: Int? {
        switch calendar {
        case .noleap, .all_leap, .day360: return nil
        default:
            let days = CalendarMath.floorDiv(ticks, CFDate.microsecondsPerDay)
            // 1970-01-01 was a Thursday (3) in the Gregorian calendar; the Julian day count is shared.
            return Int(((days + 3) % 7 + 7) % 7)
        }
    }

    public static func < (a: CFDate, b: CFDate) -> Bool { a.ticks < b.ticks }

    /// This date shifted by a number of microseconds (calendar-aware: 360_day months have 30 days).
    public func adding(microseconds: Int64) -> CFDate { CFDate(ticks: ticks + microseconds, calendar: calendar) }

    /// ISO 8601 text, like cftime's `isoformat(' ')` without a trailing zero fraction.
    public func isoformat(separator: String = " ") -> String {
        var s = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))\(separator)\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if microsecond != 0 { s += ".\(pad(microsecond, 6))" }
        return s
    }

    public var description: String { isoformat() }

    /// The date of `ticks` as ISO 8601 text, or "NaT" for the missing time (Int64.min).
    public static func isoformat(ticks: Int64, calendar: CFCalendar) -> String {
        ticks == Int64.min ? "NaT" : CFDate(ticks: ticks, calendar: calendar).isoformat()
    }
}

/// The meteorological season of a month.
public func seasonName(month: Int) -> String {
    switch month {
    case 12, 1, 2: return "DJF"
    case 3, 4, 5: return "MAM"
    case 6, 7, 8: return "JJA"
    default: return "SON"
    }
}

@inline(__always)
func pad(_ v: Int, _ width: Int) -> String {
    let s = String(abs(v))
    let p = s.count < width ? String(repeating: "0", count: width - s.count) + s : s
    return v < 0 ? "-" + p : p
}
