import GyreCore
/// An `NDArray` whose element type is known only at run time (everything read from a file).
/// A single `switch` dispatches to kernels specialized for the concrete element type.
public enum AnyNDArray: Sendable {
    case bool(NDArray<Bool>)
    case int8(NDArray<Int8>)
    case int16(NDArray<Int16>)
    case int32(NDArray<Int32>)
    case int64(NDArray<Int64>)
    case uint8(NDArray<UInt8>)
    case uint16(NDArray<UInt16>)
    case uint32(NDArray<UInt32>)
    case uint64(NDArray<UInt64>)
    case float32(NDArray<Float>)
    case float64(NDArray<Double>)
    /// Ticks since 1970-01-01 in `unit`; `Int64.min` is NaT.
    case datetime64(NDArray<Int64>, TimeUnit)
    /// Ticks in `unit`; `Int64.min` is NaT.
    case timedelta64(NDArray<Int64>, TimeUnit)
    /// Calendar-aware datetimes: microseconds since 1970-01-01 in the calendar.
    case cftime(NDArray<Int64>, CFCalendar)
    case string(NDArray<String>, StringKind)

    public var dtype: DType {
        switch self {
        case .bool: return .bool
        case .int8: return .int8
        case .int16: return .int16
        case .int32: return .int32
        case .int64: return .int64
        case .uint8: return .uint8
        case .uint16: return .uint16
        case .uint32: return .uint32
        case .uint64: return .uint64
        case .float32: return .float32
        case .float64: return .float64
        case .datetime64(_, let u): return .datetime64(u)
        case .timedelta64(_, let u): return .timedelta64(u)
        case .cftime(_, let c): return .cftime(c)
        case .string(_, let k): return .string(k)
        }
    }

    /// Wraps a typed numeric array.
    public init<T: NumericElement>(_ a: NDArray<T>) {
        switch a {
        case let x as NDArray<Int8>: self = .int8(x)
        case let x as NDArray<Int16>: self = .int16(x)
        case let x as NDArray<Int32>: self = .int32(x)
        case let x as NDArray<Int64>: self = .int64(x)
        case let x as NDArray<UInt8>: self = .uint8(x)
        case let x as NDArray<UInt16>: self = .uint16(x)
        case let x as NDArray<UInt32>: self = .uint32(x)
        case let x as NDArray<UInt64>: self = .uint64(x)
        case let x as NDArray<Float>: self = .float32(x)
        case let x as NDArray<Double>: self = .float64(x)
        default: fatalError("AnyNDArray: unknown numeric element type \(T.self)")
        }
    }

    public init(_ a: NDArray<Bool>) { self = .bool(a) }
    public init(_ a: NDArray<String>) { self = .string(a, .variable) }

    /// A 1-D array of doubles (convenience for tests and coordinates).
    public init(_ values: [Double]) { self = .float64(NDArray(values)) }
    /// A 1-D array of floats.
    public init(_ values: [Float]) { self = .float32(NDArray(values)) }
    /// A 1-D array of 64-bit integers.
    public init(_ values: [Int64]) { self = .int64(NDArray(values)) }
    /// A 1-D array of integers as int64.
    public init(_ values: [Int]) { self = .int64(NDArray(values.map(Int64.init))) }
    /// A 1-D array of strings.
    public init(_ values: [String]) { self = .string(NDArray(values), .variable) }

    /// The typed array, when the element type is `T` (datetime and timedelta ticks are `Int64`).
    public func typed<T>(_: T.Type) -> NDArray<T>? {
        switch self {
        case .bool(let a): return a as? NDArray<T>
        case .int8(let a): return a as? NDArray<T>
        case .int16(let a): return a as? NDArray<T>
        case .int32(let a): return a as? NDArray<T>
        case .int64(let a): return a as? NDArray<T>
        case .uint8(let a): return a as? NDArray<T>
        case .uint16(let a): return a as? NDArray<T>
        case .uint32(let a): return a as? NDArray<T>
        case .uint64(let a): return a as? NDArray<T>
        case .float32(let a): return a as? NDArray<T>
        case .float64(let a): return a as? NDArray<T>
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return a as? NDArray<T>
        case .string(let a, _): return a as? NDArray<T>
        }
    }

    // MARK: Layout

    @usableFromInline
    struct _Layout { var shape: [Int]; var strides: [Int]; var offset: Int }

    @usableFromInline
    var _layout: _Layout {
        struct Get: _ArrayReader { func read<T>(_ a: NDArray<T>) -> _Layout { _Layout(shape: a.shape, strides: a.strides, offset: a.offset) } }
        return _read(Get())
    }

    public var shape: [Int] { _layout.shape }
    public var strides: [Int] { _layout.strides }
    public var ndim: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }
    public var isContiguous: Bool {
        struct Get: _ArrayReader { func read<T>(_ a: NDArray<T>) -> Bool { a.isContiguous } }
        return _read(Get())
    }
    /// Bytes the elements occupy in NumPy's layout.
    public var nbytes: Int { count * dtype.itemSize }

    // MARK: Visitors

    /// Reads something from the typed array, whatever its element type.
    @usableFromInline
    func _read<V: _ArrayReader>(_ v: V) -> V.Result {
        switch self {
        case .bool(let a): return v.read(a)
        case .int8(let a): return v.read(a)
        case .int16(let a): return v.read(a)
        case .int32(let a): return v.read(a)
        case .int64(let a): return v.read(a)
        case .uint8(let a): return v.read(a)
        case .uint16(let a): return v.read(a)
        case .uint32(let a): return v.read(a)
        case .uint64(let a): return v.read(a)
        case .float32(let a): return v.read(a)
        case .float64(let a): return v.read(a)
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return v.read(a)
        case .string(let a, _): return v.read(a)
        }
    }

    /// Applies an element-type-preserving transform (views, gathers, copies), keeping the dtype.
    @usableFromInline
    func _transform<V: _SameTypeTransform>(_ v: V) throws -> AnyNDArray {
        switch self {
        case .bool(let a): return .bool(try v.apply(a))
        case .int8(let a): return .int8(try v.apply(a))
        case .int16(let a): return .int16(try v.apply(a))
        case .int32(let a): return .int32(try v.apply(a))
        case .int64(let a): return .int64(try v.apply(a))
        case .uint8(let a): return .uint8(try v.apply(a))
        case .uint16(let a): return .uint16(try v.apply(a))
        case .uint32(let a): return .uint32(try v.apply(a))
        case .uint64(let a): return .uint64(try v.apply(a))
        case .float32(let a): return .float32(try v.apply(a))
        case .float64(let a): return .float64(try v.apply(a))
        case .datetime64(let a, let u): return .datetime64(try v.apply(a), u)
        case .timedelta64(let a, let u): return .timedelta64(try v.apply(a), u)
        case .cftime(let a, let c): return .cftime(try v.apply(a), c)
        case .string(let a, let k): return .string(try v.apply(a), k)
        }
    }

    /// Dispatches a numeric kernel: integers (bool as uint8) or floats. Throws for other dtypes.
    @usableFromInline
    func _numeric<V: _NumericVisitor>(_ v: V, _ what: @autoclosure () -> String) throws -> V.Result {
        switch self {
        case .bool(let a): return try v.visitInteger(a.map { $0 ? UInt8(1) : 0 })
        case .int8(let a): return try v.visitInteger(a)
        case .int16(let a): return try v.visitInteger(a)
        case .int32(let a): return try v.visitInteger(a)
        case .int64(let a): return try v.visitInteger(a)
        case .uint8(let a): return try v.visitInteger(a)
        case .uint16(let a): return try v.visitInteger(a)
        case .uint32(let a): return try v.visitInteger(a)
        case .uint64(let a): return try v.visitInteger(a)
        case .float32(let a): return try v.visitFloat(a)
        case .float64(let a): return try v.visitFloat(a)
        default:
            throw GyreArraysError(.unsupportedDType, "\(what()) is not defined for dtype \(dtype)")
        }
    }
}

@usableFromInline
protocol _ArrayReader {
    associatedtype Result
    func read<T>(_ a: NDArray<T>) -> Result
}

@usableFromInline
protocol _SameTypeTransform {
    func apply<T>(_ a: NDArray<T>) throws -> NDArray<T>
}

@usableFromInline
protocol _NumericVisitor {
    associatedtype Result
    func visitInteger<T: IntegerElement>(_ a: NDArray<T>) throws -> Result
    func visitFloat<T: FloatElement>(_ a: NDArray<T>) throws -> Result
}

// MARK: Views on AnyNDArray

extension AnyNDArray {
    private struct IndexOp: _SameTypeTransform { let items: [AxisIndex]; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.index(items) } }
    private struct TransposeOp: _SameTypeTransform { let axes: [Int]?; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.transposed(axes) } }
    private struct BroadcastOp: _SameTypeTransform { let shape: [Int]; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.broadcast(to: shape) } }
    private struct ReshapeOp: _SameTypeTransform { let shape: [Int]; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.reshaped(shape) } }
    private struct ExpandOp: _SameTypeTransform { let axis: Int; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.expandingDims(at: axis) } }
    private struct SqueezeOp: _SameTypeTransform { let axes: [Int]?; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.squeezed(axes: axes) } }
    private struct TakeOp: _SameTypeTransform { let positions: [Int]; let axis: Int; func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { try a.take(positions, axis: axis) } }
    private struct ContiguousOp: _SameTypeTransform { func apply<T>(_ a: NDArray<T>) -> NDArray<T> { a.contiguous() } }

    /// A view selected by positions, slices and new axes (see `NDArray.index`).
    public func index(_ items: [AxisIndex]) throws -> AnyNDArray { try _transform(IndexOp(items: items)) }
    /// A view sliced along one axis.
    public func slice(axis: Int, _ s: Slice) throws -> AnyNDArray {
        let a = axis < 0 ? axis + ndim : axis
        guard a >= 0 && a < ndim else { throw GyreArraysError(.invalidAxis, "axis \(axis) is out of range for \(ndim) dimensions") }
        return try index(Array(repeating: .slice(.all), count: a) + [.slice(s)])
    }
    public func transposed(_ axes: [Int]? = nil) throws -> AnyNDArray { try _transform(TransposeOp(axes: axes)) }
    public func broadcast(to shape: [Int]) throws -> AnyNDArray { try _transform(BroadcastOp(shape: shape)) }
    public func reshaped(_ shape: [Int]) throws -> AnyNDArray { try _transform(ReshapeOp(shape: shape)) }
    public func expandingDims(at axis: Int) throws -> AnyNDArray { try _transform(ExpandOp(axis: axis)) }
    public func squeezed(axes: [Int]? = nil) throws -> AnyNDArray { try _transform(SqueezeOp(axes: axes)) }
    public func take(_ positions: [Int], axis: Int) throws -> AnyNDArray { try _transform(TakeOp(positions: positions, axis: axis)) }
    /// The array with C-contiguous elements (itself when already contiguous).
    public func contiguous() -> AnyNDArray { try! _transform(ContiguousOp()) }

    // MARK: Elements

    /// The element at a multi-index (negative indices count from the end).
    public func scalar(at index: [Int]) throws -> Scalar {
        guard index.count == ndim else {
            throw GyreArraysError(.indexOutOfRange, "\(index.count) indices given for an array of \(ndim) dimensions")
        }
        let view = try self.index(index.map { .at($0) })
        return view.scalarValue!
    }

    /// The single value of a one-element array.
    public var scalarValue: Scalar? {
        guard count == 1 else { return nil }
        switch self {
        case .bool(let a): return .bool(a.first!)
        case .int8(let a): return .int(Int64(a.first!))
        case .int16(let a): return .int(Int64(a.first!))
        case .int32(let a): return .int(Int64(a.first!))
        case .int64(let a): return .int(a.first!)
        case .uint8(let a): return .int(Int64(a.first!))
        case .uint16(let a): return .int(Int64(a.first!))
        case .uint32(let a): return .int(Int64(a.first!))
        case .uint64(let a): return .uint(a.first!)
        case .float32(let a): return .float32(a.first!)
        case .float64(let a): return .double(a.first!)
        case .datetime64(let a, let u): return .datetime(a.first!, u)
        case .timedelta64(let a, let u): return .timedelta(a.first!, u)
        case .cftime(let a, let c): return .cftime(a.first!, c)
        case .string(let a, _): return .string(a.first!)
        }
    }

    /// All elements in C order, as scalars (slow; for small arrays, formatting and tests).
    public var scalars: [Scalar] {
        let flat = try! contiguous().reshaped([count])
        return (0..<count).map { try! flat.scalar(at: [$0]) }
    }

    /// The elements as Doubles (numeric dtypes; NaT and non-numeric give nil).
    public func doubles() -> [Double]? {
        struct Get: _NumericVisitor {
            func visitInteger<T: IntegerElement>(_ a: NDArray<T>) -> [Double] { a.map { $0.doubleValue }.elements }
            func visitFloat<T: FloatElement>(_ a: NDArray<T>) -> [Double] { a.map { $0.doubleValue }.elements }
        }
        return try? _numeric(Get(), "doubles")
    }

    /// A 0-d array holding a scalar, with the scalar's own dtype.
    public init(scalar: Scalar) {
        switch scalar {
        case .bool(let b): self = .bool(NDArray(scalar: b))
        case .int(let i): self = .int64(NDArray(scalar: i))
        case .uint(let u): self = .uint64(NDArray(scalar: u))
        case .float32(let f): self = .float32(NDArray(scalar: f))
        case .double(let d): self = .float64(NDArray(scalar: d))
        case .datetime(let t, let u): self = .datetime64(NDArray(scalar: t), u)
        case .timedelta(let t, let u): self = .timedelta64(NDArray(scalar: t), u)
        case .cftime(let t, let c): self = .cftime(NDArray(scalar: t), c)
        case .string(let s): self = .string(NDArray(scalar: s), .unicode(Swift.max(s.count, 1)))
        }
    }

    /// An array of `shape` filled with `value`, of dtype `dtype`.
    public static func full(_ shape: [Int], _ value: Scalar, dtype: DType? = nil) throws -> AnyNDArray {
        let s = AnyNDArray(scalar: value)
        let typed = try dtype.map { try s.astype($0) } ?? s
        // One typed fill of a fresh buffer (a broadcast copied element by element is far slower).
        struct Fill: _SameTypeTransform {
            let shape: [Int]
            func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> { NDArray(repeating: a.first!, shape: shape) }
        }
        return try typed._transform(Fill(shape: shape))
    }

    /// Whether every element equals `value` (NaN equal to NaN, NaT to NaT): a typed scan that
    /// stops at the first difference and allocates nothing.
    package func allEqual(to value: Scalar) throws -> Bool {
        // A plain integer against datetime64/timedelta64 data means ticks in the data's unit (the
        // fill of an array that has none is 0): cast it, as `full` does, rather than compare
        // a time with a number.
        let v: AnyNDArray
        switch (dtype, value) {
        case (.datetime64, .int), (.datetime64, .uint), (.timedelta64, .int), (.timedelta64, .uint):
            v = try AnyNDArray(scalar: value).astype(dtype)
        default:
            v = try operand(value)
        }
        func scan<T: Equatable>(_ a: NDArray<T>, _ x: T, nanEqual: (T) -> Bool) -> Bool {
            a.withUnsafeBufferPointer { buf in
                for e in buf where e != x && !nanEqual(e) { return false }
                return true
            }
        }
        switch (self, v) {
        case (.float32(let a), .float32(let x)): return scan(a, x.first!) { x.first!.isNaN && $0.isNaN }
        case (.float64(let a), .float64(let x)): return scan(a, x.first!) { x.first!.isNaN && $0.isNaN }
        case (.bool(let a), .bool(let x)): return scan(a, x.first!) { _ in false }
        case (.int8(let a), .int8(let x)): return scan(a, x.first!) { _ in false }
        case (.int16(let a), .int16(let x)): return scan(a, x.first!) { _ in false }
        case (.int32(let a), .int32(let x)): return scan(a, x.first!) { _ in false }
        case (.int64(let a), .int64(let x)): return scan(a, x.first!) { _ in false }
        case (.uint8(let a), .uint8(let x)): return scan(a, x.first!) { _ in false }
        case (.uint16(let a), .uint16(let x)): return scan(a, x.first!) { _ in false }
        case (.uint32(let a), .uint32(let x)): return scan(a, x.first!) { _ in false }
        case (.uint64(let a), .uint64(let x)): return scan(a, x.first!) { _ in false }
        case (.datetime64(let a, let u), .datetime64(let x, let w)), (.timedelta64(let a, let u), .timedelta64(let x, let w)):
            return scan(a, convertTick(x.first!, from: w, to: u)) { _ in false }
        case (.cftime(let a, _), .cftime(let x, _)): return scan(a, x.first!) { _ in false }
        case (.string(let a, _), .string(let x, _)): return scan(a, x.first!) { _ in false }
        default:
            return try compare(.equal, v).truthValues().elements.allSatisfy { $0 }
        }
    }

    /// A contiguous array whose numeric elements are not initialized: every element must be
    /// written before it is read. Strings are initialized to "".
    package static func uninitialized(_ shape: [Int], dtype: DType) throws -> AnyNDArray {
        func raw<T>(_: T.Type) -> NDArray<T> { NDArray<T>(shape: shape) { _ in } }
        switch dtype {
        case .int8: return .int8(raw(Int8.self))
        case .int16: return .int16(raw(Int16.self))
        case .int32: return .int32(raw(Int32.self))
        case .int64: return .int64(raw(Int64.self))
        case .uint8: return .uint8(raw(UInt8.self))
        case .uint16: return .uint16(raw(UInt16.self))
        case .uint32: return .uint32(raw(UInt32.self))
        case .uint64: return .uint64(raw(UInt64.self))
        case .float32: return .float32(raw(Float.self))
        case .float64: return .float64(raw(Double.self))
        case .datetime64(let u): return .datetime64(raw(Int64.self), u)
        case .timedelta64(let u): return .timedelta64(raw(Int64.self), u)
        default: return try full(shape, dtype.isString ? .string("") : .int(0), dtype: dtype)
        }
    }

    /// The address of element 0 of a contiguous, uniquely referenced array, for kernels that
    /// write disjoint regions in place (callers keep the array alive and unchanged meanwhile).
    package var unsafeRawBase: UnsafeMutableRawPointer {
        struct Get: _ArrayReader { func read<T>(_ a: NDArray<T>) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(a._storage.base + a.offset) } }
        return _read(Get())
    }

    /// Calls `body` with the elements' bytes in C order and native byte order (fixed-size dtypes;
    /// a contiguous array is not copied).
    package func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard dtype.hasFixedLayout else {
            throw GyreArraysError(.unsupportedDType, "\(dtype) has no fixed-size native byte layout")
        }
        return try withoutActuallyEscaping(body) { b in try _read(_RawBytesReader(body: b)).get() }
    }

    /// An array of zeros.
    public static func zeros(_ shape: [Int], dtype: DType) throws -> AnyNDArray { try full(shape, .int(0), dtype: dtype) }
}

struct _RawBytesReader<R>: _ArrayReader {
    let body: (UnsafeRawBufferPointer) throws -> R
    func read<T>(_ a: NDArray<T>) -> Result<R, any Error> {
        Result { try a.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) } }
    }
}
