@_exported import GyreCore

/// The error type of `GyreRender`: a code, a message naming what is at fault (a column, a
/// range, a colormap, a tile index) and an optional cause.
public typealias GyreRenderError = GyreError<RenderDomain>

/// The domain of `GyreRenderError`.
public enum RenderDomain: Sendable {}

extension GyreError.Code where Domain == RenderDomain {
    /// An argument that cannot be used (a canvas of no pixels, a span upside down, an unknown map).
    public static var invalidArgument: Self { Self("invalid argument") }
    /// Input data that cannot be rendered (columns of unequal length, a category out of range).
    public static var invalidData: Self { Self("invalid data") }
}
