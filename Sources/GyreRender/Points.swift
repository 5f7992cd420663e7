import GyreArrays

/// Columns of points to aggregate: x and y (float32 or float64, one element per point), an
/// optional value column for the reductions that read one, and optional category codes
/// (`0..<names.count`) for `count_cat`. The columns are shared, not copied.
public struct Points: Sendable {
    public let x: Coordinates
    public let y: Coordinates
    public let values: Coordinates?
    public let categories: Categories?

    /// A float column (other numeric dtypes are converted to float64 when the points are made).
    public enum Coordinates: Sendable {
        case float32(NDArray<Float>)
        case float64(NDArray<Double>)

        public var count: Int {
            switch self {
            case .float32(let a): return a.count
            case .float64(let a): return a.count
            }
        }

        /// A column from any numeric array (1-D; booleans and integers become float64).
        public init(_ a: AnyNDArray, name: String) throws {
            switch a {
            case .float32(let v): self = .float32(v.contiguous())
            case .float64(let v): self = .float64(v.contiguous())
            default:
                guard a.dtype.isNumeric || a.dtype == .bool, let d = a.doubles() else {
                    throw GyreRenderError(.invalidData, "column '\(name)' is \(a.dtype), not a number")
                }
                self = .float64(NDArray(d))
            }
        }

        /// The column as Doubles (a copy for float32).
        public var doubles: [Double] {
            switch self {
            case .float32(let a): return a.elements.map(Double.init)
            case .float64(let a): return a.elements
            }
        }

        /// The values `range` of the column (a view, no copy).
        func slice(_ r: Range<Int>) -> Coordinates {
            switch self {
            case .float32(let a): return .float32(a.elementsView(r))
            case .float64(let a): return .float64(a.elementsView(r))
            }
        }
    }

    /// Category codes and the name of each code.
    public struct Categories: Sendable {
        public let codes: NDArray<Int32>
        public let names: [String]
        public init(codes: NDArray<Int32>, names: [String]) {
            self.codes = codes.contiguous()
            self.names = names
        }
    }

    public init(x: Coordinates, y: Coordinates, values: Coordinates? = nil, categories: Categories? = nil) throws {
        let n = x.count
        for (name, c) in [("y", y.count), ("values", values?.count ?? n), ("categories", categories?.codes.count ?? n)] where c != n {
            throw GyreRenderError(.invalidData, "column '\(name)' has \(c) elements but x has \(n)")
        }
        self.x = x
        self.y = y
        self.values = values
        self.categories = categories
    }

    /// Points from float64 arrays.
    public init(x: [Double], y: [Double], values: [Double]? = nil) throws {
        try self.init(x: .float64(NDArray(x)), y: .float64(NDArray(y)), values: values.map { .float64(NDArray($0)) })
    }

    public var count: Int { x.count }

    /// The points `range` (views of the same columns).
    public func slice(_ r: Range<Int>) -> Points {
        Points(unchecked: x.slice(r), y.slice(r), values?.slice(r),
               categories.map { Categories(codes: $0.codes.elementsView(r), names: $0.names) })
    }

    private init(unchecked x: Coordinates, _ y: Coordinates, _ v: Coordinates?, _ c: Categories?) {
        self.x = x
        self.y = y
        self.values = v
        self.categories = c
    }

    /// The smallest and largest finite x and y (NaN and infinities skipped), nil for no finite point.
    public func bounds() -> (x: ClosedRange<Double>, y: ClosedRange<Double>)? {
        guard let bx = Self.bounds(x), let by = Self.bounds(y) else { return nil }
        return (bx, by)
    }

    static func bounds(_ c: Coordinates) -> ClosedRange<Double>? {
        func scan<T: BinaryFloatingPoint>(_ a: NDArray<T>) -> ClosedRange<Double>? {
            a.withUnsafeBufferPointer { p in
                var lo = Double.infinity, hi = -Double.infinity
                for v in p {
                    let d = Double(v)
                    if d.isFinite {
                        if d < lo { lo = d }
                        if d > hi { hi = d }
                    }
                }
                return lo <= hi ? lo...hi : nil
            }
        }
        switch c {
        case .float32(let a): return scan(a)
        case .float64(let a): return scan(a)
        }
    }
}

extension NDArray {
    /// Elements `r` of a contiguous 1-D array, as a view.
    func elementsView(_ r: Range<Int>) -> NDArray {
        (try? self.slice(axis: 0, Slice(r.lowerBound, r.upperBound))) ?? self
    }
}
