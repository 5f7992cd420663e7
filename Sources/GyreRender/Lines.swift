import GyreArrays

extension Canvas {
    /// Points joined in order by straight segments, aggregated as datashader's `Canvas.line`
    /// does without antialiasing (`line_width=0`): each segment clipped to the canvas
    /// (Liang-Barsky), its ends snapped to pixels (a point on the upper bound into the last
    /// pixel), and the pixels between them visited once each (Bresenham); a NaN (or an
    /// infinity) in x or y breaks the line. A pixel where two segments meet is visited once. With a value column,
    /// each segment contributes the value of its first point. Reductions: count, any, sum,
    /// mean, min, max, std, var, first and last.
    public func line(_ points: Points, reduction: RenderReduction = .count, usesValues: Bool? = nil) throws -> Aggregate {
        if case .countCategories = reduction {
            throw GyreRenderError(.invalidArgument, "count_cat is not drawn along lines")
        }
        guard frame == nil else { throw GyreRenderError(.invalidArgument, "lines are drawn on a whole canvas, not on a window of one") }
        let withValues = usesValues ?? reduction.requiresValues
        if withValues && points.values == nil {
            throw GyreRenderError(.invalidArgument, "\(reduction) along lines needs a value column")
        }
        let xs = points.x.doubles, ys = points.y.doubles
        let vs = withValues ? points.values?.doubles : nil
        var state = AggregateState(canvas: self, reduction: reduction, usesValues: withValues)
        let (sx, tx) = xScale, (sy, ty) = yScale
        let xmin = xRange.lowerBound, xmax = xRange.upperBound, ymin = yRange.lowerBound, ymax = yRange.upperBound
        // Python's round (half to even) of the upper bound in pixels.
        let xxmax = Int((xmax * sx + tx).rounded(.toNearestOrEven)), yymax = Int((ymax * sy + ty).rounded(.toNearestOrEven))
        func snap(_ x: Double, _ y: Double) -> (Int, Int) {
            let xx = Int(x * sx + tx), yy = Int(y * sy + ty)
            return (xx == xxmax ? xx - 1 : xx, yy == yymax ? yy - 1 : yy)
        }
        let w = width, h = height
        let n = xs.count
        guard n >= 2 else { return state.finalize() }
        for i in 0..<(n - 1) {
            var segmentStart = i == 0 || !xs[i - 1].isFinite || !ys[i - 1].isFinite
            let v = vs?[i] ?? 1
            guard let c = Self.clip(xmin, xmax, ymin, ymax, xs[i], xs[i + 1], ys[i], ys[i + 1]) else { continue }
            segmentStart = segmentStart || c.clippedStart
            var (x0, y0) = snap(c.x0, c.y0)
            let (x1, y1) = snap(c.x1, c.y1)
            func visit(_ px: Int, _ py: Int) {
                if px >= 0 && px < w && py >= 0 && py < h { state.add(pixel: py * w + px, v) }
            }
            // Bresenham as datashader writes it (ties broken towards the positive direction).
            let ix = x1 > x0 ? 1 : (x1 < x0 ? -1 : 0), iy = y1 > y0 ? 1 : (y1 < y0 ? -1 : 0)
            let dx = abs(x1 - x0) * 2, dy = abs(y1 - y0) * 2
            if !(c.clippedStart || c.clippedEnd) && dx == 0 && dy == 0 {
                visit(x0, y0)
                continue
            }
            if segmentStart { visit(x0, y0) }
            if dx >= dy {
                var error = 2 * dy - dx
                while x0 != x1 {
                    if error >= 0 && (error != 0 || ix > 0) {
                        error -= 2 * dx
                        y0 += iy
                    }
                    error += 2 * dy
                    x0 += ix
                    visit(x0, y0)
                }
            } else {
                var error = 2 * dx - dy
                while y0 != y1 {
                    if error >= 0 && (error != 0 || iy > 0) {
                        error -= 2 * dy
                        x0 += ix
                    }
                    error += 2 * dx
                    y0 += iy
                    visit(x0, y0)
                }
            }
        }
        return state.finalize()
    }

    /// Liang-Barsky clipping of the segment (x0, y0)-(x1, y1) to the box; nil when it misses
    /// the box (or has a NaN end).
    static func clip(_ xmin: Double, _ xmax: Double, _ ymin: Double, _ ymax: Double,
                     _ x0: Double, _ x1: Double, _ y0: Double, _ y1: Double)
        -> (x0: Double, x1: Double, y0: Double, y1: Double, clippedStart: Bool, clippedEnd: Bool)? {
        // A NaN or an infinity breaks the line (datashader leaves infinities undefined).
        guard x0.isFinite, x1.isFinite, y0.isFinite, y1.isFinite else { return nil }
        if (x0 < xmin && x1 < xmin) || (x0 > xmax && x1 > xmax) || (y0 < ymin && y1 < ymin) || (y0 > ymax && y1 > ymax) { return nil }
        var t0 = 0.0, t1 = 1.0
        func clipt(_ p: Double, _ q: Double) -> Bool {
            if p < 0 && q < 0 {
                let r = q / p
                if r > t1 { return false }
                if r > t0 { t0 = r }
            } else if p > 0 && q < p {
                let r = q / p
                if r < t0 { return false }
                if r < t1 { t1 = r }
            } else if q < 0 {
                return false
            }
            return true
        }
        let dx = x1 - x0, dy = y1 - y0
        guard dx.isFinite, dy.isFinite else { return nil }
        // datashader evaluates all four and skips the segment if any refuses it.
        let a = clipt(-dx, x0 - xmin), b = clipt(dx, xmax - x0), c = clipt(-dy, y0 - ymin), d = clipt(dy, ymax - y0)
        guard a && b && c && d else { return nil }
        var (nx0, ny0, nx1, ny1) = (x0, y0, x1, y1)
        let clippedEnd = t1 < 1
        if clippedEnd { nx1 = x0 + t1 * dx; ny1 = y0 + t1 * dy }
        let clippedStart = t0 > 0
        if clippedStart { nx0 = x0 + t0 * dx; ny0 = y0 + t0 * dy }
        guard nx0.isFinite, nx1.isFinite, ny0.isFinite, ny1.isFinite else { return nil }
        return (nx0, nx1, ny0, ny1, clippedStart, clippedEnd)
    }
}
