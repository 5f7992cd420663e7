/// The one error type of `GyreNetCDF`: a code, a message naming the file (and variable) at fault,
/// and an optional cause (for example the netCDF library status underneath).
public struct GyreNetCDFError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidArgument = Code("invalid argument")
        /// The file is missing, not netCDF, truncated or otherwise unreadable.
        public static let open = Code("cannot open")
        public static let read = Code("read error")
        public static let write = Code("write error")
        /// A type, variable or group the file has but Gyre cannot represent.
        public static let unsupported = Code("unsupported")
        public static let notFound = Code("not found")
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }
}
