import CGyreSupport

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
    /// The larger canvas this one is a window of (a map tile of the world at its zoom), or nil.
    /// Grid cells then find their pixels in the larger canvas's frame, so that neighbouring
    /// windows put every cell edge on the same pixel as one rendering of the whole.
    public let frame: Frame?

    /// A larger canvas (which may have more pixels than a canvas can hold) and where a window
    /// of it starts: column and row of its bottom-left pixel.
    public struct Frame: Sendable, Hashable {
        public let xRange: ClosedRange<Double>
        public let yRange: ClosedRange<Double>
        public let width: Int
        public let height: Int
        public let column: Int
        public let row: Int
    }

    /// The window of `width` x `height` pixels at `column`, `row` (from the bottom left) of a
    /// canvas of `frameWidth` x `frameHeight` pixels over `xRange` x `yRange`.
    public static func window(ofWidth frameWidth: Int, height frameHeight: Int, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
                              column: Int, row: Int, width: Int, height: Int) throws -> Canvas {
        guard frameWidth > 0, frameHeight > 0, column >= 0, row >= 0, column + width <= frameWidth, row + height <= frameHeight else {
            throw GyreRenderError(.invalidArgument, "a window \(width)x\(height) at \(column),\(row) does not fit a canvas of \(frameWidth)x\(frameHeight)")
        }
        let dx = (xRange.upperBound - xRange.lowerBound) / Double(frameWidth), dy = (yRange.upperBound - yRange.lowerBound) / Double(frameHeight)
        let x0 = xRange.lowerBound + Double(column) * dx, y0 = yRange.lowerBound + Double(row) * dy
        let c = try Canvas(width: width, height: height, xRange: x0...(x0 + Double(width) * dx), yRange: y0...(y0 + Double(height) * dy))
        return Canvas(c, frame: Frame(xRange: xRange, yRange: yRange, width: frameWidth, height: frameHeight, column: column, row: row))
    }

    private init(_ c: Canvas, frame: Frame) {
        width = c.width
        height = c.height
        xRange = c.xRange
        yRange = c.yRange
        self.frame = frame
    }

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
        for (name, r, n) in [("x", xRange, width), ("y", yRange, height)] {
            let st = Self.scale(r, n)
            guard st.s.isFinite, st.t.isFinite, (r.upperBound * st.s).isFinite else {
                throw GyreRenderError(.invalidArgument, "\(name) range \(r.lowerBound),\(r.upperBound) is too narrow or too far out for \(n) pixels")
            }
        }
        self.width = width
        self.height = height
        self.xRange = xRange
        self.yRange = yRange
        frame = nil
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

    @usableFromInline static func scale(_ r: ClosedRange<Double>, _ n: Int) -> (s: Double, t: Double) {
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
/// beyond the range test). A window of a larger canvas (a map tile) bins by the larger
/// canvas's rule and keeps the pixels that fall in the window, so that each point lands in
/// exactly one tile, the pixel a whole-world rendering gives it.
@usableFromInline struct Binner: Sendable {
    @usableFromInline let sx, tx, sy, ty, xmin, xmax, ymin, ymax: Double
    @usableFromInline let width, height: Int
    /// The larger canvas's size and where the window starts (the canvas itself: 0, 0).
    @usableFromInline let frameWidth, frameHeight, column, row: Int
    @usableFromInline let windowed: Bool

    @inlinable init(_ c: Canvas) {
        if let f = c.frame {
            (sx, tx) = Canvas.scale(f.xRange, f.width)
            (sy, ty) = Canvas.scale(f.yRange, f.height)
            xmin = f.xRange.lowerBound
            xmax = f.xRange.upperBound
            ymin = f.yRange.lowerBound
            ymax = f.yRange.upperBound
            (frameWidth, frameHeight, column, row) = (f.width, f.height, f.column, f.row)
            windowed = true
        } else {
            (sx, tx) = c.xScale
            (sy, ty) = c.yScale
            xmin = c.xRange.lowerBound
            xmax = c.xRange.upperBound
            ymin = c.yRange.lowerBound
            ymax = c.yRange.upperBound
            (frameWidth, frameHeight, column, row) = (c.width, c.height, 0, 0)
            windowed = false
        }
        width = c.width
        height = c.height
    }

    /// Calls `body(i, pixel)` for each point `i` inside the canvas, in order. The canvas's
    /// numbers are copied into locals first: read through `self` they would be reloaded after
    /// every store the body makes (the compiler cannot rule out that the store changed them),
    /// which made the loop twice as slow.
    @inlinable @inline(__always)
    func forEachPixel<X: BinaryFloatingPoint>(_ xs: UnsafeBufferPointer<X>, _ ys: UnsafeBufferPointer<X>, _ body: (Int, Int) -> Void) {
        let lo = SIMD2(xmin, ymin), hi = SIMD2(xmax, ymax), s = SIMD2(sx, sy), t = SIMD2(tx, ty)
        let lastX = frameWidth &- 1, lastY = frameHeight &- 1, w = width
        guard let xb = xs.baseAddress, let yb = ys.baseAddress else { return }
        let n = Swift.min(xs.count, ys.count)
        if windowed {
            let col = column, rw = row, h = height
            for i in 0..<n {
                let p = SIMD2(Double(xb[i]), Double(yb[i]))
                if all((p .>= lo) .& (p .<= hi)) {
                    let f = p * s + t
                    let xx = Swift.min(gyre_truncate(f.x), lastX) &- col
                    let yy = Swift.min(gyre_truncate(f.y), lastY) &- rw
                    if UInt(bitPattern: xx) < UInt(w) && UInt(bitPattern: yy) < UInt(h) { body(i, yy &* w &+ xx) }
                }
            }
            return
        }
        for i in 0..<n {
            let p = SIMD2(Double(xb[i]), Double(yb[i]))
            // The four range tests as one vector compare and one branch (NaN fails them).
            if all((p .>= lo) .& (p .<= hi)) {
                // x * sx + tx (two roundings, as datashader), in range so in 0...width: C's
                // truncation without Swift's checks.
                let f = p * s + t
                let xx = Swift.min(gyre_truncate(f.x), lastX)
                let yy = Swift.min(gyre_truncate(f.y), lastY)
                body(i, yy &* w &+ xx)
            }
        }
    }

    /// `row * width + column`, or -1 for a point outside the canvas (NaN included).
    @inlinable @inline(__always) func pixel(_ x: Double, _ y: Double) -> Int {
        // One branch for the four range tests (NaN fails each of them).
        let inside = (x >= xmin ? 1 : 0) & (x <= xmax ? 1 : 0) & (y >= ymin ? 1 : 0) & (y <= ymax ? 1 : 0)
        if inside == 0 { return -1 }
        // In range, so x * sx + tx is in 0...width: C's truncation without Swift's checks.
        let xx = Swift.min(gyre_truncate(x * sx + tx), frameWidth - 1) &- column
        let yy = Swift.min(gyre_truncate(y * sy + ty), frameHeight - 1) &- row
        guard UInt(bitPattern: xx) < UInt(width) && UInt(bitPattern: yy) < UInt(height) else { return -1 }
        return yy &* width &+ xx
    }
}
