/// The one error type of `GyreArrays`: a code, a message that names what is at fault, and an
/// optional underlying cause.
public struct GyreArraysError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let shapeMismatch = Code("shape mismatch")
        public static let indexOutOfRange = Code("index out of range")
        public static let invalidAxis = Code("invalid axis")
        public static let invalidArgument = Code("invalid argument")
        public static let unsupportedDType = Code("unsupported dtype")
        public static let emptyReduction = Code("empty reduction")
        public static let allNaN = Code("all-NaN slice")
        public static let parse = Code("parse error")
        public static let corruptData = Code("corrupt data")
        public static let calendar = Code("calendar error")
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
        if let cause { return "\(code): \(message) (caused by: \(cause))" }
        return "\(code): \(message)"
    }
}
