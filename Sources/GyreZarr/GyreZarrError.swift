@_exported import GyreCore

/// The error type of `GyreZarr`: a code, a message naming the store, array and chunk key at
/// fault, and an optional cause (a codec or storage error underneath).
public typealias GyreZarrError = GyreError<ZarrDomain>

/// The domain of `GyreZarrError`.
public enum ZarrDomain: Sendable {}

extension GyreError.Code where Domain == ZarrDomain {
    public static var metadata: Self { Self("invalid metadata") }
    public static var notFound: Self { Self("not found") }
    public static var unsupported: Self { Self("unsupported") }
    public static var chunk: Self { Self("bad chunk") }
    public static var selection: Self { Self("invalid selection") }
    public static var exists: Self { Self("already exists") }
    /// A request that contradicts itself (a conversion onto its own source).
    public static var conflict: Self { Self("conflict") }
}
