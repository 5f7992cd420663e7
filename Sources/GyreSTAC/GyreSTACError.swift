@_exported import GyreCore

/// The error type of `GyreSTAC`: a code, a message naming the document, object and field
/// at fault (with a line and column for JSON and CQL2 text), and an optional cause.
public typealias GyreSTACError = GyreError<STACDomain>

/// The domain of `GyreSTACError`.
public enum STACDomain: Sendable {}

extension GyreError.Code where Domain == STACDomain {
    /// Text that is not JSON, or JSON nested too deep.
    public static var invalidJSON: Self { Self("invalid JSON") }
    /// JSON that is not the STAC object expected: a missing or mistyped field.
    public static var invalidSTAC: Self { Self("invalid STAC") }
    /// A GeoJSON geometry that breaks the spec (too few positions, open rings, bad bbox).
    public static var invalidGeometry: Self { Self("invalid geometry") }
    /// A date or interval that is not RFC 3339.
    public static var invalidDatetime: Self { Self("invalid datetime") }
    /// A CQL2 expression that does not parse (text or JSON).
    public static var invalidFilter: Self { Self("invalid filter") }
    /// Reading or writing catalog files.
    public static var io: Self { Self("I/O error") }
}
