import GyreArrays
import OrderedCollections

/// An attribute value as netCDF and Zarr store them: text, or a 1-D array of numbers whose
/// dtype is kept (a `short` `_FillValue` stays int16; a float32 `scale_factor` stays float32,
/// which decides the decoded dtype).
public enum AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case strings([String])
    case values(AnyNDArray)

    public static func int(_ v: Int64) -> AttributeValue { .values(.int64(NDArray(scalar: v))) }
    public static func double(_ v: Double) -> AttributeValue { .values(.float64(NDArray(scalar: v))) }
    public static func float(_ v: Float) -> AttributeValue { .values(.float32(NDArray(scalar: v))) }
    public static func doubles(_ v: [Double]) -> AttributeValue { .values(.float64(NDArray(v))) }
    /// A one-element attribute of the given dtype.
    public static func scalar(_ s: Scalar, dtype: DType? = nil) throws -> AttributeValue {
        let a = AnyNDArray(scalar: s)
        return .values(try dtype.map { try a.astype($0) } ?? a)
    }

    /// The text of a string attribute.
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .strings(let s) where s.count == 1: return s[0]
        default: return nil
        }
    }

    /// The numbers of a numeric attribute.
    public var doubles: [Double]? {
        if case .values(let a) = self { return a.doubles() }
        return nil
    }

    /// The single number of a one-element numeric attribute.
    public var doubleValue: Double? {
        guard let d = doubles, d.count == 1 else { return nil }
        return d[0]
    }

    /// The single value of a one-element numeric attribute, with its type.
    public var scalarValue: Scalar? {
        if case .values(let a) = self, a.count == 1 { return try? a.contiguous().reshaped([]).scalarValue }
        return nil
    }

    /// The dtype of a numeric attribute.
    public var dtype: DType? {
        if case .values(let a) = self { return a.dtype }
        return nil
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .strings(let s): return "[" + s.map { "'\($0)'" }.joined(separator: ", ") + "]"
        case .values(let a):
            let items = a.scalars.map(\.description)
            return items.count == 1 ? items[0] : "[" + items.joined(separator: " ") + "]"
        }
    }

    public static func == (a: AttributeValue, b: AttributeValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.strings(let x), .strings(let y)): return x == y
        case (.values(let x), .values(let y)):
            return x.dtype == y.dtype && x.shape == y.shape && x.scalars.elementsEqualNaNAware(y.scalars)
        default: return false
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension Array where Element == Scalar {
    func elementsEqualNaNAware(_ other: [Scalar]) -> Bool {
        guard count == other.count else { return false }
        for (x, y) in zip(self, other) where x != y {
            if x.isMissing && y.isMissing { continue }
            return false
        }
        return true
    }
}

/// Ordered attributes, as netCDF and Zarr keep them.
public typealias Attributes = OrderedDictionary<String, AttributeValue>
