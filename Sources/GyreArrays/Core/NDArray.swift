import GyreCore
/// A typed, copy-on-write, strided N-dimensional array.
///
/// Views (slices with any step, transposes, broadcasts, reshapes of contiguous data,
/// expand/squeeze) share the buffer and copy nothing; the first mutation of a shared buffer
/// copies it. Strides are in elements and may be zero (broadcast) or negative (reversed slices).
public struct NDArray<Element> {
    @usableFromInline var _storage: NDStorage<Element>
    @usableFromInline var _shape: [Int]
    @usableFromInline var _strides: [Int]
    @usableFromInline var _offset: Int
    /// The extent of each dimension.
    @inlinable public var shape: [Int] { _shape }
    /// The distance, in elements, between neighbours along each dimension.
    @inlinable public var strides: [Int] { _strides }
    /// The position of element (0, 0, ..., 0) in the buffer.
    @inlinable public var offset: Int { _offset }

    @inlinable
    init(storage: NDStorage<Element>, shape: [Int], strides: [Int], offset: Int) {
        _storage = storage
        _shape = shape
        _strides = strides
        _offset = offset
    }

    /// C-order (row-major) strides of a shape.
    @inlinable
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s *= Swift.max(shape[d], 1)
        }
        return strides
    }

    /// The number of elements a shape holds.
    @inlinable
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// An array of `shape` with every element equal to `value`.
    @inlinable
    public init(repeating value: Element, shape: [Int]) {
        let n = NDArray.count(of: shape)
        self.init(storage: NDStorage(repeating: value, count: n), shape: shape,
                  strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    /// A 0-dimensional array holding one value.
    @inlinable
    public init(scalar value: Element) { self.init(repeating: value, shape: []) }

    /// A 1-D array of the given elements.
    @inlinable
    public init(_ elements: [Element]) {
        self.init(storage: NDStorage(elements), shape: [elements.count], strides: [1], offset: 0)
    }

    /// An array of `shape` holding `elements` in C order.
    @inlinable
    public init(shape: [Int], _ elements: [Element]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw GyreArraysError(.shapeMismatch, "negative extent in shape \(shape)")
        }
        guard NDArray.count(of: shape) == elements.count else {
            throw GyreArraysError(.shapeMismatch,
                "shape \(shape) holds \(NDArray.count(of: shape)) elements but \(elements.count) were given")
        }
        self.init(storage: NDStorage(elements), shape: shape,
                  strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    /// An array of `shape` whose contiguous C-order buffer is initialized by `body`, which must
    /// initialize every element. The fast way to build kernel outputs.
    @inlinable
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Element>) -> Void) {
        self.init(storage: NDStorage(count: NDArray.count(of: shape), initialize: body), shape: shape,
                  strides: NDArray.contiguousStrides(shape), offset: 0)
    }

    /// Builds an array by evaluating `f` at every multi-index, in C order.
    @inlinable
    public init(shape: [Int], generator f: ([Int]) -> Element) {
        let n = NDArray.count(of: shape)
        var idx = [Int](repeating: 0, count: shape.count)
        self.init(shape: shape) { buf in
            for i in 0..<n {
                (buf.baseAddress! + i).initialize(to: f(idx))
                var d = shape.count - 1
                while d >= 0 {
                    idx[d] += 1
                    if idx[d] < shape[d] { break }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
    }

    @inlinable public var ndim: Int { shape.count }
    @inlinable public var count: Int { NDArray.count(of: shape) }
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Whether the elements lie in C order, back to back, starting at `offset`.
    @inlinable
    public var isContiguous: Bool {
        var expected = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// Buffer position of a multi-index (no bounds checks).
    @inlinable
    func _position(_ index: [Int]) -> Int {
        var p = offset
        for d in 0..<index.count { p += index[d] * strides[d] }
        return p
    }

    @inlinable
    func _checkedPosition(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "NDArray: \(index.count) indices for \(shape.count) dimensions")
        var p = offset
        for d in 0..<index.count {
            var i = index[d]
            if i < 0 { i += shape[d] }
            precondition(i >= 0 && i < shape[d], "NDArray: index \(index[d]) out of range for dimension \(d) of extent \(shape[d])")
            p += i * strides[d]
        }
        return p
    }

    /// Element access by multi-index (negative indices count from the end).
    @inlinable
    public subscript(_ index: Int...) -> Element {
        get { _storage.base[_checkedPosition(index)] }
        set {
            _ = _checkedPosition(index)  // validate before copying
            _makeUniqueInPlace()
            _storage.base[_checkedPosition(index)] = newValue  // the copy may change the layout
        }
    }

    /// Element access by multi-index array.
    @inlinable
    public subscript(index index: [Int]) -> Element {
        get { _storage.base[_checkedPosition(index)] }
        set {
            _ = _checkedPosition(index)  // validate before copying
            _makeUniqueInPlace()
            _storage.base[_checkedPosition(index)] = newValue  // the copy may change the layout
        }
    }

    /// Copies the buffer if it is shared or a broadcast view, so writes never leak into other
    /// arrays or alias several positions.
    @inlinable
    mutating func _makeUniqueInPlace() {
        var broadcast = false
        for d in 0..<shape.count where shape[d] > 1 && strides[d] == 0 { broadcast = true }
        if broadcast || !isKnownUniquelyReferenced(&_storage) {
            let c = contiguous(forceCopy: true)
            self = c
        }
    }

    /// The single element of a 0-d (or one-element) array.
    @inlinable
    public var scalar: Element? { count == 1 ? _storage.base[offset] : nil }

    /// The first element in C order, if any.
    @inlinable
    public var first: Element? { count > 0 ? _storage.base[offset] : nil }

    /// All elements in C order.
    @inlinable
    public var elements: [Element] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c._storage.base + c.offset, count: c.count))
    }

    /// This array with its elements in C-contiguous order: itself when already contiguous
    /// (no copy), otherwise a fresh copy.
    @inlinable
    public func contiguous(forceCopy: Bool = false) -> NDArray<Element> {
        if isContiguous && !forceCopy { return self }
        let src = _storage.base
        let shape = self.shape
        let out = NDArray(shape: shape) { dst in
            var k = 0
            _forEachRow(shape: shape, strides: [strides], offsets: [offset]) { offs, n, st in
                var p = offs[0]
                let s = st[0]
                for _ in 0..<n {
                    (dst.baseAddress! + k).initialize(to: src[p])
                    k += 1
                    p += s
                }
            }
        }
        return out
    }

    /// Calls `body` with the elements in C order, contiguous (copying first if needed).
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try withExtendedLifetime(c) {
            try body(UnsafeBufferPointer(start: c._storage.base + c.offset, count: c.count))
        }
    }

    /// Calls `body` with mutable access to the elements in C order. The array becomes
    /// contiguous and uniquely owned first.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) rethrows -> R {
        if !isContiguous || !isKnownUniquelyReferenced(&_storage) {
            self = contiguous(forceCopy: true)
        }
        return try body(UnsafeMutableBufferPointer(start: _storage.base + offset, count: count))
    }
}

extension NDArray: @unchecked Sendable where Element: Sendable {}

extension NDArray: Equatable where Element: Equatable {
    /// Same shape and same elements (NaN != NaN, as for floating point).
    public static func == (a: NDArray, b: NDArray) -> Bool {
        a.shape == b.shape && a.elements == b.elements
    }
}

extension NDArray: CustomStringConvertible {
    public var description: String { ArrayFormatter.format(self) }
}
