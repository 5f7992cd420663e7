@_exported import GyreCore

/// The error type of `GyreExpr`: what is wrong and the column (1-based) of the expression
/// where it is, so the CLI can point at it.
public struct GyreExprError: GyreErrorProtocol {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        public static let syntax = Code("syntax error")
        public static let type = Code("type error")
        public static let name = Code("name error")
        public static let evaluation = Code("evaluation error")
    }

    public let code: Code
    public let message: String
    /// 1-based column in the expression.
    public let column: Int
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, column: Int, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.column = column
        self.cause = cause
    }

    public var description: String { describe(head: "\(code) at column \(column): \(message)") }

    /// The expression with a caret under the column, then the message.
    public func pointing(into source: String) -> String {
        "\(source)\n\(String(repeating: " ", count: Swift.max(0, column - 1)))^\n\(code) at column \(column): \(message)"
    }
}
