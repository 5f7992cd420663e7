import Foundation
import GyreArrays
import GyreCore
import GyreData
import GyreRender
import Synchronization

/// Where a dataset's points are: 1-D longitude and latitude variables along one dimension (a
/// table of observations, not a grid).
struct PointLayout: Sendable {
    let lon: String
    let lat: String
    let dim: String

    static func find(_ ds: Dataset) -> PointLayout? {
        func pick(_ names: [String], _ standard: String, _ units: [String]) -> (String, Variable)? {
            ds.variables.first { name, v in
                v.ndim == 1 && v.dims[0] != name && v.dtype.isNumeric
                    && (names.contains(name.lowercased()) || v.attrs["standard_name"]?.stringValue == standard
                        || units.contains(v.attrs["units"]?.stringValue ?? ""))
            }.map { ($0.key, $0.value) }
        }
        guard let (lon, lv) = pick(["lon", "longitude"], "longitude", ["degrees_east", "degree_east", "degrees_E"]),
              let (lat, yv) = pick(["lat", "latitude"], "latitude", ["degrees_north", "degree_north", "degrees_N"]),
              lv.dims == yv.dims else { return nil }
        return PointLayout(lon: lon, lat: lat, dim: lv.dims[0])
    }
}

/// Points projected to Web Mercator, kept per dataset and value variable (a few at a time),
/// and the points' bounds. Tiles asked for at once share one load.
final class ProjectedPoints: Sendable {
    private let cache = Mutex<[String: Task<Points, any Error>]>([:])
    private let bounds = Mutex<[Double]?>(nil)

    func points(_ key: String, make: @escaping @Sendable () async throws -> Points) async throws -> Points {
        let task = cache.withLock { c -> Task<Points, any Error> in
            if let t = c[key] { return t }
            if c.count >= 8 { c.removeAll() }
            let t = Task { try await make() }
            c[key] = t
            return t
        }
        do { return try await task.value } catch {
            // A failed load is not kept.
            cache.withLock { c in if c[key] == task { c[key] = nil } }
            throw error
        }
    }

    /// West, south, east, north of the points (computed once).
    func bounds(make: () async throws -> [Double]) async throws -> [Double] {
        if let b = bounds.withLock({ $0 }) { return b }
        let b = try await make()
        bounds.withLock { $0 = b }
        return b
    }
}

extension STACService {
    /// One tile of a point dataset: the points in the tile re-aggregated at its zoom, binned by
    /// the whole world's pixel rule at that zoom (each point in exactly one tile), then shaded.
    /// `agg=` count (the default for the longitude or latitude variable), any, sum, mean (the
    /// default for a value variable), min, max, std or var; `how=` eq_hist by default, as
    /// datashader; `cmap=` fire by default; `range=` a span (not with eq_hist).
    func pointTile(_ d: ServedDataset, _ layout: PointLayout, _ v: Variable, variable: String, z: Int, x: Int, y: Int, query: QueryString) async throws -> RGBAImage {
        let coordinate = variable == layout.lon || variable == layout.lat
        var options = ShadeOptions(cmap: try Colormap.named("fire"), how: .eqHist)
        var reduction: RenderReduction = coordinate ? .count : .mean
        for (name, value) in query.pairs {
            switch name {
            case "cmap": options.cmap = try Self.colormapParameter(value)
            case "how": options.how = try Self.shadeParameter(value)
            case "agg":
                do { reduction = try RenderReduction(name: value) } catch { throw GyreServerError(.badRequest, "agg: \(error)") }
                if case .countCategories = reduction { throw GyreServerError(.badRequest, "agg=count_cat is not drawn on tiles") }
            case "range": options.span = try Self.rangeParameter(value)
            case "token", "sig", "se", "sp", "sr", "st": break
            default:
                throw GyreServerError(.badRequest, "unknown tile parameter '\(name.prefix(80))' for points: use agg, cmap, how or range")
            }
        }
        if options.how == .eqHist && options.span != nil {
            throw GyreServerError(.badRequest, "range cannot be used with how=eq_hist (histogram equalization spreads the tile's own values)")
        }
        let usesValues = !coordinate
        if coordinate && reduction.requiresValues {
            throw GyreServerError(.badRequest, "agg=\(reduction.name) needs a value variable, not the coordinate '\(variable)'")
        }
        let key = usesValues ? variable : "<points>"
        let points = try await d.points.points(key) {
            guard let lon = try await d.dataset.variables[layout.lon]!.load().data.doubles(),
                  let lat = try await d.dataset.variables[layout.lat]!.load().data.doubles() else {
                throw GyreServerError(.badRequest, "the points' '\(layout.lon)' and '\(layout.lat)' are not numbers")
            }
            var xs = [Double](repeating: .nan, count: lon.count), ys = xs
            for i in lon.indices where lon[i].isFinite && lat[i].isFinite && abs(lat[i]) <= WebMercator.maxLatitude {
                var l = (lon[i] + 180).truncatingRemainder(dividingBy: 360)
                if l < 0 { l += 360 }
                xs[i] = WebMercator.x(longitude: l - 180)
                ys[i] = WebMercator.y(latitude: lat[i])
            }
            let values = usesValues ? try await v.load().data : nil
            return try Points(x: .float64(NDArray(xs)), y: .float64(NDArray(ys)), values: try values.map { try .init($0, name: variable) })
        }
        let canvas = try WebMercator.canvas(z: z, x: x, y: y)
        let agg = try await canvas.points(points, reduction: reduction, usesValues: usesValues)
        do { return try shade(agg, options) } catch { throw GyreServerError(.badRequest, "\(error)") }
    }
}
