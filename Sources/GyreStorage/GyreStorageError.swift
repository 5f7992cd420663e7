/// The one error type of `GyreStorage`: a code, a message naming the store and key at fault, and
/// an optional cause.
public struct GyreStorageError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidKey = Code("invalid key")
        public static let invalidRange = Code("invalid byte range")
        public static let io = Code("I/O error")
        public static let notFound = Code("not found")
        public static let readOnly = Code("read-only store")
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
