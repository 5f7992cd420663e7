import Foundation
import GyreArrays
import GyreData

/// What a quick plot looks like.
public struct PlotOptions: Sendable {
    /// The figure's size in pixels.
    public var width: Int
    public var height: Int
    /// The colormap of a 2-D plot; nil takes viridis, or coolwarm around zero for data on both
    /// sides of it (as xarray takes a diverging map).
    public var cmap: Colormap?
    /// The colour range of a 2-D plot, or the value axis of a 1-D one; nil takes the data's.
    public var range: ClosedRange<Double>?
    /// The title; nil takes the array's name, units and the scalar coordinates it was selected at.
    public var title: String?

    public init(width: Int = 800, height: Int = 500, cmap: Colormap? = nil, range: ClosedRange<Double>? = nil, title: String? = nil) {
        self.width = width
        self.height = height
        self.cmap = cmap
        self.range = range
        self.title = title
    }
}

/// Quick looks at a DataArray, as hvPlot and xarray's `.plot()` draw them: a 2-D array as an
/// image on its coordinates (regridded onto the plot's pixels with datashader's quadmesh rule)
/// with axes, ticks, labels from the coordinates' `long_name` and `units`, a title and a
/// colorbar; a 1-D array as a line. Dimensions of length 1 are dropped (their values go in the
/// title); more than two others are an error that says what to select.
public enum Plot {
    static let tickSize = 11.0, labelSize = 12.0, titleSize = 14.0
    static let lineColor = RGBA(0x30, 0xa2, 0xda)  // hvPlot's first colour
    static let axisColor = RGBA(0x22, 0x22, 0x22)

    /// The figure of `variable` of `dataset` (its only data variable when nil), as an
    /// expression's result gives them.
    public static func figure(_ dataset: Dataset, variable: String?, options: PlotOptions = PlotOptions(), font: Font? = nil) async throws -> Figure {
        let name: String
        if let variable {
            name = variable
        } else {
            guard dataset.dataVars.count == 1, let only = dataset.dataVars.keys.first else {
                throw GyreRenderError(.invalidArgument, "the result is a dataset of \(dataset.dataVars.count) variables \(Array(dataset.dataVars.keys.prefix(8))); "
                                      + "plot draws one: select it (ds.NAME or ds['NAME'])")
            }
            name = only
        }
        return try await figure(try dataset.dataArray(name), options: options, font: font)
    }

    /// The figure of `array` (loaded here if it is lazy). `font` measures the text for the
    /// layout (nil estimates DejaVu Sans's widths, for SVG).
    public static func figure(_ array: DataArray, options: PlotOptions = PlotOptions(), font: Font? = nil) async throws -> Figure {
        let name = array.name ?? "result"
        let squeezed = try array.squeeze()
        let values = try await squeezed.variable.load().data
        guard squeezed.dims.count == 1 || squeezed.dims.count == 2 else {
            if squeezed.dims.isEmpty {
                let v = values.doubles()?.first.map { String(format: "%g", $0) } ?? "\(values.scalars.first.map { "\($0)" } ?? "")"
                throw GyreRenderError(.invalidArgument, "'\(name)' is a single value (\(v)); plot draws 1-D and 2-D results")
            }
            throw GyreRenderError(.invalidArgument, "'\(name)' has \(squeezed.dims.count) dimensions \(squeezed.dims) of sizes \(squeezed.shape); "
                                  + "plot draws 1-D and 2-D results: select or reduce the others (.isel(\(squeezed.dims[0])=0), .mean('\(squeezed.dims[0])'))")
        }
        guard let data = values.doubles() else {
            throw GyreRenderError(.invalidArgument, "'\(name)' is \(values.dtype); plot draws numbers")
        }
        var scalars: [String] = []
        for (cname, c) in squeezed.coords where c.ndim == 0 {
            scalars.append("\(cname) = \(describe(try await c.load().data))")
        }
        let title = options.title ?? (label(name, squeezed.attrs) + (scalars.isEmpty ? "" : "  (" + scalars.joined(separator: ", ") + ")"))
        var layout = Layout(options: options, font: font)
        if squeezed.dims.count == 1 {
            let x = try await axis(squeezed, squeezed.dims[0])
            return try layout.line(x: x, values: data, valueLabel: label(name, squeezed.attrs), title: title)
        }
        let y = try await axis(squeezed, squeezed.dims[0]), x = try await axis(squeezed, squeezed.dims[1])
        return try layout.image(x: x, y: y, values: data, valueLabel: label(name, squeezed.attrs), title: title)
    }

    /// "long_name [units]" (or the name when there is no long_name).
    static func label(_ name: String, _ attrs: Attributes) -> String {
        let base = attrs["long_name"]?.stringValue ?? attrs["standard_name"]?.stringValue ?? name
        guard let units = attrs["units"]?.stringValue, !units.isEmpty else { return base }
        return "\(base) [\(units)]"
    }

    static func describe(_ a: AnyNDArray) -> String {
        switch a {
        case .datetime64(let t, let unit): return t.count == 1 ? formatDatetimeCompact(t.elements[0], unit: unit) : "?"
        case .cftime(let t, let cal): return t.count == 1 ? CFDate.isoformat(ticks: t.elements[0], calendar: cal) : "?"
        default:
            if let d = a.doubles(), d.count == 1 { return String(format: "%g", d[0]) }
            return a.scalars.first.map { "\($0)" } ?? "?"
        }
    }

    /// One axis: a dimension's coordinate values (times as microseconds in their calendar),
    /// or positions 0, 1, ... when it has no numeric or time coordinate.
    struct Axis {
        var label: String
        var values: [Double]
        var calendar: CFCalendar?
    }

    static func axis(_ a: DataArray, _ dim: String) async throws -> Axis {
        let n = a.sizes[dim] ?? 0
        if let c = a.coords[dim], c.dims == [dim] {
            let data = try await c.load().data
            let lab = label(dim, c.attrs)
            switch data {
            case .datetime64(let t, let unit):
                let perMicro = Double(unit.nanoseconds) / 1000
                return Axis(label: lab, values: t.elements.map { $0 == Int64.min ? .nan : Double($0) * perMicro }, calendar: .proleptic_gregorian)
            case .cftime(let t, let cal):
                return Axis(label: lab, values: t.elements.map { $0 == Int64.min ? .nan : Double($0) }, calendar: cal)
            default:
                if let d = data.doubles(), d.allSatisfy(\.isFinite) { return Axis(label: lab, values: d, calendar: nil) }
            }
        }
        return Axis(label: dim, values: (0..<n).map(Double.init), calendar: nil)
    }

    /// The figure's regions and text sizes.
    struct Layout {
        let options: PlotOptions
        let font: Font?

        func width(_ s: String, _ size: Double) -> Double {
            if let font { return font.width(of: s, size: Int(size.rounded())) }
            return Double(s.count) * size * 0.62
        }

        func ticks(_ lo: Double, _ hi: Double, _ calendar: CFCalendar?, pixels: Double) -> [(value: Double, label: String)] {
            let target = Swift.max(2, Swift.min(10, Int(pixels / (calendar == nil ? 70 : 110))))
            if let calendar { return Ticks.time(lo, hi, calendar: calendar, target: target) }
            return Ticks.numeric(lo, hi, target: target)
        }

        /// Frame, ticks and labels of the plot area; gives the figure and the area.
        func axes(x: Axis, xRange: ClosedRange<Double>, yTicks: [(value: Double, label: String)], yRange: ClosedRange<Double>, yLabel: String,
                  title: String, right: Double) throws -> (Figure, (x: Double, y: Double, w: Double, h: Double)) {
            var fig = try Figure(width: options.width, height: options.height)
            let maxY = yTicks.map { width($0.label, Plot.tickSize) }.max() ?? 0
            let left = 10 + Plot.labelSize + 8 + maxY + 8
            let top = title.isEmpty ? 14.0 : 40.0
            let bottom = 5 + 4 + Plot.tickSize + 10 + Plot.labelSize + 10
            let area = (x: left.rounded(), y: top, w: (Double(options.width) - left - right).rounded(), h: (Double(options.height) - top - bottom).rounded())
            guard area.w >= 32, area.h >= 32 else {
                throw GyreRenderError(.invalidArgument, "a \(options.width)x\(options.height) figure leaves no room for the plot; make it larger")
            }
            func px(_ v: Double) -> Double { area.x + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * area.w }
            func py(_ v: Double) -> Double { area.y + area.h - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * area.h }
            let xTicks = ticks(xRange.lowerBound, xRange.upperBound, x.calendar, pixels: area.w)
            for t in xTicks {
                let p = px(t.value).rounded() + 0.5
                fig.add(.polyline([(p, area.y + area.h), (p, area.y + area.h + 5)], color: Plot.axisColor, width: 1))
                fig.add(.text(t.label, x: p, y: area.y + area.h + 9 + Plot.tickSize, size: Plot.tickSize, anchor: .middle, vertical: false, color: Plot.axisColor))
            }
            for t in yTicks {
                let p = py(t.value).rounded() + 0.5
                fig.add(.polyline([(area.x - 5, p), (area.x, p)], color: Plot.axisColor, width: 1))
                fig.add(.text(t.label, x: area.x - 8, y: p + Plot.tickSize * 0.36, size: Plot.tickSize, anchor: .end, vertical: false, color: Plot.axisColor))
            }
            fig.add(.text(x.label, x: area.x + area.w / 2, y: Double(options.height) - 10, size: Plot.labelSize, anchor: .middle, vertical: false, color: Plot.axisColor))
            fig.add(.text(yLabel, x: 10 + Plot.labelSize, y: area.y + area.h / 2, size: Plot.labelSize, anchor: .middle, vertical: true, color: Plot.axisColor))
            if !title.isEmpty {
                fig.add(.text(title, x: area.x + area.w / 2, y: 26, size: Plot.titleSize, anchor: .middle, vertical: false, color: .black))
            }
            return (fig, area)
        }

        /// A line of many more points than pixel columns as it looks: each run of consecutive
        /// points in one column kept as its first, lowest, highest and last point, in order.
        static func decimated(_ points: [(Double, Double)]) -> [(Double, Double)] {
            var out: [(Double, Double)] = []
            var i = 0
            while i < points.count {
                let column = points[i].0.rounded(.down)
                var j = i, lo = i, hi = i
                while j + 1 < points.count && points[j + 1].0.rounded(.down) == column {
                    j += 1
                    if points[j].1 < points[lo].1 { lo = j }
                    if points[j].1 > points[hi].1 { hi = j }
                }
                for k in Set([i, lo, hi, j]).sorted() { out.append(points[k]) }
                i = j + 1
            }
            return out
        }

        static func frame(_ a: (x: Double, y: Double, w: Double, h: Double)) -> Figure.Item {
            let (x0, y0, x1, y1) = (a.x + 0.5, a.y + 0.5, a.x + a.w - 0.5, a.y + a.h - 0.5)
            return .polyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], color: Plot.axisColor, width: 1)
        }

        static func finiteRange(_ v: [Double]) -> ClosedRange<Double>? {
            var lo = Double.infinity, hi = -Double.infinity
            for x in v where x.isFinite { lo = Swift.min(lo, x); hi = Swift.max(hi, x) }
            return lo <= hi ? lo...hi : nil
        }

        /// A range the layout can divide by: its span a finite number (values near the largest
        /// Double span more than a Double holds).
        static func drawable(_ r: ClosedRange<Double>, _ what: String) throws -> ClosedRange<Double> {
            guard (r.upperBound - r.lowerBound).isFinite, (r.upperBound - r.lowerBound) * 1.25 < .greatestFiniteMagnitude else {
                throw GyreRenderError(.invalidData, "\(what) spans \(r.lowerBound) to \(r.upperBound), too wide to draw (a fill value not marked missing?)")
            }
            return r
        }

        mutating func line(x: Axis, values: [Double], valueLabel: String, title: String) throws -> Figure {
            guard let data = Self.finiteRange(values) else { throw GyreRenderError(.invalidArgument, "'\(valueLabel)' has no finite values to plot") }
            _ = try Self.drawable(options.range ?? data, "'\(valueLabel)'")
            let xr0 = try Self.drawable(Self.finiteRange(x.values) ?? 0...1, "the \(x.label) axis")
            let xRange = xr0.lowerBound < xr0.upperBound ? xr0 : (xr0.lowerBound - 0.5)...(xr0.upperBound + 0.5)
            var yRange = options.range ?? data
            if options.range == nil {
                let pad = yRange.upperBound > yRange.lowerBound ? 0.05 * (yRange.upperBound - yRange.lowerBound) : Swift.max(1, abs(yRange.lowerBound) * 0.05)
                yRange = (yRange.lowerBound - pad)...(yRange.upperBound + pad)
            }
            let yTicks = ticks(yRange.lowerBound, yRange.upperBound, nil, pixels: Double(options.height) - 100)
            var (fig, a) = try axes(x: x, xRange: xRange, yTicks: yTicks, yRange: yRange, yLabel: valueLabel, title: title, right: 24)
            var run: [(Double, Double)] = []
            let columns = Int(a.w)
            func flush() {
                if run.count == 1 { run.append(run[0]) }
                if run.count > 2 * columns { run = Self.decimated(run) }
                if !run.isEmpty { fig.add(.polyline(run, color: Plot.lineColor, width: 1.5)) }
                run = []
            }
            for (xv, yv) in zip(x.values, values) {
                guard xv.isFinite, yv.isFinite else { flush(); continue }
                let cy = Swift.min(Swift.max(yv, yRange.lowerBound), yRange.upperBound)
                run.append((a.x + (xv - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * a.w,
                            a.y + a.h - (cy - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * a.h))
            }
            flush()
            fig.add(Self.frame(a))
            return fig
        }

        mutating func image(x: Axis, y: Axis, values: [Double], valueLabel: String, title: String) throws -> Figure {
            guard var range = options.range ?? Self.finiteRange(values) else {
                throw GyreRenderError(.invalidArgument, "'\(valueLabel)' has no finite values to plot")
            }
            var cmap = options.cmap
            if cmap == nil {
                if options.range == nil && range.lowerBound < 0 && range.upperBound > 0 {
                    let m = Swift.max(-range.lowerBound, range.upperBound)
                    range = -m...m
                    cmap = try Colormap.named("coolwarm")
                } else {
                    cmap = try Colormap.named("viridis")
                }
            }
            if range.lowerBound == range.upperBound { range = (range.lowerBound - 0.5)...(range.upperBound + 0.5) }
            range = try Self.drawable(range, "'\(valueLabel)'")
            let grid = try GridValues(values: values, x: x.values, y: y.values)
            _ = try Self.drawable(grid.xRange, "the \(x.label) axis")
            _ = try Self.drawable(grid.yRange, "the \(y.label) axis")
            let cTicks = ticks(range.lowerBound, range.upperBound, nil, pixels: Double(options.height) - 100)
            let maxC = cTicks.map { width($0.label, Plot.tickSize) }.max() ?? 0
            let right = 14 + 18 + 8 + maxC + 10 + Plot.labelSize + 10
            let yTicks = ticks(grid.yRange.lowerBound, grid.yRange.upperBound, y.calendar, pixels: Double(options.height) - 100)
            var (fig, a) = try axes(x: x, xRange: grid.xRange, yTicks: yTicks, yRange: grid.yRange, yLabel: y.label, title: title, right: right)
            let canvas = try Canvas(width: Int(a.w), height: Int(a.h), xRange: grid.xRange, yRange: grid.yRange)
            let agg = try canvas.quadmesh(grid, reduction: .mean)
            let img = try shade(agg, ShadeOptions(cmap: cmap!, how: .linear, span: range))
            fig.add(.rect(x: a.x, y: a.y, width: a.w, height: a.h, fill: RGBA(0xee, 0xee, 0xee)))
            fig.add(.image(img, x: a.x, y: a.y, width: a.w, height: a.h))
            fig.add(Self.frame(a))
            // The colorbar: the map's colours bottom to top, with ticks at values.
            let bar = (x: a.x + a.w + 14, y: a.y, w: 18.0, h: a.h)
            var px: [UInt8] = []
            for c in cmap!.colors { px += [c.r, c.g, c.b, 255] }
            fig.add(.image(RGBAImage(width: 1, height: cmap!.colors.count, pixels: px), x: bar.x, y: bar.y, width: bar.w, height: bar.h))
            fig.add(Self.frame(bar))
            for t in cTicks {
                let p = (bar.y + bar.h - (t.value - range.lowerBound) / (range.upperBound - range.lowerBound) * bar.h).rounded() + 0.5
                fig.add(.polyline([(bar.x + bar.w, p), (bar.x + bar.w + 4, p)], color: Plot.axisColor, width: 1))
                fig.add(.text(t.label, x: bar.x + bar.w + 7, y: p + Plot.tickSize * 0.36, size: Plot.tickSize, anchor: .start, vertical: false, color: Plot.axisColor))
            }
            fig.add(.text(valueLabel, x: bar.x + bar.w + 8 + maxC + 10 + Plot.labelSize * 0.8, y: bar.y + bar.h / 2, size: Plot.labelSize,
                          anchor: .middle, vertical: true, color: Plot.axisColor))
            return fig
        }
    }
}
