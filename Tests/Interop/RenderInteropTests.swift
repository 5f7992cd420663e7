import Foundation
import Testing
import Gyre
import GyreRender

/// GyreRender against datashader (and colorcet's and matplotlib's colormap tables) on the
/// same points and canvases: aggregates equal (means, stds and variances within 1e-6 relative)
/// and shaded images within one level per channel.
@Suite("Interop: datashader", .enabled(if: Interop.enabled))
struct RenderInteropTests {
    struct Cases: Decodable {
        let cases: [Case]
        let categories: [String]
        let colormaps: [String: [String]]
        let glasbey: [String]
        let sets1to3: [String]
    }

    struct Case: Decodable {
        let kind: String
        let canvas: String
        let reduction: String
        let file: String
        let width: Int?
        let height: Int?
        let fixed: Bool?
        let x_range: [Double]?
        let y_range: [Double]?
        let x_centers: [Double]?
        let y_centers: [Double]?
        let how: String?
        let cmap: String?
        let span: [Double]?
        let points: Int?
        let op: String?
    }

    static func reduction(_ name: String) throws -> (RenderReduction, usesValues: Bool) {
        switch name {
        case "count": return (.count, false)
        case "count_v": return (.count, true)
        case "any": return (.any, false)
        case "count_cat": return (.countCategories(4), false)
        default: return (try RenderReduction(name: name), true)
        }
    }

    @Test("aggregates, shaded images and colormap tables equal datashader's, colorcet's and matplotlib's")
    func againstDatashader() async throws {
        let dir = try Interop.generate("render_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        func npy(_ name: String) throws -> AnyNDArray { try AnyNDArray.readNPY(dir.appendingPathComponent(name)) }
        let x = try npy("x.npy"), y = try npy("y.npy"), v = try npy("v.npy")
        let cat = try #require(try npy("cat.npy").typed(Int32.self))
        let cats = Points.Categories(codes: cat, names: spec.categories)
        let withValues = try Points(x: .init(x, name: "x"), y: .init(y, name: "y"), values: .init(v, name: "v"), categories: cats)
        let plain = try Points(x: .init(x, name: "x"), y: .init(y, name: "y"), categories: cats)

        var aggs: [String: Aggregate] = [:]
        var checked = 0
        for c in spec.cases where c.kind == "agg" {
            await Task.yield()
            let key = "\(c.canvas)-\(c.reduction)"
            let canvas: Canvas
            if c.fixed == true {
                canvas = try Canvas(width: c.width!, height: c.height!, xRange: c.x_range![0]...c.x_range![1], yRange: c.y_range![0]...c.y_range![1])
            } else {
                let b = try #require(plain.bounds())
                canvas = try Canvas(width: c.width!, height: c.height!,
                                    xRange: Canvas.expandedRange(min: b.x.lowerBound, max: b.x.upperBound),
                                    yRange: Canvas.expandedRange(min: b.y.lowerBound, max: b.y.upperBound))
                #expect(canvas.xRange == c.x_range![0]...c.x_range![1], "\(key): x range")
                #expect(canvas.yRange == c.y_range![0]...c.y_range![1], "\(key): y range")
            }
            for (mine, theirs) in zip(canvas.xCenters, c.x_centers!) { #expect(abs(mine - theirs) <= 1e-12 * max(1, abs(theirs)), "\(key): x centres") }
            for (mine, theirs) in zip(canvas.yCenters, c.y_centers!) { #expect(abs(mine - theirs) <= 1e-12 * max(1, abs(theirs)), "\(key): y centres") }
            let (red, usesValues) = try Self.reduction(c.reduction)
            let agg = try await canvas.points(usesValues ? withValues : plain, reduction: red, usesValues: usesValues)
            aggs[key] = agg
            let expected = try npy(c.file)
            #expect(agg.data.shape == expected.shape, "\(key): shape")
            let tolerance: Double = ["mean", "std", "var"].contains(c.reduction) ? 1e-6 : 0
            let mine = agg.data.doubles()!, theirs = expected.doubles()!
            var bad = 0
            for (a, b) in zip(mine, theirs) {
                if a.isNaN != b.isNaN { bad += 1; continue }
                if !a.isNaN && abs(a - b) > tolerance * max(1, abs(b)) { bad += 1 }
            }
            #expect(bad == 0, "\(key): \(bad) pixels differ from datashader's")
            #expect(agg.data.dtype == expected.dtype || (expected.dtype == .float64 && agg.data.dtype == .float64), "\(key): dtype \(agg.data.dtype) vs \(expected.dtype)")
            checked += 1
        }
        #expect(checked == 36)

        var shaded = 0
        for c in spec.cases where c.kind == "shade" {
            await Task.yield()  // seconds of shading in a debug build: let the suite's other tasks run
            let key = "\(c.canvas)-\(c.reduction)-\(c.how!)-\(c.cmap!)-\(c.span.map { "\($0)" } ?? "auto")"
            let agg = try #require(aggs["\(c.canvas)-\(c.reduction)"])
            var o = ShadeOptions(how: try ShadeHow(parsing: c.how!))
            if let s = c.span { o.span = s[0]...s[1] }
            switch c.cmap! {
            case "default", "sets1to3": break
            default: o.cmap = try Colormap.named(c.cmap!)
            }
            let img = try shade(agg, o)
            let expected = try #require(try npy(c.file).typed(UInt8.self))
            #expect(expected.shape == [img.height, img.width, 4], "\(key): shape")
            var worst = 0, off = 0
            for (a, b) in zip(img.pixels, expected.elements) {
                let d = abs(Int(a) - Int(b))
                if d > 0 { off += 1 }
                worst = max(worst, d)
            }
            #expect(worst <= 1, "\(key): a channel differs by \(worst) levels (\(off) channels differ)")
            shaded += 1
        }
        #expect(shaded > 100)

        // spread and dynspread of a sparse and a dense image.
        var spreads = 0
        for c in spec.cases where c.kind == "spread" {
            await Task.yield()
            let canvas = try #require(aggs["fixed-count"]).canvas
            let agg = try await canvas.points(plain.slice(0..<c.points!), reduction: .count)
            let img = try shade(agg, ShadeOptions(cmap: try Colormap.named("fire"), how: .eqHist))
            let out: RGBAImage
            switch c.op! {
            case "spread1": out = try spread(img, radius: 1)
            case "spread2": out = try spread(img, radius: 2)
            default: out = try dynspread(img, threshold: 0.5, maxRadius: 3)
            }
            let expected = try #require(try npy(c.file).typed(UInt8.self))
            var worst = 0
            for (a, b) in zip(out.pixels, expected.elements) { worst = max(worst, abs(Int(a) - Int(b))) }
            #expect(worst <= 1, "\(c.file): a channel differs by \(worst) levels")
            spreads += 1
        }
        #expect(spreads == 6)

        // Grids regridded onto canvases, as datashader's quadmesh.
        var grids = 0
        for c in spec.cases where c.kind == "quadmesh" {
            await Task.yield()
            let gx = try #require(try npy("grid-\(c.canvas)-x.npy").doubles()), gy = try #require(try npy("grid-\(c.canvas)-y.npy").doubles())
            let grid = try GridValues(try npy("grid-\(c.canvas)-v.npy"), x: gx, y: gy)
            let canvas = try Canvas(width: c.width!, height: c.height!, xRange: c.x_range![0]...c.x_range![1], yRange: c.y_range![0]...c.y_range![1])
            let agg = try canvas.quadmesh(grid, reduction: try RenderReduction(name: c.reduction))
            let expected = try npy(c.file)
            #expect(agg.data.shape == expected.shape, "\(c.file): shape")
            let tolerance: Double = c.reduction == "mean" || c.reduction == "sum" ? 1e-12 : 0
            var bad = 0
            for (a, b) in zip(agg.data.doubles()!, expected.doubles()!) {
                if a.isNaN != b.isNaN || (!a.isNaN && abs(a - b) > tolerance * max(1, abs(b))) { bad += 1 }
            }
            #expect(bad == 0, "\(c.file): \(bad) pixels differ from datashader's quadmesh")
            grids += 1
        }
        #expect(grids == 24)

        // Lines (a random walk with breaks and excursions off the canvas), as datashader's Canvas.line.
        let lx = try npy("line-x.npy"), ly = try npy("line-y.npy"), lv = try npy("line-v.npy")
        let walk = try Points(x: .init(lx, name: "x"), y: .init(ly, name: "y"), values: .init(lv, name: "v"))
        let walkPlain = try Points(x: .init(lx, name: "x"), y: .init(ly, name: "y"))
        var lines = 0
        for c in spec.cases where c.kind == "line" {
            await Task.yield()
            let canvas = try Canvas(width: c.width!, height: c.height!, xRange: c.x_range![0]...c.x_range![1], yRange: c.y_range![0]...c.y_range![1])
            if c.canvas == "bounds", let b = walkPlain.bounds() {
                #expect(canvas.xRange == Canvas.expandedRange(min: b.x.lowerBound, max: b.x.upperBound), "line bounds: x range")
                #expect(canvas.yRange == Canvas.expandedRange(min: b.y.lowerBound, max: b.y.upperBound), "line bounds: y range")
            }
            let (red, usesValues) = try Self.reduction(c.reduction)
            let agg = try canvas.line(usesValues ? walk : walkPlain, reduction: red, usesValues: usesValues)
            let expected = try npy(c.file)
            #expect(agg.data.shape == expected.shape, "\(c.file): shape")
            let mine = agg.data.doubles() ?? (agg.data.typed(Bool.self)?.elements.map { $0 ? 1.0 : 0.0 } ?? [])
            let tolerance: Double = c.reduction == "mean" ? 1e-6 : 0
            var bad = 0, drawn = 0
            for (a, b) in zip(mine, expected.doubles()!) {
                if a.isNaN != b.isNaN || (!a.isNaN && abs(a - b) > tolerance * max(1, abs(b))) { bad += 1 }
                if !b.isNaN && b != 0 { drawn += 1 }
            }
            #expect(bad == 0, "\(c.file): \(bad) pixels differ from datashader's line")
            #expect(drawn > 500, "\(c.file): \(drawn) pixels drawn")
            lines += 1
        }
        #expect(lines == 12)

        // The colormap tables equal colorcet's and matplotlib's.
        for (name, hexes) in spec.colormaps {
            let mine = try Colormap.named(name).colors.map(\.description)
            #expect(mine == hexes.map { $0.lowercased() }, "colormap \(name)")
        }
        #expect(Set(Colormap.names).isSuperset(of: spec.colormaps.keys))
        #expect(try Colormap.colorKey("glasbey").map(\.description) == spec.glasbey.map { $0.lowercased() })
        #expect(Colormap.defaultColorKey.map(\.description) == spec.sets1to3.map { $0.lowercased() })
    }
}
