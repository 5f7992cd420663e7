import GyreCore
import Foundation

/// Binary arithmetic operators with NumPy semantics.
public enum BinaryOp: String, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//"
    case remainder = "%", power = "**", minimum, maximum, arctan2
}

/// Comparison operators; results are bool arrays. Comparisons with NaN/NaT are false, except `!=`.
public enum CompareOp: String, Sendable, CaseIterable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// Logical operators on truth values (non-zero and NaN are true).
public enum LogicalOp: String, Sendable, CaseIterable { case and, or, xor }

/// Unary elementwise functions.
public enum UnaryOp: String, Sendable, CaseIterable {
    case negative, abs, sqrt, square, exp, expm1, log, log10, log2, log1p
    case sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh
    case floor, ceil, round, trunc, sign, deg2rad, rad2deg
}

// MARK: Typed kernels

@inlinable
func _floorDivInt<T: IntegerElement>(_ x: T, _ y: T) -> T {
    if y == 0 { return 0 }
    if T.isSigned && y == T(truncatingIfNeeded: -1) { return 0 &- x }
    let q = x / y
    if x % y != 0 && ((x < 0) != (y < 0)) { return q - 1 }
    return q
}

@inlinable
func _remainderInt<T: IntegerElement>(_ x: T, _ y: T) -> T {
    if y == 0 { return 0 }
    if T.isSigned && y == T(truncatingIfNeeded: -1) { return 0 }
    let r = x % y
    if r != 0 && ((r < 0) != (y < 0)) { return r + y }
    return r
}

@inlinable
func _powInt<T: IntegerElement>(_ base: T, _ exp: T) -> T {
    var result: T = 1, b = base, e = exp
    while e > 0 {
        if e & 1 == 1 { result = result &* b }
        b = b &* b
        e >>= 1
    }
    return result
}

/// NumPy's `npy_divmod` for floats: (floor quotient, remainder with the divisor's sign).
@inlinable
func _divmodFloat<T: FloatElement>(_ a: T, _ b: T) -> (T, T) {
    if b == 0 { return (a / b, T.ffmod(a, b)) }
    var mod = T.ffmod(a, b)
    var div = (a - mod) / b
    if mod != 0 {
        if (b < 0) != (mod < 0) { mod += b; div -= 1 }
    } else {
        mod = T(signOf: b, magnitudeOf: 0)
    }
    var floordiv: T
    if div != 0 {
        floordiv = div.rounded(.down)
        if div - floordiv > 0.5 { floordiv += 1 }
    } else {
        floordiv = T(signOf: a / b, magnitudeOf: 0)
    }
    return (floordiv, mod)
}

@inlinable
func _binaryInt<T: IntegerElement>(_ x: NDArray<T>, _ y: NDArray<T>, _ op: BinaryOp) throws -> NDArray<T> {
    switch op {
    case .add: return try ndZip(x, y, &+)
    case .subtract: return try ndZip(x, y, &-)
    case .multiply: return try ndZip(x, y, &*)
    case .floorDivide: return try ndZip(x, y, _floorDivInt)
    case .remainder: return try ndZip(x, y, _remainderInt)
    case .power:
        if T.isSigned, y.elements.contains(where: { $0 < 0 }) {
            throw GyreArraysError(.invalidArgument, "integers to negative integer powers are not allowed")
        }
        return try ndZip(x, y, _powInt)
    case .minimum: return try ndZip(x, y) { Swift.min($0, $1) }
    case .maximum: return try ndZip(x, y) { Swift.max($0, $1) }
    case .divide, .arctan2: fatalError("integer \(op) is computed in floating point")
    }
}

/// `x OP y` for two contiguous arrays of one shape, with the operator chosen outside the loop
/// so each loop is a plain vectorizable pass (ndZip's closure is not inlined into its rows).
@inlinable
func _contiguousFloat<T: FloatElement>(_ x: NDArray<T>, _ y: NDArray<T>, _ op: BinaryOp) -> NDArray<T>? {
    guard x.shape == y.shape, x.isContiguous, y.isContiguous else { return nil }
    func run(_ f: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>, Int) -> Void) -> NDArray<T> {
        x.withUnsafeBufferPointer { a in
            y.withUnsafeBufferPointer { b in
                NDArray<T>(shape: x.shape, unsafeUninitialized: { d in
                    if let pa = a.baseAddress, let pb = b.baseAddress, let pd = d.baseAddress { f(pa, pb, pd, d.count) }
                })
            }
        }
    }
    switch op {
    case .add: return run { a, b, d, n in for i in 0..<n { (d + i).initialize(to: a[i] + b[i]) } }
    case .subtract: return run { a, b, d, n in for i in 0..<n { (d + i).initialize(to: a[i] - b[i]) } }
    case .multiply: return run { a, b, d, n in for i in 0..<n { (d + i).initialize(to: a[i] * b[i]) } }
    case .divide: return run { a, b, d, n in for i in 0..<n { (d + i).initialize(to: a[i] / b[i]) } }
    default: return nil
    }
}

@inlinable
func _binaryFloat<T: FloatElement>(_ x: NDArray<T>, _ y: NDArray<T>, _ op: BinaryOp) throws -> NDArray<T> {
    if let r = _contiguousFloat(x, y, op) { return r }
    switch op {
    case .add: return try ndZip(x, y, +)
    case .subtract: return try ndZip(x, y, -)
    case .multiply: return try ndZip(x, y, *)
    case .divide: return try ndZip(x, y, /)
    case .floorDivide: return try ndZip(x, y) { _divmodFloat($0, $1).0 }
    case .remainder: return try ndZip(x, y) { $1 == 0 ? T.ffmod($0, $1) : _divmodFloat($0, $1).1 }
    case .power: return try ndZip(x, y) { T.fpow($0, $1) }
    case .minimum: return try ndZip(x, y) { ($0.isNaN || $1.isNaN) ? T.nan : Swift.min($0, $1) }
    case .maximum: return try ndZip(x, y) { ($0.isNaN || $1.isNaN) ? T.nan : Swift.max($0, $1) }
    case .arctan2: return try ndZip(x, y) { T.fatan2($0, $1) }
    }
}

@inlinable
func _compare<T: Comparable>(_ x: NDArray<T>, _ y: NDArray<T>, _ op: CompareOp) throws -> NDArray<Bool> {
    switch op {
    case .equal: return try ndZip(x, y, ==)
    case .notEqual: return try ndZip(x, y, !=)
    case .less: return try ndZip(x, y, <)
    case .lessEqual: return try ndZip(x, y, <=)
    case .greater: return try ndZip(x, y, >)
    case .greaterEqual: return try ndZip(x, y, >=)
    }
}

/// Comparisons of tick values where `Int64.min` (NaT) compares false except with `!=`.
@inlinable
func _compareTicks(_ x: NDArray<Int64>, _ y: NDArray<Int64>, _ op: CompareOp) throws -> NDArray<Bool> {
    let nat = Int64.min
    switch op {
    case .equal: return try ndZip(x, y) { $0 != nat && $1 != nat && $0 == $1 }
    case .notEqual: return try ndZip(x, y) { $0 == nat || $1 == nat || $0 != $1 }
    case .less: return try ndZip(x, y) { $0 != nat && $1 != nat && $0 < $1 }
    case .lessEqual: return try ndZip(x, y) { $0 != nat && $1 != nat && $0 <= $1 }
    case .greater: return try ndZip(x, y) { $0 != nat && $1 != nat && $0 > $1 }
    case .greaterEqual: return try ndZip(x, y) { $0 != nat && $1 != nat && $0 >= $1 }
    }
}

@inlinable
func _unaryFloat<T: FloatElement>(_ a: NDArray<T>, _ op: UnaryOp) -> NDArray<T> {
    switch op {
    case .negative: return a.map { -$0 }
    case .abs: return a.map { Swift.abs($0) }
    case .sqrt: return a.map { $0.squareRoot() }
    case .square: return a.map { $0 * $0 }
    case .exp: return a.map { T.fexp($0) }
    case .expm1: return a.map { T.fexpm1($0) }
    case .log: return a.map { T.flog($0) }
    case .log10: return a.map { T.flog10($0) }
    case .log2: return a.map { T.flog2($0) }
    case .log1p: return a.map { T.flog1p($0) }
    case .sin: return a.map { T.fsin($0) }
    case .cos: return a.map { T.fcos($0) }
    case .tan: return a.map { T.ftan($0) }
    case .arcsin: return a.map { T.fasin($0) }
    case .arccos: return a.map { T.facos($0) }
    case .arctan: return a.map { T.fatan($0) }
    case .sinh: return a.map { T.fsinh($0) }
    case .cosh: return a.map { T.fcosh($0) }
    case .tanh: return a.map { T.ftanh($0) }
    case .floor: return a.map { $0.rounded(.down) }
    case .ceil: return a.map { $0.rounded(.up) }
    case .round: return a.map { $0.rounded(.toNearestOrEven) }
    case .trunc: return a.map { $0.rounded(.towardZero) }
    case .sign: return a.map { $0.isNaN ? $0 : ($0 > 0 ? 1 : ($0 < 0 ? -1 : 0)) }
    case .deg2rad: return a.map { $0 * (T.pi / 180) }
    case .rad2deg: return a.map { $0 * (180 / T.pi) }
    }
}

@inlinable
func _unaryInt<T: IntegerElement>(_ a: NDArray<T>, _ op: UnaryOp) -> NDArray<T>? {
    switch op {
    case .negative: return a.map { 0 &- $0 }
    case .abs: return a.map { $0 < 0 ? 0 &- $0 : $0 }
    case .square: return a.map { $0 &* $0 }
    case .floor, .ceil, .round, .trunc: return a
    case .sign: return a.map { $0 > 0 ? 1 : ($0 < 0 ? T(truncatingIfNeeded: -1) : 0) }
    default: return nil
    }
}

// MARK: AnyNDArray operations

extension AnyNDArray {
    /// The dtype a weak (Python-like) scalar takes next to an array of `dtype` (NEP 50).
    static func weakScalarDType(_ s: Scalar, with dtype: DType) -> DType {
        switch s {
        case .int:
            if dtype.isInteger || dtype.isFloatingPoint { return dtype }
            if dtype.isTimedelta { return .int64 }
            return .int64
        case .double:
            if dtype.isFloatingPoint { return dtype }
            return .float64
        case .bool:
            return dtype.isNumeric ? dtype : .bool
        case .string:
            if case .string(let k) = dtype { return .string(k) }
            return s.dtype
        default: return s.dtype
        }
    }

    /// A 0-d array for a scalar operand next to this array, typed by NEP 50's weak-scalar rules.
    public func operand(_ s: Scalar) throws -> AnyNDArray {
        if case .datetime(let t, let u) = s, case .cftime(_, let c) = self {
            return try AnyNDArray.datetime64(NDArray(scalar: t), u).astype(.cftime(c))
        }
        if case .string(let str) = s, case .datetime64(_, let u) = self {
            return .datetime64(NDArray(scalar: try parseDatetime64(str, unit: u)), u)
        }
        if case .string(let str) = s, case .cftime(_, let c) = self {
            let comp = try parseDateComponents(str)
            let d = try CFDate(Int(comp.year), Int(comp.month), Int(comp.day), Int(comp.hour), Int(comp.minute), Int(comp.second), Int(comp.nanosecond / 1000), calendar: c)
            return .cftime(NDArray(scalar: d.ticks), c)
        }
        let target = AnyNDArray.weakScalarDType(s, with: dtype)
        let a = AnyNDArray(scalar: s)
        if case .int(let i) = s, target.isInteger, target != .int64 {
            // A Python int that does not fit the array's integer type is an error in NumPy 2.
            let fits: Bool
            switch target {
            case .int8: fits = Int8(exactly: i) != nil
            case .int16: fits = Int16(exactly: i) != nil
            case .int32: fits = Int32(exactly: i) != nil
            case .uint8: fits = UInt8(exactly: i) != nil
            case .uint16: fits = UInt16(exactly: i) != nil
            case .uint32: fits = UInt32(exactly: i) != nil
            case .uint64: fits = i >= 0
            default: fits = true
            }
            if !fits { throw GyreArraysError(.invalidArgument, "Python integer \(i) out of bounds for \(target)") }
        }
        return try a.astype(target)
    }

    /// `self OP other` elementwise with broadcasting and NumPy's promotion and datetime rules.
    public func binary(_ op: BinaryOp, _ other: AnyNDArray) throws -> AnyNDArray {
        let da = dtype, db = other.dtype
        // Datetime and timedelta arithmetic.
        switch (self, other, op) {
        case (.datetime64(let x, let u), .datetime64(let y, let v), .subtract):
            let w = Swift.max(u, v)
            return .timedelta64(try _natZip(convertTicks(x, from: u, to: w), convertTicks(y, from: v, to: w), &-), w)
        case (.datetime64(let x, let u), .timedelta64(let y, let v), .add), (.timedelta64(let y, let v), .datetime64(let x, let u), .add):
            let w = Swift.max(u, v)
            return .datetime64(try _natZip(convertTicks(x, from: u, to: w), convertTicks(y, from: v, to: w), &+), w)
        case (.datetime64(let x, let u), .timedelta64(let y, let v), .subtract):
            let w = Swift.max(u, v)
            return .datetime64(try _natZip(convertTicks(x, from: u, to: w), convertTicks(y, from: v, to: w), &-), w)
        case (.timedelta64(let x, let u), .timedelta64(let y, let v), _):
            let w = Swift.max(u, v)
            let xa = convertTicks(x, from: u, to: w), ya = convertTicks(y, from: v, to: w)
            switch op {
            case .add: return .timedelta64(try _natZip(xa, ya, &+), w)
            case .subtract: return .timedelta64(try _natZip(xa, ya, &-), w)
            case .divide:
                return .float64(try ndZip(xa, ya) { ($0 == Int64.min || $1 == Int64.min) ? .nan : Double($0) / Double($1) })
            case .floorDivide: return .int64(try ndZip(xa, ya) { ($0 == Int64.min || $1 == Int64.min) ? 0 : _floorDivInt($0, $1) })
            case .remainder: return .timedelta64(try _natZip(xa, ya, _remainderInt), w)
            case .minimum: return .timedelta64(try _natZip(xa, ya, Swift.min), w)
            case .maximum: return .timedelta64(try _natZip(xa, ya, Swift.max), w)
            default: break
            }
        case (.cftime(let x, let c), .cftime(let y, let d), .subtract) where c == d:
            return .timedelta64(try _natZip(x, y, &-), .microseconds)
        case (.cftime(let x, let c), .timedelta64(let y, let v), .add), (.timedelta64(let y, let v), .cftime(let x, let c), .add):
            return .cftime(try _natZip(x, convertTicks(y, from: v, to: .microseconds), &+), c)
        case (.cftime(let x, let c), .timedelta64(let y, let v), .subtract):
            return .cftime(try _natZip(x, convertTicks(y, from: v, to: .microseconds), &-), c)
        case (.timedelta64(let x, let u), _, .multiply) where db.isNumeric,
             (_, .timedelta64(let x, let u), .multiply) where da.isNumeric:
            let n = try (db.isNumeric ? other : self).numericArray(Double.self)
            return .timedelta64(try ndZip(x, n) { ($0 == Int64.min || $1.isNaN) ? Int64.min : Int64(($1 * Double($0)).rounded(.towardZero)) }, u)
        case (.timedelta64(let x, let u), _, .divide) where db.isNumeric,
             (.timedelta64(let x, let u), _, .floorDivide) where db.isNumeric:
            let n = try other.numericArray(Double.self)
            return .timedelta64(try ndZip(x, n) { ($0 == Int64.min || $1.isNaN || $1 == 0) ? Int64.min : Int64((Double($0) / $1).rounded(op == .divide ? .towardZero : .down)) }, u)
        default: break
        }
        guard da.isNumeric && db.isNumeric else {
            throw GyreArraysError(.unsupportedDType, "operator \(op.rawValue) is not defined for \(da) and \(db)")
        }
        guard var common = DType.promote(da, db) else {
            throw GyreArraysError(.unsupportedDType, "operator \(op.rawValue) is not defined for \(da) and \(db)")
        }
        if common == .bool {
            switch op {
            case .add, .maximum: return try logical(.or, other)
            case .multiply, .minimum: return try logical(.and, other)
            case .subtract: throw GyreArraysError(.unsupportedDType, "boolean subtract is not supported; use xor")
            default: common = .int8
            }
        }
        if op == .divide || op == .arctan2 {
            common = common.isFloatingPoint ? common : .float64
        }
        let x = try astype(common), y = try other.astype(common)
        switch (x, y) {
        case (.int8(let a), .int8(let b)): return .int8(try _binaryInt(a, b, op))
        case (.int16(let a), .int16(let b)): return .int16(try _binaryInt(a, b, op))
        case (.int32(let a), .int32(let b)): return .int32(try _binaryInt(a, b, op))
        case (.int64(let a), .int64(let b)): return .int64(try _binaryInt(a, b, op))
        case (.uint8(let a), .uint8(let b)): return .uint8(try _binaryInt(a, b, op))
        case (.uint16(let a), .uint16(let b)): return .uint16(try _binaryInt(a, b, op))
        case (.uint32(let a), .uint32(let b)): return .uint32(try _binaryInt(a, b, op))
        case (.uint64(let a), .uint64(let b)): return .uint64(try _binaryInt(a, b, op))
        case (.float32(let a), .float32(let b)): return .float32(try _binaryFloat(a, b, op))
        case (.float64(let a), .float64(let b)): return .float64(try _binaryFloat(a, b, op))
        default: throw GyreArraysError(.unsupportedDType, "operator \(op.rawValue) is not defined for \(da) and \(db)")
        }
    }

    /// `self OP scalar` (or `scalar OP self` when `scalarFirst`), the scalar typed as NumPy 2
    /// types a Python scalar.
    public func binary(_ op: BinaryOp, _ s: Scalar, scalarFirst: Bool = false) throws -> AnyNDArray {
        let o = try operand(s)
        return scalarFirst ? try o.binary(op, self) : try binary(op, o)
    }

    /// Elementwise comparison; bool result.
    public func compare(_ op: CompareOp, _ other: AnyNDArray) throws -> AnyNDArray {
        switch (self, other) {
        case (.datetime64(let x, let u), .datetime64(let y, let v)):
            let w = Swift.max(u, v)
            return .bool(try _compareTicks(convertTicks(x, from: u, to: w), convertTicks(y, from: v, to: w), op))
        case (.timedelta64(let x, let u), .timedelta64(let y, let v)):
            let w = Swift.max(u, v)
            return .bool(try _compareTicks(convertTicks(x, from: u, to: w), convertTicks(y, from: v, to: w), op))
        case (.cftime(let x, let c), .cftime(let y, let d)) where c == d:
            return .bool(try _compareTicks(x, y, op))
        case (.string(let x, _), .string(let y, _)):
            return .bool(try _compare(x, y, op))
        default: break
        }
        let da = dtype, db = other.dtype
        guard da.isNumeric && db.isNumeric, let common = DType.promote(da, db) else {
            throw GyreArraysError(.unsupportedDType, "comparison \(op.rawValue) is not defined for \(da) and \(db)")
        }
        let x = try astype(common), y = try other.astype(common)
        switch (x, y) {
        case (.bool(let a), .bool(let b)): return .bool(try _compare(a.map { $0 ? 1 : 0 as UInt8 }, b.map { $0 ? 1 : 0 as UInt8 }, op))
        case (.int8(let a), .int8(let b)): return .bool(try _compare(a, b, op))
        case (.int16(let a), .int16(let b)): return .bool(try _compare(a, b, op))
        case (.int32(let a), .int32(let b)): return .bool(try _compare(a, b, op))
        case (.int64(let a), .int64(let b)): return .bool(try _compare(a, b, op))
        case (.uint8(let a), .uint8(let b)): return .bool(try _compare(a, b, op))
        case (.uint16(let a), .uint16(let b)): return .bool(try _compare(a, b, op))
        case (.uint32(let a), .uint32(let b)): return .bool(try _compare(a, b, op))
        case (.uint64(let a), .uint64(let b)): return .bool(try _compare(a, b, op))
        case (.float32(let a), .float32(let b)): return .bool(try _compare(a, b, op))
        case (.float64(let a), .float64(let b)): return .bool(try _compare(a, b, op))
        default: throw GyreArraysError(.unsupportedDType, "comparison \(op.rawValue) is not defined for \(da) and \(db)")
        }
    }

    /// Elementwise comparison with a scalar (weakly typed, like a Python scalar).
    public func compare(_ op: CompareOp, _ s: Scalar) throws -> AnyNDArray { try compare(op, try operand(s)) }

    /// Truth values: non-zero numbers (NaN included), non-empty strings, non-NaT times.
    public func truthValues() throws -> NDArray<Bool> {
        switch self {
        case .bool(let a): return a
        case .string(let a, _): return a.map { !$0.isEmpty }
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return a.map { $0 != 0 }
        default:
            guard case .bool(let b) = try astype(.bool) else { fatalError() }
            return b
        }
    }

    /// Elementwise logical and/or/xor of truth values.
    public func logical(_ op: LogicalOp, _ other: AnyNDArray) throws -> AnyNDArray {
        let x = try truthValues(), y = try other.truthValues()
        switch op {
        case .and: return .bool(try ndZip(x, y) { $0 && $1 })
        case .or: return .bool(try ndZip(x, y) { $0 || $1 })
        case .xor: return .bool(try ndZip(x, y) { $0 != $1 })
        }
    }

    /// Elementwise logical not.
    public func logicalNot() throws -> AnyNDArray { .bool(try truthValues().map { !$0 }) }

    /// A unary function; integer inputs give floats for transcendental functions (NumPy gives
    /// float16 for 1-byte integers; Gyre has no float16 and gives float32).
    public func unary(_ op: UnaryOp) throws -> AnyNDArray {
        switch self {
        case .float32(let a): return .float32(_unaryFloat(a, op))
        case .float64(let a): return .float64(_unaryFloat(a, op))
        case .timedelta64(let a, let u) where op == .negative || op == .abs:
            return .timedelta64(a.map { $0 == Int64.min ? $0 : (op == .negative ? -$0 : Swift.abs($0)) }, u)
        case .bool where op == .negative:
            throw GyreArraysError(.unsupportedDType, "negative is not supported for bool arrays; use logicalNot")
        case .bool(let a) where [.abs, .floor, .ceil, .round, .trunc].contains(op):
            return .bool(a)
        default: break
        }
        struct Visit: _NumericVisitor {
            let op: UnaryOp
            func visitInteger<T: IntegerElement>(_ a: NDArray<T>) throws -> AnyNDArray {
                if let r = _unaryInt(a, op) { return AnyNDArray(r) }
                if T.bitWidth <= 16 { return .float32(_unaryFloat(a.map { Float.cast($0) }, op)) }
                return .float64(_unaryFloat(a.map { Double.cast($0) }, op))
            }
            func visitFloat<T: FloatElement>(_ a: NDArray<T>) throws -> AnyNDArray { AnyNDArray(_unaryFloat(a, op)) }
        }
        let r = try _numeric(Visit(op: op), "\(op.rawValue)")
        if case .bool = self, case .uint8 = r { return try r.astype(.int8) }
        return r
    }

    /// NaN (or NaT) positions.
    public func isnan() -> NDArray<Bool> {
        switch self {
        case .float32(let a): return a.map { $0.isNaN }
        case .float64(let a): return a.map { $0.isNaN }
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return a.map { $0 == Int64.min }
        default: return NDArray(repeating: false, shape: shape)
        }
    }

    /// Finite positions (not NaN, not ±inf, not NaT).
    public func isfinite() -> NDArray<Bool> {
        switch self {
        case .float32(let a): return a.map { $0.isFinite }
        case .float64(let a): return a.map { $0.isFinite }
        case .datetime64(let a, _), .timedelta64(let a, _), .cftime(let a, _): return a.map { $0 != Int64.min }
        default: return NDArray(repeating: true, shape: shape)
        }
    }

    /// NumPy's `where(condition, self, other)`: `self` where the condition holds, else `other`,
    /// all three broadcast together and the result type promoted.
    public static func `where`(_ condition: AnyNDArray, _ x: AnyNDArray, _ y: AnyNDArray) throws -> AnyNDArray {
        let cond = try condition.truthValues()
        let common: DType
        if x.dtype == y.dtype { common = x.dtype } else if let p = DType.promote(x.dtype, y.dtype) { common = p } else {
            throw GyreArraysError(.unsupportedDType, "where: cannot combine \(x.dtype) and \(y.dtype)")
        }
        let a = try x.astype(common), b = try y.astype(common)
        struct Pick: _SameTypeTransform {
            let cond: NDArray<Bool>
            let other: AnyNDArray
            func apply<T>(_ a: NDArray<T>) throws -> NDArray<T> {
                let b = other.typed(T.self)!
                return try ndZip3(cond, a, b) { $0 ? $1 : $2 }
            }
        }
        return try a._transform(Pick(cond: cond, other: b))
    }

    /// `where` with a scalar alternative (NaN is the usual one; ints promote to float for it).
    public static func `where`(_ condition: AnyNDArray, _ x: AnyNDArray, _ other: Scalar) throws -> AnyNDArray {
        try AnyNDArray.where(condition, x, try x.operand(other))
    }

    /// Replaces NaN/NaT with values from `value` (broadcast).
    public func fillna(_ value: AnyNDArray) throws -> AnyNDArray {
        try AnyNDArray.where(.bool(isnan()), value, self)
    }

    /// Replaces NaN/NaT with a scalar.
    public func fillna(_ value: Scalar) throws -> AnyNDArray { try fillna(try operand(value)) }

    /// Limits values to `[lower, upper]` (either bound optional); NaN stays NaN.
    public func clip(lower: Scalar?, upper: Scalar?) throws -> AnyNDArray {
        var r = self
        if let lower { r = try r.binary(.maximum, try r.operand(lower)) }
        if let upper { r = try r.binary(.minimum, try r.operand(upper)) }
        return r
    }
}

@inlinable
func _natZip(_ x: NDArray<Int64>, _ y: NDArray<Int64>, _ f: (Int64, Int64) -> Int64) throws -> NDArray<Int64> {
    try ndZip(x, y) { ($0 == Int64.min || $1 == Int64.min) ? Int64.min : f($0, $1) }
}

// MARK: Operators

extension AnyNDArray {
    public static func + (a: AnyNDArray, b: AnyNDArray) throws -> AnyNDArray { try a.binary(.add, b) }
    public static func - (a: AnyNDArray, b: AnyNDArray) throws -> AnyNDArray { try a.binary(.subtract, b) }
    public static func * (a: AnyNDArray, b: AnyNDArray) throws -> AnyNDArray { try a.binary(.multiply, b) }
    public static func / (a: AnyNDArray, b: AnyNDArray) throws -> AnyNDArray { try a.binary(.divide, b) }
    public static func + (a: AnyNDArray, b: Scalar) throws -> AnyNDArray { try a.binary(.add, b) }
    public static func - (a: AnyNDArray, b: Scalar) throws -> AnyNDArray { try a.binary(.subtract, b) }
    public static func * (a: AnyNDArray, b: Scalar) throws -> AnyNDArray { try a.binary(.multiply, b) }
    public static func / (a: AnyNDArray, b: Scalar) throws -> AnyNDArray { try a.binary(.divide, b) }
    public static prefix func - (a: AnyNDArray) throws -> AnyNDArray { try a.unary(.negative) }
}
