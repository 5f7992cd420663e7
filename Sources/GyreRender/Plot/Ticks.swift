import Foundation
import GyreArrays

/// Axis ticks: "nice" steps (1, 2, 2.5 or 5 times a power of ten) for numbers, and whole
/// years, months, days or hours for times.
enum Ticks {
    /// Ticks within `lo...hi`, about `target` of them, with their labels.
    static func numeric(_ lo: Double, _ hi: Double, target: Int = 6) -> [(value: Double, label: String)] {
        guard lo.isFinite, hi.isFinite, hi > lo, (hi - lo).isFinite else { return lo.isFinite ? [(lo, format(lo, step: 1))] : [] }
        // The step of 1, 2, 2.5 or 5 times a power of ten that gives the most ticks, at most
        // one more than the target.
        let raw = (hi - lo) / Double(Swift.max(1, target))
        let mag = pow(10, (log10(raw)).rounded(.down))
        // A span too small for its own magnitude (a few ulps) or too small for a Double's
        // steps: the two ends.
        guard raw.isNormal, mag.isNormal, (hi - lo) > 1e-12 * Swift.max(abs(lo), abs(hi)) else {
            return [(lo, format(lo, step: Swift.max(abs(lo) * 1e-3, .leastNormalMagnitude)))]
        }
        func count(_ step: Double) -> Double { (hi / step + 1e-9).rounded(.down) - (lo / step - 1e-9).rounded(.up) + 1 }
        let candidates = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100].map { $0 * mag }.filter(\.isNormal)
        guard let step = candidates.first(where: { count($0) <= Double(target + 1) }) ?? candidates.last else { return [] }
        var out: [(Double, String)] = []
        let k0 = (lo / step - 1e-9).rounded(.up)
        var i = 0.0
        while out.count < 100 {
            let raw = (k0 + i) * step
            guard raw <= hi + step * 1e-9 else { break }
            let v = abs(raw) < step * 1e-9 ? 0 : raw
            // A step lost in the values' precision would repeat the same tick.
            if let last = out.last?.0, v <= last { break }
            out.append((v, format(v, step: step)))
            i += 1
        }
        return out
    }

    /// A number as text with as many decimals as the step needs (all ticks of an axis alike,
    /// as matplotlib writes them).
    static func format(_ v: Double, step: Double) -> String {
        let a = abs(v)
        if a >= 1e6 || (a < 1e-4 && a > 0) { return String(format: "%.3g", v) }
        // The decimals that write the step exactly.
        var decimals = 0
        while decimals < 10, abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 { decimals += 1 }
        let s = String(format: "%.\(Swift.min(decimals, 10))f", v)
        return s == "-0" ? "0" : s
    }

    static let microsecondsPerDay = 86_400_000_000.0

    /// Ticks between two times (microseconds since 1970-01-01 in `calendar`).
    static func time(_ lo: Double, _ hi: Double, calendar: CFCalendar, target: Int = 6) -> [(value: Double, label: String)] {
        // Beyond about 292,000 years of microseconds a time is not an Int64.
        guard lo.isFinite, hi.isFinite, hi >= lo, abs(lo) < 9e18, abs(hi) < 9e18 else { return [] }
        let days = (hi - lo) / microsecondsPerDay
        let first = CFDate(ticks: Int64(lo.rounded(.down)), calendar: calendar)
        let last = CFDate(ticks: Int64(hi.rounded(.up)), calendar: calendar)
        func date(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0) -> Double? {
            (try? CFDate(y, m, d, h, calendar: calendar)).map { Double($0.ticks) }
        }
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - String(v).count)) + String(v) }
        var out: [(Double, String)] = []
        func add(_ t: Double?, _ label: String) {
            if let t, t >= lo, t <= hi, out.count < 200 { out.append((t, label)) }
        }
        if days > 730 {
            let years = Double(last.year - first.year)
            let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000].first { years / Double($0) <= Double(target) } ?? 10000
            var y = Int((Double(first.year) / Double(step)).rounded(.down)) * step
            y = Swift.max(y, -290_000)
            while y <= last.year { add(date(y, 1, 1), pad(y, 4)); y += step }
        } else if days > 60 {
            let months = days / 30.4
            let step = [1, 2, 3, 4, 6, 12].first { months / Double($0) <= Double(target) } ?? 12
            var (y, m) = (first.year, 1)
            while y < last.year || (y == last.year && m <= last.month) {
                if (m - 1) % step == 0 { add(date(y, m, 1), "\(pad(y, 4))-\(pad(m, 2))") }
                m += 1
                if m > 12 { m = 1; y += 1 }
            }
        } else if days > 2 {
            let step = [1, 2, 5, 10, 15].first { days / Double($0) <= Double(target) } ?? 15
            var t = (lo / microsecondsPerDay).rounded(.down) * microsecondsPerDay
            while t <= hi, out.count < 200 {
                let d = CFDate(ticks: Int64(t), calendar: calendar)
                if (d.day - 1) % step == 0 && d.day + step / 2 <= d.daysInMonth + 1 {
                    add(t, "\(pad(d.year, 4))-\(pad(d.month, 2))-\(pad(d.day, 2))")
                }
                t += microsecondsPerDay
            }
        } else {
            let hours = days * 24
            let step = [1, 2, 3, 4, 6, 12].first { hours / Double($0) <= Double(target) } ?? 12
            var t = (lo / 3_600_000_000).rounded(.down) * 3_600_000_000
            while t <= hi, out.count < 200 {
                let d = CFDate(ticks: Int64(t), calendar: calendar)
                if d.hour % step == 0 { add(t, "\(pad(d.month, 2))-\(pad(d.day, 2)) \(pad(d.hour, 2)):00") }
                t += 3_600_000_000
            }
        }
        return out
    }
}
