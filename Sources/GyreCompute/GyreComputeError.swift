@_exported import GyreCore

/// The error type of `GyreCompute`: a code, a message naming the source array at fault,
/// and an optional cause (the backend's or the kernel's error underneath).
public typealias GyreComputeError = GyreError<ComputeDomain>

/// The domain of `GyreComputeError`.
public enum ComputeDomain: Sendable {}

extension GyreError.Code where Domain == ComputeDomain {
    public static var invalidArgument: Self { Self("invalid argument") }
    public static var read: Self { Self("read error") }
}
