@_exported import GyreCore

/// The error type of `GyreArrays`: a code, a message that names what is at fault, and an
/// optional underlying cause.
public typealias GyreArraysError = GyreError<ArraysDomain>

/// The domain of `GyreArraysError`.
public enum ArraysDomain: Sendable {}

extension GyreError.Code where Domain == ArraysDomain {
    public static var shapeMismatch: Self { Self("shape mismatch") }
    public static var indexOutOfRange: Self { Self("index out of range") }
    public static var invalidAxis: Self { Self("invalid axis") }
    public static var invalidArgument: Self { Self("invalid argument") }
    public static var unsupportedDType: Self { Self("unsupported dtype") }
    public static var emptyReduction: Self { Self("empty reduction") }
    public static var allNaN: Self { Self("all-NaN slice") }
    public static var parse: Self { Self("parse error") }
    public static var corruptData: Self { Self("corrupt data") }
    public static var calendar: Self { Self("calendar error") }
}
