/// One type-erased value: an element of an `AnyNDArray`, a fill value, an operand.
///
/// In arithmetic with arrays, `.int` and `.double` behave like Python scalars under NumPy 2's
/// rules (NEP 50: they adopt the array's type where they fit: `float32 array + 1.0` stays
/// float32); the other cases are typed and promote like arrays.
public enum Scalar: Sendable, Hashable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float32(Float)
    case double(Double)
    /// A `datetime64` value: ticks since 1970-01-01 in `unit`; `Int64.min` is NaT.
    case datetime(Int64, TimeUnit)
    /// A `timedelta64` value; `Int64.min` is NaT.
    case timedelta(Int64, TimeUnit)
    /// A calendar-aware datetime: microseconds since 1970-01-01 in the calendar.
    case cftime(Int64, CFCalendar)
    case string(String)

    /// Not-a-Time, the datetime64 missing value.
    public static let natTicks = Int64.min

    public var description: String {
        switch self {
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .float32(let f): return formatFloat(Double(f), float32: true)
        case .double(let d): return formatFloat(d, float32: false)
        case .datetime(let t, let u): return formatDatetime64(t, unit: u)
        case .timedelta(let t, let u): return t == Int64.min ? "NaT" : "\(t) \(u.rawValue)"
        case .cftime(let t, let c): return CFDate.isoformat(ticks: t, calendar: c)
        case .string(let s): return s
        }
    }

    /// The value as a Double, where it is numeric.
    public var doubleValue: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .float32(let f): return Double(f)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Whether the value is NaN or NaT.
    public var isMissing: Bool {
        switch self {
        case .float32(let f): return f.isNaN
        case .double(let d): return d.isNaN
        case .datetime(let t, _), .timedelta(let t, _): return t == Int64.min
        default: return false
        }
    }

    /// The dtype of a 0-d array holding this value.
    public var dtype: DType {
        switch self {
        case .bool: return .bool
        case .int: return .int64
        case .uint: return .uint64
        case .float32: return .float32
        case .double: return .float64
        case .datetime(_, let u): return .datetime64(u)
        case .timedelta(_, let u): return .timedelta64(u)
        case .cftime(_, let c): return .cftime(c)
        case .string(let s): return .string(.unicode(max(s.count, 1)))
        }
    }
}

extension Scalar: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByStringLiteral
{
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
