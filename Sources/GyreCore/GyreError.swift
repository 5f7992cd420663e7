/// What every Gyre error is: a code (what kind of fault), a message that names the thing at
/// fault (file, key, variable, byte offset, field), and an optional cause underneath. The
/// description and the cause chain are written here once for every module.
///
/// Most modules use ``GyreError`` with a domain of their own (`GyreZarrError` is
/// `GyreError<ZarrDomain>`); an error that carries more (a column, an HTTP status) is a struct
/// of its own that conforms to this protocol.
public protocol GyreErrorProtocol: Error, CustomStringConvertible, Sendable {
    associatedtype Code: Hashable, Sendable, CustomStringConvertible
    var code: Code { get }
    var message: String { get }
    var cause: (any Error & Sendable)? { get }
}

extension GyreErrorProtocol {
    public var description: String { describe(head: "\(code): \(message)") }

    /// `head`, then each error of the cause chain whose message the text does not already
    /// carry, so a cause is printed once however often it was wrapped: "invalid argument: codec
    /// 'zstd:99': level 99 is not in -7...22; caused by unsupported: ...".
    public func describe(head: String) -> String {
        var text = head
        var seen = message
        var next = cause
        var depth = 0
        while let c = next, depth < 16 {
            depth += 1
            let line: String, own: String
            if let g = c as? any GyreErrorProtocol {
                own = g.message
                line = "\(g.code): \(g.message)"
                next = g.cause
            } else {
                own = String(describing: c)
                line = own
                next = nil
            }
            if !own.isEmpty && !seen.contains(own) {
                text += "; caused by \(line)"
                seen += "\n" + own
            }
        }
        return text
    }

    /// The errors underneath this one, nearest first.
    public var causes: [any Error] {
        var out: [any Error] = []
        var next = cause
        while let c = next, out.count < 16 {
            out.append(c)
            next = (c as? any GyreErrorProtocol)?.cause
        }
        return out
    }

    /// The nearest error of type `E` in this error's cause chain (itself included).
    public func underlying<E: Error>(_ type: E.Type) -> E? {
        if let e = self as? E { return e }
        for c in causes { if let e = c as? E { return e } }
        return nil
    }
}

/// The error type of a Gyre module: `typealias GyreZarrError = GyreError<ZarrDomain>`, its codes
/// declared as `extension GyreError.Code where Domain == ZarrDomain { static var metadata ... }`.
public struct GyreError<Domain>: GyreErrorProtocol {
    /// A kind of fault; modules add their codes in constrained extensions.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The same error with context (an array, a chunk key, a file) put in front of the message.
    public func context(_ prefix: String) -> Self {
        Self(code, "\(prefix): \(message)", cause: cause)
    }

    /// This module's error for one from below: `message` is put in front of the cause's own
    /// message (which is then not repeated in the description).
    public init(_ code: Code, _ message: String, wrapping error: any Error & Sendable) {
        let own = (error as? any GyreErrorProtocol)?.message ?? String(describing: error)
        self.init(code, message.isEmpty ? own : "\(message): \(own)", cause: error)
    }
}

/// The domain of GyreCore's own errors (JSON that does not parse).
public enum CoreDomain: Sendable {}
public typealias GyreCoreError = GyreError<CoreDomain>

extension GyreError.Code where Domain == CoreDomain {
    /// Text that is not JSON, or JSON nested too deep.
    public static var invalidJSON: Self { Self("invalid JSON") }
}
