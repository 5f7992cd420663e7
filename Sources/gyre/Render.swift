import ArgumentParser
import Foundation
import Gyre
import GyreRender

/// `gyre render`: points from a CSV / NDJSON file or the 1-D variables of any dataset,
/// aggregated onto a canvas and shaded as datashader does, written as a PNG.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render points (CSV, NDJSON, or 1-D variables of a dataset) to a PNG, datashader-style.",
        discussion: """
            Examples:
              gyre render trips.csv --x lon --y lat --how eq_hist --cmap fire -o trips.png
              gyre render points.zarr --x lon --y lat --agg mean:temp --cmap viridis -o temp.png --agg-out temp-agg.zarr
              gyre render obs.ndjson --x x --y y --agg count_cat:kind -o kinds.png
            """)

    @Argument(help: "A CSV, TSV or NDJSON file of points, or any dataset (Zarr, netCDF, URL) with 1-D variables.") var source: String
    @Option(help: "The x column or variable.") var x: String
    @Option(help: "The y column or variable.") var y: String
    @Option(help: "The reduction: count | count:COL | any | sum:COL | mean:COL | min:COL | max:COL | std:COL | var:COL | first:COL | last:COL | count_cat:COL.") var agg = "count"
    @Option(help: "points, or line: the points joined in their order (a NaN breaks the line), as datashader's Canvas.line.") var glyph = "points"
    @Option(help: "Shading: eq_hist | log | linear | cbrt.") var how = "eq_hist"
    @Option(help: "A colormap (\(Colormap.names.prefix(8).joined(separator: ", ")), ...; NAME_r reversed) or colours: white,#ff0000.") var cmap: String?
    @Option(help: "Colours of the categories for count_cat (sets1to3, glasbey, or a list).") var colorKey: String?
    @Option(help: "Canvas width in pixels.") var width = 1000
    @Option(help: "Canvas height in pixels.") var height = 1000
    @Option(parsing: .unconditional, help: "x range MIN,MAX (default: the data's).") var xRange: String?
    @Option(parsing: .unconditional, help: "y range MIN,MAX (default: the data's).") var yRange: String?
    @Option(parsing: .unconditional, help: "Values that get the first and last colour, MIN,MAX (not with eq_hist).") var span: String?
    @Option(help: "Alpha of pixels with data (0-255).") var alpha = 255
    @Option(help: "Smallest alpha of categorical pixels with data (0-255).") var minAlpha = 40
    @Option(help: "Spread each pixel to a circle of this radius (datashader's spread).") var spread: Int?
    @Flag(help: "Spread pixels until the image is dense enough (datashader's dynspread, up to 3 px).") var dynspread = false
    @Option(help: "Threads (default: the cores).") var threads: Int?
    @Option(name: .shortAndLong, help: "The PNG to write.") var output: String
    @Option(help: "Also write the aggregate as a dataset (.zarr, or netCDF when it ends in .nc).") var aggOut: String?
    @Flag(help: "Replace outputs that exist.") var overwrite = false
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        for path in [output] + (aggOut.map { [$0] } ?? []) where FileManager.default.fileExists(atPath: path) && !overwrite {
            throw CLIError("\(path) already exists; pass --overwrite to replace it")
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        let (reductionName, column) = try Self.parseAgg(agg)
        var options = ShadeOptions(how: try ShadeHow(parsing: how), alpha: alpha, minAlpha: minAlpha)
        do {
            if let cmap { options.cmap = try Colormap.named(cmap) }
            if let colorKey { options.colorKey = try Colormap.colorKey(colorKey) }
        } catch { throw ValidationError("\(error)") }
        options.span = try span.map { try Self.range($0, "--span") }
        let xr = try xRange.map { try Self.range($0, "--x-range") }
        let yr = try yRange.map { try Self.range($0, "--y-range") }
        // What can be checked before reading anything is checked first.
        if options.how == .eqHist && options.span != nil {
            throw ValidationError("--span cannot be used with --how eq_hist (datashader refuses it too); use linear, log or cbrt")
        }
        guard (0...255).contains(alpha), (0...255).contains(minAlpha) else { throw ValidationError("--alpha and --min-alpha must be in 0...255") }
        do { _ = try Canvas(width: width, height: height, xRange: xr ?? 0...1, yRange: yr ?? 0...1) } catch { throw ValidationError("\(error)") }
        if let spread, !(0...64).contains(spread) { throw ValidationError("--spread must be in 0...64") }
        guard glyph == "points" || glyph == "line" else { throw ValidationError("--glyph must be points or line, not '\(glyph)'") }
        if glyph == "line" && reductionName.hasPrefix("count_cat") { throw ValidationError("--agg count_cat is not drawn along lines") }

        let source: PointSource
        do {
            source = try await loadPoints(reductionName: reductionName, column: column)
        } catch let e as GyreRenderError { throw CLIError("\(e)") } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
        let reduction: RenderReduction
        do {
            reduction = try RenderReduction(name: reductionName, categories: source.points?.categories?.names.count ?? 0)
        } catch { throw ValidationError("--agg \(agg): \(error)") }
        do {
            let bounds = (xr == nil || yr == nil) ? try await source.bounds() : nil
            let canvas: Canvas
            do {
                canvas = try Canvas(
                    width: width, height: height,
                    xRange: xr ?? Canvas.expandedRange(min: bounds?.x.lowerBound ?? .nan, max: bounds?.x.upperBound ?? .nan),
                    yRange: yr ?? Canvas.expandedRange(min: bounds?.y.lowerBound ?? .nan, max: bounds?.y.upperBound ?? .nan))
            } catch { throw ValidationError("\(error)") }
            let usesValues = column != nil && !reductionName.hasPrefix("count_cat") && !reductionName.hasPrefix("count-cat")
            let aggregate = glyph == "line" ? try canvas.line(try await source.all(), reduction: reduction, usesValues: usesValues)
                : try await source.aggregate(canvas, reduction, usesValues: usesValues, threads: threads)
            var image = try shade(aggregate, options)
            if let spread { image = try GyreRender.spread(image, radius: spread) }
            if dynspread { image = try GyreRender.dynspread(image) }
            let png = try PNG.encode(image)
            try Data(png).write(to: URL(fileURLWithPath: output), options: .atomic)
            if let aggOut { try await writeAggregate(aggregate, to: aggOut) }
        } catch let e as CLIError { throw e } catch let e as ValidationError { throw e } catch { throw CLIError("\(error)") }
    }

    /// Where the points come from: a table in memory, or 1-D variables of a dataset read in
    /// blocks (a pass for the bounds when no range is given, then one to aggregate), so a
    /// dataset larger than memory renders in the memory of a few blocks.
    enum PointSource {
        case points(Points)
        case variables(x: Variable, y: Variable, values: Variable?, names: (String, String, String?))

        /// Points a block reads at most (`GYRE_RENDER_BLOCK` sets it, for tests and tuning).
        static let block = ProcessInfo.processInfo.environment["GYRE_RENDER_BLOCK"].flatMap(Int.init).map { Swift.max(1, $0) } ?? 1 << 22

        var points: Points? { if case .points(let p) = self { return p }; return nil }

        var count: Int {
            switch self {
            case .points(let p): return p.count
            case .variables(let x, _, _, _): return x.count
            }
        }

        func block(_ k: Int) async throws -> Points {
            guard case .variables(let vx, let vy, let vv, let names) = self else { return points! }
            let lo = k * Self.block, hi = Swift.min(count, lo + Self.block)
            let r = [Slice(lo, hi)]
            let xs = try await vx.read(r), ys = try await vy.read(r)
            let vs = try await vv?.read(r)
            return try Points(x: .init(xs, name: names.0), y: .init(ys, name: names.1), values: try vs.map { try .init($0, name: names.2 ?? "values") })
        }

        var blocks: Int { (count + Self.block - 1) / Self.block }

        /// Every point in one table (lines join consecutive points, so they are not split).
        func all() async throws -> Points {
            guard case .variables(let vx, let vy, let vv, let names) = self else { return points! }
            let r = [Slice(0, count)]
            let vs = try await vv?.read(r)
            return try Points(x: .init(try await vx.read(r), name: names.0), y: .init(try await vy.read(r), name: names.1),
                              values: try vs.map { try .init($0, name: names.2 ?? "values") })
        }

        func bounds() async throws -> (x: ClosedRange<Double>, y: ClosedRange<Double>)? {
            if case .points(let p) = self { return p.bounds() }
            var out: (x: ClosedRange<Double>, y: ClosedRange<Double>)? = nil
            try await Bounded.forEach(count: blocks, limit: 2, { k in try await self.block(k).bounds().map { [$0.x.lowerBound, $0.x.upperBound, $0.y.lowerBound, $0.y.upperBound] } }) { _, b in
                guard let b else { return }
                out = out.map { (Swift.min($0.x.lowerBound, b[0])...Swift.max($0.x.upperBound, b[1]), Swift.min($0.y.lowerBound, b[2])...Swift.max($0.y.upperBound, b[3])) }
                    ?? (b[0]...b[1], b[2]...b[3])
            }
            return out
        }

        func aggregate(_ canvas: Canvas, _ reduction: RenderReduction, usesValues: Bool, threads: Int?) async throws -> Aggregate {
            if case .points(let p) = self { return try await canvas.points(p, reduction: reduction, usesValues: usesValues, threads: threads) }
            // Blocks on all cores, each into a state of its own, combined in block order
            // (first and last keep row order).
            var total = AggregateState(canvas: canvas, reduction: reduction, usesValues: usesValues)
            var pending: [Int: AggregateState] = [:]
            var next = 0
            let cores = Swift.max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
            try await Bounded.forEach(count: blocks, limit: cores, { k in
                var s = AggregateState(canvas: canvas, reduction: reduction, usesValues: usesValues)
                try s.append(try await self.block(k))
                return s
            }) { k, s in
                pending[k] = s
                while let s = pending.removeValue(forKey: next) {
                    try total.combine(s)
                    next += 1
                }
            }
            return total.finalize()
        }
    }

    /// `NAME` or `NAME:COLUMN`.
    static func parseAgg(_ text: String) throws -> (String, String?) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else { throw ValidationError("--agg: give a reduction such as count or mean:COLUMN") }
        let reduction: RenderReduction
        do { reduction = try RenderReduction(name: name) } catch { throw ValidationError("--agg \(text): \(error)") }
        let column = parts.count == 2 ? parts[1] : nil
        if (reduction.requiresValues || name.hasPrefix("count_cat") || name.hasPrefix("count-cat")) && column == nil {
            throw ValidationError("--agg \(text): \(name) needs a column, as \(name):COLUMN")
        }
        return (name, column)
    }

    static func range(_ text: String, _ flag: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, hi > lo else {
            throw ValidationError("\(flag) \(text): expected MIN,MAX with MIN < MAX")
        }
        return lo...hi
    }

    func loadPoints(reductionName: String, column: String?) async throws -> PointSource {
        let categorical = reductionName.hasPrefix("count_cat") || reductionName.hasPrefix("count-cat")
        if PointTable.handles(source) {
            let table = try PointTable.read(source)
            let xs = try table.numbers(x), ys = try table.numbers(y)
            let cats = categorical ? try table.categories(column!) : nil
            let values = categorical ? nil : try column.map { try table.numbers($0) }
            return .points(try Points(x: .float64(NDArray(xs)), y: .float64(NDArray(ys)), values: values.map { .float64(NDArray($0)) },
                                      categories: cats))
        }
        let ds = try await Dataset.open(source, storageOptions: try storage.options())
        func variable(_ name: String, _ role: String) throws -> Variable {
            guard let v = ds.variables[name] else {
                throw CLIError("\(source) has no variable '\(name)' for \(role) (variables: \(ds.variables.keys.joined(separator: ", ")))")
            }
            guard v.ndim == 1 else { throw CLIError("\(source): '\(name)' has dimensions \(v.dims); \(role) must be 1-D") }
            guard v.dtype.isNumeric else { throw CLIError("\(source): '\(name)' is \(v.dtype), not numbers") }
            return v
        }
        let vx = try variable(x, "--x"), vy = try variable(y, "--y")
        let vv = try column.map { try variable($0, "--agg") }
        for v in [vy] + (vv.map { [$0] } ?? []) where v.count != vx.count {
            throw CLIError("\(source): the variables have different lengths (\(vx.count) and \(v.count))")
        }
        if categorical, let vv {
            // Categories need every code first: the variables are read whole.
            let xs = try await vx.load().data, ys = try await vy.load().data
            let values = try await vv.load().data.doubles() ?? []
            let table = PointTable(names: ["c"], columns: ["c": .numbers(values)], rowCount: values.count, source: source)
            return .points(try Points(x: .init(xs, name: x), y: .init(ys, name: y), categories: try table.categories("c")))
        }
        return .variables(x: vx, y: vy, values: vv, names: (x, y, column))
    }

    /// The aggregate as a dataset: the variable named after the reduction on (y, x) or (y, x,
    /// category), with the pixel centres as coordinates.
    func writeAggregate(_ a: Aggregate, to path: String) async throws {
        let dims = a.categories == nil ? ["y", "x"] : ["y", "x", "category"]
        var ds = try Dataset(coords: ["x": Variable("x", a.canvas.xCenters), "y": Variable("y", a.canvas.yCenters)])
        if let names = a.categories {
            ds = try Dataset(coords: ["x": Variable("x", a.canvas.xCenters), "y": Variable("y", a.canvas.yCenters),
                                      "category": try Variable(["category"], .string(NDArray(names), .variable))])
        }
        let name = a.reduction.name
        let attrs: Attributes = [
            "long_name": .string("\(name) of the points in each pixel"),
            "x_range": .values(AnyNDArray([a.canvas.xRange.lowerBound, a.canvas.xRange.upperBound])),
            "y_range": .values(AnyNDArray([a.canvas.yRange.lowerBound, a.canvas.yRange.upperBound])),
        ]
        ds = try Dataset(dataVars: [name: try Variable(dims, a.data, attrs: attrs)], coords: ds.coords)
        if path.hasSuffix(".nc") {
            try await ds.writeNetCDF(to: path, options: NetCDFWriteOptions(overwrite: overwrite))
        } else {
            try await ds.writeZarr(to: Dataset.writableStore(path, storageOptions: try storage.options()), options: ZarrWriteOptions(overwrite: overwrite))
        }
    }
}
