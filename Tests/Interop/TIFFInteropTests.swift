import Foundation
import GyreTestSupport
import Testing
import Gyre

/// GeoTIFFs and COGs written by GDAL (rasterio's, `tiff_cases.py`), read by Gyre value for value
/// as rasterio reads them: every compression but JPEG, predictors 2 and 3, tiles and strips,
/// pixel and band interleaving, BigTIFF, big-endian files, nodata, scale and offset,
/// geographic, projected, rotated and PixelIsPoint georeferencing, COG and internal overviews;
/// and broken files refused naming the file and what is wrong.
@Suite("Interop: GeoTIFF and COG against GDAL (rasterio)", .enabled(if: Interop.enabled), .serialized)
struct TIFFInteropTests {
    static func cases(_ dir: URL) throws -> [JSONObject] {
        let j = try JSON.parse(Array(try Data(contentsOf: dir.appendingPathComponent("cases.json"))))
        return try #require(j.array).compactMap(\.object)
    }

    static func npy(_ dir: URL, _ name: String) throws -> AnyNDArray {
        try AnyNDArray.readNPY(dir.appendingPathComponent(name))
    }

    @Test("every lossless fixture: shape, dtype, values, transform, EPSG, nodata, scale and offset, overviews, as rasterio reads them")
    func fixtures() async throws {
        let dir = try Interop.generate("tiff_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        var checked = 0
        for c in try Self.cases(dir) {
            let file = try #require(c["file"]?.string)
            let path = dir.appendingPathComponent(file).path
            if c["lossy"]?.bool == true {
                // JPEG is not decoded: the error says so and names the file.
                await #expect(throws: GyreTIFFError.self) { _ = try await GeoTIFF.open(path).array().read(region: [Slice(), Slice(), Slice()]) }
                do { _ = try await GeoTIFF.open(path) } catch let e as GyreTIFFError {
                    #expect(e.message.contains(path) && e.message.contains("JPEG"), "\(file): \(e.message)")
                }
                continue
            }
            let tiff = try await GeoTIFF.open(path)
            let shape = try #require(c["shape"]?.array).compactMap(\.integer).map(Int.init)
            #expect([tiff.image.bands, tiff.image.height, tiff.image.width] == shape, "\(file): shape")
            #expect(tiff.image.dtype.description == c["dtype"]?.string, "\(file): dtype \(tiff.image.dtype)")
            #expect(tiff.image.tiled == c["tiled"]?.bool, "\(file): tiled")
            #expect(tiff.bigTIFF == c["bigtiff"]?.bool, "\(file): BigTIFF")
            #expect(tiff.littleEndian == (c["byteorder"]?.string == "little"), "\(file): byte order")
            let want = try Self.npy(dir, try #require(c["values"]?.string))
            let got = try await tiff.array().read(region: [Slice(), Slice(), Slice()])
            let gotBytes = try got.rawBytes(), wantBytes = try want.rawBytes()
            let same = got.shape == want.shape && got.dtype == want.dtype && gotBytes == wantBytes
            #expect(same, "\(file): values differ from rasterio's")
            // A window across tile edges, with steps, equals the same window of the whole.
            let window = [Slice(0, shape[0]), Slice(shape[1] / 3, shape[1] - 1, step: 2), Slice(5, shape[2] - 7, step: 3)]
            let part = try await tiff.array().read(region: window)
            let sameWindow = (try part.rawBytes()) == (try want.index(window.map { AxisIndex.slice($0) }).contiguous().rawBytes())
            #expect(sameWindow, "\(file): a window differs")
            // Georeferencing.
            let t = try #require(c["transform"]?.array).compactMap(\.number)
            if c["epsg"] == .null && t == [1, 0, 0, 0, 1, 0] {
                #expect(tiff.geo == nil || tiff.geo?.epsg == nil, "\(file): georeferencing where rasterio finds none")
            } else {
                let g = try #require(tiff.geo, "\(file): no georeferencing")
                #expect(zip(g.transform, t).allSatisfy { abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) }, "\(file): transform \(g.transform), rasterio \(t)")
                #expect(g.epsg.map(Int64.init) == c["epsg"]?.integer, "\(file): EPSG \(String(describing: g.epsg))")
                #expect(g.pixelIsPoint == (c["area_or_point"]?.string == "Point"), "\(file): raster type")
            }
            switch c["nodata"] {
            case .string("nan")?: #expect(tiff.nodata?.isNaN == true, "\(file): nodata")
            case .null?, nil: #expect(tiff.nodata == nil, "\(file): nodata \(String(describing: tiff.nodata))")
            case let v?: #expect(tiff.nodata == v.number, "\(file): nodata \(String(describing: tiff.nodata))")
            }
            #expect(tiff.scales == (c["scale"]?.array ?? []).compactMap(\.number), "\(file): scales \(tiff.scales)")
            #expect(tiff.offsets == (c["offset"]?.array ?? []).compactMap(\.number), "\(file): offsets \(tiff.offsets)")
            // Overviews, largest first, each value for value.
            let ovShapes = (c["overviews"]?.array ?? []).compactMap { $0.array?.compactMap(\.integer).map(Int.init) }
            #expect(tiff.overviews.map { [$0.height, $0.width] } == ovShapes, "\(file): overviews \(tiff.overviews.map { [$0.height, $0.width] })")
            for (k, name) in (c["overview_values"]?.array ?? []).compactMap(\.string).enumerated() where k < tiff.overviews.count {
                let w = try Self.npy(dir, name)
                let g = try await tiff.array(level: k + 1).read(region: [Slice(), Slice(), Slice()])
                let sameOverview = (try g.rawBytes()) == (try w.rawBytes())
                #expect(sameOverview, "\(file): overview \(k + 1) differs")
            }
            checked += 1
        }
        #expect(checked >= 40, "only \(checked) fixtures checked")
    }

    @Test("Dataset.open on a GeoTIFF: band_data (band, y, x) with pixel-centre coordinates, nodata as NaN, scale and offset applied, spatial_ref")
    func dataset() async throws {
        let dir = try Interop.generate("tiff_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Nodata: masked to NaN by CF decoding, as rioxarray's open_dataset does.
        let nd = try await Dataset.open(dir.appendingPathComponent("nodata_m9999_f32.tif").path).load()
        let v = try #require(nd.variables["band_data"])
        #expect(v.dims == ["band", "y", "x"])
        let raw = try #require(try Self.npy(dir, "nodata_m9999_f32.npy").doubles())
        let decoded = try #require(try v.data.doubles())
        #expect(raw.count == decoded.count && zip(raw, decoded).allSatisfy { $0 == -9999 ? $1.isNaN : $0 == $1 }, "nodata not masked")
        #expect(raw.contains(-9999))
        // Coordinates: pixel centres from the transform.
        let cog = try await Dataset.open(dir.appendingPathComponent("cog_deflate_u16.tif").path)
        let x = try #require(try cog.variables["x"]!.data.doubles()), y = try #require(try cog.variables["y"]!.data.doubles())
        #expect(x.count == 900 && y.count == 700 && x[0] == 500005 && y[0] == 4999995 && x[1] - x[0] == 10 && y[1] - y[0] == -10)
        let wkt = cog.variables["spatial_ref"]?.attrs["crs_wkt"]?.stringValue ?? ""
        #expect(wkt.contains("UTM zone 33N") && cog.variables["spatial_ref"]?.attrs["spatial_ref"]?.stringValue == wkt, "\(wkt)")
        #expect(cog.variables["band_data"]?.attrs["grid_mapping"]?.stringValue == "spatial_ref")
        // One scale and offset for all bands would be applied; per-band ones are kept as attributes.
        let so = try await Dataset.open(dir.appendingPathComponent("scale_offset_i16.tif").path)
        #expect(so.variables["band_data"]?.attrs["scales"]?.doubles == [0.01, 0.5, 2])
        // gyre info opens it as any dataset.
        let r = try CLITests.gyre(["info", dir.appendingPathComponent("cog_zstd_pred2_i16.tif").path])
        #expect(r.status == 0 && r.out.contains("band_data") && r.out.contains("spatial_ref"), "\(r.err)")
    }

    @Test("broken files: truncated, a directory past the end, an unknown compression: errors naming the file and what is wrong")
    func broken() async throws {
        let dir = try Interop.generate("tiff_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let truncated = dir.appendingPathComponent("bad_truncated.tif").path
        let t = try await GeoTIFF.open(truncated)
        do {
            _ = try await t.array().read(region: [Slice(), Slice(), Slice()])
            Issue.record("a truncated file read")
        } catch {
            #expect("\(error)".contains(truncated), "\(error)")
        }
        do {
            _ = try await GeoTIFF.open(dir.appendingPathComponent("bad_ifd_offset.tif").path)
            Issue.record("a directory past the end opened")
        } catch let e as GyreTIFFError {
            #expect(e.message.contains("bad_ifd_offset.tif") && e.message.contains("past the end"), "\(e.message)")
        }
        do {
            _ = try await GeoTIFF.open(dir.appendingPathComponent("bad_compression.tif").path)
            Issue.record("an unknown compression opened")
        } catch let e as GyreTIFFError {
            #expect(e.code == .unsupported && e.message.contains("JPEG 2000") && e.message.contains("bad_compression.tif"), "\(e.message)")
        }
        let r = try CLITests.gyre(["info", dir.appendingPathComponent("bad_ifd_offset.tif").path])
        #expect(r.status != 0 && r.err.contains("bad_ifd_offset.tif"), "gyre info: \(r.err)")
    }

    @Test("COGs Gyre writes pass GDAL's COG rules (rio-cogeo) and read back in rasterio and in Gyre as written: deflate, zstd, predictors, bands, nodata, BigTIFF, overviews")
    func writer() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-cog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func smooth(_ bands: Int, _ h: Int, _ w: Int, _ f: (Int, Int, Int) -> Double) -> [Double] {
            var v: [Double] = []
            for b in 0..<bands { for y in 0..<h { for x in 0..<w { v.append(f(b, y, x)) } } }
            return v
        }
        let u16 = try AnyNDArray.float64(try NDArray(shape: [1, 700, 900], smooth(1, 700, 900) { _, y, x in Double((y * 37 + x * 11) % 4000 + 100) })).astype(.uint16)
        var nanValues = smooth(1, 300, 257) { _, y, x in sin(Double(x) / 17) * cos(Double(y) / 23) * 100 }
        for k in stride(from: 0, to: nanValues.count, by: 13) { nanValues[k] = .nan }
        let f32 = try AnyNDArray.float64(try NDArray(shape: [1, 300, 257], nanValues)).astype(.float32)
        let i16 = try AnyNDArray.float64(try NDArray(shape: [3, 130, 100], smooth(3, 130, 100) { b, y, x in Double(b * 1000 - y * 7 + x * 3) })).astype(.int16)
        let f64 = try AnyNDArray.float64(try NDArray(shape: [2, 64, 80], smooth(2, 64, 80) { b, y, x in Double(b) + Double(y) * 0.5 - Double(x) * 0.25 }))
        let utm = [10.0, 0, 500_000, 0, -10, 5_000_000]
        var cases: [JSON] = []
        func write(_ name: String, _ a: AnyNDArray, epsg: Int, geographic: Bool = false, transform: [Double], nodata: Double?, _ configure: (inout COGOptions) -> Void) throws {
            var o = COGOptions()
            configure(&o)
            try COGWriter.write(a, to: dir.appendingPathComponent(name).path, epsg: epsg, geographic: geographic, transform: transform, nodata: nodata, options: o)
            try a.npyData().write(to: dir.appendingPathComponent(name + ".npy"))
            var levels = 0, side = Swift.max(a.shape[1], a.shape[2]), small = Swift.min(a.shape[1], a.shape[2])
            while o.overviews && side > o.blockSize && small >= 2 { levels += 1; side /= 2; small /= 2 }
            cases.append(["file": .string(name), "values": .string(name + ".npy"), "epsg": .int(Int64(epsg)), "transform": .array(transform.map { .double($0) }),
                          "nodata": nodata.map { $0.isNaN ? JSON.string("nan") : .double($0) } ?? .null, "overviews": .int(Int64(levels))])
        }
        try write("u16_deflate.tif", u16, epsg: 32633, transform: utm, nodata: 0) { $0.blockSize = 256 }
        try write("f32_zstd_nan.tif", f32, epsg: 4326, geographic: true, transform: [0.01, 0, 10, 0, -0.01, 50], nodata: .nan) { $0.compression = .zstd; $0.blockSize = 64; $0.level = 3 }
        try write("i16_bands_big.tif", i16, epsg: 3857, transform: [30, 0, 1_000_000, 0, -30, 6_000_000], nodata: -32768) { $0.bigTIFF = true; $0.blockSize = 32 }
        try write("f64_plain.tif", f64, epsg: 32633, transform: utm, nodata: nil) { $0.compression = .none; $0.predictor = false; $0.overviews = false; $0.blockSize = 32 }
        try Data(JSON.array(cases).text.utf8).write(to: dir.appendingPathComponent("cogs.json"))
        let (status, out) = try Interop.script("cog_check.py", [dir.appendingPathComponent("cogs.json").path])
        #expect(status == 0 && out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "GDAL on Gyre's COGs:\n\(out)")
        // Gyre reads them back as written, overviews included.
        for (name, a) in [("u16_deflate.tif", u16), ("f32_zstd_nan.tif", f32), ("i16_bands_big.tif", i16), ("f64_plain.tif", f64)] {
            let t = try await GeoTIFF.open(dir.appendingPathComponent(name).path)
            let back = try await t.array().read(region: [Slice(), Slice(), Slice()])
            let same = (try back.rawBytes()) == (try a.rawBytes())
            #expect(same, "\(name): Gyre reads other values back")
            for level in 1...Swift.max(1, t.overviews.count) where level <= t.overviews.count {
                _ = try await t.array(level: level).read(region: [Slice(), Slice(), Slice()])
            }
        }
        #expect(try await GeoTIFF.open(dir.appendingPathComponent("u16_deflate.tif").path).overviews.count == 2)
    }
}
