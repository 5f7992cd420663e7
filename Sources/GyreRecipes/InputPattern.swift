import Foundation
import GyreArrays
import GyreCore

/// Input patterns: `{key}`, `{key:FORMAT}` placeholders filled from a key's values, dates by
/// strftime (`%Y %m %d %H %M %S %j %y %%`), numbers by Python's integer format (`03d`, `d`).
enum InputPattern {
    static func placeholders(_ pattern: String) -> [(name: String, format: String?)] {
        var out: [(String, String?)] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let inner = rest[rest.index(after: open)..<close]
            if let colon = inner.firstIndex(of: ":") {
                out.append((String(inner[..<colon]), String(inner[inner.index(after: colon)...])))
            } else {
                out.append((String(inner), nil))
            }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    /// The values of a key: a list, a date range `{start, end, freq}` (both ends included, as
    /// pandas' date_range; freq `ND`, `Nh`, `NMS`, `NYS`), or a number range `{start, stop,
    /// step}` (stop excluded, as Python's range).
    static func values(_ spec: JSON, key: String, source: String) throws -> [Recipe.KeyValue] {
        func fail(_ why: String) -> GyreRecipesError { GyreRecipesError(.recipe, "\(source): '\(key)': \(why)") }
        if let list = spec.array {
            guard !list.isEmpty else { throw fail("an empty list of values") }
            return try list.map { v in
                if let i = v.integer { return .number(Int(i)) }
                if let s = v.string { return (try? date(s)).map { .date($0) } ?? .text(s) }
                throw fail("values must be numbers, dates or text, not \(v.kind)")
            }
        }
        guard let o = spec.object else { throw fail("expected a list or a range mapping") }
        if o["end"] != nil || o["freq"] != nil {
            for k in o.keys where !["start", "end", "freq"].contains(k) { throw fail("unknown key '\(k)' in a date range (start, end, freq)") }
            guard let s = o["start"]?.string, let e = o["end"]?.string else { throw fail("a date range needs start and end dates") }
            let start = try date(s, what: "\(key).start", source: source), end = try date(e, what: "\(key).end", source: source)
            let freq = o["freq"]?.string ?? "1D"
            var out: [Recipe.KeyValue] = []
            var d = start
            while !later(d, than: end) {
                out.append(.date(d))
                guard out.count <= 10_000_000 else { throw fail("more than 10,000,000 dates") }
                d = try step(d, freq, what: "\(key).freq", source: source)
            }
            guard !out.isEmpty else { throw fail("the range from \(s) to \(e) holds no dates (end before start?)") }
            return out
        }
        for k in o.keys where !["start", "stop", "step"].contains(k) { throw fail("unknown key '\(k)' in a number range (start, stop, step)") }
        guard let stop = o["stop"]?.integer else { throw fail("a number range needs stop (or a date range start, end, freq)") }
        let start = o["start"]?.integer ?? 0, step = o["step"]?.integer ?? 1
        guard step != 0 else { throw fail("step 0") }
        let values = Array(stride(from: Int(start), to: Int(stop), by: Int(step)))
        guard !values.isEmpty, values.count <= 10_000_000 else { throw fail("the range holds \(values.count) numbers") }
        return values.map { Recipe.KeyValue.number($0) }
    }

    static func date(_ s: String, what: String = "", source: String = "") throws -> Recipe.ParsedDateTime {
        guard let d = try? parseDateComponents(s.trimmingCharacters(in: .whitespaces)), d.resolution >= .day else {
            throw GyreRecipesError(.recipe, "\(source): '\(what)': '\(s)' is not a date (YYYY-MM-DD[THH:MM[:SS]])")
        }
        return Recipe.ParsedDateTime(year: Int(d.year), month: Int(d.month), day: Int(d.day), hour: Int(d.hour), minute: Int(d.minute), second: Int(d.second))
    }

    static func later(_ a: Recipe.ParsedDateTime, than b: Recipe.ParsedDateTime) -> Bool {
        [a.year, a.month, a.day, a.hour, a.minute, a.second].lexicographicallyPrecedes([b.year, b.month, b.day, b.hour, b.minute, b.second]) == false
            && [a.year, a.month, a.day, a.hour, a.minute, a.second] != [b.year, b.month, b.day, b.hour, b.minute, b.second]
    }

    static func daysIn(_ y: Int, _ m: Int) -> Int { Int(CalendarMath.daysInMonth(Int64(y), Int64(m), .proleptic_gregorian)) }

    /// The next date by a pandas-style frequency: `ND` days, `Nh`/`NH` hours, `NMS` months
    /// (from the start), `NYS`/`NAS` years.
    static func step(_ d: Recipe.ParsedDateTime, _ freq: String, what: String, source: String) throws -> Recipe.ParsedDateTime {
        let digits = freq.prefix { $0.isNumber }
        let n = digits.isEmpty ? 1 : Int(digits) ?? 0
        let unit = String(freq.dropFirst(digits.count))
        guard n > 0 else { throw GyreRecipesError(.recipe, "\(source): '\(what)': '\(freq)' is not a positive frequency") }
        var x = d
        switch unit {
        case "D":
            for _ in 0..<n {
                x.day += 1
                if x.day > daysIn(x.year, x.month) { x.day = 1; x.month += 1; if x.month > 12 { x.month = 1; x.year += 1 } }
            }
        case "h", "H":
            for _ in 0..<n {
                x.hour += 1
                if x.hour == 24 { x.hour = 0; x = try step(x, "1D", what: what, source: source) }
            }
        case "MS":
            x.day = 1
            for _ in 0..<n { x.month += 1; if x.month > 12 { x.month = 1; x.year += 1 } }
        case "YS", "AS":
            x.month = 1; x.day = 1
            x.year += n
        default:
            throw GyreRecipesError(.recipe, "\(source): '\(what)': frequency '\(freq)' (use ND, Nh, NMS or NYS)")
        }
        return x
    }

    /// The pattern with its placeholder filled by one value.
    static func render(_ pattern: String, _ value: Recipe.KeyValue) throws -> String {
        var out = "", rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let inner = rest[rest.index(after: open)..<close]
            let format = inner.firstIndex(of: ":").map { String(inner[inner.index(after: $0)...]) }
            out += try Self.format(value, format)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func format(_ value: Recipe.KeyValue, _ format: String?) throws -> String {
        switch value {
        case .text(let s): return s
        case .number(let n):
            guard let f = format, !f.isEmpty else { return String(n) }
            guard f.hasSuffix("d"), let width = Int(f.dropLast().isEmpty ? "0" : String(f.dropLast())) else {
                throw GyreRecipesError(.recipe, "number format '\(f)' (use d or 0Nd, e.g. 03d)")
            }
            let s = String(abs(n))
            let padded = f.hasPrefix("0") && s.count < width - (n < 0 ? 1 : 0) ? String(repeating: "0", count: width - s.count - (n < 0 ? 1 : 0)) + s : s
            return (n < 0 ? "-" : "") + padded
        case .date(let d):
            let f = format ?? "%Y-%m-%d"
            var out = ""
            var chars = f.makeIterator()
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
            while let c = chars.next() {
                guard c == "%" else { out.append(c); continue }
                guard let k = chars.next() else { throw GyreRecipesError(.recipe, "date format '\(f)' ends with %") }
                switch k {
                case "Y": out += String(d.year)
                case "y": out += two(d.year % 100)
                case "m": out += two(d.month)
                case "d": out += two(d.day)
                case "H": out += two(d.hour)
                case "M": out += two(d.minute)
                case "S": out += two(d.second)
                case "j":
                    let doy = (1..<d.month).reduce(d.day) { $0 + daysIn(d.year, $1) }
                    out += doy < 10 ? "00\(doy)" : doy < 100 ? "0\(doy)" : String(doy)
                case "%": out += "%"
                default: throw GyreRecipesError(.recipe, "date format '\(f)': %\(k) (use %Y %y %m %d %H %M %S %j %%)")
                }
            }
            return out
        }
    }
}
