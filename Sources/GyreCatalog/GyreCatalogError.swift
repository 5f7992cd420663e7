/// The one error type of `GyreCatalog`: a code, a message naming the catalog, collection or item at fault, and
/// an optional cause.
public struct GyreCatalogError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A request that cannot be answered as asked (a bad parameter, an unknown property).
        public static let badRequest = Code("bad request")
        /// A collection or item that does not exist.
        public static let notFound = Code("not found")
        /// A write that conflicts with what is stored (an item whose collection is missing).
        public static let conflict = Code("conflict")
        /// The database failed.
        public static let database = Code("database error")
        /// Reading files to ingest.
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
