import Foundation

/// CF time units: "UNITS since REFERENCE".
public struct CFTimeUnits: Sendable {
    /// Microseconds in one unit step.
    public let microseconds: Int64
    /// The unit name as written in CF ("days", "hours", ...).
    public let unitName: String
    public let reference: ParsedDate

    public static let unitNames: [(names: [String], canonical: String, us: Int64)] = [
        (["days", "day", "d"], "days", 86_400_000_000),
        (["hours", "hour", "hr", "hrs", "h"], "hours", 3_600_000_000),
        (["minutes", "minute", "min", "mins"], "minutes", 60_000_000),
        (["seconds", "second", "sec", "secs", "s"], "seconds", 1_000_000),
        (["milliseconds", "millisecond", "msec", "msecs", "ms"], "milliseconds", 1000),
        (["microseconds", "microsecond", "usec", "usecs", "us"], "microseconds", 1),
    ]

    /// Parses "days since 2000-01-01", "hours since 1900-1-1 0:0:0", "seconds since 1970-01-01T00:00:00Z".
    public init(_ text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespaces).components(separatedBy: " since ")
        guard parts.count == 2 else {
            throw GyreArraysError(.calendar, "time units '\(text)' are not of the form 'UNITS since DATE'")
        }
        let u = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        guard let entry = CFTimeUnits.unitNames.first(where: { $0.names.contains(u) }) else {
            throw GyreArraysError(.calendar, "unsupported time unit '\(parts[0])' in '\(text)' (months and years are not fixed lengths)")
        }
        microseconds = entry.us
        unitName = entry.canonical
        do { reference = try parseDateComponents(parts[1]) } catch {
            throw GyreArraysError(.calendar, "bad reference date in time units '\(text)'", cause: error as? GyreArraysError)
        }
    }

    /// Whether a units string looks like CF time units.
    public static func isTimeUnits(_ text: String) -> Bool { (try? CFTimeUnits(text)) != nil }
}


extension CFTimeUnits {
    /// The reference date in microseconds since 1970-01-01 of `calendar` (UTC).
    public func referenceMicroseconds(calendar: CFCalendar) throws -> Int64 {
        let r = reference
        let date = try CFDate(Int(r.year), Int(r.month), Int(r.day), Int(r.hour), Int(r.minute), Int(r.second), Int(r.nanosecond / 1000), calendar: calendar)
        return date.ticks - r.utcOffsetMinutes * 60_000_000
    }
}
