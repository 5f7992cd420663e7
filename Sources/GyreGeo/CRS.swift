import CProj
import Foundation

/// A coordinate reference system as PROJ knows it: from "EPSG:32633" (any authority code),
/// a WKT string or a PROJ string. Axis order is always x/y (longitude, latitude for
/// geographic CRSs; easting, northing for projected ones), as GDAL and pyproj's
/// `always_xy=True` use it.
public struct CRS: Sendable, Hashable, CustomStringConvertible {
    /// What the CRS was made from (normalized "EPSG:N" for authority codes).
    public let definition: String
    /// The EPSG code, when the CRS has one.
    public let epsg: Int?
    /// The CRS as WKT (GDAL's WKT 1 flavour, as rasterio's `CRS.to_wkt()` and rioxarray's
    /// `spatial_ref` give it).
    public let wkt: String
    /// Latitude and longitude in degrees rather than a projection.
    public let isGeographic: Bool

    public var description: String { epsg.map { "EPSG:\($0)" } ?? definition }

    public init(epsg code: Int) throws { try self.init("EPSG:\(code)") }

    public init(_ text: String) throws {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty, t.utf8.count < 1 << 16 else { throw GyreGeoError(.crs, "CRS '\(text.prefix(80))': empty or too long") }
        let normalized: String
        if let n = Int(t) { normalized = "EPSG:\(n)" } else if t.lowercased().hasPrefix("epsg:") { normalized = "EPSG:" + t.dropFirst(5) } else { normalized = t }
        let ctx = PROJ.context()
        defer { proj_context_destroy(ctx) }
        guard let pj = proj_create(ctx, normalized) else {
            throw GyreGeoError(.crs, "CRS '\(text.prefix(200))': \(PROJ.error(ctx))")
        }
        defer { proj_destroy(pj) }
        guard proj_is_crs(pj) != 0 else { throw GyreGeoError(.crs, "'\(text.prefix(200))' is a coordinate operation, not a CRS") }
        let type = proj_get_type(pj)
        isGeographic = type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS || type == PJ_TYPE_GEOGRAPHIC_CRS
        if let auth = proj_get_id_auth_name(pj, 0), String(cString: auth) == "EPSG", let code = proj_get_id_code(pj, 0), let n = Int(String(cString: code)) {
            epsg = n
            definition = "EPSG:\(n)"
        } else {
            epsg = nil
            definition = normalized
        }
        guard let w = proj_as_wkt(ctx, pj, PJ_WKT1_GDAL, nil) ?? proj_as_wkt(ctx, pj, PJ_WKT2_2019, nil) else {
            throw GyreGeoError(.crs, "CRS '\(text.prefix(200))': PROJ cannot write it as WKT (\(PROJ.error(ctx)))")
        }
        wkt = String(cString: w)
    }

    public static func == (a: CRS, b: CRS) -> Bool { a.definition == b.definition }
    public func hash(into h: inout Hasher) { h.combine(definition) }
}

/// Points carried from one CRS to another by PROJ (the best transformation PROJ finds without
/// network grids, x/y axis order). One transform may be used from several tasks at once: calls
/// take turns on its PROJ context.
public final class CoordinateTransform: @unchecked Sendable {
    public let source: CRS
    public let target: CRS
    /// Same CRS: points pass through untouched.
    public let isIdentity: Bool
    // PROJ objects are not thread-safe: every use holds the lock.
    private let lock = NSLock()
    private let ctx: OpaquePointer?
    private let pj: OpaquePointer?

    public init(from source: CRS, to target: CRS) throws {
        self.source = source
        self.target = target
        isIdentity = source == target
        if isIdentity {
            ctx = nil
            pj = nil
            return
        }
        let ctx = PROJ.context()
        guard let raw = proj_create_crs_to_crs(ctx, source.epsg != nil ? source.definition : source.wkt, target.epsg != nil ? target.definition : target.wkt, nil) else {
            let e = PROJ.error(ctx)
            proj_context_destroy(ctx)
            throw GyreGeoError(.crs, "no transformation from \(source) to \(target): \(e)")
        }
        let norm = proj_normalize_for_visualization(ctx, raw)
        proj_destroy(raw)
        guard let norm else {
            let e = PROJ.error(ctx)
            proj_context_destroy(ctx)
            throw GyreGeoError(.crs, "no transformation from \(source) to \(target) in x/y order: \(e)")
        }
        self.ctx = ctx
        pj = norm
    }

    deinit {
        if let pj { proj_destroy(pj) }
        if let ctx { proj_context_destroy(ctx) }
    }

    /// What PROJ will do, in its words ("UTM zone 33N", "Inverse of ... + ...").
    public var operation: String {
        guard let pj else { return "identity" }
        return lock.withLock { proj_pj_info(pj).description.map { String(cString: $0) } ?? "" }
    }

    /// Transforms points in place; those PROJ cannot carry become NaN.
    public func transform(x: UnsafeMutableBufferPointer<Double>, y: UnsafeMutableBufferPointer<Double>) {
        precondition(x.count == y.count, "CoordinateTransform: \(x.count) x and \(y.count) y values")
        guard let pj, x.count > 0 else { return }
        lock.withLock {
            _ = proj_trans_generic(pj, PJ_FWD, x.baseAddress, MemoryLayout<Double>.stride, x.count, y.baseAddress, MemoryLayout<Double>.stride, y.count,
                                   nil, 0, 0, nil, 0, 0)
            proj_errno_reset(pj)
        }
        for i in 0..<x.count where !x[i].isFinite || !y[i].isFinite || abs(x[i]) == .greatestFiniteMagnitude {
            x[i] = .nan
            y[i] = .nan
        }
    }

    /// The points transformed.
    public func transform(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        var xs = points.map(\.x), ys = points.map(\.y)
        xs.withUnsafeMutableBufferPointer { xb in ys.withUnsafeMutableBufferPointer { yb in transform(x: xb, y: yb) } }
        return zip(xs, ys).map { ($0, $1) }
    }
}

enum PROJ {
    /// A context that never reaches for the network (grids come from the system's proj-data
    /// only) and logs nothing.
    static func context() -> OpaquePointer? {
        let ctx = proj_context_create()
        _ = proj_context_set_enable_network(ctx, 0)
        proj_log_level(ctx, PJ_LOG_NONE)
        return ctx
    }

    static func error(_ ctx: OpaquePointer?) -> String {
        let e = proj_context_errno(ctx)
        guard e != 0, let s = proj_context_errno_string(ctx, e) else { return "PROJ does not know it" }
        return String(cString: s)
    }
}
