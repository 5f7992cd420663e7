import Foundation
import GyreTestSupport
import Testing
import Gyre

/// Coordinate transforms against pyproj and reprojection against rasterio (GDAL's warper) on
/// the same grids (`warp_cases.py`): nearest identical, bilinear within 1e-4, with GDAL's
/// exact transformer and with its default approximate one (0.125 pixel).
@Suite("Interop: PROJ transforms against pyproj, reprojection against rasterio.warp", .enabled(if: Interop.enabled), .serialized)
struct WarpInteropTests {
    static func load(_ dir: URL, _ name: String) throws -> [JSONObject] {
        let j = try JSON.parse(Array(try Data(contentsOf: dir.appendingPathComponent(name))))
        return try #require(j.array).compactMap(\.object)
    }

    struct Missing: Error { let key: String }
    static func str(_ c: JSONObject, _ k: String) throws -> String { guard let s = c[k]?.string else { throw Missing(key: k) }; return s }
    static func nums(_ c: JSONObject, _ k: String) throws -> [Double] { guard let a = c[k]?.array else { throw Missing(key: k) }; return a.compactMap(\.number) }
    static func npy(_ dir: URL, _ c: JSONObject, _ k: String) throws -> AnyNDArray { try AnyNDArray.readNPY(dir.appendingPathComponent(try str(c, k))) }

    @Test("coordinate transforms between EPSG codes equal pyproj's within 1 mm")
    func points() throws {
        let dir = try Interop.generate("warp_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        var pairs = 0
        for c in try Self.load(dir, "points.json") {
            let src = try CRS(try Self.str(c, "src")), dst = try CRS(try Self.str(c, "dst"))
            let input = try #require(c["xy"]?.array).compactMap { $0.array?.compactMap(\.number) }.map { (x: $0[0], y: $0[1]) }
            let want = try #require(c["out"]?.array).compactMap { $0.array?.compactMap(\.number) }
            let got = try CoordinateTransform(from: src, to: dst).transform(input)
            // 1 mm: 1e-3 in metres, about 1e-8 in degrees.
            let tol = dst.isGeographic ? 1e-8 : 1e-3
            for (g, w) in zip(got, want) {
                #expect(abs(g.x - w[0]) <= tol && abs(g.y - w[1]) <= tol, "\(src) -> \(dst): \(g) against pyproj's \(w)")
            }
            pairs += 1
        }
        #expect(pairs >= 8)
    }

    @Test("reprojection equals rasterio.warp.reproject: nearest identical, bilinear within 1e-4, downsampling, nodata, other CRSs")
    func warp() throws {
        let dir = try Interop.generate("warp_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        var checked = 0
        for c in try Self.load(dir, "warp.json") {
            let name = try Self.str(c, "name")
            let source = try Self.npy(dir, c, "src")
            let src = Grid(crs: try CRS(try Self.str(c, "src_crs")), transform: try Affine(try Self.nums(c, "src_transform")), width: source.shape[2], height: source.shape[1])
            let shape = try Self.nums(c, "dst_shape").map { Int($0) }
            let dst = Grid(crs: try CRS(try Self.str(c, "dst_crs")), transform: try Affine(try Self.nums(c, "dst_transform")), width: shape[1], height: shape[0])
            let resampling = try #require(Resampling(rawValue: try Self.str(c, "resampling")))
            let nodata: Double? = c["nodata"]?.string == "nan" ? .nan : c["nodata"]?.number
            for (key, threshold) in [("out_exact", 0.0), ("out", 0.125)] {
                let wantArray = try Self.npy(dir, c, key).astype(.float64)
                let gotArray = try Warp.reproject(source, from: src, to: dst, resampling: resampling, nodata: nodata, errorThreshold: threshold).astype(.float64)
                let want = try #require(try wantArray.doubles()), got = try #require(try gotArray.doubles())
                try #require(got.count == want.count, "\(name): \(got.count) values, rasterio \(want.count)")
                var worst = 0.0, mismatched = 0
                for (g, w) in zip(got, want) {
                    if g.isNaN || w.isNaN { if g.isNaN != w.isNaN { mismatched += 1 }; continue }
                    let d = abs(g - w) / Swift.max(1, abs(w))
                    if resampling == .nearest ? d != 0 : d > 1e-4 { mismatched += 1 }
                    worst = Swift.max(worst, d)
                }
                #expect(mismatched == 0, "\(name) against rasterio's \(key): \(mismatched) of \(got.count) pixels differ (worst relative \(worst))")
            }
            checked += 1
        }
        #expect(checked >= 17)
    }
}
