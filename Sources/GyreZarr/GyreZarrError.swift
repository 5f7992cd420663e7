/// The one error type of `GyreZarr`: a code, a message naming the store, array and chunk key at
/// fault, and an optional cause (a codec or storage error underneath).
public struct GyreZarrError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let metadata = Code("invalid metadata")
        public static let notFound = Code("not found")
        public static let unsupported = Code("unsupported")
        public static let chunk = Code("bad chunk")
        public static let selection = Code("invalid selection")
        public static let exists = Code("already exists")
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
