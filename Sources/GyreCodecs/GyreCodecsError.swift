/// The one error type of `GyreCodecs`: a code, a message naming the codec (and, once the
/// pipeline adds it, the array and chunk) and an optional cause.
public struct GyreCodecsError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let unknownCodec = Code("unknown codec")
        public static let invalidConfiguration = Code("invalid codec configuration")
        public static let corrupt = Code("corrupt data")
        public static let checksum = Code("checksum mismatch")
        public static let encode = Code("encode failed")
        public static let unsupported = Code("unsupported")
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The same error with context (array, chunk key) put in front of the message.
    public func context(_ prefix: String) -> GyreCodecsError {
        GyreCodecsError(code, "\(prefix): \(message)", cause: cause)
    }

    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }
}
