import GyreCatalog
@_exported import GyreCore
import GyreSTAC

/// The one error type of `GyreServer`: a code that carries the HTTP status, a message naming the
/// parameter, field, collection or item at fault, and an optional cause. Errors from the modules
/// below (bad STAC, bad CQL2, a missing collection) are mapped onto it in one place,
/// `GyreServerError.init(mapping:)`.
public struct GyreServerError: GyreErrorProtocol {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The name sent as `code` in the JSON error body.
        public let rawValue: String
        /// The HTTP status code.
        public let status: Int
        public init(_ rawValue: String, status: Int) { self.rawValue = rawValue; self.status = status }
        public var description: String { rawValue }

        public static let badRequest = Code("BadRequest", status: 400)
        public static let unauthorized = Code("Unauthorized", status: 401)
        public static let forbidden = Code("Forbidden", status: 403)
        public static let notFound = Code("NotFound", status: 404)
        public static let methodNotAllowed = Code("MethodNotAllowed", status: 405)
        public static let conflict = Code("Conflict", status: 409)
        public static let payloadTooLarge = Code("PayloadTooLarge", status: 413)
        public static let tooManyRequests = Code("TooManyRequests", status: 429)
        public static let unsupportedMediaType = Code("UnsupportedMediaType", status: 415)
        public static let internalError = Code("InternalServerError", status: 500)
        public static let serviceUnavailable = Code("ServiceUnavailable", status: 503)
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?
    /// Seconds a client should wait before asking again (sent as Retry-After with a 429).
    public let retryAfter: Int?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.retryAfter = retryAfter
    }

    /// Maps an error from any layer onto a status: bad STAC, JSON, geometry, datetime or CQL2 is
    /// the client's (400); the catalog's own codes keep their meaning; anything else is ours (500).
    public init(mapping error: any Error) {
        switch error {
        case let e as GyreServerError:
            self = e
        case let e as GyreSTACError:
            self.init(e.code == .io ? .internalError : .badRequest, "\(e.code): \(e.message)", cause: e)
        case let e as GyreCoreError:
            self.init(.badRequest, "\(e.code): \(e.message)", cause: e)
        case let e as GyreCatalogError:
            let code: Code
            switch e.code {
            case .badRequest: code = .badRequest
            case .notFound: code = .notFound
            case .conflict: code = .conflict
            default: code = .internalError
            }
            self.init(code, e.message, cause: e)
        default:
            self.init(.internalError, String(describing: error))
        }
    }

    /// The JSON body sent for this error: `{"code": ..., "description": ...}` as stac-fastapi
    /// and OGC API clients expect.
    public var json: JSON { ["code": .string(code.rawValue), "description": .string(message)] }
}
