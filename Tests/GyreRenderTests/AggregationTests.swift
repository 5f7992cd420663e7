import Foundation
import Testing
import GyreCore
import GyreArrays
@testable import GyreRender

/// Point aggregation against a naive model: every point binned by the rule written out plainly,
/// every pixel's list of values reduced the obvious way.
@Suite("GyreRender: aggregation")
struct AggregationTests {
    /// Points with clusters, exact edge points, points outside and NaN coordinates and values.
    static func points(_ n: Int, seed: UInt64 = 42) -> (x: [Double], y: [Double], v: [Double], c: [Int32]) {
        var rng = SplitMix64(seed: seed)
        var x: [Double] = [], y: [Double] = [], v: [Double] = [], c: [Int32] = []
        for i in 0..<n {
            x.append(Double.random(in: 0..<1, using: &rng) * 12 - 5)
            y.append(Double.random(in: 0..<1, using: &rng) * 8 - 4)
            v.append(i % 17 == 0 ? .nan : Double.random(in: 0..<1, using: &rng) * 100 - 20)
            c.append(Int32(rng.next() % 3))
        }
        x += [-4, 6, 6, -4, .nan, 1, 7.5]
        y += [-3, 3, -3, 3, 0, .nan, 0]
        v += [1, 2, 3, 4, 5, 6, 7]
        c += [0, 1, 2, 0, 1, 2, 0]
        return (x, y, v, c)
    }

    /// The pixel of a point, the rule written out: inclusive ranges, truncation, the right edge
    /// into the last column.
    static func naivePixel(_ canvas: Canvas, _ x: Double, _ y: Double) -> Int? {
        let (x0, x1) = (canvas.xRange.lowerBound, canvas.xRange.upperBound)
        let (y0, y1) = (canvas.yRange.lowerBound, canvas.yRange.upperBound)
        guard x >= x0, x <= x1, y >= y0, y <= y1 else { return nil }
        let sx = Double(canvas.width) / (x1 - x0), sy = Double(canvas.height) / (y1 - y0)
        let col = min(Int(x * sx + (-x0 * sx)), canvas.width - 1)
        let row = min(Int(y * sy + (-y0 * sy)), canvas.height - 1)
        return row * canvas.width + col
    }

    static func naive(_ canvas: Canvas, _ p: (x: [Double], y: [Double], v: [Double], c: [Int32]), _ r: RenderReduction, usesValues: Bool) -> [Double] {
        let n = canvas.width * canvas.height
        var lists = [[Double]](repeating: [], count: n)
        var cats = [[Int]](repeating: [0, 0, 0], count: n)
        for i in p.x.indices {
            guard let px = naivePixel(canvas, p.x[i], p.y[i]) else { continue }
            cats[px][Int(p.c[i])] += 1
            if usesValues && p.v[i].isNaN { continue }
            lists[px].append(p.v[i])
        }
        if case .countCategories = r { return cats.flatMap { $0.map(Double.init) } }
        return lists.map { l -> Double in
            switch r {
            case .count: return Double(l.count)
            case .any: return l.isEmpty ? 0 : 1
            case .sum: return l.isEmpty ? .nan : l.reduce(0, +)
            case .mean: return l.isEmpty ? .nan : l.reduce(0, +) / Double(l.count)
            case .min: return l.min() ?? .nan
            case .max: return l.max() ?? .nan
            case .first: return l.first ?? .nan
            case .last: return l.last ?? .nan
            case .variance, .std:
                guard !l.isEmpty else { return .nan }
                let m = l.reduce(0, +) / Double(l.count)
                let v = l.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(l.count)
                return r == .std ? v.squareRoot() : v
            case .countCategories: return 0
            }
        }
    }

    static let all: [(RenderReduction, Bool)] = [
        (.count, false), (.count, true), (.any, false), (.any, true), (.sum, true), (.mean, true), (.min, true), (.max, true),
        (.std, true), (.variance, true), (.first, true), (.last, true), (.countCategories(3), false),
    ]

    static func compare(_ got: [Double], _ want: [Double], _ label: String, tolerance: Double) {
        #expect(got.count == want.count, "\(label): size")
        var bad = 0
        for (a, b) in zip(got, want) {
            if a.isNaN != b.isNaN || (!a.isNaN && abs(a - b) > tolerance * max(1, abs(b))) { bad += 1 }
        }
        #expect(bad == 0, "\(label): \(bad) pixels differ from the naive model")
    }

    @Test("every reduction equals the naive model on one run and on combined runs")
    func reductionsAgainstNaive() async throws {
        let p = Self.points(20_000)
        let canvas = try Canvas(width: 37, height: 23, xRange: -4...6, yRange: -3...3)
        let pts = try Points(x: .float64(NDArray(p.x)), y: .float64(NDArray(p.y)), values: .float64(NDArray(p.v)),
                             categories: .init(codes: NDArray(p.c), names: ["a", "b", "c"]))
        for (r, usesValues) in Self.all {
            await Task.yield()
            let want = Self.naive(canvas, p, r, usesValues: usesValues)
            let exact = [RenderReduction.count, .any, .min, .max, .first, .last, .countCategories(3)].contains(r)
            var one = AggregateState(canvas: canvas, reduction: r, usesValues: usesValues)
            try one.append(pts)
            Self.compare(one.finalize().data.doubles()!, want, "\(r) values=\(usesValues), one run", tolerance: exact ? 0 : 1e-12)
            // Three runs of unequal length, combined in row order.
            var parts: [AggregateState] = []
            for range in [0..<5000, 5000..<5001, 5001..<pts.count] {
                var s = AggregateState(canvas: canvas, reduction: r, usesValues: usesValues)
                try s.append(pts.slice(range))
                parts.append(s)
            }
            var combined = parts[0]
            for s in parts.dropFirst() { try combined.combine(s) }
            Self.compare(combined.finalize().data.doubles()!, want, "\(r) values=\(usesValues), combined", tolerance: exact ? 0 : 1e-9)
        }
    }

    @Test("float32 columns bin as their float64 values")
    func float32Columns() async throws {
        let p = Self.points(5000)
        let canvas = try Canvas(width: 50, height: 40, xRange: -4...6, yRange: -3...3)
        let x32 = p.x.map { Float($0) }, y32 = p.y.map { Float($0) }
        let pts = try Points(x: .float32(NDArray(x32)), y: .float32(NDArray(y32)), values: .float32(NDArray(p.v.map { Float($0) })))
        let agg = try await canvas.points(pts, reduction: .max)
        let want = Self.naive(canvas, (x32.map(Double.init), y32.map(Double.init), p.v.map { Double(Float($0)) }, p.c), .max, usesValues: true)
        Self.compare(agg.data.doubles()!, want, "float32 max", tolerance: 0)
    }

    @Test("aggregation on several threads equals one run (first and last keep row order)")
    func parallelRuns() async throws {
        let p = Self.points(2_200_000, seed: 9)
        let canvas = try Canvas(width: 64, height: 48, xRange: -5...7, yRange: -4...4)
        let pts = try Points(x: p.x, y: p.y, values: p.v)
        for r in [RenderReduction.count, .first, .last, .sum] {
            await Task.yield()
            var one = AggregateState(canvas: canvas, reduction: r, usesValues: r != .count)
            try one.append(pts)
            let many = try await canvas.points(pts, reduction: r, usesValues: r != .count, threads: 3)
            Self.compare(many.data.doubles()!, one.finalize().data.doubles()!, "\(r) on 3 threads", tolerance: r == .sum ? 1e-12 : 0)
        }
    }

    @Test("canvas rules: ranges from data bounds, pixel centres, bad canvases")
    func canvasRules() throws {
        #expect(Canvas.expandedRange(min: 2, max: 2) == 1...3)
        #expect(Canvas.expandedRange(min: .nan, max: 4) == -1...1)
        #expect(Canvas.expandedRange(min: .infinity, max: -.infinity) == -1...1)
        let c = try Canvas(width: 4, height: 2, xRange: 0...8, yRange: 0...1)
        #expect(c.xCenters == [1, 3, 5, 7])
        #expect(c.yCenters == [0.25, 0.75])
        #expect(c.pixel(x: 8, y: 1) == 7)
        #expect(c.pixel(x: 0, y: 0) == 0)
        #expect(c.pixel(x: 8.000001, y: 0) == nil)
        #expect(c.pixel(x: .nan, y: 0) == nil)
        #expect(throws: GyreRenderError.self) { try Canvas(width: 0, height: 10, xRange: 0...1, yRange: 0...1) }
        #expect(throws: GyreRenderError.self) { try Canvas(width: 10, height: 10, xRange: 1...1, yRange: 0...1) }
        #expect(throws: GyreRenderError.self) { try Canvas(width: 10, height: 10, xRange: 0...Double.infinity, yRange: 0...1) }
        #expect(throws: GyreRenderError.self) { try Canvas(width: 100_000, height: 100_000, xRange: 0...1, yRange: 0...1) }
    }

    @Test("bad inputs: unequal columns, a missing value column, categories beyond the aggregate")
    func badInputs() async throws {
        #expect(throws: GyreRenderError.self) { try Points(x: [1, 2], y: [1]) }
        let c = try Canvas(width: 4, height: 4, xRange: 0...1, yRange: 0...1)
        let pts = try Points(x: [0.5], y: [0.5])
        await #expect(throws: GyreRenderError.self) { _ = try await c.points(pts, reduction: .mean) }
        await #expect(throws: GyreRenderError.self) { _ = try await c.points(pts, reduction: .countCategories(2)) }
        #expect(throws: GyreRenderError.self) { try RenderReduction(name: "median") }
        #expect(try RenderReduction(name: "var") == .variance)
    }
}

/// Lines worked out by hand (datashader's rules are checked against datashader in the interop suite).
@Suite("GyreRender: lines")
struct LineTests {
    @Test("a diagonal visits one pixel a column, a joint once, a NaN breaks the line, a segment off the canvas is clipped")
    func lines() throws {
        let canvas = try Canvas(width: 4, height: 4, xRange: 0...4, yRange: 0...4)
        func counts(_ x: [Double], _ y: [Double]) throws -> [Double] { try canvas.line(try Points(x: x, y: y)).data.doubles()! }
        // (0.5, 0.5) to (3.5, 3.5): the diagonal.
        let diag = try counts([0.5, 3.5], [0.5, 3.5])
        #expect(diag == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        // Two segments meeting at (3.5, 0.5): the joint is visited once.
        let vee = try counts([0.5, 3.5, 3.5], [0.5, 0.5, 3.5])
        #expect(vee.reduce(0, +) == 7 && vee[3] == 1)
        // A NaN breaks the line: no segment joins its neighbours.
        let broken = try counts([0.5, 3.5, .nan, 0.5, 3.5], [0.5, 0.5, 0, 3.5, 3.5])
        #expect(broken == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
        // From outside the canvas to inside: clipped at the edge, the pixels inside drawn.
        let clipped = try counts([-10, 2.5], [1.5, 1.5])
        #expect(clipped == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        // Values: each segment brings its first point's value.
        let sums = try canvas.line(try Points(x: [0.5, 3.5, 3.5], y: [0.5, 0.5, 3.5], values: [2, 5, 100]), reduction: .sum).data.doubles()!
        #expect(sums[0] == 2 && sums[3] == 2 && sums[15] == 5)
        // Infinities and overflowing differences break the line as NaN does.
        let wild = try counts([0.5, .infinity, 0.5, 3.5, -1e308, 1e308, 2.5], [0.5, 1, 3.5, 3.5, 0, 1, 1.5])
        // (0.5, 3.5)-(3.5, 3.5): row 3 (a new start after the break); back towards -1e308:
        // row 3 again, clipped at the left edge; (-1e308)-(1e308): a difference past the
        // largest Double, not drawn; from 1e308 to (2.5, 1.5): row 1, clipped (at 1e308 the
        // clipped start loses its 4 to rounding, as datashader's arithmetic does, and lands at 0).
        #expect(wild == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2, 1])
        #expect(throws: GyreRenderError.self) { try canvas.line(try Points(x: [0, 1], y: [0, 1]), reduction: .countCategories(2)) }
        #expect(throws: GyreRenderError.self) { try canvas.line(try Points(x: [0, 1], y: [0, 1]), reduction: .sum) }
    }
}

/// Map tiles of points: each tile bins by the whole world's rule at its zoom.
@Suite("GyreRender: points on tiles")
struct TilePointTests {
    @Test("the 16 tiles of zoom 2 stitched together equal the world rendered at once; each point lands in one tile")
    func tilesStitch() async throws {
        var rng = SystemRandomNumberGenerator()
        let e = WebMercator.extent
        var xs: [Double] = [], ys: [Double] = []
        for i in 0..<20_000 {
            // Points on tile and pixel edges as well as anywhere.
            if i % 10 == 0 {
                xs.append(Double(Int.random(in: -4...4, using: &rng)) * e / 4); ys.append(Double(Int.random(in: -512...512, using: &rng)) * e / 512)
            } else {
                xs.append(Double.random(in: -e...e, using: &rng)); ys.append(Double.random(in: -e...e, using: &rng))
            }
        }
        let points = try Points(x: xs, y: ys)
        let world = try Canvas(width: 1024, height: 1024, xRange: -e...e, yRange: -e...e)
        let whole = try await world.points(points, reduction: .count).data.doubles()!
        var stitched = [Double](repeating: -1, count: 1024 * 1024)
        var total = 0.0
        for tx in 0..<4 {
            for ty in 0..<4 {
                let c = try WebMercator.canvas(z: 2, x: tx, y: ty)
                let counts = try await c.points(points, reduction: .count).data.doubles()!
                total += counts.reduce(0, +)
                let col0 = 256 * tx, row0 = 1024 - 256 * (ty + 1)
                for r in 0..<256 { for k in 0..<256 { stitched[(row0 + r) * 1024 + col0 + k] = counts[r * 256 + k] } }
            }
        }
        #expect(total == Double(points.count))
        #expect(stitched == whole)
    }
}
