import Foundation
import Testing
import Gyre
import GyreRender

/// `gyre render` on CSV, NDJSON and a Zarr dataset: the PNG equals the library's rendering
/// (and PIL reads the same pixels), `--agg-out` writes the aggregate as a dataset, bad input
/// is refused with a message that names it.
@Suite("CLI: gyre render", .enabled(if: Interop.enabled))
struct RenderCLITests {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func sample(_ n: Int) -> (x: [Double], y: [Double], v: [Double], kind: [String]) {
        var rng = SplitMix64(seed: 11)
        var x: [Double] = [], y: [Double] = [], v: [Double] = [], k: [String] = []
        for i in 0..<n {
            x.append(rng.normal() * 2)
            y.append(rng.normal())
            v.append(i % 13 == 0 ? .nan : rng.normal() * 3 + 10)
            k.append(["ship", "buoy", "float, argo"][i % 3])
        }
        return (x, y, v, k)
    }

    @Test("CSV and NDJSON points: the PNG equals the library's and PIL's reading; --agg-out as Zarr and netCDF")
    func csvAndNDJSON() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Self.sample(3000)
        var csv = "x,y,v,kind\n"
        for i in s.x.indices { csv += "\(s.x[i]),\(s.y[i]),\(s.v[i].isNaN ? "" : String(s.v[i])),\"\(s.kind[i])\"\n" }
        try csv.write(to: dir.appendingPathComponent("pts.csv"), atomically: true, encoding: .utf8)
        let png = dir.appendingPathComponent("mean.png").path, zarr = dir.appendingPathComponent("mean.zarr").path
        let r = try CLITests.gyre(["render", dir.appendingPathComponent("pts.csv").path, "--x", "x", "--y", "y", "--agg", "mean:v",
                                   "--how", "linear", "--cmap", "viridis", "--width", "64", "--height", "48",
                                   "--x-range", "-5,5", "--y-range", "-3,3", "-o", png, "--agg-out", zarr])
        #expect(r.status == 0, "\(r.err)")

        let canvas = try Canvas(width: 64, height: 48, xRange: -5...5, yRange: -3...3)
        let agg = try await canvas.points(try Points(x: s.x, y: s.y, values: s.v), reduction: .mean)
        let img = try shade(agg, ShadeOptions(cmap: try Colormap.named("viridis"), how: .linear))
        #expect(try Data(contentsOf: URL(fileURLWithPath: png)) == Data(try PNG.encode(img)))
        let npy = dir.appendingPathComponent("decoded.npy").path
        let (status, out) = try Interop.script("render_cases.py", ["--decode-png", png, npy])
        #expect(status == 0, "\(out)")
        let decoded = try #require(try AnyNDArray.readNPY(URL(fileURLWithPath: npy)).typed(UInt8.self))
        #expect(decoded.shape == [48, 64, 4])
        var flipped: [UInt8] = []
        for row in (0..<48).reversed() { flipped += img.pixels[(row * 64 * 4)..<((row + 1) * 64 * 4)] }
        #expect(decoded.elements == flipped, "PIL reads the pixels Gyre shaded, north up")

        let ds = try await Dataset.open(zarr).load()
        let mean = try #require(ds["mean"])
        #expect(mean.dims == ["y", "x"])
        #expect(try ds.variables["x"]!.data.doubles()! == canvas.xCenters)
        let got = try mean.variable.data.doubles()!, want = agg.data.doubles()!
        #expect(zip(got, want).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 })

        // NDJSON with categories (a field with a comma in the CSV, plain here) and netCDF output.
        var nd = ""
        for i in s.x.indices { nd += "{\"x\": \(s.x[i]), \"y\": \(s.y[i]), \"kind\": \"\(s.kind[i])\"}\n" }
        try nd.write(to: dir.appendingPathComponent("pts.ndjson"), atomically: true, encoding: .utf8)
        let catPNG = dir.appendingPathComponent("kinds.png").path, nc = dir.appendingPathComponent("kinds.nc").path
        let c = try CLITests.gyre(["render", dir.appendingPathComponent("pts.ndjson").path, "--x", "x", "--y", "y",
                                   "--agg", "count_cat:kind", "--width", "40", "--height", "30", "-o", catPNG, "--agg-out", nc])
        #expect(c.status == 0, "\(c.err)")
        let cds = try await Dataset.open(nc).load()
        let counts = try #require(cds["count_cat"])
        #expect(counts.dims == ["y", "x", "category"])
        #expect(try cds.variables["category"]!.data.typed(String.self)?.elements == ["buoy", "float, argo", "ship"])
        let total = try counts.variable.data.doubles()!.reduce(0, +)
        #expect(total == 3000, "every point is inside the canvas made from the data's bounds")

        // The CSV's quoted field with a comma is one category too.
        let csvCat = try CLITests.gyre(["render", dir.appendingPathComponent("pts.csv").path, "--x", "x", "--y", "y",
                                        "--agg", "count_cat:kind", "-o", dir.appendingPathComponent("k2.png").path, "--width", "40", "--height", "30"])
        #expect(csvCat.status == 0, "\(csvCat.err)")
    }

    @Test("1-D variables of a Zarr dataset; spread; refusals name what is wrong")
    func datasetAndErrors() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Self.sample(2000)
        let ds = try Dataset(dataVars: ["lon": Variable("obs", s.x), "lat": Variable("obs", s.y), "temp": Variable("obs", s.v)])
        let store = dir.appendingPathComponent("obs.zarr").path
        try await ds.writeZarr(to: FileStore(path: store))
        let png = dir.appendingPathComponent("max.png").path
        let r = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--agg", "max:temp", "--how", "eq_hist", "--cmap", "fire",
                                   "--width", "50", "--height", "40", "--spread", "1", "-o", png])
        #expect(r.status == 0, "\(r.err)")
        let b = try #require(try Points(x: s.x, y: s.y).bounds())
        let canvas = try Canvas(width: 50, height: 40, xRange: Canvas.expandedRange(min: b.x.lowerBound, max: b.x.upperBound),
                                yRange: Canvas.expandedRange(min: b.y.lowerBound, max: b.y.upperBound))
        let agg = try await canvas.points(try Points(x: s.x, y: s.y, values: s.v), reduction: .max)
        let img = try spread(try shade(agg, ShadeOptions(cmap: try Colormap.named("fire"))), radius: 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: png)) == Data(try PNG.encode(img)))

        // Read in blocks of 300 points (seven blocks, the bounds in a pass of their own): the
        // same aggregate, last values in row order.
        let nc = dir.appendingPathComponent("last.nc").path
        let blocks = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--agg", "last:temp", "--width", "50", "--height", "40",
                                        "-o", dir.appendingPathComponent("last.png").path, "--agg-out", nc], environment: ["GYRE_RENDER_BLOCK": "300"])
        #expect(blocks.status == 0, "\(blocks.err)")
        let last = try await canvas.points(try Points(x: s.x, y: s.y, values: s.v), reduction: .last)
        let got = try await Dataset.open(nc).load()["last"]!.variable.data.doubles()!
        #expect(zip(got, last.data.doubles()!).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 })

        let again = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "-o", png])
        #expect(again.status != 0 && again.err.contains("already exists"), "\(again.err)")
        let out = dir.appendingPathComponent("x.png").path
        let noVar = try CLITests.gyre(["render", store, "--x", "lon", "--y", "depth", "-o", out])
        #expect(noVar.status != 0 && noVar.err.contains("'depth'"), "\(noVar.err)")
        let noColumn = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--agg", "mean", "-o", out])
        #expect(noColumn.status != 0 && noColumn.err.contains("needs a column"), "\(noColumn.err)")
        let badRange = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--x-range", "3,1", "-o", out])
        #expect(badRange.status != 0 && badRange.err.contains("--x-range"), "\(badRange.err)")
        let badMap = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--cmap", "nosuch", "-o", out])
        #expect(badMap.status != 0 && badMap.err.contains("unknown colormap"), "\(badMap.err)")
        let spanEq = try CLITests.gyre(["render", store, "--x", "lon", "--y", "lat", "--span", "1,5", "-o", out])
        #expect(spanEq.status != 0 && spanEq.err.contains("eq_hist"), "\(spanEq.err)")
        try "x,y\n1,2\n3\n".write(to: dir.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let badCSV = try CLITests.gyre(["render", dir.appendingPathComponent("bad.csv").path, "--x", "x", "--y", "y", "-o", out])
        #expect(badCSV.status != 0 && badCSV.err.contains("line 3"), "\(badCSV.err)")
        try "{\"x\": 1, \"y\": 2}\n{\"x\": 1,\n".write(to: dir.appendingPathComponent("bad.ndjson"), atomically: true, encoding: .utf8)
        let badND = try CLITests.gyre(["render", dir.appendingPathComponent("bad.ndjson").path, "--x", "x", "--y", "y", "-o", out])
        #expect(badND.status != 0 && badND.err.contains("line 2"), "\(badND.err)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing is written when the input is refused")
    }

    @Test("--glyph line joins the points in order: the PNG equals the library's Canvas.line; count_cat along lines is refused")
    func line() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var csv = "t,x,y,v\n"
        var xs: [Double] = [], ys: [Double] = [], vs: [Double] = []
        for i in 0..<600 {
            let t = Double(i) / 600 * 12.0
            xs.append(cos(t) * (1 + t / 12)); ys.append(sin(1.5 * t)); vs.append(Double(i % 7))
            csv += "\(i),\(xs[i]),\(ys[i]),\(vs[i])\n"
        }
        try csv.write(to: dir.appendingPathComponent("walk.csv"), atomically: true, encoding: .utf8)
        let png = dir.appendingPathComponent("line.png").path
        let r = try CLITests.gyre(["render", dir.appendingPathComponent("walk.csv").path, "--x", "x", "--y", "y", "--glyph", "line",
                                   "--agg", "max:v", "--how", "linear", "--width", "120", "--height", "80", "-o", png])
        #expect(r.status == 0, "\(r.err)")
        let points = try Points(x: xs, y: ys, values: vs)
        let b = try #require(points.bounds())
        let canvas = try Canvas(width: 120, height: 80, xRange: Canvas.expandedRange(min: b.x.lowerBound, max: b.x.upperBound),
                                yRange: Canvas.expandedRange(min: b.y.lowerBound, max: b.y.upperBound))
        let agg = try canvas.line(points, reduction: .max)
        #expect(try Data(contentsOf: URL(fileURLWithPath: png)) == Data(try PNG.encode(try shade(agg, ShadeOptions(how: .linear)))))
        let cat = try CLITests.gyre(["render", dir.appendingPathComponent("walk.csv").path, "--x", "x", "--y", "y", "--glyph", "line",
                                     "--agg", "count_cat:t", "-o", dir.appendingPathComponent("x.png").path])
        #expect(cat.status != 0 && cat.err.contains("not drawn along lines"), "\(cat.err)")
    }

    @Test("gyre plot: a 2-D result as PNG and SVG that PIL and an XML parser read, a 1-D result as a line; refusals name what is wrong")
    func plot() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("sst.zarr").path
        #expect(try CLITests.gyre(["demo", "--days", "4", "--resolution", "10", "--zarr", store]).status == 0)
        let png = dir.appendingPathComponent("map.png").path, svg = dir.appendingPathComponent("map.svg").path
        let a = try CLITests.gyre(["plot", store, "sst.isel(time=1)", "-o", png, "--cmap", "fire", "--range", "0,30", "--width", "600", "--height", "400"])
        #expect(a.status == 0, "\(a.err)")
        let b = try CLITests.gyre(["plot", store, "sst.isel(time=1)", "-o", svg, "--cmap", "fire", "--range", "0,30"])
        #expect(b.status == 0, "\(b.err)")
        let (status, out) = try Interop.script("render_cases.py", ["--read-plot", png, svg])
        #expect(status == 0, "\(out)")
        let read = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
        #expect(read["png_size"] as? [Int] == [600, 400])
        #expect((read["png_colours"] as? Int ?? 0) > 50)
        #expect(read["svg_tag"] as? String == "{http://www.w3.org/2000/svg}svg")
        let texts = read["texts"] as? [String] ?? []
        #expect(texts.contains("Sea surface temperature [degC]  (time = 2001-01-02)"), "\(texts)")
        #expect(texts.contains("latitude [degrees_north]") && texts.contains("longitude [degrees_east]"))
        #expect((read["images"] as? [[Int]])?.count == 2)
        // A 1-D result: a line plot.
        let line = dir.appendingPathComponent("line.png").path
        let c = try CLITests.gyre(["plot", store, "sst.mean(['lat', 'lon'])", "-o", line])
        #expect(c.status == 0, "\(c.err)")
        #expect(FileManager.default.fileExists(atPath: line))
        // Refusals.
        let cube = try CLITests.gyre(["plot", store, "sst", "-o", dir.appendingPathComponent("x.png").path])
        #expect(cube.status != 0 && cube.err.contains("select or reduce"), "\(cube.err)")
        let ext = try CLITests.gyre(["plot", store, "sst.isel(time=0)", "-o", dir.appendingPathComponent("x.jpg").path])
        #expect(ext.status != 0 && ext.err.contains(".png or .svg"), "\(ext.err)")
        let again = try CLITests.gyre(["plot", store, "sst.isel(time=1)", "-o", png])
        #expect(again.status != 0 && again.err.contains("--overwrite"), "\(again.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.png").path))
    }
}
