import Foundation
import GyreArrays

/// How a reprojected pixel takes its value from the source.
public enum Resampling: String, Sendable, CaseIterable {
    /// The source pixel the destination pixel's centre falls in.
    case nearest
    /// The source pixels around the centre, weighted by distance (GDAL's bilinear: the four
    /// nearest when the resolutions are alike, a triangle filter as wide as a destination
    /// pixel when shrinking).
    case bilinear
}

/// A raster grid: a CRS, an affine transform and a size in pixels.
public struct Grid: Sendable, Hashable, CustomStringConvertible {
    public var crs: CRS
    public var transform: Affine
    public var width: Int
    public var height: Int

    public init(crs: CRS, transform: Affine, width: Int, height: Int) {
        self.crs = crs
        self.transform = transform
        self.width = width
        self.height = height
    }

    public var description: String { "\(width) x \(height) pixels in \(crs), \(transform)" }

    /// The grid covering `bounds` (west, south, east, north) in `crs` at `resolution`, its corner
    /// at (west, north), as many whole pixels as reach the east and south edges.
    public static func covering(_ bounds: [Double], crs: CRS, resolution: Double) throws -> Grid {
        guard bounds.count == 4, bounds.allSatisfy(\.isFinite), bounds[2] > bounds[0], bounds[3] > bounds[1] else {
            throw GyreGeoError(.invalidArgument, "bounds \(bounds): need west < east and south < north")
        }
        guard resolution > 0, resolution.isFinite else { throw GyreGeoError(.invalidArgument, "resolution \(resolution) must be positive") }
        let w = Int(((bounds[2] - bounds[0]) / resolution - 1e-9).rounded(.up)), h = Int(((bounds[3] - bounds[1]) / resolution - 1e-9).rounded(.up))
        guard w > 0, h > 0, Double(w) * Double(h) < 1e12 else { throw GyreGeoError(.invalidArgument, "a grid of \(w) x \(h) pixels for bounds \(bounds) at \(resolution)") }
        return Grid(crs: crs, transform: .northUp(west: bounds[0], north: bounds[3], xres: resolution, yres: resolution), width: w, height: h)
    }
}

/// Reprojection: each destination pixel's centre carried into the source grid (PROJ for the
/// CRSs, the transforms' inverses for pixels), then sampled as GDAL's warper samples.
public enum Warp {
    /// Carries destination pixel/line positions to source pixel/line positions: the
    /// destination transform, PROJ, the inverse source transform (GDAL's GenImgProjTransformer).
    struct PixelMapper {
        let dst: Affine
        let inv: Affine
        let t: CoordinateTransform

        init(dst: Grid, src: Grid, through t: CoordinateTransform) throws {
            guard let inv = src.transform.inverse else { throw GyreGeoError(.invalidArgument, "the source transform \(src.transform) cannot be inverted") }
            self.dst = dst.transform
            self.inv = inv
            self.t = t
        }

        func map(_ px: [Double], _ py: [Double]) -> (x: [Double], y: [Double]) {
            var xs = px, ys = py
            for k in 0..<xs.count { let p = dst.apply(col: px[k], row: py[k]); xs[k] = p.x; ys[k] = p.y }
            xs.withUnsafeMutableBufferPointer { xb in ys.withUnsafeMutableBufferPointer { yb in t.transform(x: xb, y: yb) } }
            for k in 0..<xs.count { let q = inv.apply(col: xs[k], row: ys[k]); xs[k] = q.x; ys[k] = q.y }
            return (xs, ys)
        }
    }

    /// The source pixel coordinates (continuous: pixel (i, j) spans [i, i+1)) of the centres of
    /// the destination pixels in `rows` x `cols`, row-major. Points that do not transform are
    /// NaN. With `errorThreshold` > 0 (in source pixels), each row is transformed at its ends
    /// and middle and interpolated linearly where that stays within the threshold, as GDAL's
    /// approximate transformer does (0.125 by default there); 0 transforms every pixel.
    public static func sourcePixels(of dst: Grid, rows: Range<Int>, cols: Range<Int>, in src: Grid, through t: CoordinateTransform,
                                    errorThreshold: Double = 0) throws -> (x: [Double], y: [Double]) {
        let m = try PixelMapper(dst: dst, src: src, through: t)
        let n = cols.count
        var xs = [Double](repeating: .nan, count: rows.count * n), ys = xs
        let centres = cols.map { Double($0) + 0.5 }
        for (ri, row) in rows.enumerated() {
            let y = Double(row) + 0.5
            let (rx, ry): ([Double], [Double])
            if errorThreshold <= 0 || n <= 5 {
                (rx, ry) = m.map(centres, [Double](repeating: y, count: n))
            } else {
                let mid = (n - 1) / 2
                let (sx, sy) = m.map([centres[0], centres[mid], centres[n - 1]], [y, y, y])
                (rx, ry) = approximate(m, centres[...], y: y, sx: sx, sy: sy, threshold: errorThreshold)
            }
            for k in 0..<n { xs[ri * n + k] = rx[k]; ys[ri * n + k] = ry[k] }
        }
        return (xs, ys)
    }

    /// GDAL's approximate transformer on one row (GDALApproxTransform): the first, middle and
    /// last points exact (`sx`, `sy`), the row interpolated linearly when the middle's error is
    /// within the threshold, else each half again with three more exact points.
    static func approximate(_ m: PixelMapper, _ xs: ArraySlice<Double>, y: Double, sx: [Double], sy: [Double], threshold: Double) -> ([Double], [Double]) {
        let n = xs.count, x0 = xs[xs.startIndex], mid = (n - 1) / 2
        let xm = xs[xs.startIndex + mid], xl = xs[xs.endIndex - 1]
        let dx = (sx[2] - sx[0]) / (xl - x0), dy = (sy[2] - sy[0]) / (xl - x0)
        let err = abs(sx[0] + dx * (xm - x0) - sx[1]) + abs(sy[0] + dy * (xm - x0) - sy[1])
        if !(err <= threshold) && n > 2 && mid >= 1 {
            let pts = [xs[xs.startIndex + (mid - 1) / 2], xs[xs.startIndex + mid - 1], xs[xs.startIndex + mid + (n - mid - 1) / 2]]
            let (px, py) = m.map(pts, [y, y, y])
            let a = approximate(m, xs[xs.startIndex..<(xs.startIndex + mid)], y: y, sx: [sx[0], px[0], px[1]], sy: [sy[0], py[0], py[1]], threshold: threshold)
            let b = approximate(m, xs[(xs.startIndex + mid)...], y: y, sx: [sx[1], px[2], sx[2]], sy: [sy[1], py[2], sy[2]], threshold: threshold)
            return (a.0 + b.0, a.1 + b.1)
        }
        if n == 1 { return ([sx[0]], [sy[0]]) }
        return (xs.map { sx[0] + dx * ($0 - x0) }, xs.map { sy[0] + dy * ($0 - x0) })
    }

    /// GDAL's kernel scales (dfXScale, dfYScale) for warping `dst` from `src`: destination
    /// pixels per source pixel over the source window the destination covers (21 points along
    /// each edge), 1 when the whole window is read at its size or larger, a shrink close to a
    /// whole factor snapped to it. Below 0.95 the bilinear filter widens to 1/scale.
    public static func scales(dst: Grid, src: Grid, through t: CoordinateTransform, radius: Int = 1) throws -> (x: Double, y: Double) {
        let m = try PixelMapper(dst: dst, src: src, through: t)
        let w = Double(dst.width), h = Double(dst.height)
        var px: [Double] = [], py: [Double] = []
        for i in 0..<21 { let r = Double(i) / 20; px.append(r * w); py.append(0) }
        for i in 0..<21 { let r = Double(i) / 20; px.append(r * w); py.append(h) }
        for i in 0..<21 { let r = Double(i) / 20; px.append(0); py.append(r * h) }
        for i in 0..<21 { let r = Double(i) / 20; px.append(w); py.append(r * h) }
        let (sx, sy) = m.map(px, py)
        func axis(_ v: [Double], size: Int, nd: Double) -> Double {
            let f = v.filter(\.isFinite)
            guard var lo = f.min(), var hi = f.max(), hi > lo else { return 1 }
            if abs(lo - lo.rounded()) < 1e-6 { lo = lo.rounded() }
            if abs(hi - hi.rounded()) < 1e-6 { hi = hi.rounded() }
            // Positions far outside the source are clamped to just beyond it.
            lo = Swift.min(Swift.max(lo, -1), Double(size) + 1)
            hi = Swift.min(Swift.max(hi, -1), Double(size) + 1)
            guard hi > lo else { return 1 }
            let s0 = nd / (hi - lo)
            let rad = s0 < 0.95 ? Int(Swift.min((Double(radius) / s0).rounded(.up), Double(size) + 2)) : radius
            let loC = Int(Swift.max(0, lo)), hiC = Int(Swift.min(hi.rounded(.up), Double(size)))
            let raw = Swift.max(0, Swift.min(Double(size - loC), hi - lo))
            let win: Int
            if Double(hiC - loC) > 0.9 * Double(size) {
                win = size
            } else {
                let off = Swift.max(0, Swift.min(loC - rad, size))
                win = Swift.max(0, Swift.min(size - off, hiC - off + rad))
            }
            guard raw > 0 else { return 1 }
            var scale = nd / raw
            if Double(win) >= nd && Double(win) <= nd + (Double(win) - raw) { scale = 1 }
            if scale < 1 {
                let n = (1 / scale + 0.5).rounded(.down)
                if abs(1 / scale - n) < 0.05 { scale = 1 / n }
            }
            return scale
        }
        return (axis(sx, size: src.width, nd: w), axis(sy, size: src.height, nd: h))
    }

    /// Samples `source` (bands x height x width, row-major, NaN or `nodata` where it has no
    /// value) at the source pixel coordinates `x`, `y`; output pixels without a value keep
    /// what `out` holds. `scale` is `scales(...)` (the bilinear filter's width).
    public static func sample(_ source: UnsafeBufferPointer<Double>, bands: Int, width: Int, height: Int, nodata: Double?,
                              x: [Double], y: [Double], resampling: Resampling, scale: (x: Double, y: Double) = (1, 1),
                              into out: UnsafeMutableBufferPointer<Double>) {
        let n = x.count
        precondition(out.count == bands * n && source.count == bands * width * height, "Warp.sample: sizes")
        let plane = width * height
        // GDAL's unified nodata (as rasterio sets it): a pixel is missing only when every band
        // is nodata (or NaN).
        var valid = [Bool](repeating: false, count: plane)
        for p in 0..<plane {
            for b in 0..<bands {
                let v = source[b * plane + p]
                if !v.isNaN && (nodata == nil || v != nodata!) { valid[p] = true; break }
            }
        }
        let useFour = scale.x >= 0.95 && scale.y >= 0.95
        func taps(_ s: Double) -> (k: Double, radius: Int) {
            let k = s.isFinite && s > 1e-3 ? Swift.min(s, 1) : 1
            return (k, k < 1 ? Int((1 / k).rounded(.up)) : 1)
        }
        let tx = taps(scale.x), ty = taps(scale.y)
        var wx = [Double](repeating: 0, count: 2 * tx.radius), wy = [Double](repeating: 0, count: 2 * ty.radius)
        for k in 0..<n {
            let sx = x[k], sy = y[k]
            // Outside the source: not written (GDAL's GWKCheckAndComputeSrcOffsets).
            guard sx.isFinite, sy.isFinite, sx >= 0, sy >= 0, sx + 1e-10 <= Double(width), sy + 1e-10 <= Double(height) else { continue }
            let ix = Swift.min(Int(sx + 1e-10), width - 1), iy = Swift.min(Int(sy + 1e-10), height - 1)
            // The pixel the centre falls in must hold a value, whatever the resampling.
            guard valid[iy * width + ix] else { continue }
            if resampling == .nearest {
                for b in 0..<bands { out[b * n + k] = source[b * plane + iy * width + ix] }
                continue
            }
            let x0 = Int((sx - 0.5).rounded(.down)), y0 = Int((sy - 0.5).rounded(.down))
            let dx = sx - 0.5 - Double(x0), dy = sy - 0.5 - Double(y0)
            let ox: Int, oy: Int
            if useFour {
                wx = [1 - dx, dx]; wy = [1 - dy, dy]
                ox = 0; oy = 0
            } else {
                for i in 0..<(2 * tx.radius) { wx[i] = Swift.max(0, 1 - abs((Double(i + 1 - tx.radius) - dx) * tx.k)) }
                for j in 0..<(2 * ty.radius) { wy[j] = Swift.max(0, 1 - abs((Double(j + 1 - ty.radius) - dy) * ty.k)) }
                ox = 1 - tx.radius; oy = 1 - ty.radius
            }
            for b in 0..<bands {
                var acc = 0.0, div = 0.0
                for j in 0..<wy.count where wy[j] > 0 {
                    let py = y0 + oy + j
                    guard py >= 0, py < height else { continue }
                    for i in 0..<wx.count where wx[i] > 0 {
                        let px = x0 + ox + i
                        guard px >= 0, px < width, valid[py * width + px] else { continue }
                        let w = wx[i] * wy[j]
                        acc += source[b * plane + py * width + px] * w
                        div += w
                    }
                }
                if div >= 0.00001 { out[b * n + k] = div == 1 ? acc : acc / div }
            }
        }
    }

    /// Reprojects a (band, y, x) raster onto `dst`. Pixels with no source value are `nodata`
    /// (NaN for floating-point output when nil). Integer output is rounded to the nearest.
    public static func reproject(_ source: AnyNDArray, from src: Grid, to dst: Grid, resampling: Resampling, nodata: Double? = nil,
                                 errorThreshold: Double = 0) throws -> AnyNDArray {
        guard source.ndim == 3, source.shape[1] == src.height, source.shape[2] == src.width else {
            throw GyreGeoError(.invalidArgument, "a (band, y, x) source of \(src.height) x \(src.width) pixels is needed, got shape \(source.shape)")
        }
        guard dst.width > 0, dst.height > 0, Double(dst.width) * Double(dst.height) * Double(source.shape[0]) < 1e10 else {
            throw GyreGeoError(.invalidArgument, "destination grid \(dst.width) x \(dst.height)")
        }
        let t = try CoordinateTransform(from: dst.crs, to: src.crs)
        let (xs, ys) = try sourcePixels(of: dst, rows: 0..<dst.height, cols: 0..<dst.width, in: src, through: t, errorThreshold: errorThreshold)
        let scale = resampling == .bilinear ? try scales(dst: dst, src: src, through: t) : (x: 1.0, y: 1.0)
        let values = try source.astype(.float64).doubles() ?? []
        let bands = source.shape[0]
        let fill = nodata ?? (source.dtype.isFloatingPoint ? .nan : 0)
        var out = [Double](repeating: fill, count: bands * dst.width * dst.height)
        values.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                sample(s, bands: bands, width: src.width, height: src.height, nodata: nodata, x: xs, y: ys, resampling: resampling, scale: scale, into: o)
            }
        }
        return try Self.cast(out, shape: [bands, dst.height, dst.width], to: source.dtype)
    }

    /// Values computed in Double as `dtype`: floating point as it is, integers rounded half up
    /// and clamped to the type's range, as GDAL writes them.
    public static func cast(_ values: [Double], shape: [Int], to dtype: DType) throws -> AnyNDArray {
        let result = AnyNDArray.float64(try NDArray(shape: shape, values))
        if dtype.isFloatingPoint { return try result.astype(dtype) }
        let r = dtype.integerRange ?? (-9.2e18)...(9.2e18)
        let (lo, hi) = (r.lowerBound, r.upperBound)
        return try AnyNDArray.float64(try NDArray(shape: shape, values.map { $0.isNaN ? 0 : Swift.min(hi, Swift.max(lo, ($0 + 0.5).rounded(.down))) })).astype(dtype)
    }
}
