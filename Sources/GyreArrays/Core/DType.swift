import Foundation

/// The unit of a `datetime64` / `timedelta64` value, as NumPy names them.
public enum TimeUnit: String, Sendable, Hashable, CaseIterable, Comparable {
    case days = "D", hours = "h", minutes = "m", seconds = "s"
    case milliseconds = "ms", microseconds = "us", nanoseconds = "ns"

    /// Nanoseconds in one tick of this unit.
    public var nanoseconds: Int64 {
        switch self {
        case .days: return 86_400_000_000_000
        case .hours: return 3_600_000_000_000
        case .minutes: return 60_000_000_000
        case .seconds: return 1_000_000_000
        case .milliseconds: return 1_000_000
        case .microseconds: return 1_000
        case .nanoseconds: return 1
        }
    }

    /// Coarser units compare smaller: `.days < .nanoseconds`.
    public static func < (a: TimeUnit, b: TimeUnit) -> Bool { a.nanoseconds > b.nanoseconds }

    /// Ticks of `finer` in one tick of `self` (self must be at least as coarse).
    public func ticks(of finer: TimeUnit) -> Int64 { nanoseconds / finer.nanoseconds }
}

/// The calendars of the CF conventions. Values of calendar-aware datetimes are stored as
/// microseconds since 1970-01-01T00:00 *in that calendar*, so ordering and arithmetic are integer
/// operations and only field access needs the calendar.
public enum CFCalendar: String, Sendable, Hashable, CaseIterable {
    case standard, proleptic_gregorian, julian, noleap, all_leap, day360 = "360_day"

    /// Parses a CF calendar name, accepting the aliases the conventions allow.
    public init?(cfName: String) {
        switch cfName.lowercased().trimmingCharacters(in: .whitespaces) {
        case "standard", "gregorian": self = .standard
        case "proleptic_gregorian": self = .proleptic_gregorian
        case "julian": self = .julian
        case "noleap", "365_day": self = .noleap
        case "all_leap", "366_day": self = .all_leap
        case "360_day": self = .day360
        default: return nil
        }
    }

    /// The name cftime and xarray print.
    public var cfName: String { rawValue }

    /// Whether datetimes in this calendar can be represented as NumPy `datetime64`
    /// (proleptic Gregorian) values.
    public var isStandardLike: Bool { self == .standard || self == .proleptic_gregorian }
}

/// How a string array's elements are constrained.
public enum StringKind: Sendable, Hashable {
    /// Variable-length UTF-8 strings (NumPy `StringDType`/object strings, Zarr `vlen-utf8`).
    case variable
    /// Fixed-width Unicode of at most `n` characters (NumPy `<U n`).
    case unicode(Int)
    /// Fixed-width bytes of at most `n` bytes (NumPy `|S n`).
    case bytes(Int)
}

/// A runtime data type. Every array read from a file has one; typed kernels are chosen by a
/// single `switch` on it.
public enum DType: Sendable, Hashable, CustomStringConvertible {
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float32, float64
    case datetime64(TimeUnit)
    case timedelta64(TimeUnit)
    /// Calendar-aware datetimes (cftime-like): microseconds since 1970-01-01 in the calendar.
    case cftime(CFCalendar)
    case string(StringKind)

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .datetime64(let u): return "datetime64[\(u.rawValue)]"
        case .timedelta64(let u): return "timedelta64[\(u.rawValue)]"
        case .cftime(let c): return "cftime[\(c.cfName)]"
        case .string(.variable): return "<StringDType>"
        case .string(.unicode(let n)): return "<U\(n)"
        case .string(.bytes(let n)): return "|S\(n)"
        }
    }

    /// Bytes per element in NumPy's layout (strings: per-element maximum, 16 for variable).
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64, .datetime64, .timedelta64, .cftime: return 8
        case .string(.variable): return 16
        case .string(.unicode(let n)): return 4 * n
        case .string(.bytes(let n)): return n
        }
    }

    public var isBool: Bool { self == .bool }
    public var isSignedInteger: Bool { [.int8, .int16, .int32, .int64].contains(self) }
    public var isUnsignedInteger: Bool { [.uint8, .uint16, .uint32, .uint64].contains(self) }
    public var isInteger: Bool { isSignedInteger || isUnsignedInteger }
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    /// Bool, integer or floating point.
    public var isNumeric: Bool { isBool || isInteger || isFloatingPoint }
    public var isDatetime: Bool {
        switch self { case .datetime64, .cftime: return true; default: return false }
    }
    public var isTimedelta: Bool { if case .timedelta64 = self { return true }; return false }
    public var isString: Bool { if case .string = self { return true }; return false }
    /// Integers, floats, datetime64 and timedelta64: elements of one fixed size whose native
    /// bytes can be read and written in place.
    public var hasFixedLayout: Bool {
        switch self {
        case .datetime64, .timedelta64: return true
        default: return isInteger || isFloatingPoint
        }
    }

    // MARK: NumPy type promotion

    private var kindRank: Int {  // b < u/i < f
        if isBool { return 0 }
        if isInteger { return 1 }
        if isFloatingPoint { return 2 }
        return 3
    }

    private static func signed(bytes: Int) -> DType {
        switch bytes { case 1: return .int8; case 2: return .int16; case 4: return .int32; default: return .int64 }
    }

    /// `numpy.result_type(a, b)` for two arrays: the smallest type both convert to safely.
    /// Returns nil where NumPy raises (for example datetime + bool, or string + number).
    public static func promote(_ a: DType, _ b: DType) -> DType? {
        if a == b { return a }
        switch (a, b) {
        case (.string(let ka), .string(let kb)):
            switch (ka, kb) {
            case (.variable, _), (_, .variable): return .string(.variable)
            case (.unicode(let n), .unicode(let m)): return .string(.unicode(max(n, m)))
            case (.bytes(let n), .bytes(let m)): return .string(.bytes(max(n, m)))
            case (.unicode(let n), .bytes(let m)), (.bytes(let m), .unicode(let n)):
                return .string(.unicode(max(n, m)))
            }
        case (.datetime64(let u), .datetime64(let v)): return .datetime64(max(u, v))
        case (.timedelta64(let u), .timedelta64(let v)): return .timedelta64(max(u, v))
        case (.timedelta64(let u), let i) where i.isInteger || i.isBool: return .timedelta64(u)
        case (let i, .timedelta64(let u)) where i.isInteger || i.isBool: return .timedelta64(u)
        default: break
        }
        guard a.isNumeric, b.isNumeric else { return nil }
        if a.kindRank != b.kindRank {
            let (lo, hi) = a.kindRank < b.kindRank ? (a, b) : (b, a)
            if hi.isInteger { return hi }  // bool + int
            if hi.isFloatingPoint {
                if lo.isBool { return hi }
                // int + float: float32 holds int8/16 and uint8/16 exactly, larger ints need float64.
                if hi == .float32 && lo.itemSize <= 2 { return .float32 }
                return .float64
            }
            return nil
        }
        if a.isFloatingPoint { return a.itemSize >= b.itemSize ? a : b }
        // Both integers.
        if a.isSignedInteger == b.isSignedInteger { return a.itemSize >= b.itemSize ? a : b }
        let (s, u) = a.isSignedInteger ? (a, b) : (b, a)
        if s.itemSize > u.itemSize { return s }
        if u.itemSize == 8 { return .float64 }
        return signed(bytes: u.itemSize * 2)
    }

    /// The dtype a sum or product over this dtype has in NumPy (small ints widen to 64 bits).
    public var sumResult: DType {
        switch self {
        case .bool, .int8, .int16, .int32, .int64: return .int64
        case .uint8, .uint16, .uint32, .uint64: return .uint64
        default: return self
        }
    }

    /// The float dtype that can hold this dtype's values with NaN for missing, as xarray's
    /// `maybe_promote` picks it: float32 for ints of at most 2 bytes, float64 otherwise.
    public var nanPromoted: DType {
        if isFloatingPoint { return self }
        if isInteger && itemSize <= 2 { return .float32 }
        if isBool { return .float64 }
        return .float64
    }
}

extension DType {
    /// The values an integer dtype holds, as doubles (nil for other dtypes).
    package var integerRange: ClosedRange<Double>? {
        switch self {
        case .uint8: return 0...255
        case .int8: return -128...127
        case .uint16: return 0...65535
        case .int16: return -32768...32767
        case .uint32: return 0...4294967295
        case .int32: return -2147483648...2147483647
        case .uint64: return 0...18446744073709551615
        case .int64: return -9223372036854775808...9223372036854775807
        default: return nil
        }
    }

    /// Whether `v` is a value of this dtype exactly (a whole number in range, for integers).
    package func holds(_ v: Double) -> Bool {
        guard let r = integerRange else { return isFloatingPoint }
        return v == v.rounded() && r.contains(v)
    }
}
