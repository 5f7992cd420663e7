import GyreCore
/// An instant in UTC, in microseconds since 1970-01-01T00:00:00Z: what STAC's `datetime`,
/// `start_datetime` and `end_datetime` hold, parsed from and written as RFC 3339.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microseconds: Int64
    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// Parses RFC 3339 (`2020-01-01T10:00:00Z`, `2020-01-01t10:00:00.25+02:00`) or, for
    /// `allowDate`, a full date alone (`2020-01-01`, the start of that day in UTC). `what`
    /// names the value in errors.
    public init(rfc3339 text: String, what: @autoclosure () -> String = "datetime", allowDate: Bool = true) throws {
        var text = text
        // Read where the bytes lie: a native string hands them out without a copy.
        microseconds = try text.withUTF8 { u in try Timestamp.parse(u, text: { String(decoding: u, as: UTF8.self) }, what: what, allowDate: allowDate) }
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>, text: () -> String, what: () -> String, allowDate: Bool) throws -> Int64 {
        var i = 0
        func fail() -> GyreSTACError {
            GyreSTACError(.invalidDatetime, "\(what()): \"\(text())\" is not an RFC 3339 date-time (like 2020-01-01T00:00:00Z)")
        }
        func num(_ n: Int) throws -> Int {
            guard u.count - i >= n else { throw fail() }
            var v = 0
            for k in i..<(i + n) {
                let c = u[k]
                guard c >= 0x30, c <= 0x39 else { throw fail() }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        var first: UInt8? { i < u.count ? u[i] : nil }
        func expect(_ c: UInt8) throws { guard first == c else { throw fail() }; i += 1 }
        let year = try num(4); try expect(UInt8(ascii: "-"))
        let month = try num(2); try expect(UInt8(ascii: "-"))
        let day = try num(2)
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month, year) else {
            throw GyreSTACError(.invalidDatetime, "\(what()): \"\(text())\" is not a calendar date")
        }
        var micros: Int64 = 0, offset = 0
        if i == u.count {
            guard allowDate else { throw fail() }
        } else {
            guard let t = first, t == UInt8(ascii: "T") || t == UInt8(ascii: "t") || t == UInt8(ascii: " ") else { throw fail() }
            i += 1
            let h = try num(2); try expect(UInt8(ascii: ":"))
            let m = try num(2); try expect(UInt8(ascii: ":"))
            let s = try num(2)
            guard h < 24, m < 60, s <= 60 else { throw GyreSTACError(.invalidDatetime, "\(what()): \"\(text())\" has no such time of day") }
            micros = Int64(h * 3600 + m * 60 + Swift.min(s, 59)) * 1_000_000
            if first == UInt8(ascii: ".") {
                i += 1
                var scale: Int64 = 100_000, any = false
                while let c = first, c >= 0x30, c <= 0x39 {
                    micros += Int64(c - 0x30) * scale
                    scale /= 10
                    any = true
                    i += 1
                }
                guard any else { throw fail() }
            }
            guard let z = first else { throw fail() }
            if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
                i += 1
            } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
                i += 1
                let oh = try num(2); try expect(UInt8(ascii: ":"))
                let om = try num(2)
                guard oh < 24, om < 60 else { throw fail() }
                offset = (z == UInt8(ascii: "+") ? 1 : -1) * (oh * 60 + om)
            } else { throw fail() }
            guard i == u.count else { throw fail() }
        }
        let days = Int64(Timestamp.daysFromCivil(year, month, day))
        return days * 86_400_000_000 + micros - Int64(offset) * 60_000_000
    }

    /// RFC 3339 in UTC with `Z`, fractional seconds only when there are any.
    public var rfc3339: String {
        let (days, rem) = microseconds.quotientAndRemainder(dividingBy: 86_400_000_000)
        let d = rem < 0 ? days - 1 : days
        let r = rem < 0 ? rem + 86_400_000_000 : rem
        let (y, m, day) = Timestamp.civilFromDays(Int(d))
        let secs = Int(r / 1_000_000), frac = Int(r % 1_000_000)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var out = "\(y < 1000 ? String(repeating: "0", count: 4 - String(y).count) : "")\(y)-\(two(m))-\(two(day))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))"
        if frac != 0 {
            var f = String(frac)
            f = String(repeating: "0", count: 6 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            out += "." + f
        }
        return out + "Z"
    }

    public var description: String { rfc3339 }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    static func daysIn(_ m: Int, _ y: Int) -> Int {
        [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// A closed time interval whose ends may be open (nil): STAC API's `datetime` parameter
/// (`2020-01-01T00:00:00Z`, `2020-01-01/2020-12-31T23:59:59Z`, `../2021-01-01`, `2020-01-01/..`).
public struct TemporalInterval: Sendable, Hashable {
    public var start: Timestamp?
    public var end: Timestamp?
    public init(start: Timestamp?, end: Timestamp?) { self.start = start; self.end = end }

    /// - Parameter allowDates: whether a date alone (`2020-01-01`) may stand for its day;
    ///   STAC API's `datetime` parameter wants full RFC 3339 date-times, so the server says no.
    public init(parameter text: String, what: String = "datetime", allowDates: Bool = true) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func end(_ s: String, last: Bool = false) throws -> Timestamp? {
            guard !(s.isEmpty || s == "..") else { return nil }
            let t = try Timestamp(rfc3339: s, what: what, allowDate: allowDates)
            // A date alone as the end covers its whole day.
            return last && s.count == 10 ? Timestamp(microseconds: t.microseconds + 86_400_000_000 - 1) : t
        }
        switch parts.count {
        case 1:
            guard !text.isEmpty, text != ".." else { throw GyreSTACError(.invalidDatetime, "\(what): an instant or an interval start/end is needed") }
            let t = try Timestamp(rfc3339: text, what: what, allowDate: allowDates)
            // A date alone covers its whole day.
            self.init(start: t, end: text.count == 10 ? Timestamp(microseconds: t.microseconds + 86_400_000_000 - 1) : t)
        case 2:
            let (s, e) = (try end(parts[0]), try end(parts[1], last: true))
            guard s != nil || e != nil else { throw GyreSTACError(.invalidDatetime, "\(what): \"\(text)\" is open at both ends") }
            if let s, let e, s > e { throw GyreSTACError(.invalidDatetime, "\(what): \"\(text)\" starts after it ends") }
            self.init(start: s, end: e)
        default:
            throw GyreSTACError(.invalidDatetime, "\(what): \"\(text)\" is not an instant or an interval start/end")
        }
    }

    /// Whether [a, b] meets this interval (ends included).
    public func intersects(_ a: Timestamp, _ b: Timestamp) -> Bool {
        (start.map { b >= $0 } ?? true) && (end.map { a <= $0 } ?? true)
    }
}
