@_exported import GyreCore

/// The error type of `GyreCodecs`: a code, a message naming the codec (and, once the
/// pipeline adds it, the array and chunk) and an optional cause.
public typealias GyreCodecsError = GyreError<CodecsDomain>

/// The domain of `GyreCodecsError`.
public enum CodecsDomain: Sendable {}

extension GyreError.Code where Domain == CodecsDomain {
    public static var unknownCodec: Self { Self("unknown codec") }
    public static var invalidConfiguration: Self { Self("invalid codec configuration") }
    public static var corrupt: Self { Self("corrupt data") }
    public static var checksum: Self { Self("checksum mismatch") }
    public static var encode: Self { Self("encode failed") }
    public static var unsupported: Self { Self("unsupported") }
}
