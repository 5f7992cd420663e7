@_exported import GyreCore

/// The error type of `GyreTIFF`: a code, a message naming the file, image and tile or tag at
/// fault, and an optional cause.
public typealias GyreTIFFError = GyreError<TIFFDomain>

/// The domain of `GyreTIFFError`.
public enum TIFFDomain: Sendable {}

extension GyreError.Code where Domain == TIFFDomain {
    /// Bytes that break the TIFF format: a bad header, an IFD or value outside the file,
    /// inconsistent tags.
    public static var format: Self { Self("invalid TIFF") }
    /// Valid TIFF that this reader does not read (a compression, a sample layout).
    public static var unsupported: Self { Self("unsupported TIFF") }
    /// A tile or strip that does not decode.
    public static var decode: Self { Self("corrupt tile") }
    public static var notFound: Self { Self("not found") }
    public static var invalidArgument: Self { Self("invalid argument") }
}
