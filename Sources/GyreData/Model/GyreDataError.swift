import GyreArrays
@_exported import GyreCore

/// The error type of `GyreData`: a code, a message naming the variable, dimension or
/// attribute at fault, and an optional cause (for example the `GyreArraysError` underneath).
public typealias GyreDataError = GyreError<DataDomain>

/// The domain of `GyreDataError`.
public enum DataDomain: Sendable {}

extension GyreError.Code where Domain == DataDomain {
    public static var dimensionMismatch: Self { Self("dimension mismatch") }
    public static var missingDimension: Self { Self("missing dimension") }
    public static var missingVariable: Self { Self("missing variable") }
    /// A file, store or glob that does not exist or matches nothing.
    public static var fileNotFound: Self { Self("file not found") }
    public static var missingIndex: Self { Self("no index") }
    public static var keyNotFound: Self { Self("label not found") }
    public static var alignment: Self { Self("alignment error") }
    public static var conflict: Self { Self("conflict") }
    public static var invalidArgument: Self { Self("invalid argument") }
    public static var cfDecoding: Self { Self("CF decoding error") }
    public static var cfEncoding: Self { Self("CF encoding error") }
    public static var arrays: Self { Self("array error") }
    /// The values are lazy and an operation needs them in memory.
    public static var notLoaded: Self { Self("not loaded") }
    /// Reading lazy values from their store failed.
    public static var read: Self { Self("read error") }
}

/// Runs `body`, re-raising array-level errors with the context of the labeled operation.
@inline(__always)
func context<R>(_ what: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as GyreArraysError {
        throw GyreDataError(.arrays, "\(what()): \(e.message)", cause: e)
    }
}
