@_exported import GyreCore

/// The error type of `GyreDistributed`: a code, a message naming what failed (the scheduler,
/// the worker, the task and its block) and an optional cause.
public typealias GyreDistributedError = GyreError<DistributedDomain>

/// The domain of `GyreDistributedError`.
public enum DistributedDomain: Sendable {}

extension GyreError.Code where Domain == DistributedDomain {
    /// The program cannot be planned (its sources, its expression, its output).
    public static var program: Self { Self("program error") }
    /// The cluster cannot be reached or cannot run Gyre's tasks.
    public static var cluster: Self { Self("cluster error") }
    /// A task failed.
    public static var task: Self { Self("task error") }
}
