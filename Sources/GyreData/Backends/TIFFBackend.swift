import Foundation
import GyreArrays
import GyreCompute
import GyreGeo
import GyreStorage
import GyreTIFF
import OrderedCollections

extension Dataset {
    /// A GeoTIFF (or COG) as rioxarray's `open_dataset(engine="rasterio")` gives it: the lazy
    /// (band, y, x) variable `band_data` with `_FillValue` (GDAL's nodata), `scale_factor` and
    /// `add_offset` (when every band has the same) for CF decoding; coordinates `band` (1...),
    /// `x` and `y` (pixel centres, for transforms without rotation) and `spatial_ref` holding
    /// the CRS and GDAL's GeoTransform, named by `band_data`'s `grid_mapping`. `level` picks an
    /// overview (0: full resolution).
    public static func openGeoTIFF(_ tiff: GeoTIFF, level: Int = 0, decode options: CFDecodeOptions = CFDecodeOptions()) async throws -> Dataset {
        let array: TIFFArray
        let transform: [Double]?
        do {
            array = try tiff.array(level: level)
            transform = try tiff.transform(level: level)
        } catch let e as GyreTIFFError { throw GyreDataError(.invalidArgument, e.message, cause: e) }
        let im = array.image
        var attrs: Attributes = [:]
        if let nd = tiff.nodata, im.dtype.isFloatingPoint || im.dtype.holds(nd) {
            attrs["_FillValue"] = try AttributeValue.scalar(.double(nd), dtype: im.dtype)
        }
        if Set(tiff.scales).count == 1, Set(tiff.offsets).count == 1, tiff.scales[0] != 1 || tiff.offsets[0] != 0 {
            attrs["scale_factor"] = .double(tiff.scales[0])
            attrs["add_offset"] = .double(tiff.offsets[0])
        } else if tiff.scales.contains(where: { $0 != 1 }) || tiff.offsets.contains(where: { $0 != 0 }) {
            // Per-band values: kept as rioxarray keeps them, not applied.
            attrs["scales"] = .doubles(tiff.scales)
            attrs["offsets"] = .doubles(tiff.offsets)
        }
        if let g = tiff.geo { attrs["AREA_OR_POINT"] = .string(g.pixelIsPoint ? "Point" : "Area") }
        for (k, v) in tiff.metadata.sorted(by: { $0.key < $1.key }) where attrs[k] == nil { attrs[k] = .string(v) }
        var encoding: Attributes = ["source": .string(tiff.name)]
        encoding["dtype"] = .string(im.dtype.description)
        if im.tiled { encoding["blockxsize"] = .int(Int64(im.blockWidth)); encoding["blockysize"] = .int(Int64(im.blockHeight)) }
        var raw: OrderedDictionary<String, Variable> = [:]
        var coordNames: Set<String> = ["band"]
        raw["band_data"] = try Variable(["band", "y", "x"], lazy: LazyArray(array), attrs: attrs, encoding: encoding)
        raw["band"] = try Variable(["band"], .int64(NDArray((1...im.bands).map(Int64.init))))
        if let t = transform {
            if t[1] == 0 && t[3] == 0 {
                raw["x"] = try Variable(["x"], .float64(NDArray((0..<im.width).map { t[2] + (Double($0) + 0.5) * t[0] })))
                raw["y"] = try Variable(["y"], .float64(NDArray((0..<im.height).map { t[5] + (Double($0) + 0.5) * t[4] })))
            }
            var sr: Attributes = ["GeoTransform": .string(Affine(t[0], t[1], t[2], t[3], t[4], t[5]).gdalGeoTransform)]
            if let epsg = tiff.geo?.epsg {
                // The CRS as rioxarray writes it: WKT in crs_wkt and spatial_ref.
                let crs = try? CRS(epsg: epsg)
                sr["crs_wkt"] = .string(crs?.wkt ?? "EPSG:\(epsg)")
                sr["spatial_ref"] = .string(crs?.wkt ?? "EPSG:\(epsg)")
            }
            raw["spatial_ref"] = try Variable([], .int64(NDArray(scalar: 0)), attrs: sr)
            raw["band_data"]!.attrs["grid_mapping"] = .string("spatial_ref")
            coordNames.formUnion(["x", "y", "spatial_ref"])
        }
        let (coords, dataVars) = try await splitOpened(raw, coordNames: coordNames, options: options, source: tiff.name)
        var ds = try Dataset(dataVars: dataVars, coords: coords, attrs: [:])
        ds.encoding["source"] = .string(tiff.name)
        ds.encoding["format"] = .string(tiff.bigTIFF ? "BigTIFF" : "TIFF")
        return ds
    }

    /// Opens a local GeoTIFF, or one in a store (by byte range).
    public static func openGeoTIFF(_ path: String, level: Int = 0, decode options: CFDecodeOptions = CFDecodeOptions(),
                                   storageOptions: [String: String] = [:]) async throws -> Dataset {
        let tiff: GeoTIFF
        do {
            if StoreResolver.scheme(path) != nil {
                let (parent, key) = try StoreResolver.file(path, options: storageOptions)
                tiff = try await GeoTIFF.open(store: parent, key: key, name: HTTPTransport.shown(path))
            } else {
                tiff = try await GeoTIFF.open(path)
            }
        } catch let e as GyreTIFFError {
            throw GyreDataError(e.code == .notFound ? .fileNotFound : .read, e.message, cause: e)
        }
        return try await openGeoTIFF(tiff, level: level, decode: options)
    }

    /// Whether a path or URL names a TIFF (by its extension).
    package static func hasTIFFName(_ path: String) -> Bool {
        let p = path.split(separator: "?").first.map(String.init)?.lowercased() ?? ""
        return p.hasSuffix(".tif") || p.hasSuffix(".tiff")
    }

    /// Whether a local file starts with a TIFF or BigTIFF header.
    package static func sniffTIFF(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let b = [UInt8]((try? h.read(upToCount: 4)) ?? Data())
        return b == [0x49, 0x49, 42, 0] || b == [0x4D, 0x4D, 0, 42] || b == [0x49, 0x49, 43, 0] || b == [0x4D, 0x4D, 0, 43]
    }
}
