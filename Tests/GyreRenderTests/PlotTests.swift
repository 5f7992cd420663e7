import Foundation
import Testing
import GyreArrays
import GyreData
@testable import GyreRender

/// Quick plots: where the data lands in the figure, its colours and orientation, ticks, the
/// colorbar, text, lines broken at NaN, SVG, and the errors.
@Suite("GyreRender: quick plots (gyre plot)")
struct PlotTests {
    /// A (lat, lon) grid whose value is column + 5 * row (row 0 the southernmost).
    static func grid(descending: Bool = false) throws -> DataArray {
        var lat: [Double] = [-30, -10, 10, 30]
        var values: [Double] = []
        for r in 0..<4 { for c in 0..<6 { values.append(Double(c + 5 * r)) } }
        if descending {
            lat.reverse()
            values = (0..<4).reversed().flatMap { r in values[(r * 6)..<(r * 6 + 6)] }
        }
        return try DataArray(.float64(try NDArray(shape: [4, 6], values)), dims: ["lat", "lon"], coords: [
            "lat": Variable("lat", lat, attrs: ["units": .string("degrees_north"), "long_name": .string("latitude")]),
            "lon": Variable("lon", [0, 60, 120, 180, 240, 300], attrs: ["units": .string("degrees_east")]),
            "time": Variable(scalar: .datetime(11_000, .days)),
        ], name: "sst", attrs: ["units": .string("K")])
    }

    static func images(_ f: Figure) -> [(x: Double, y: Double, w: Double, h: Double)] {
        f.items.compactMap { if case .image(_, let x, let y, let w, let h) = $0 { return (x, y, w, h) }; return nil }
    }

    /// The figure's pixel at column x, row y counted from the top.
    static func pixel(_ img: RGBAImage, _ x: Double, _ y: Double) -> RGB {
        let p = img[Int(x), img.height - 1 - Int(y)]
        return RGB(p.r, p.g, p.b)
    }

    @Test("a 2-D plot puts the smallest value's colour bottom left and the largest top right, north up either way the latitudes run")
    func imageOrientation() async throws {
        let viridis = try Colormap.named("viridis")
        let font = try Font.standard()
        var rasters: [RGBAImage] = []
        for descending in [false, true] {
            let fig = try await Plot.figure(try Self.grid(descending: descending), options: PlotOptions(width: 640, height: 400, cmap: viridis), font: font)
            let imgs = Self.images(fig)
            #expect(imgs.count == 2)  // the data and the colorbar
            let a = imgs[0], bar = imgs[1]
            let r = fig.raster(font: font)
            #expect(Self.pixel(r, a.x + 3, a.y + a.h - 3) == viridis.colors[0])        // value 0 at (-30, 0)
            #expect(Self.pixel(r, a.x + a.w - 3, a.y + 3) == viridis.colors[255])     // value 20 at (30, 300)
            #expect(Self.pixel(r, a.x + 3, a.y + 3) != Self.pixel(r, a.x + a.w - 3, a.y + a.h - 3))
            #expect(viridis.colors[0..<6].contains(Self.pixel(r, bar.x + bar.w / 2, bar.y + bar.h - 3)))
            #expect(viridis.colors[250...].contains(Self.pixel(r, bar.x + bar.w / 2, bar.y + 3)))
            // Text is drawn: the title's band has dark pixels, the empty corner none.
            let dark = (0..<r.width).filter { x in (10..<30).contains { y in let p = Self.pixel(r, Double(x), Double(y)); return Int(p.r) + Int(p.g) + Int(p.b) < 200 } }
            #expect(dark.count > 50)
            #expect(Self.pixel(r, 2, 2) == RGB(255, 255, 255))
            rasters.append(r)
        }
        #expect(rasters[0] == rasters[1])
    }

    @Test("labels come from long_name and units, the title names the scalar coordinates, SVG escapes text and embeds the image")
    func svgText() async throws {
        let fig = try await Plot.figure(try Self.grid(), options: PlotOptions(cmap: try Colormap.named("fire")))
        let svg = try fig.svg()
        #expect(svg.contains(">latitude [degrees_north]</text>"))
        #expect(svg.contains(">lon [degrees_east]</text>"))
        #expect(svg.contains(">sst [K]  (time = 2000-02-13)</text>"))
        #expect(svg.contains("href=\"data:image/png;base64,iVBOR"))
        let odd = try await Plot.figure(try Self.grid(), options: PlotOptions(title: "a < b & \"c\""))
        #expect(try odd.svg().contains(">a &lt; b &amp; &quot;c&quot;</text>"))
        // Data on both sides of zero, with no colormap asked for: coolwarm, symmetric about zero.
        let centred = try DataArray(.float64(try NDArray(shape: [2, 2], [-1, 0.5, 2, 3])), dims: ["y", "x"], name: "anomaly")
        let cf = try await Plot.figure(centred)
        let labels = cf.items.compactMap { if case .text(let s, _, _, _, _, _, _) = $0 { return s }; return nil }
        #expect(labels.contains("-2") && labels.contains("2"))
    }

    @Test("a 1-D plot is a line, broken where values are NaN, on time ticks for a time axis")
    func line() async throws {
        let days: [Int64] = (0..<5).map { 11_000 + Int64($0) * 20 }
        let a = try DataArray(.float64(NDArray([0, 1, .nan, 3, 4])), dims: ["time"],
                              coords: ["time": try Variable(["time"], .datetime64(NDArray(days), .days))], name: "v")
        let fig = try await Plot.figure(a, options: PlotOptions(width: 500, height: 300))
        let lines = fig.items.compactMap { if case .polyline(let p, let c, _) = $0, c == Plot.lineColor { return p }; return nil }
        #expect(lines.count == 2)
        #expect(lines.first?.count == 2 && lines.last?.count == 2)
        // Rising values: the last point is higher (smaller y) than the first.
        #expect(lines.last!.last!.1 < lines.first!.first!.1)
        let labels = fig.items.compactMap { if case .text(let s, _, _, _, _, _, _) = $0 { return s }; return nil }
        #expect(labels.contains("2000-03") && labels.contains("2000-04"))
        let r = fig.raster(font: try Font.standard())
        #expect(r.width == 500 && r.height == 300)
    }

    @Test("ticks: nice numeric steps and labels, whole months and years for times")
    func ticks() {
        #expect(Ticks.numeric(0, 1, target: 5).map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(Ticks.numeric(-90, 90, target: 6).map(\.label) == ["-75", "-50", "-25", "0", "25", "50", "75"])
        #expect(Ticks.numeric(0, 10, target: 4).map(\.label) == ["0.0", "2.5", "5.0", "7.5", "10.0"])
        #expect(Ticks.numeric(271.3, 272.9, target: 4).map(\.label) == ["271.5", "272.0", "272.5"])
        let day = Ticks.microsecondsPerDay
        let jan2001 = 11_323 * day
        #expect(Ticks.time(jan2001, jan2001 + 364 * day, calendar: .standard, target: 6).map(\.label)
                == ["2001-01", "2001-03", "2001-05", "2001-07", "2001-09", "2001-11"])
        #expect(Ticks.time(jan2001, jan2001 + 20 * 365 * day, calendar: .noleap, target: 6).map(\.label).first == "2005")
        #expect(Ticks.time(jan2001, jan2001 + day / 2, calendar: .standard, target: 6).map(\.label).first == "01-01 00:00")
    }

    @Test("what cannot be plotted is an error that says what to do")
    func errors() async throws {
        let cube = try DataArray(.float64(try NDArray(shape: [2, 2, 2], [Double](repeating: 1, count: 8))), dims: ["t", "y", "x"], name: "c")
        await #expect(throws: GyreRenderError.self) { try await Plot.figure(cube) }
        do { _ = try await Plot.figure(cube) } catch { #expect("\(error)".contains("select or reduce")) }
        let single = try DataArray(.float64(try NDArray(shape: [1, 1], [2.5])), dims: ["y", "x"], name: "one")
        do { _ = try await Plot.figure(single); Issue.record("a single value plotted") } catch { #expect("\(error)".contains("single value (2.5)")) }
        let nan = try DataArray(.float64(try NDArray(shape: [2, 2], [Double](repeating: .nan, count: 4))), dims: ["y", "x"], name: "empty")
        do { _ = try await Plot.figure(nan); Issue.record("all-NaN plotted") } catch { #expect("\(error)".contains("no finite values")) }
        let two = try Dataset(dataVars: ["a": Variable(["x"], .float64(NDArray([1, 2]))), "b": Variable(["x"], .float64(NDArray([1, 2])))])
        do { _ = try await Plot.figure(two, variable: nil); Issue.record("two variables plotted") } catch { #expect("\(error)".contains("plot draws one")) }
        await #expect(throws: GyreRenderError.self) { try await Plot.figure(try Self.grid(), options: PlotOptions(width: 40, height: 40)) }
    }

    @Test("hostile numbers: tiny, huge and near-constant ranges, far-off and NaN drawing, extreme times, long lines; errors or pictures, never a trap")
    func hostile() async throws {
        #expect(Ticks.numeric(0, 4 * Double.leastNonzeroMagnitude).count <= 1)
        #expect(Ticks.numeric(1.0, 1.0000000000000002).count <= 2)
        #expect(Ticks.numeric(-1e308, 1e308).count <= 1)
        #expect(Ticks.numeric(1e15, 1e15 + 2, target: 6).count <= 7)
        #expect(Ticks.time(-9.3e18, 9.3e18, calendar: .standard).isEmpty)
        #expect(Ticks.time(-9e18 + 1, 8.9e18, calendar: .standard).count < 200)
        let font = try Font.standard()
        var f = try Figure(width: 64, height: 48)
        f.add(.rect(x: -10, y: -10, width: 5, height: 5, fill: .black))
        f.add(.rect(x: 100, y: 100, width: 5, height: 5, fill: .black))
        f.add(.rect(x: .nan, y: 0, width: .infinity, height: 5, fill: .black))
        f.add(.polyline([(0, 0), (.infinity, 1e300)], color: .black, width: 1))
        f.add(.polyline([(0, .nan), (5, 5)], color: .black, width: 1))
        f.add(.image(RGBAImage(width: 1, height: 1, pixels: [1, 2, 3, 255]), x: -1e300, y: 0, width: 1e301, height: 10))
        f.add(.text("far", x: 1e300, y: -1e300, size: 12, anchor: .middle, vertical: true, color: .black))
        f.add(.text("huge", x: 10, y: 10, size: .infinity, anchor: .start, vertical: false, color: .black))
        let r = f.raster(font: font)
        #expect(r.width == 64)
        #expect(try f.svg().contains("<svg"))
        // A fill value left unmasked: refused with what it is, not drawn wrong.
        let filled = try DataArray(.float64(NDArray([0, 1, .greatestFiniteMagnitude, 2])), dims: ["t"], name: "v")
        do { _ = try await Plot.figure(filled); Issue.record("drew a range wider than a Double") } catch { #expect("\(error)".contains("too wide")) }
        let tiny = try DataArray(.float64(NDArray([0, 5e-324, 0, 5e-324])), dims: ["t"], name: "v")
        _ = try await Plot.figure(tiny).raster(font: font)
        _ = try await Plot.figure(try Self.grid(), options: PlotOptions(range: 0...Double.leastNormalMagnitude)).raster(font: font)
        // A series of many more points than pixels is drawn through at most four points a column.
        let n = 100_000
        let long = try DataArray(.float64(NDArray((0..<n).map { sin(Double($0)) })), dims: ["t"], name: "v")
        let fig = try await Plot.figure(long, options: PlotOptions(width: 400, height: 300))
        let drawn = fig.items.compactMap { if case .polyline(let p, let c, _) = $0, c == Plot.lineColor { return p.count }; return nil }
        #expect(drawn.count == 1 && drawn[0] <= 4 * 400 && drawn[0] >= 300)
    }
}
