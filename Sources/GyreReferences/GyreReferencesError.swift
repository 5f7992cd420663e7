@_exported import GyreCore

/// The error type of `GyreReferences`: a code, a message naming the references file, key,
/// source file or variable at fault, and an optional cause.
public typealias GyreReferencesError = GyreError<ReferencesDomain>

/// The domain of `GyreReferencesError`.
public enum ReferencesDomain: Sendable {}

extension GyreError.Code where Domain == ReferencesDomain {
    /// A references document that does not parse or breaks the kerchunk format.
    public static var format: Self { Self("invalid references") }
    /// A source that cannot be described by references (or not by these).
    public static var unsupported: Self { Self("unsupported") }
    /// Sources that cannot be combined into one reference set that reads correctly.
    public static var combine: Self { Self("cannot combine") }
    public static var notFound: Self { Self("not found") }
    public static var invalidArgument: Self { Self("invalid argument") }
}
