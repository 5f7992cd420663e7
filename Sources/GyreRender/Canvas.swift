/// Where aggregation puts points: `width` x `height` pixels over `xRange` x `yRange` in data
/// units, linear axes, as datashader's `Canvas(plot_width, plot_height, x_range, y_range)`.
///
/// Bins follow datashader's rules so the same canvas gives the same bins: both ends of a range
/// are inclusive; a point at `x` goes to column `Int(x * sx + tx)` with `sx = width / (xmax -
/// xmin)` and `tx = -xmin * sx`, clamped to `width - 1` (the right edge belongs to the last
/// column); NaN and points outside either range are dropped. Row 0 is the bottom (`ymin`).
public struct Canvas: Sendable, Hashable {
    public let width: Int
    public let height: Int
    public let xRange: ClosedRange<Double>
    public let yRange: ClosedRange<Double>

    /// A canvas; the ranges must be finite and not empty (``init(width:height:bounding:)``
    /// widens a degenerate range as datashader does).
    public init(width: Int, height: Int, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) throws {
        guard width > 0, height > 0 else {
            throw GyreRenderError(.invalidArgument, "canvas size \(width)x\(height): width and height must be at least 1")
        }
        guard width <= 1 << 15, height <= 1 << 15, width * height <= 1 << 28 else {
            throw GyreRenderError(.invalidArgument, "canvas size \(width)x\(height) is too large (at most 32768 a side and 2^28 pixels)")
        }
        for (name, r) in [("x", xRange), ("y", yRange)] {
            guard r.lowerBound.isFinite, r.upperBound.isFinite, r.upperBound > r.lowerBound else {
                throw GyreRenderError(.invalidArgument, "\(name) range \(r.lowerBound),\(r.upperBound) must be finite with max > min")
            }
        }
        self.width = width
        self.height = height
        self.xRange = xRange
        self.yRange = yRange
    }

    /// The range a canvas takes from data bounds, as datashader's `maybe_expand_bounds`: a
    /// range of one value becomes value ± 1, a range with no finite values becomes -1...1.
    public static func expandedRange(min lo: Double, max hi: Double) -> ClosedRange<Double> {
        if !(lo.isFinite && hi.isFinite) || hi < lo { return -1...1 }
        if lo == hi { return (lo - 1)...(lo + 1) }
        return lo...hi
    }

    /// Scale and translate of the x axis (`column = x * s + t`).
    public var xScale: (s: Double, t: Double) { Self.scale(xRange, width) }
    /// Scale and translate of the y axis (`row = y * s + t`).
    public var yScale: (s: Double, t: Double) { Self.scale(yRange, height) }

    static func scale(_ r: ClosedRange<Double>, _ n: Int) -> (s: Double, t: Double) {
        let s = Double(n) / (r.upperBound - r.lowerBound)
        return (s, -r.lowerBound * s)
    }

    /// The data coordinate of each column's centre (datashader's `compute_index`).
    public var xCenters: [Double] { Self.centers(xScale, width) }
    /// The data coordinate of each row's centre, bottom row first.
    public var yCenters: [Double] { Self.centers(yScale, height) }

    static func centers(_ st: (s: Double, t: Double), _ n: Int) -> [Double] {
        (0..<n).map { (Double($0) + 0.5 - st.t) / st.s }
    }

    /// The pixel a point falls in (`row * width + column`), or nil when it is dropped.
    @inlinable public func pixel(x: Double, y: Double) -> Int? {
        let b = Binner(self)
        let p = b.pixel(x, y)
        return p < 0 ? nil : p
    }
}

/// The canvas's bin rule in the form the aggregation loops use (no optionals, no checks
/// beyond the range test).
@usableFromInline struct Binner: Sendable {
    @usableFromInline let sx, tx, sy, ty, xmin, xmax, ymin, ymax: Double
    @usableFromInline let width, height: Int

    @inlinable init(_ c: Canvas) {
        (sx, tx) = c.xScale
        (sy, ty) = c.yScale
        xmin = c.xRange.lowerBound
        xmax = c.xRange.upperBound
        ymin = c.yRange.lowerBound
        ymax = c.yRange.upperBound
        width = c.width
        height = c.height
    }

    /// `row * width + column`, or -1 for a point outside the canvas (NaN included).
    @inlinable @inline(__always) func pixel(_ x: Double, _ y: Double) -> Int {
        guard x >= xmin, x <= xmax, y >= ymin, y <= ymax else { return -1 }
        var xx = Int(x * sx + tx)
        var yy = Int(y * sy + ty)
        if xx >= width { xx = width - 1 }
        if yy >= height { yy = height - 1 }
        return yy &* width &+ xx
    }
}
