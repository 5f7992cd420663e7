import GyreCore
import Foundation

/// How precisely a date string was written: "2001" is `.year`, "2001-03-04T05" is `.hour`.
public enum DateResolution: Int, Sendable, Comparable {
    case year, month, day, hour, minute, second, subsecond
    public static func < (a: DateResolution, b: DateResolution) -> Bool { a.rawValue < b.rawValue }
}

/// The fields of a parsed date string.
public struct ParsedDate: Sendable, Hashable {
    public var year: Int64
    public var month: Int64 = 1
    public var day: Int64 = 1
    public var hour: Int64 = 0
    public var minute: Int64 = 0
    public var second: Int64 = 0
    public var nanosecond: Int64 = 0
    /// Offset from UTC in minutes, when the string named one.
    public var utcOffsetMinutes: Int64 = 0
    public var resolution: DateResolution = .year

    /// Nanoseconds into the day.
    public var nanosecondOfDay: Int64 { ((hour * 60 + minute) * 60 + second) * 1_000_000_000 + nanosecond - utcOffsetMinutes * 60_000_000_000 }

    /// The first instant after the period this string names ("2001-03" ends at 2001-04-01).
    public func periodEnd(calendar: CFCalendar) throws -> ParsedDate {
        var c = self
        c.utcOffsetMinutes = 0
        switch resolution {
        case .year: c.year += 1; c.month = 1; c.day = 1
        case .month:
            c.month += 1
            if c.month > 12 { c.month = 1; c.year += 1 }
            c.day = 1
        case .day, .hour, .minute, .second, .subsecond:
            // Add the period length in nanoseconds to the start instant and re-split.
            let step: Int64
            switch resolution {
            case .day: step = 86_400_000_000_000
            case .hour: step = 3_600_000_000_000
            case .minute: step = 60_000_000_000
            case .second: step = 1_000_000_000
            default: step = 1
            }
            let days = try CalendarMath.days(year, month, day, calendar)
            let total = days * 86_400_000_000_000 + nanosecondOfDay + step
            let d = CalendarMath.floorDiv(total, 86_400_000_000_000)
            var rem = total - d * 86_400_000_000_000
            (c.year, c.month, c.day) = CalendarMath.date(d, calendar)
            c.hour = rem / 3_600_000_000_000; rem %= 3_600_000_000_000
            c.minute = rem / 60_000_000_000; rem %= 60_000_000_000
            c.second = rem / 1_000_000_000
            c.nanosecond = rem % 1_000_000_000
        }
        return c
    }
}

/// Parses an ISO 8601-like date: "2001", "2001-03", "2001-3-4", "2001-03-04T05:06:07.123",
/// "2001-03-04 05:06", with an optional "Z", "UTC" or ±HH:MM offset. Lenient the way CF unit
/// strings need ("1-1-1 0:0:0").
public func parseDateComponents(_ text: String) throws -> ParsedDate {
    let s = text.trimmingCharacters(in: .whitespaces)
    func fail(_ why: String) -> GyreArraysError {
        GyreArraysError(.parse, "cannot parse date '\(text)': \(why)")
    }
    var chars = Array(s.unicodeScalars)
    var offsetMinutes: Int64 = 0
    // Trailing zone designators.
    if chars.last == "Z" { chars.removeLast() }
    var str = String(String.UnicodeScalarView(chars))
    for suffix in [" UTC", "UTC", " GMT"] where str.hasSuffix(suffix) { str.removeLast(suffix.count) }
    str = str.trimmingCharacters(in: .whitespaces)
    // Split date and time.
    var datePart = str, timePart = ""
    if let t = str.firstIndex(where: { $0 == "T" || $0 == " " }) {
        datePart = String(str[..<t])
        timePart = String(str[str.index(after: t)...]).trimmingCharacters(in: .whitespaces)
    }
    // Time zone offset on the time part: +HH:MM, -HH:MM, +HHMM, or a separate token.
    if !timePart.isEmpty {
        if let z = timePart.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = timePart[timePart.index(after: z)...].replacingOccurrences(of: ":", with: "")
            let sign: Int64 = timePart[z] == "-" ? -1 : 1
            let digits = zone.trimmingCharacters(in: .whitespaces)
            guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { throw fail("bad UTC offset") }
            let v = Int64(digits)!
            offsetMinutes = sign * (digits.count <= 2 ? v * 60 : (v / 100) * 60 + v % 100)
            timePart = String(timePart[..<z]).trimmingCharacters(in: .whitespaces)
        }
    }
    // Date: Y[-M[-D]] (a leading '-' is a negative year).
    var negative = false
    var dp = Substring(datePart)
    if dp.hasPrefix("-") { negative = true; dp = dp.dropFirst() }
    let dfields = dp.split(separator: "-", omittingEmptySubsequences: false)
    guard (1...3).contains(dfields.count), dfields.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
        throw fail("expected YYYY[-MM[-DD]]")
    }
    var c = ParsedDate(year: Int64(dfields[0])! * (negative ? -1 : 1))
    c.resolution = .year
    if dfields.count > 1 { c.month = Int64(dfields[1])!; c.resolution = .month }
    if dfields.count > 2 { c.day = Int64(dfields[2])!; c.resolution = .day }
    guard (1...12).contains(c.month) else { throw fail("month \(c.month) is not in 1...12") }
    guard (1...31).contains(c.day) else { throw fail("day \(c.day) is not in 1...31") }
    if !timePart.isEmpty {
        guard c.resolution == .day else { throw fail("a time needs a full date") }
        let tfields = timePart.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(tfields.count) else { throw fail("expected HH[:MM[:SS[.fff]]]") }
        guard let h = Int64(tfields[0]), (0..<24).contains(h) else { throw fail("bad hour") }
        c.hour = h; c.resolution = .hour
        if tfields.count > 1 {
            guard let m = Int64(tfields[1]), (0..<60).contains(m) else { throw fail("bad minute") }
            c.minute = m; c.resolution = .minute
        }
        if tfields.count > 2 {
            let secText = tfields[2]
            let parts = secText.split(separator: ".", omittingEmptySubsequences: false)
            guard let sec = Int64(parts[0]), (0..<61).contains(sec) else { throw fail("bad second") }
            c.second = sec; c.resolution = .second
            if parts.count == 2 {
                let frac = parts[1]
                guard !frac.isEmpty, frac.count <= 9, frac.allSatisfy(\.isNumber) else {
                    if frac.isEmpty { return c }
                    throw fail("bad fraction of a second")
                }
                c.nanosecond = Int64(frac + String(repeating: "0", count: 9 - frac.count))!
                c.resolution = .subsecond
            } else if parts.count > 2 { throw fail("bad second") }
        }
    }
    c.utcOffsetMinutes = offsetMinutes
    return c
}

/// Ticks of `unit` since 1970-01-01 for a proleptic-Gregorian date string ("NaT" gives NaT).
/// Precision finer than `unit` is floored.
public func parseDatetime64(_ text: String, unit: TimeUnit) throws -> Int64 {
    let t = text.trimmingCharacters(in: .whitespaces)
    if t == "NaT" || t.isEmpty { return Int64.min }
    let c = try parseDateComponents(t)
    return try datetime64Ticks(c, unit: unit)
}

/// Ticks of `unit` since 1970-01-01 (proleptic Gregorian) for parsed components.
public func datetime64Ticks(_ c: ParsedDate, unit: TimeUnit) throws -> Int64 {
    let days = try CalendarMath.days(c.year, c.month, c.day, .proleptic_gregorian)
    let (dayNs, o1) = days.multipliedReportingOverflow(by: 86_400_000_000_000)
    if !o1 {
        let (total, o2) = dayNs.addingReportingOverflow(c.nanosecondOfDay)
        if !o2 { return convertTick(total, from: .nanoseconds, to: unit) }
    }
    // Outside the nanosecond range: compute in the coarser unit directly.
    let perDay = TimeUnit.days.ticks(of: unit)
    let (d, o3) = days.multipliedReportingOverflow(by: perDay)
    let (t, o4) = d.addingReportingOverflow(convertTick(c.nanosecondOfDay, from: .nanoseconds, to: unit))
    guard !o3 && !o4 else {
        throw GyreArraysError(.invalidArgument, "date \(c.year)-\(c.month)-\(c.day) is out of range for datetime64[\(unit.rawValue)]")
    }
    return t
}

/// The calendar fields of a datetime64 value.
public struct DatetimeFields: Sendable, Hashable {
    public var year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, nanosecond: Int64
}

/// Splits datetime64 ticks into calendar fields (proleptic Gregorian).
public func datetimeFields(_ ticks: Int64, unit: TimeUnit) -> DatetimeFields {
    let perDay = TimeUnit.days.ticks(of: unit)
    var days = ticks / perDay
    var rem = ticks % perDay
    if rem < 0 { rem += perDay; days -= 1 }
    let (y, m, d) = CalendarMath.gregorianDate(days)
    let ns = rem &* unit.nanoseconds  // at most one day in ns: no overflow
    return DatetimeFields(year: y, month: m, day: d, hour: ns / 3_600_000_000_000,
                          minute: (ns / 60_000_000_000) % 60, second: (ns / 1_000_000_000) % 60,
                          nanosecond: ns % 1_000_000_000)
}

/// Formats a datetime64 value as NumPy prints it for its unit ("2001-01-01T00:00:00.000000000").
public func formatDatetime64(_ ticks: Int64, unit: TimeUnit) -> String {
    if ticks == Int64.min { return "NaT" }
    let f = datetimeFields(ticks, unit: unit)
    var s = "\(pad(Int(f.year), 4))-\(pad(Int(f.month), 2))-\(pad(Int(f.day), 2))"
    if unit == .days { return s }
    s += "T\(pad(Int(f.hour), 2))"
    if unit == .hours { return s }
    s += ":\(pad(Int(f.minute), 2))"
    if unit == .minutes { return s }
    s += ":\(pad(Int(f.second), 2))"
    switch unit {
    case .milliseconds: s += ".\(pad(Int(f.nanosecond / 1_000_000), 3))"
    case .microseconds: s += ".\(pad(Int(f.nanosecond / 1000), 6))"
    case .nanoseconds: s += ".\(pad(Int(f.nanosecond), 9))"
    default: break
    }
    return s
}

/// Formats a datetime64 value the way pandas and xarray reprs do: the date alone at midnight,
/// otherwise the shortest exact time.
public func formatDatetimeCompact(_ ticks: Int64, unit: TimeUnit) -> String {
    if ticks == Int64.min { return "NaT" }
    let f = datetimeFields(ticks, unit: unit)
    var s = "\(pad(Int(f.year), 4))-\(pad(Int(f.month), 2))-\(pad(Int(f.day), 2))"
    if f.hour == 0 && f.minute == 0 && f.second == 0 && f.nanosecond == 0 { return s }
    s += "T\(pad(Int(f.hour), 2)):\(pad(Int(f.minute), 2)):\(pad(Int(f.second), 2))"
    if f.nanosecond != 0 {
        var frac = pad(Int(f.nanosecond), 9)
        while frac.hasSuffix("0") { frac.removeLast() }
        s += "." + frac
    }
    return s
}
