@_exported import GyreCore

/// The error type of `GyreStorage`: a code, a message naming the store and key at fault, and
/// an optional cause.
public typealias GyreStorageError = GyreError<StorageDomain>

/// The domain of `GyreStorageError`.
public enum StorageDomain: Sendable {}

extension GyreError.Code where Domain == StorageDomain {
    public static var invalidKey: Self { Self("invalid key") }
    public static var invalidRange: Self { Self("invalid byte range") }
    public static var io: Self { Self("I/O error") }
    public static var notFound: Self { Self("not found") }
    public static var readOnly: Self { Self("read-only store") }
}
