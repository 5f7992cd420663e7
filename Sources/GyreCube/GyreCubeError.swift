@_exported import GyreCore

/// The error type of `GyreCube`: a code, a message naming the item, asset or grid at fault,
/// and an optional cause.
public typealias GyreCubeError = GyreError<CubeDomain>

/// The domain of `GyreCubeError`.
public enum CubeDomain: Sendable {}

extension GyreError.Code where Domain == CubeDomain {
    /// Items that cannot be stacked: no asset of that name, no projection and no way to read
    /// one, nothing inside the bounds.
    public static var items: Self { Self("cannot stack items") }
    /// A grid or option that is impossible.
    public static var invalidArgument: Self { Self("invalid argument") }
    /// An asset that could not be read.
    public static var read: Self { Self("cannot read asset") }
    /// A STAC API that did not answer as one.
    public static var search: Self { Self("search failed") }
}
