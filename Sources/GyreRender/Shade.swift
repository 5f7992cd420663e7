import Foundation
import GyreArrays

/// How aggregate values map to colours, as datashader's `how`.
public enum ShadeHow: String, Sendable, CaseIterable {
    case linear
    case log
    case cbrt
    /// Histogram equalization: each colour covers the same number of pixels.
    case eqHist = "eq_hist"

    public init(parsing text: String) throws {
        guard let h = ShadeHow(rawValue: text.lowercased().replacingOccurrences(of: "-", with: "_")) else {
            throw GyreRenderError(.invalidArgument, "unknown shading '\(text)' (use linear, log, cbrt or eq_hist)")
        }
        self = h
    }
}

/// An RGBA image, 8 bits a channel, `width * height * 4` bytes; row 0 is the bottom (the
/// canvas's `ymin`), as datashader's images are.
public struct RGBAImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A fully transparent image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 4))
    }

    /// The pixel at column `x`, row `y` (row 0 at the bottom).
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = (y * width + x) * 4
        return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
    }
}

/// datashader's `shade` parameters.
public struct ShadeOptions: Sendable {
    public var cmap: Colormap
    public var how: ShadeHow
    /// Alpha of the pixels that hold data (0...255).
    public var alpha: Int
    /// The smallest alpha of a categorical image's pixels that hold data.
    public var minAlpha: Int
    /// The values that get the first and last colour (values beyond are clipped); nil: the
    /// data's own range. Not with eq_hist.
    public var span: ClosedRange<Double>?
    /// The colours of the categories of a `count_cat` aggregate, in code order.
    public var colorKey: [RGB]
    /// With eq_hist and few distinct values, start the colours higher (datashader's
    /// `rescale_discrete_levels`).
    public var rescaleDiscreteLevels: Bool

    public init(cmap: Colormap = .default, how: ShadeHow = .eqHist, alpha: Int = 255, minAlpha: Int = 40,
                span: ClosedRange<Double>? = nil, colorKey: [RGB] = Colormap.defaultColorKey, rescaleDiscreteLevels: Bool = false) {
        self.cmap = cmap
        self.how = how
        self.alpha = alpha
        self.minAlpha = minAlpha
        self.span = span
        self.colorKey = colorKey
        self.rescaleDiscreteLevels = rescaleDiscreteLevels
    }
}

/// Colours an aggregate as datashader's `tf.shade` does: empty pixels (0 counts, NaN, false)
/// transparent, the others through `how` onto the colormap (2-D aggregates), or the colour
/// mix of their categories with alpha from their total (`count_cat`).
public func shade(_ agg: Aggregate, _ options: ShadeOptions = ShadeOptions()) throws -> RGBAImage {
    guard (0...255).contains(options.alpha), (0...255).contains(options.minAlpha) else {
        throw GyreRenderError(.invalidArgument, "alpha \(options.alpha) and min_alpha \(options.minAlpha) must be in 0...255")
    }
    if let s = options.span {
        guard s.lowerBound.isFinite, s.upperBound.isFinite else {
            throw GyreRenderError(.invalidArgument, "span \(s.lowerBound),\(s.upperBound) must be finite")
        }
        if options.how == .eqHist { throw GyreRenderError(.invalidArgument, "a span cannot be used with eq_hist (datashader refuses it too)") }
    }
    let shape = agg.data.shape
    if shape.count == 3 { return try Shading.categorical(agg, options) }
    guard shape.count == 2 else { throw GyreRenderError(.invalidArgument, "an aggregate to shade must be 2-D or 3-D, not \(shape)") }
    return try Shading.continuous(agg.data, width: shape[1], height: shape[0], options)
}

/// The steps of datashader's `_interpolate` and `_colorize`.
enum Shading {
    /// The values to shade, their mask (true: empty) and whether they are integers (eq_hist
    /// then counts distinct values exactly).
    static func prepare(_ data: AnyNDArray) throws -> (values: [Double], mask: [Bool], integer: Bool) {
        switch data {
        case .bool(let a):
            let v = a.elements
            return (v.map { $0 ? 1 : 0 }, v.map { !$0 }, true)
        case .uint8, .uint16, .uint32, .uint64:
            let v = data.doubles()!
            return (v, v.map { $0 == 0 }, true)
        case .int8, .int16, .int32, .int64:
            let v = data.doubles()!
            return (v, [Bool](repeating: false, count: v.count), true)
        case .float32, .float64:
            let v = data.doubles()!
            return (v, v.map { $0.isNaN }, false)
        default:
            throw GyreRenderError(.invalidData, "an aggregate of \(data.dtype) cannot be shaded")
        }
    }

    /// `how` applied to offset values (masked ones become NaN); eq_hist also gives the number
    /// of discrete levels.
    static func transform(_ d: [Double], _ mask: [Bool], _ how: ShadeHow, integer: Bool) -> ([Double], Int?) {
        switch how {
        case .linear: return (zip(d, mask).map { $1 ? .nan : $0 }, nil)
        case .log: return (zip(d, mask).map { $1 ? .nan : Foundation.log1p($0) }, nil)
        case .cbrt: return (zip(d, mask).map { $1 ? .nan : Foundation.pow($0, 1.0 / 3.0) }, nil)
        case .eqHist:
            let (out, levels) = eqHist(d, mask, integer: integer)
            return (out, levels)
        }
    }

    /// datashader's `eq_hist` (after scikit-image): the cumulative distribution of the
    /// unmasked values, interpolated at every value. Integers with a range under 65536 are
    /// counted exactly, anything else in 65536 equal bins with the empty ones dropped.
    static func eqHist(_ d: [Double], _ mask: [Bool], integer: Bool, nbins: Int = 256 * 256) -> ([Double], Int) {
        var kept: [Double] = []
        kept.reserveCapacity(d.count)
        for (v, m) in zip(d, mask) where !m { kept.append(v) }
        if kept.isEmpty { return ([Double](repeating: .nan, count: d.count), 0) }
        var centers: [Double], hist: [Double], levels: Int
        let lo = kept.min()!, hi = kept.max()!
        if integer && hi - lo < Double(nbins) {
            let n = Int(hi - lo) + 1
            var h = [Double](repeating: 0, count: n)
            for v in kept { h[Int(v - lo)] += 1 }
            levels = h.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
            centers = (0..<n).map { lo + Double($0) }
            hist = h
        } else {
            let (counts, edges) = NumpyMath.histogram(kept, bins: nbins)
            centers = []
            hist = []
            for i in 0..<nbins where counts[i] > 0 {
                centers.append((edges[i] + edges[i + 1]) / 2)
                hist.append(Double(counts[i]))
            }
            levels = hist.count
        }
        var cdf = [Double](repeating: 0, count: hist.count)
        var run: UInt64 = 0
        for i in hist.indices {
            run += UInt64(hist[i])
            cdf[i] = Double(run)
        }
        let total = cdf.last!
        for i in cdf.indices { cdf[i] /= total }
        let f = NumpyMath.Interp(xp: centers, fp: cdf, uniform: integer && hi - lo < Double(nbins))
        var out = [Double](repeating: .nan, count: d.count)
        for i in d.indices where !mask[i] { out[i] = f(d[i]) }
        return (out, levels)
    }

    /// datashader's `_rescale_discrete_levels`: with few levels the lower end of the span
    /// moves down so the colours start higher.
    static func rescale(levels: Int, span: (Double, Double)) -> (Double, Double) {
        let m = -0.5 / 98.0, c = 1.5 - 2 * m
        let multiple = m * Double(levels) + c
        if multiple > 1 { return (Swift.max(span.1 - multiple * (span.1 - span.0), 0), 1) }
        return span
    }

    static func nanExtent(_ v: [Double]) -> (Double, Double) {
        var lo = Double.nan, hi = Double.nan
        for x in v where !x.isNaN {
            if lo.isNaN || x < lo { lo = x }
            if hi.isNaN || x > hi { hi = x }
        }
        return (lo, hi)
    }

    static func continuous(_ data: AnyNDArray, width: Int, height: Int, _ o: ShadeOptions) throws -> RGBAImage {
        var (d, mask, integer) = try prepare(data)
        guard mask.contains(false) else { return RGBAImage(width: width, height: height) }
        let offset: Double
        if let s = o.span {
            offset = s.lowerBound
            for i in d.indices where !mask[i] { d[i] = Swift.min(Swift.max(d[i], s.lowerBound), s.upperBound) }
        } else {
            offset = zip(d, mask).lazy.filter { !$0.1 }.map(\.0).min()!
        }
        for i in d.indices { d[i] -= offset }
        if integer && offset.rounded() != offset { integer = false }
        let (t, levels) = transform(d, mask, o.how, integer: integer)
        var span: (Double, Double)
        if let s = o.span {
            let ends = transform([0, s.upperBound - s.lowerBound], [false, false], o.how, integer: false).0
            span = (ends[0], ends[1])
        } else {
            span = nanExtent(t)
            if o.rescaleDiscreteLevels, o.how == .eqHist, let l = levels { span = rescale(levels: l, span: span) }
        }
        let xp = NumpyMath.linspace(span.0, span.1, o.cmap.colors.count)
        let fr = NumpyMath.Interp(xp: xp, fp: o.cmap.colors.map { Double($0.r) }, left: 255, uniform: true)
        let fg = NumpyMath.Interp(xp: xp, fp: o.cmap.colors.map { Double($0.g) }, left: 255, uniform: true)
        let fb = NumpyMath.Interp(xp: xp, fp: o.cmap.colors.map { Double($0.b) }, left: 255, uniform: true)
        var px = [UInt8](repeating: 0, count: width * height * 4)
        let alpha = UInt8(o.alpha)
        for i in t.indices {
            let v = t[i]
            if v.isNaN { continue }
            px[4 * i] = channel(fr(v))
            px[4 * i + 1] = channel(fg(v))
            px[4 * i + 2] = channel(fb(v))
            px[4 * i + 3] = alpha
        }
        return RGBAImage(width: width, height: height, pixels: px)
    }

    /// NumPy's `nan_to_num(x).astype(uint8)` for a value in 0...255.
    @inline(__always) static func channel(_ x: Double) -> UInt8 {
        if x.isNaN || x <= 0 { return 0 }
        if x >= 255 { return 255 }
        return UInt8(x)
    }

    /// datashader's `_colorize`: each pixel's colour is the count-weighted mix of its
    /// categories' colours (float32, as datashader computes it), its alpha the total count
    /// through `how` onto `minAlpha...alpha`.
    static func categorical(_ agg: Aggregate, _ o: ShadeOptions) throws -> RGBAImage {
        let shape = agg.data.shape
        let (h, w, k) = (shape[0], shape[1], shape[2])
        guard k > 0 else { return RGBAImage(width: w, height: h) }
        guard o.colorKey.count >= k else {
            throw GyreRenderError(.invalidArgument, "insufficient colours: the colour key has \(o.colorKey.count) for \(k) categories")
        }
        guard let raw = agg.data.doubles() else { throw GyreRenderError(.invalidData, "a \(agg.data.dtype) aggregate cannot be shaded") }
        let unsigned: Bool
        switch agg.data.dtype {
        case .uint8, .uint16, .uint32, .uint64: unsigned = true
        default: unsigned = false
        }
        let n = w * h
        // The baseline: the smallest value anywhere (datashader's color_baseline=None).
        var baseline = Double.nan
        for v in raw where !v.isNaN && (baseline.isNaN || v < baseline) { baseline = v }
        let colors = o.colorKey.prefix(k).map { (Float($0.r), Float($0.g), Float($0.b)) }
        // Colour of a pixel without colour mass: the mean of its non-NaN categories' colours.
        var px = [UInt8](repeating: 0, count: n * 4)
        var totals = [Double](repeating: .nan, count: n)
        for p in 0..<n {
            var total: Float = 0, r: Float = 0, g: Float = 0, b: Float = 0
            var pr: Float = 0, pg: Float = 0, pb: Float = 0, present: Float = 0
            var rawTotal = Double.nan
            for c in 0..<k {
                let v = raw[p * k + c]
                if v.isNaN { continue }
                rawTotal = rawTotal.isNaN ? v : rawTotal + v
                let cv = Float(baseline.isNaN ? v : v - baseline)
                total += cv
                r += cv * colors[c].0
                g += cv * colors[c].1
                b += cv * colors[c].2
                pr += colors[c].0
                pg += colors[c].1
                pb += colors[c].2
                present += 1
            }
            totals[p] = rawTotal
            if total == 0 {
                px[4 * p] = channel(Double(pr / present))
                px[4 * p + 1] = channel(Double(pg / present))
                px[4 * p + 2] = channel(Double(pb / present))
            } else {
                px[4 * p] = channel(Double(r / total))
                px[4 * p + 1] = channel(Double(g / total))
                px[4 * p + 2] = channel(Double(b / total))
            }
        }
        let a = alphas(totals, unsigned: unsigned, o)
        for p in 0..<n { px[4 * p + 3] = a[p] }
        return RGBAImage(width: w, height: h, pixels: px)
    }

    /// datashader's `_interpolate_alpha`.
    static func alphas(_ totalIn: [Double], unsigned: Bool, _ o: ShadeOptions) -> [UInt8] {
        var total = totalIn
        var mask = total.map { $0.isNaN }
        var aScaled: [Double]
        var normSpan: (Double, Double)
        if let s = o.span {
            let offset = s.lowerBound
            if unsigned && (nanExtent(total).0 == 0) {
                for i in total.indices where total[i] <= 0 { mask[i] = true; total[i] = .nan }
            }
            for i in total.indices where !mask[i] { total[i] = Swift.min(Swift.max(total[i], s.lowerBound), s.upperBound) }
            aScaled = transform(total.map { $0 - offset }, mask, o.how, integer: false).0
            let ends = transform([0, s.upperBound - s.lowerBound], [false, false], o.how, integer: false).0
            normSpan = (ends[0], ends[1])
        } else {
            var offset = nanExtent(total).0
            // Unsigned totals stay integers (eq_hist counts them exactly) unless zeros are
            // masked out, which turns them into floats with NaN, as in datashader.
            var integer = unsigned
            if unsigned && offset == 0 {
                integer = false
                for i in total.indices where total[i] == 0 { mask[i] = true }
                if mask.contains(false) { offset = total.indices.filter { !mask[$0] }.map { total[$0] }.min()! }
                for i in total.indices where mask[i] { total[i] = .nan }
            }
            let (t, levels) = transform(total.map { $0 - offset }, mask, o.how, integer: integer)
            aScaled = t
            normSpan = nanExtent(aScaled)
            if o.rescaleDiscreteLevels, o.how == .eqHist, let l = levels { normSpan = rescale(levels: l, span: normSpan) }
        }
        let f = NumpyMath.Interp(xp: [normSpan.0, normSpan.1], fp: [Double(o.minAlpha), Double(o.alpha)], left: 0, right: 255)
        return aScaled.map { channel(f($0)) }
    }
}
