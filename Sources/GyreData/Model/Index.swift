import GyreCore
import GyreArrays

/// How `sel` matches labels that are not exactly in the index.
public enum SelectMethod: String, Sendable {
    /// The closest label (ties go to the later label, as pandas does for increasing indexes).
    case nearest
    /// The last label at or before the target (forward fill).
    case pad
    /// The first label at or after the target (back fill).
    case backfill
}

/// A label-lookup structure built from a 1-D coordinate (pandas' Index to xarray). Kept separate
/// from the coordinate variable itself: the coordinate holds values, the index answers lookups.
public struct Index: Sendable {
    /// The dimension (and coordinate) name.
    public let dim: String
    /// The coordinate values the index was built from.
    public let values: AnyNDArray

    enum Keys: Sendable {
        case numbers([Double])
        case ticks([Int64])  // datetime64 ticks in `unit`, or cftime microseconds
        case strings([String])
    }
    let keys: Keys
    public let isMonotonicIncreasing: Bool
    public let isMonotonicDecreasing: Bool
    public let isUnique: Bool

    public init(dim: String, values: AnyNDArray) throws {
        guard values.ndim == 1 else {
            throw GyreDataError(.invalidArgument, "an index needs a 1-D coordinate; '\(dim)' has \(values.ndim) dimensions")
        }
        self.dim = dim
        self.values = values
        switch values {
        case .datetime64(let t, _), .timedelta64(let t, _), .cftime(let t, _): keys = .ticks(t.elements)
        case .string(let s, _): keys = .strings(s.elements)
        default:
            guard let d = values.doubles() else {
                throw GyreDataError(.invalidArgument, "cannot index coordinate '\(dim)' of dtype \(values.dtype)")
            }
            keys = .numbers(d)
        }
        func mono<T: Comparable & Hashable>(_ a: [T]) -> (Bool, Bool, Bool) {
            var inc = true, dec = true
            for i in a.indices.dropFirst() {
                if a[i] < a[i - 1] { inc = false }
                if a[i] > a[i - 1] { dec = false }
            }
            let strict = (inc || dec) ? zip(a, a.dropFirst()).allSatisfy { $0 != $1 } : Set(a).count == a.count
            return (inc, dec, strict)
        }
        switch keys {
        case .numbers(let d): (isMonotonicIncreasing, isMonotonicDecreasing, isUnique) = mono(d)
        case .ticks(let t): (isMonotonicIncreasing, isMonotonicDecreasing, isUnique) = mono(t)
        case .strings(let s): (isMonotonicIncreasing, isMonotonicDecreasing, isUnique) = mono(s)
        }
    }

    public var count: Int { values.count }

    // MARK: Label conversion

    enum Key: Comparable { case number(Double), tick(Int64), string(String) }

    /// Converts a label to the index's key space.
    func key(for label: Scalar) throws -> Key {
        switch keys {
        case .numbers:
            guard let d = label.doubleValue else {
                throw GyreDataError(.keyNotFound, "label \(label) cannot select from numeric index '\(dim)'")
            }
            return .number(d)
        case .strings:
            guard case .string(let s) = label else {
                throw GyreDataError(.keyNotFound, "label \(label) cannot select from string index '\(dim)'")
            }
            return .string(s)
        case .ticks:
            let converted: AnyNDArray
            do { converted = try values.operand(label) } catch {
                throw GyreDataError(.keyNotFound, "label \(label) cannot select from \(values.dtype) index '\(dim)'", cause: error as? GyreArraysError)
            }
            switch converted {
            case .datetime64(let t, let u):
                guard case .datetime64(_, let iu) = values else { break }
                return .tick(convertTick(t.first!, from: u, to: iu))
            case .timedelta64(let t, let u):
                guard case .timedelta64(_, let iu) = values else { break }
                return .tick(convertTick(t.first!, from: u, to: iu))
            case .cftime(let t, _): return .tick(t.first!)
            default: break
            }
            throw GyreDataError(.keyNotFound, "label \(label) cannot select from \(values.dtype) index '\(dim)'")
        }
    }

    func key(at i: Int) -> Key {
        switch keys {
        case .numbers(let d): return .number(d[i])
        case .ticks(let t): return .tick(t[i])
        case .strings(let s): return .string(s[i])
        }
    }

    func distance(_ a: Key, _ b: Key) -> Double {
        switch (a, b) {
        case (.number(let x), .number(let y)): return Swift.abs(x - y)
        case (.tick(let x), .tick(let y)): return Swift.abs(Double(x) - Double(y))
        default: return a == b ? 0 : .infinity
        }
    }

    /// Tolerance in key units: numbers as given; for time indexes, seconds.
    func toleranceInKeyUnits(_ tol: Double) -> Double {
        switch values {
        case .datetime64(_, let u), .timedelta64(_, let u): return tol * 1e9 / Double(u.nanoseconds)
        case .cftime: return tol * 1e6
        default: return tol
        }
    }

    /// First position whose key is >= (`.left`) or > (`.right`) `k`, for increasing indexes.
    func insertionPoint(_ k: Key, right: Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            let m = key(at: mid)
            if right ? !(k < m) : m < k { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    // MARK: Lookups

    /// The position of one label.
    public func position(of label: Scalar, method: SelectMethod? = nil, tolerance: Double? = nil) throws -> Int {
        let k = try key(for: label)
        guard let method else {
            if isMonotonicIncreasing {
                let i = insertionPoint(k, right: false)
                if i < count && key(at: i) == k { return i }
            } else {
                for i in 0..<count where key(at: i) == k { return i }
            }
            throw GyreDataError(.keyNotFound, "label \(label) not found in index '\(dim)'")
        }
        guard isMonotonicIncreasing || isMonotonicDecreasing else {
            throw GyreDataError(.invalidArgument, "index '\(dim)' must be monotonic increasing or decreasing for method '\(method.rawValue)'")
        }
        // Work on an increasing view of the positions.
        let n = count
        func pos(_ i: Int) -> Int { isMonotonicIncreasing ? i : n - 1 - i }
        func keyInc(_ i: Int) -> Key { key(at: pos(i)) }
        var lo = 0, hi = n
        while lo < hi { let mid = (lo + hi) / 2; if keyInc(mid) < k { lo = mid + 1 } else { hi = mid } }
        let after = lo < n ? lo : nil  // first >= k
        var before: Int? = nil          // last <= k
        if let a = after, keyInc(a) == k { before = a } else if lo > 0 { before = lo - 1 }
        var chosen: Int?
        switch method {
        case .pad: chosen = before
        case .backfill: chosen = after
        case .nearest:
            switch (before, after) {
            case (let b?, let a?):
                let db = distance(keyInc(b), k), da = distance(keyInc(a), k)
                if isMonotonicIncreasing { chosen = db < da ? b : a } else { chosen = db <= da ? b : a }
            case (let b?, nil): chosen = b
            case (nil, let a?): chosen = a
            default: chosen = nil
            }
        }
        guard let c = chosen else {
            throw GyreDataError(.keyNotFound, "no label in index '\(dim)' matches \(label) with method '\(method.rawValue)'")
        }
        if let tolerance, distance(keyInc(c), k) > toleranceInKeyUnits(tolerance) {
            throw GyreDataError(.keyNotFound, "no label in index '\(dim)' within tolerance \(tolerance) of \(label)")
        }
        return pos(c)
    }

    /// Positions of several labels.
    public func positions(of labels: [Scalar], method: SelectMethod? = nil, tolerance: Double? = nil) throws -> [Int] {
        try labels.map { try position(of: $0, method: method, tolerance: tolerance) }
    }

    /// Positions of labels between `start` and `stop`, inclusive at both ends (pandas label
    /// slicing). Either bound may be nil. Needs a monotonic index.
    public func slice(from start: Scalar?, to stop: Scalar?) throws -> Slice {
        let ks = try start.map { try key(for: $0) }
        let ke = try stop.map { try key(for: $0) }
        return try slice(keys: ks, ke, stopExclusive: false)
    }

    func slice(keys ks: Key?, _ ke: Key?, stopExclusive: Bool) throws -> Slice {
        if isMonotonicIncreasing {
            let lo = ks.map { insertionPoint($0, right: false) } ?? 0
            let hi = ke.map { insertionPoint($0, right: !stopExclusive) } ?? count
            return Slice(lo, Swift.max(lo, hi))
        }
        if isMonotonicDecreasing {
            // Labels run high to low: slice(start, stop) with start >= stop.
            func firstNotAbove(_ k: Key) -> Int { var lo = 0, hi = count; while lo < hi { let m = (lo + hi) / 2; if k < key(at: m) { lo = m + 1 } else { hi = m } }; return lo }
            func firstBelow(_ k: Key) -> Int { var lo = 0, hi = count; while lo < hi { let m = (lo + hi) / 2; if !(key(at: m) < k) { lo = m + 1 } else { hi = m } }; return lo }
            let lo = ks.map { firstNotAbove($0) } ?? 0
            let hi = ke.map { stopExclusive ? firstNotAbove($0) : firstBelow($0) } ?? count
            return Slice(lo, Swift.max(lo, hi))
        }
        throw GyreDataError(.invalidArgument, "cannot slice index '\(dim)' by label: it is not monotonic")
    }

    /// The resolution of a datetime index: the coarsest unit that every value is a whole multiple of.
    var datetimeResolution: DateResolution {
        guard case .ticks(let t) = keys else { return .subsecond }
        let ns: Int64
        switch values {
        case .datetime64(_, let u): ns = u.nanoseconds
        case .cftime: ns = 1000
        default: return .subsecond
        }
        var res = DateResolution.day
        for v in t where v != Int64.min {
            let total = v.multipliedReportingOverflow(by: ns)
            let x = total.overflow ? 0 : total.partialValue
            let r: DateResolution
            if x % 86_400_000_000_000 == 0 { r = .day } else if x % 3_600_000_000_000 == 0 { r = .hour }
            else if x % 60_000_000_000 == 0 { r = .minute } else if x % 1_000_000_000 == 0 { r = .second } else { r = .subsecond }
            if r > res { res = r }
            if res == .subsecond { break }
        }
        return res
    }

    /// For a date string on a time index: either an exact label (the string is as precise as the
    /// index) or the slice of the whole period it names ("2001-03" on daily data is March).
    func partialDateSelection(_ text: String) throws -> PositionIndexer? {
        guard case .ticks = keys, values.dtype.isDatetime else { return nil }
        let comp: ParsedDate
        do { comp = try parseDateComponents(text) } catch { return nil }
        let resolution = datetimeResolution
        // pandas' rule: a string at least as precise as the index is an exact label; a coarser
        // one names a period.
        if comp.resolution >= resolution { return nil }
        let calendar: CFCalendar
        if case .cftime(_, let c) = values { calendar = c } else { calendar = .proleptic_gregorian }
        let end = try comp.periodEnd(calendar: calendar)
        func toKey(_ c: ParsedDate) throws -> Key {
            switch values {
            case .datetime64(_, let u): return .tick(try datetime64Ticks(c, unit: u))
            case .cftime(_, let cal):
                let d = try CFDate(Int(c.year), Int(c.month), Int(c.day), Int(c.hour), Int(c.minute), Int(c.second), Int(c.nanosecond / 1000), calendar: cal)
                return .tick(d.ticks)
            default: throw GyreDataError(.keyNotFound, "not a time index")
            }
        }
        var startComp = comp
        startComp.utcOffsetMinutes = 0
        return .slice(try slice(keys: try toKey(startComp), try toKey(end), stopExclusive: true))
    }
}
