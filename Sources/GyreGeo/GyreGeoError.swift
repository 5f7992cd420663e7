@_exported import GyreCore

/// The error type of `GyreGeo`: a code, a message naming the CRS, grid or raster at fault, and
/// an optional cause.
public typealias GyreGeoError = GyreError<GeoDomain>

/// The domain of `GyreGeoError`.
public enum GeoDomain: Sendable {}

extension GyreError.Code where Domain == GeoDomain {
    /// A CRS PROJ does not know, or a transform between two it cannot build.
    public static var crs: Self { Self("unknown CRS") }
    /// A grid, transform or raster that is impossible (empty, singular, too large).
    public static var invalidArgument: Self { Self("invalid argument") }
}
