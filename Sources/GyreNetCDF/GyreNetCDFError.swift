@_exported import GyreCore

/// The error type of `GyreNetCDF`: a code, a message naming the file (and variable) at fault,
/// and an optional cause (for example the netCDF library status underneath).
public typealias GyreNetCDFError = GyreError<NetCDFDomain>

/// The domain of `GyreNetCDFError`.
public enum NetCDFDomain: Sendable {}

extension GyreError.Code where Domain == NetCDFDomain {
    public static var invalidArgument: Self { Self("invalid argument") }
    /// The file is missing, not netCDF, truncated or otherwise unreadable.
    public static var open: Self { Self("cannot open") }
    public static var read: Self { Self("read error") }
    public static var write: Self { Self("write error") }
    /// A type, variable or group the file has but Gyre cannot represent.
    public static var unsupported: Self { Self("unsupported") }
    public static var notFound: Self { Self("not found") }
}
