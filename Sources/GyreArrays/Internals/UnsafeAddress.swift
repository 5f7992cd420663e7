/// A raw address that crosses task or queue boundaries: the callee writes (disjoint regions of)
/// one buffer that the caller keeps alive and untouched until the work returns.
package struct UnsafeAddress: @unchecked Sendable {
    package let pointer: UnsafeMutableRawPointer
    package init(_ p: UnsafeMutableRawPointer) { pointer = p }
}
