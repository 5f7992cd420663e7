import GyreCore
import GyreArrays
import OrderedCollections

/// A resampling frequency as pandas and xarray spell it: a multiple and an offset, `"D"`,
/// `"5D"`, `"6h"`, `"W"`, `"MS"`, `"ME"` (`"M"`), `"QS"`, `"QE"` (`"Q"`), `"YS"` (`"AS"`),
/// `"YE"` (`"Y"`, `"A"`), with an anchor suffix where pandas takes one (`"W-MON"`, `"QS-DEC"`,
/// `"YS-JUL"`).
public struct ResampleFrequency: Sendable, Equatable, CustomStringConvertible {
    public enum Offset: Sendable, Equatable {
        /// A fixed span, in microseconds (days, hours, minutes, seconds).
        case tick(Int64)
        /// Weeks ending on a weekday (Monday = 0; pandas' default "W" is "W-SUN", 6).
        case week(Int)
        /// Periods of `months` months (1, 3 or 12) starting (`end` false) or ending on their
        /// last day (`end` true); `anchor` is a month (1...12) that starts or ends a period.
        case months(Int, anchor: Int, end: Bool)
    }

    public let multiple: Int
    public let offset: Offset
    public let text: String

    public var description: String { text }

    /// Right-closed and right-labelled by default: the offsets that name the end of a period.
    public var endAnchored: Bool {
        switch offset {
        case .tick: return false
        case .week: return true
        case .months(_, _, let end): return end
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]

    public init(_ text: String) throws {
        func bad(_ why: String) -> GyreDataError {
            GyreDataError(.invalidArgument, "resample: '\(text)' is not a frequency (\(why)); use D, W, MS, ME, QS, QE, YS or YE with an optional multiple such as 5D")
        }
        self.text = text
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        var rest = String(text.dropFirst(digits.count))
        guard let n = digits.isEmpty ? 1 : Int(digits), n > 0, n < 1_000_000 else { throw bad("the multiple must be a positive integer") }
        multiple = n
        var suffix: String? = nil
        if let dash = rest.firstIndex(of: "-") {
            suffix = String(rest[rest.index(after: dash)...]).uppercased()
            rest = String(rest[..<dash])
        }
        func month(_ fallback: Int) throws -> Int {
            guard let s = suffix else { return fallback }
            guard let i = Self.monthNames.firstIndex(of: s) else { throw bad("'\(s)' is not a month such as JAN") }
            return i + 1
        }
        switch rest {
        case "D", "h", "H", "min", "T", "s", "S":
            guard suffix == nil else { throw bad("\(rest) takes no anchor") }
            let us: Int64 = ["D": 86_400_000_000, "h": 3_600_000_000, "H": 3_600_000_000, "min": 60_000_000, "T": 60_000_000][rest] ?? 1_000_000
            offset = .tick(us)
        case "W":
            let day = suffix ?? "SUN"
            guard let d = Self.dayNames.firstIndex(of: day) else { throw bad("'\(day)' is not a weekday such as SUN") }
            offset = .week(d)
        case "MS": guard suffix == nil else { throw bad("MS takes no anchor") }; offset = .months(1, anchor: 1, end: false)
        case "ME", "M": guard suffix == nil else { throw bad("\(rest) takes no anchor") }; offset = .months(1, anchor: 1, end: true)
        case "QS": offset = .months(3, anchor: try month(1), end: false)
        case "QE", "Q": offset = .months(3, anchor: try month(12), end: true)
        case "YS", "AS": offset = .months(12, anchor: try month(1), end: false)
        case "YE", "Y", "A": offset = .months(12, anchor: try month(12), end: true)
        default: throw bad(rest.isEmpty ? "no offset after the multiple" : "unknown offset '\(rest)'")
        }
    }

    /// Bin edges (microseconds of `calendar`) covering `[first, last]`, pandas' way
    /// (`_get_timestamp_range_edges`): ticks anchored at the first day's midnight; anchored
    /// offsets from the period boundary at or before the first day (left-closed) or strictly
    /// before it (right-closed), to one offset past the last day.
    func edges(first: Int64, last: Int64, closedRight: Bool, calendar: CFCalendar) throws -> [Int64] {
        let day = CFDate.microsecondsPerDay
        var out: [Int64] = []
        func guardCount() throws {
            if out.count > 50_000_000 { throw GyreDataError(.invalidArgument, "resample('\(text)'): more than 50,000,000 bins") }
        }
        switch offset {
        case .tick(let unit):
            let step = unit * Int64(multiple)
            let origin = floorDiv(first, day) * day
            let fo = mod(first - origin, step), lo = mod(last - origin, step)
            let start: Int64, end: Int64
            if closedRight {
                start = fo > 0 ? first - fo : first - step
                end = lo > 0 ? last + (step - lo) : last
            } else {
                start = first - fo
                end = lo > 0 ? last + (step - lo) : last + step
            }
            var e = start
            while e <= end { out.append(e); e += step; try guardCount() }
        case .week(let weekday):
            guard let wd = CFDate(ticks: first, calendar: calendar).dayOfWeek else {
                throw GyreDataError(.invalidArgument, "resample('\(text)'): weeks are not defined in the \(calendar.cfName) calendar")
            }
            let firstDay = floorDiv(first, day), lastDay = floorDiv(last, day)
            // The anchor weekday strictly before (right-closed) or at (left-closed) the first day.
            var back = Int64(((wd - weekday) % 7 + 7) % 7)
            if closedRight && back == 0 { back = 7 }
            let start = firstDay - back - Int64(multiple - 1) * 7
            // One offset past the last day: the next anchor strictly after it, then n - 1 weeks.
            let lastWd = Int64(((Int(mod(lastDay - firstDay, 7)) + wd) % 7))
            var ahead = (Int64(weekday) - lastWd + 7) % 7
            if ahead == 0 { ahead = 7 }
            let end = lastDay + ahead + Int64(multiple - 1) * 7
            var d = start
            while d <= end { out.append(d * day); d += 7 * Int64(multiple); try guardCount() }
        case .months(let period, let anchor, let end):
            // Periods are counted in months since year 0; a boundary month is one with
            // (month - anchor) divisible by the period (for ends: the month that ends it).
            func index(_ t: Int64) -> Int64 { let d = CFDate(ticks: t, calendar: calendar); return Int64(d.year) * 12 + Int64(d.month - 1) }
            func isBoundary(_ m: Int64) -> Bool { mod(m - Int64(anchor - 1), Int64(period)) == 0 }
            func ticks(_ m: Int64) throws -> Int64 {
                let y = Int(floorDiv(m, 12)), mo = Int(mod(m, 12)) + 1
                let d1 = try CFDate(y, mo, 1, calendar: calendar)
                return end ? d1.ticks + Int64(d1.daysInMonth - 1) * day : d1.ticks
            }
            let firstDay = floorDiv(first, day) * day, lastDay = floorDiv(last, day) * day
            // The boundary at or before (left-closed: rollback) or strictly before (first - offset).
            var m = index(firstDay)
            while !isBoundary(m) { m -= 1 }
            if try ticks(m) > firstDay { m -= Int64(period); while !isBoundary(m) { m -= 1 } }
            if closedRight {
                if try ticks(m) == firstDay { m -= Int64(period) }
                m -= Int64(period * (multiple - 1))
            }
            // last + offset: the next boundary strictly after the last day, then n - 1 periods.
            var mEnd = index(lastDay)
            while !isBoundary(mEnd) { mEnd += 1 }
            if try ticks(mEnd) <= lastDay { mEnd += Int64(period) }
            mEnd += Int64(period * (multiple - 1))
            let stop = try ticks(mEnd)
            while true {
                let t = try ticks(m)
                if t > stop { break }
                out.append(t)
                m += Int64(period * multiple)
                try guardCount()
            }
        }
        return out
    }
}

/// Division rounding toward negative infinity, and the matching remainder (times before 1970).
private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { let q = a / b; return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q }
private func mod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

extension DataArray {
    /// `resample(time: "1YS")`: groups along a time dimension into the bins of a frequency
    /// (pandas' and xarray's bins: `closed` and `label` default to "left" for ticks and period
    /// starts, "right" for W, ME, QE and YE). Bins without values are kept, as xarray keeps them,
    /// and every reduction gives NaN for them (sum and count too, as xarray). Works on datetime64 and on
    /// calendar-aware times of every CF calendar; lazy arrays stay lazy.
    public func resample(_ dim: String, _ freq: String, closed: String? = nil, label: String? = nil) throws -> GroupBy {
        GroupBy(array: self, try Grouping.resampling(dim, freq, closed: closed, label: label, dims: dims, coords: coords,
                                                     what: name ?? "the array"))
    }
}

extension Dataset {
    /// `ds.resample(time: "1YS")`: every data variable resampled into the same bins (see
    /// `DataArray.resample`).
    public func resample(_ dim: String, _ freq: String, closed: String? = nil, label: String? = nil) throws -> DatasetGroupBy {
        DatasetGroupBy(dataset: self, try Grouping.resampling(dim, freq, closed: closed, label: label, dims: dims, coords: coords,
                                                              what: "the dataset"))
    }
}

extension Grouping {
    /// The bins of `freq` along the time dimension `dim` of an array or dataset.
    static func resampling(_ dim: String, _ freq: String, closed: String?, label: String?, dims: [String],
                           coords: OrderedDictionary<String, Variable>, what: String) throws -> Grouping {
        let f = try ResampleFrequency(freq)
        for (option, v) in [("closed", closed), ("label", label)] where v != nil && v != "left" && v != "right" {
            throw GyreDataError(.invalidArgument, "resample: \(option) must be \"left\" or \"right\", not \"\(v!)\"")
        }
        let closedRight = (closed ?? (f.endAnchored ? "right" : "left")) == "right"
        let labelRight = (label ?? (f.endAnchored ? "right" : "left")) == "right"
        guard dims.contains(dim) else { throw GyreDataError(.missingDimension, "resample: '\(dim)' is not a dimension of \(what) \(dims)") }
        guard let c = coords[dim] else { throw GyreDataError(.missingVariable, "resample: dimension '\(dim)' has no coordinate to resample by") }
        // Times in a working unit (ns for ns data, else µs) and a calendar; edges are computed in
        // µs and scaled by `scale`.
        let values: [Int64], calendar: CFCalendar, scale: Int64
        let time = try c.data
        switch time {
        case .datetime64(let t, let u):
            calendar = .proleptic_gregorian
            let v = t.withUnsafeBufferPointer { Array($0) }
            if u == .nanoseconds {
                scale = 1000; values = v
            } else {
                let k = u.ticks(of: .microseconds)
                scale = 1; values = v.map { $0 == Int64.min ? $0 : $0 &* k }
            }
        case .cftime(let t, let cal):
            calendar = cal; scale = 1
            values = t.withUnsafeBufferPointer { Array($0) }
        default:
            throw GyreDataError(.invalidArgument, "resample: coordinate '\(dim)' holds \(time.dtype), not times")
        }
        let present = values.filter { $0 != Int64.min }
        guard let lo = present.min(), let hi = present.max() else {
            throw GyreDataError(.invalidArgument, "resample: coordinate '\(dim)' has no times (all NaT or empty)")
        }
        var edges = try f.edges(first: floorDiv(lo, scale), last: -floorDiv(-hi, scale), closedRight: closedRight, calendar: calendar)
        guard edges.count >= 2 else { throw GyreDataError(.invalidArgument, "resample('\(freq)'): no bins cover the times") }
        var scaled = edges.map { $0.multipliedReportingOverflow(by: scale) }
        guard !scaled.contains(where: \.overflow) else { throw GyreDataError(.invalidArgument, "resample('\(freq)'): bin edges overflow nanosecond times") }
        var bounds = scaled.map(\.partialValue)
        // Period ends close at the end of their last day (pandas' _adjust_bin_edges), and a
        // trailing bin that starts after the last time is dropped.
        if closedRight, f.endAnchored {
            bounds = bounds.map { $0 + CFDate.microsecondsPerDay * scale - 1 }
            if bounds.count > 2, bounds[bounds.count - 2] > hi {
                bounds.removeLast(); edges.removeLast(); scaled.removeLast()
            }
        }
        // Bin of each position: closed left [e_i, e_i+1), closed right (e_i, e_i+1].
        let labels = values.map { t -> Int in
            if t == Int64.min { return -1 }
            var a = 0, b = bounds.count   // first bound > t (left) or >= t (right)
            while a < b {
                let mid = (a + b) / 2
                if closedRight ? bounds[mid] < t : bounds[mid] <= t { a = mid + 1 } else { b = mid }
            }
            return a >= 1 && a < bounds.count ? a - 1 : -1
        }
        let labelTicks = labelRight ? Array(edges.dropFirst()) : Array(edges.dropLast())
        let coordValues: AnyNDArray
        switch time {
        case .datetime64(_, let u):
            if u == .nanoseconds {
                coordValues = .datetime64(NDArray(labelTicks.map { $0 * 1000 }), .nanoseconds)
            } else {
                let k = u.ticks(of: .microseconds)
                coordValues = labelTicks.allSatisfy({ $0 % k == 0 })
                    ? .datetime64(NDArray(labelTicks.map { $0 / k }), u) : .datetime64(NDArray(labelTicks), .microseconds)
            }
        default:
            coordValues = .cftime(NDArray(labelTicks), calendar)
        }
        var coord = try Variable([dim], coordValues)
        coord.attrs = c.attrs
        return Grouping(dim: dim, name: dim, groupValues: coord, labels: labels, emptyGroupsMissing: true)
    }
}
