import CGyreSupport

/// The heap buffer behind an `NDArray`: a fixed number of fully initialized elements.
/// Shared between views; copied on write by `NDArray` when not uniquely referenced.
@usableFromInline
final class NDStorage<Element>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    @usableFromInline let count: Int

    /// Allocates `count` elements; `initialize` must initialize every one of them.
    @inlinable
    init(count: Int, initialize: (UnsafeMutableBufferPointer<Element>) -> Void) {
        self.count = count
        // Large buffers come from Gyre's block cache (reused, not mapped afresh per chunk).
        guard let raw = gyre_large_alloc(Swift.max(count, 1) * MemoryLayout<Element>.stride) else {
            fatalError("out of memory allocating \(count) elements of \(Element.self)")
        }
        self.base = raw.bindMemory(to: Element.self, capacity: Swift.max(count, 1))
        initialize(UnsafeMutableBufferPointer(start: base, count: count))
    }

    @inlinable
    convenience init(repeating value: Element, count: Int) {
        self.init(count: count) { $0.initialize(repeating: value) }
    }

    @inlinable
    convenience init<C: Collection>(_ elements: C) where C.Element == Element {
        let n = elements.count
        self.init(count: n) { buf in
            var i = 0
            for e in elements { (buf.baseAddress! + i).initialize(to: e); i += 1 }
        }
    }

    deinit {
        base.deinitialize(count: count)
        gyre_large_free(base, Swift.max(count, 1) * MemoryLayout<Element>.stride)
    }
}
