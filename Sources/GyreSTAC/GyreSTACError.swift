/// The one error type of `GyreSTAC`: a code, a message naming the document, object and field
/// at fault (with a line and column for JSON and CQL2 text), and an optional cause.
public struct GyreSTACError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Text that is not JSON, or JSON nested too deep.
        public static let invalidJSON = Code("invalid JSON")
        /// JSON that is not the STAC object expected: a missing or mistyped field.
        public static let invalidSTAC = Code("invalid STAC")
        /// A GeoJSON geometry that breaks the spec (too few positions, open rings, bad bbox).
        public static let invalidGeometry = Code("invalid geometry")
        /// A date or interval that is not RFC 3339.
        public static let invalidDatetime = Code("invalid datetime")
        /// A CQL2 expression that does not parse (text or JSON).
        public static let invalidFilter = Code("invalid filter")
        /// Reading or writing catalog files.
        public static let io = Code("I/O error")
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
