import Foundation

/// Integer and floating-point element types: the types numeric kernels are specialized for.
public protocol NumericElement: Sendable, Comparable, Numeric, Hashable {
    static var dtype: DType { get }
    static var isFloat: Bool { get }
    /// NaN test (always false for integers).
    var isNaNValue: Bool { get }
    var doubleValue: Double { get }
    /// The value's two's-complement bits widened to 64 (integers) or truncated (floats).
    var int64Value: Int64 { get }
    /// NumPy's cast from this type: integers wrap, floats truncate toward zero (NaN and
    /// out-of-range values become the minimum, as NumPy does on x86).
    static func cast<S: NumericElement>(_ s: S) -> Self
    static var zeroValue: Self { get }
    static var oneValue: Self { get }
    static var minValue: Self { get }
    static var maxValue: Self { get }
}

/// Fixed-width integer element types.
public protocol IntegerElement: NumericElement, FixedWidthInteger {}

extension IntegerElement {
    public static var isFloat: Bool { false }
    @inlinable public var isNaNValue: Bool { false }
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public var int64Value: Int64 { Int64(truncatingIfNeeded: self) }
    @inlinable public static var zeroValue: Self { 0 }
    @inlinable public static var oneValue: Self { 1 }
    @inlinable public static var minValue: Self { Self.min }
    @inlinable public static var maxValue: Self { Self.max }
    @inlinable
    public static func cast<S: NumericElement>(_ s: S) -> Self {
        if S.isFloat {
            let d = s.doubleValue
            if d.isNaN || d >= 18446744073709551616.0 || d < -9223372036854775808.0 {
                return Self(truncatingIfNeeded: Int64.min)
            }
            if d >= 9223372036854775808.0 { return Self(truncatingIfNeeded: UInt64(d)) }
            return Self(truncatingIfNeeded: Int64(d))
        }
        return Self(truncatingIfNeeded: s.int64Value)
    }
}

/// Floating-point element types, with the math functions kernels need.
public protocol FloatElement: NumericElement, BinaryFloatingPoint, SIMDScalar
where Self.RawSignificand: FixedWidthInteger {
    static func fexp(_ x: Self) -> Self
    static func flog(_ x: Self) -> Self
    static func flog10(_ x: Self) -> Self
    static func flog2(_ x: Self) -> Self
    static func flog1p(_ x: Self) -> Self
    static func fexpm1(_ x: Self) -> Self
    static func fsin(_ x: Self) -> Self
    static func fcos(_ x: Self) -> Self
    static func ftan(_ x: Self) -> Self
    static func fasin(_ x: Self) -> Self
    static func facos(_ x: Self) -> Self
    static func fatan(_ x: Self) -> Self
    static func fsinh(_ x: Self) -> Self
    static func fcosh(_ x: Self) -> Self
    static func ftanh(_ x: Self) -> Self
    static func fpow(_ x: Self, _ y: Self) -> Self
    static func fatan2(_ y: Self, _ x: Self) -> Self
    static func ffmod(_ x: Self, _ y: Self) -> Self
    /// Sum of the non-NaN values of a contiguous row and the number of NaNs (SIMD).
    static func _sumRowSkipNaN(_ p: UnsafePointer<Self>, _ n: Int) -> (sum: Double, nans: Int)
    /// Minimum or maximum of the non-NaN values of a row (±inf when none) and the NaN count.
    static func _minMaxRow(_ p: UnsafePointer<Self>, _ n: Int, max isMax: Bool) -> (value: Self, nans: Int)
    /// The lanes with NaN replaced by 0, and 1 in the lanes that held NaN.
    static func _nanSplit(_ v: SIMD8<Self>) -> (value: SIMD8<Self>, nan: SIMD8<Self>)
}

extension FloatElement {
    public static var isFloat: Bool { true }
    @inlinable public var isNaNValue: Bool { isNaN }
    @inlinable public static var zeroValue: Self { 0 }
    @inlinable public static var oneValue: Self { 1 }
    @inlinable public static var minValue: Self { -Self.infinity }
    @inlinable public static var maxValue: Self { Self.infinity }
    @inlinable
    public var int64Value: Int64 {
        if isNaN || !isFinite || self >= 9.2233720368547758e18 || self < -9.2233720368547758e18 { return Int64.min }
        return Int64(self)
    }
    @inlinable
    public static func cast<S: NumericElement>(_ s: S) -> Self {
        if S.isFloat { return Self(s.doubleValue) }
        if S.self == UInt64.self { return Self(UInt64(truncatingIfNeeded: s.int64Value)) }
        return Self(s.int64Value)
    }
}

extension Float: FloatElement {
    public static var dtype: DType { .float32 }
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public static func fexp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func flog(_ x: Float) -> Float { logf(x) }
    @inlinable public static func flog10(_ x: Float) -> Float { log10f(x) }
    @inlinable public static func flog2(_ x: Float) -> Float { log2f(x) }
    @inlinable public static func flog1p(_ x: Float) -> Float { log1pf(x) }
    @inlinable public static func fexpm1(_ x: Float) -> Float { expm1f(x) }
    @inlinable public static func fsin(_ x: Float) -> Float { sinf(x) }
    @inlinable public static func fcos(_ x: Float) -> Float { cosf(x) }
    @inlinable public static func ftan(_ x: Float) -> Float { tanf(x) }
    @inlinable public static func fasin(_ x: Float) -> Float { asinf(x) }
    @inlinable public static func facos(_ x: Float) -> Float { acosf(x) }
    @inlinable public static func fatan(_ x: Float) -> Float { atanf(x) }
    @inlinable public static func fsinh(_ x: Float) -> Float { sinhf(x) }
    @inlinable public static func fcosh(_ x: Float) -> Float { coshf(x) }
    @inlinable public static func ftanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func fpow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inlinable public static func fatan2(_ y: Float, _ x: Float) -> Float { atan2f(y, x) }
    @inlinable public static func ffmod(_ x: Float, _ y: Float) -> Float { fmodf(x, y) }
}

extension Double: FloatElement {
    public static var dtype: DType { .float64 }
    @inlinable public var doubleValue: Double { self }
    @inlinable public static func fexp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func flog(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func flog10(_ x: Double) -> Double { Foundation.log10(x) }
    @inlinable public static func flog2(_ x: Double) -> Double { Foundation.log2(x) }
    @inlinable public static func flog1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable public static func fexpm1(_ x: Double) -> Double { Foundation.expm1(x) }
    @inlinable public static func fsin(_ x: Double) -> Double { Foundation.sin(x) }
    @inlinable public static func fcos(_ x: Double) -> Double { Foundation.cos(x) }
    @inlinable public static func ftan(_ x: Double) -> Double { Foundation.tan(x) }
    @inlinable public static func fasin(_ x: Double) -> Double { Foundation.asin(x) }
    @inlinable public static func facos(_ x: Double) -> Double { Foundation.acos(x) }
    @inlinable public static func fatan(_ x: Double) -> Double { Foundation.atan(x) }
    @inlinable public static func fsinh(_ x: Double) -> Double { Foundation.sinh(x) }
    @inlinable public static func fcosh(_ x: Double) -> Double { Foundation.cosh(x) }
    @inlinable public static func ftanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inlinable public static func fpow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inlinable public static func fatan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
    @inlinable public static func ffmod(_ x: Double, _ y: Double) -> Double { Foundation.fmod(x, y) }
}

extension Int8: IntegerElement { public static var dtype: DType { .int8 } }
extension Int16: IntegerElement { public static var dtype: DType { .int16 } }
extension Int32: IntegerElement { public static var dtype: DType { .int32 } }
extension Int64: IntegerElement { public static var dtype: DType { .int64 } }
extension UInt8: IntegerElement { public static var dtype: DType { .uint8 } }
extension UInt16: IntegerElement { public static var dtype: DType { .uint16 } }
extension UInt32: IntegerElement { public static var dtype: DType { .uint32 } }
extension UInt64: IntegerElement { public static var dtype: DType { .uint64 } }
