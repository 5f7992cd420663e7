import GyreArrays

/// A 2-D variable on 1-D coordinates (a raster or a rectilinear grid): `values` is (y, x) in
/// the coordinates' own order (ascending or descending).
public struct GridValues: Sendable {
    public let values: [Double]
    public let x: [Double]
    public let y: [Double]

    public init(values: [Double], x: [Double], y: [Double]) throws {
        guard x.count >= 2, y.count >= 2 else {
            throw GyreRenderError(.invalidData, "a grid needs at least 2 coordinates along each axis, not \(x.count) x \(y.count)")
        }
        guard values.count == x.count * y.count else {
            throw GyreRenderError(.invalidData, "a grid of \(y.count) x \(x.count) needs \(x.count * y.count) values, not \(values.count)")
        }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            throw GyreRenderError(.invalidData, "grid coordinates must be finite")
        }
        self.values = values
        self.x = x
        self.y = y
    }

    /// A grid from an (y, x) array of any numeric dtype.
    public init(_ a: AnyNDArray, x: [Double], y: [Double]) throws {
        guard a.shape == [y.count, x.count], let v = a.doubles() else {
            throw GyreRenderError(.invalidData, "grid values of shape \(a.shape) and \(a.dtype) do not fit coordinates of \(y.count) x \(x.count)")
        }
        try self.init(values: v, x: x, y: y)
    }

    /// The cell edges: midpoints between centres, the ends extended by half a cell
    /// (datashader's `infer_interval_breaks`).
    static func breaks(_ c: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: c.count + 1)
        let deltas = (0..<(c.count - 1)).map { 0.5 * (c[$0 + 1] - c[$0]) }
        out[0] = c[0] - deltas[0]
        for i in 0..<(c.count - 1) { out[i + 1] = c[i] + deltas[i] }
        out[c.count] = c[c.count - 1] + deltas[deltas.count - 1]
        return out
    }

    /// The outer edges in coordinate order (lo, hi) for ascending, (hi, lo) for descending
    /// (datashader's `_compute_bounds_from_1d_centers(orient=False)`).
    static func bounds(_ c: [Double]) -> (Double, Double) {
        var (v0, v1, vm1, vn) = (c[0], c[1], c[c.count - 2], c[c.count - 1])
        let descending = vn < v0
        if descending { (v0, v1, vm1, vn) = (vn, vm1, v1, v0) }
        let b = (v0 - 0.5 * (v1 - v0), vn + 0.5 * (vn - vm1))
        return descending ? (b.1, b.0) : b
    }

    /// The data's bounds as a canvas range (ascending, widened as datashader does).
    public var xRange: ClosedRange<Double> { Self.range(x) }
    public var yRange: ClosedRange<Double> { Self.range(y) }
    static func range(_ c: [Double]) -> ClosedRange<Double> {
        let b = bounds(c)
        return Canvas.expandedRange(min: Swift.min(b.0, b.1), max: Swift.max(b.0, b.1))
    }

    /// Evenly spaced, as NumPy's `allclose(c, linspace(c[0], c[-1], n))` decides.
    static func isRegular(_ c: [Double]) -> Bool {
        let l = NumpyMath.linspace(c[0], c[c.count - 1], c.count)
        return zip(c, l).allSatisfy { abs($0 - $1) <= 1e-8 + 1e-5 * abs($1) }
    }
}

extension Canvas {
    /// A grid regridded onto the canvas as datashader's `Canvas.quadmesh` does it. An evenly
    /// spaced grid that is coarser than the canvas on both axes is sampled at each pixel's
    /// centre (nearest; the reduction does not apply); one finer on both axes has each pixel
    /// reduce the cells that start inside it; any other grid is a rectilinear mesh whose
    /// cells cover the pixels between their edges (a cell narrower than a pixel still
    /// covers one). Cells with NaN values are skipped. `reduction`: mean (the default),
    /// sum, count, min, max, first or last. `rectilinear` takes the mesh rule for every grid
    /// (tiles do, so that a tile's pixels do not depend on how many cells it holds).
    public func quadmesh(_ grid: GridValues, reduction: RenderReduction = .mean, rectilinear: Bool = false) throws -> Aggregate {
        switch reduction {
        case .mean, .sum, .count, .min, .max, .first, .last: break
        default: throw GyreRenderError(.invalidArgument, "a grid is regridded with mean, sum, count, min, max, first or last, not \(reduction)")
        }
        if !rectilinear && GridValues.isRegular(grid.x) && GridValues.isRegular(grid.y) {
            let (sx0, sx1) = GridValues.bounds(grid.x), (sy0, sy1) = GridValues.bounds(grid.y)
            let nx = grid.x.count, ny = grid.y.count
            let upX = abs((sx1 - sx0) / Double(nx)) >= abs((xRange.upperBound - xRange.lowerBound) / Double(width))
            let upY = abs((sy1 - sy0) / Double(ny)) >= abs((yRange.upperBound - yRange.lowerBound) / Double(height))
            let (scaleX, tX) = Self.scaleTranslate(width, xRange.lowerBound, xRange.upperBound, nx, sx0, sx1)
            let (scaleY, tY) = Self.scaleTranslate(height, yRange.lowerBound, yRange.upperBound, ny, sy0, sy1)
            if upX && upY {
                var out = [Double](repeating: .nan, count: width * height)
                for j in 0..<height {
                    let sj = Int((scaleY * (Double(j) + 0.5) + tY).rounded(.down))
                    if sj < 0 || sj >= ny { continue }
                    for i in 0..<width {
                        let si = Int((scaleX * (Double(i) + 0.5) + tX).rounded(.down))
                        if si < 0 || si >= nx { continue }
                        out[j * width + i] = grid.values[sj * nx + si]
                    }
                }
                return Aggregate(canvas: self, reduction: reduction, data: .float64(try NDArray(shape: [height, width], out)))
            }
            if !upX && !upY {
                var state = AggregateState(canvas: self, reduction: reduction, usesValues: true)
                for j in 0..<height {
                    var j0 = (scaleY * Double(j) + tY).rounded(.down), j1 = (scaleY * Double(j + 1) + tY).rounded(.down)
                    if scaleY < 0 && j0 > j1 { swap(&j0, &j1) }
                    let sj0 = Int(Swift.max(j0, 0)), sj1 = Int(Swift.min(j1, Double(ny)))
                    for i in 0..<width {
                        let si0 = Int(Swift.max((scaleX * Double(i) + tX).rounded(.down), 0))
                        let si1 = Int(Swift.min((scaleX * Double(i + 1) + tX).rounded(.down), Double(nx)))
                        if sj0 >= sj1 || si0 >= si1 { continue }
                        for sj in sj0..<sj1 {
                            for si in si0..<si1 { state.add(pixel: j * width + i, grid.values[sj * nx + si]) }
                        }
                    }
                }
                return state.finalize()
            }
        }
        return try regridMesh(grid, reduction)
    }

    /// datashader's `build_scale_translate`: source index = scale * output index + translate.
    static func scaleTranslate(_ outSize: Int, _ out0: Double, _ out1: Double, _ srcSize: Int, _ src0: Double, _ src1: Double) -> (Double, Double) {
        let t = Double(srcSize) * (out0 - src0) / (src1 - src0)
        let s = (Double(srcSize) * (out1 - out0)) / (Double(outSize) * (src1 - src0))
        return (s, t)
    }

    /// The pixels each cell covers along one axis, datashader's rectilinear quadmesh rule in
    /// the frame (`lo...hi` over `n` pixels): the cells that overlap the frame, their edges
    /// truncated to pixels and clipped to `0...n`, a cell that falls within one pixel widened
    /// to cover it; then the ranges as seen from a window `offset` pixels into the frame and
    /// `size` wide (a canvas of its own: offset 0, size n). Each entry: the cell's index in
    /// the coordinates and its pixel range in the window (maybe empty).
    static func cellPixels(_ centres: [Double], _ lo: Double, _ hi: Double, _ n: Int, offset: Int = 0, size: Int? = nil) -> [(cell: Int, pixels: Range<Int>)] {
        let size = size ?? n
        var scaled = GridValues.breaks(centres).map { ($0 - lo) / (hi - lo) }
        var reversed = false
        if scaled[0] > scaled[1] {
            scaled.reverse()
            reversed = true
        }
        // searchsorted(scaled, 0, "right") - 1 and searchsorted(scaled, 1, "left").
        let m0 = Swift.max((scaled.firstIndex { $0 > 0 } ?? scaled.count) - 1, 0)
        let m1 = scaled.firstIndex { $0 >= 1 } ?? scaled.count
        if m0 == m1 { return [] }
        let edges = scaled[m0...Swift.min(m1, scaled.count - 1)].map { v -> Int in
            let p = v * Double(n)
            let t = p.isFinite && abs(p) < 9e18 ? Int(p) : (p > 0 ? n : 0)
            return Swift.min(Swift.max(t, 0), n)
        }
        var out: [(Int, Range<Int>)] = []
        out.reserveCapacity(edges.count - 1)
        for i in 0..<(edges.count - 1) {
            var a = edges[i], b = edges[i + 1]
            if a > b { swap(&a, &b) }
            if a == b && b != n { b += 1 }
            let wa = Swift.min(Swift.max(a - offset, 0), size), wb = Swift.min(Swift.max(b - offset, 0), size)
            let cell = reversed ? centres.count - 1 - (m0 + i) : m0 + i
            out.append((cell, wa..<Swift.max(wa, wb)))
        }
        return out
    }

    func regridMesh(_ grid: GridValues, _ reduction: RenderReduction) throws -> Aggregate {
        var state = AggregateState(canvas: self, reduction: reduction, usesValues: true)
        let nx = grid.x.count
        let f = frame ?? Frame(xRange: xRange, yRange: yRange, width: width, height: height, column: 0, row: 0)
        let xc = Self.cellPixels(grid.x, f.xRange.lowerBound, f.xRange.upperBound, f.width, offset: f.column, size: width)
        let yc = Self.cellPixels(grid.y, f.yRange.lowerBound, f.yRange.upperBound, f.height, offset: f.row, size: height)
        // x cells outside, y cells inside, as datashader's loop runs (the order first and last see).
        for (col, xs) in xc where !xs.isEmpty {
            for (row, ys) in yc where !ys.isEmpty {
                let v = grid.values[row * nx + col]
                for px in xs {
                    for py in ys { state.add(pixel: py * width + px, v) }
                }
            }
        }
        return state.finalize()
    }
}

extension AggregateState {
    /// Adds one value to one pixel by the reduction's rule (the grid paths).
    mutating func add(pixel p: Int, _ v: Double) {
        if v.isNaN { return }
        switch reduction {
        case .count: counts[p] &+= 1
        case .any: flags[p] = true
        case .sum: values[p] = values[p].isNaN ? v : values[p] + v
        case .min: if values[p].isNaN || v < values[p] { values[p] = v }
        case .max: if values[p].isNaN || v > values[p] { values[p] = v }
        case .first: if values[p].isNaN { values[p] = v }
        case .last: values[p] = v
        case .mean:
            moments[2 * p] += v
            moments[2 * p + 1] += 1
        case .std, .variance:
            let k = 3 * p
            let s = moments[k], n = moments[k + 1]
            if n > 0 { moments[k + 2] += (v - s / n) * (v - (s + v) / (n + 1)) }
            moments[k] = s + v
            moments[k + 1] = n + 1
        case .countCategories: break
        }
    }
}
