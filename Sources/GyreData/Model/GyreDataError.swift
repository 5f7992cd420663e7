import GyreArrays

/// The one error type of `GyreData`: a code, a message naming the variable, dimension or
/// attribute at fault, and an optional cause (for example the `GyreArraysError` underneath).
public struct GyreDataError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let dimensionMismatch = Code("dimension mismatch")
        public static let missingDimension = Code("missing dimension")
        public static let missingVariable = Code("missing variable")
        public static let missingIndex = Code("no index")
        public static let keyNotFound = Code("label not found")
        public static let alignment = Code("alignment error")
        public static let conflict = Code("conflict")
        public static let invalidArgument = Code("invalid argument")
        public static let cfDecoding = Code("CF decoding error")
        public static let cfEncoding = Code("CF encoding error")
        public static let arrays = Code("array error")
        /// The values are lazy and an operation needs them in memory.
        public static let notLoaded = Code("not loaded")
        /// Reading lazy values from their store failed.
        public static let read = Code("read error")
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

/// Runs `body`, re-raising array-level errors with the context of the labeled operation.
@inline(__always)
func context<R>(_ what: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as GyreArraysError {
        throw GyreDataError(.arrays, "\(what()): \(e.message)", cause: e)
    }
}
