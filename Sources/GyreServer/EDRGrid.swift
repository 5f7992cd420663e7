import Foundation
import GyreArrays
import GyreCore
import GyreData

/// A served dataset seen as an OGC API EDR collection: its longitude and latitude axes (and
/// time and vertical axes when it has them), found from CF attributes as cf_xarray finds them,
/// and the data variables laid out on them (the collection's parameters).
struct EDRGrid: Sendable {
    let x: String, y: String
    let t: String?, z: String?
    let parameters: [String]
    let xValues: [Double], yValues: [Double]
    /// A longitude axis that goes past 180 (0 to 360): queries in -180 to 180 are matched on
    /// the circle, and answers give longitudes in -180 to 180 as CRS84 has them.
    let wraps: Bool

    /// The grid of a dataset, or an error saying why it has none (no 1-D longitude and latitude
    /// coordinates, or no variable on them).
    init(_ ds: Dataset, name: String) throws(GyreServerError) {
        func attr(_ v: Variable, _ k: String) -> String? { v.attrs[k]?.stringValue?.lowercased() }
        func find(_ test: (String, Variable) -> Bool) -> String? {
            ds.coords.first { k, v in v.dims == [k] && ds.indexes[k] != nil && test(k, v) }?.key
        }
        let lonUnits: Set<String> = ["degrees_east", "degree_east", "degrees_e", "degree_e", "degreee", "degreese"]
        let latUnits: Set<String> = ["degrees_north", "degree_north", "degrees_n", "degree_n", "degreen", "degreesn"]
        guard let x = find({ k, v in attr(v, "standard_name") == "longitude" || lonUnits.contains(attr(v, "units") ?? "")
                               || ["lon", "longitude"].contains(k.lowercased()) }),
              let y = find({ k, v in attr(v, "standard_name") == "latitude" || latUnits.contains(attr(v, "units") ?? "")
                               || ["lat", "latitude"].contains(k.lowercased()) }) else {
            throw GyreServerError(.notFound, "dataset '\(name)' is not an EDR collection: it has no 1-D longitude and latitude coordinates "
                                  + "(standard_name longitude/latitude or units degrees_east/degrees_north)")
        }
        let t = find { k, v in v.dtype.isDatetime || attr(v, "axis") == "t" || attr(v, "standard_name") == "time" }
        let zNames: Set<String> = ["depth", "height", "altitude", "air_pressure", "model_level_number", "atmosphere_sigma_coordinate",
                                   "ocean_sigma_coordinate", "ocean_s_coordinate", "atmosphere_hybrid_sigma_pressure_coordinate"]
        let z = find { k, v in
            k != x && k != y && k != t && v.dtype.isNumeric
                && (attr(v, "axis") == "z" || attr(v, "positive") != nil || zNames.contains(attr(v, "standard_name") ?? "")
                    || ["z", "depth", "lev", "level", "height", "plev", "pressure"].contains(k.lowercased()))
        }
        let axes = Set([x, y, t, z].compactMap { $0 })
        let parameters = ds.dataVars.filter { _, v in
            v.dtype.isNumeric && v.dims.contains(x) && v.dims.contains(y) && Set(v.dims).isSubset(of: axes)
        }.map(\.key)
        guard !parameters.isEmpty else {
            throw GyreServerError(.notFound, "dataset '\(name)' is not an EDR collection: no numeric variable lies on its '\(x)' and '\(y)' axes")
        }
        self.x = x; self.y = y; self.t = t; self.z = z
        self.parameters = parameters
        xValues = (try? ds.variables[x]!.data.doubles()) ?? []
        yValues = (try? ds.variables[y]!.data.doubles()) ?? []
        wraps = (xValues.max() ?? 0) > 180
    }

    /// A longitude in -180 to 180, as CRS84 gives it.
    func lon(_ v: Double) -> Double {
        guard wraps, v >= 180 else { return v }
        return v - 360
    }

    /// West, south, east, north of the grid points, longitudes in -180 to 180 (the whole
    /// circle when the grid goes round it).
    var bbox: [Double] {
        let xs = xValues.map(lon), ys = yValues
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return [-180, -90, 180, 90] }
        if wraps { return [-180, y0, 180, y1] }
        return [x0, y0, x1, y1]
    }

    /// The position of the nearest longitude (on the circle when the axis wraps) and latitude;
    /// a point further than one grid step outside the grid is an error.
    func nearest(_ p: WKTGeometry.Point) throws -> (xi: Int, yi: Int) {
        func closest(_ values: [Double], _ q: Double, circular: Bool) -> (Int, Double)? {
            var best: (Int, Double)?
            for (i, v) in values.enumerated() {
                var d = Swift.abs(v - q)
                if circular { d = d.truncatingRemainder(dividingBy: 360); d = Swift.min(d, 360 - d) }
                if best == nil || d < best!.1 { best = (i, d) }
            }
            return best
        }
        func step(_ values: [Double]) -> Double {
            guard values.count > 1 else { return 1 }
            return Swift.abs(values[values.count - 1] - values[0]) / Double(values.count - 1)
        }
        // Longitudes are compared on the circle: -30 and 330 are the same meridian.
        guard let (xi, dx) = closest(xValues, p.x, circular: true), let (yi, dy) = closest(yValues, p.y, circular: false) else {
            throw GyreServerError(.notFound, "the collection has no grid points")
        }
        guard dx <= step(xValues) * 1.5, dy <= step(yValues) * 1.5 else {
            let b = bbox
            throw GyreServerError(.badRequest, "POINT(\(p.x) \(p.y)) is outside the collection's extent (west, south, east, north: \(b.map { "\($0)" }.joined(separator: ", ")))")
        }
        return (xi, yi)
    }

    /// Positions of longitudes from `west` to `east` (on the circle: west 170, east -170 crosses
    /// the antimeridian), ordered west to east.
    func xPositions(west: Double, east: Double) -> [Int] {
        let width = east >= west ? east - west : east + 360 - west
        guard width < 360 else {
            // The whole circle: every longitude, ordered from the west edge.
            return xValues.indices.sorted { shifted($0, from: west) < shifted($1, from: west) }
        }
        return xValues.indices.filter { shifted($0, from: west) <= width }.sorted { shifted($0, from: west) < shifted($1, from: west) }
    }

    /// How far east of `west` the longitude at `i` lies, in [0, 360).
    func shifted(_ i: Int, from west: Double) -> Double {
        var d = (xValues[i] - west).truncatingRemainder(dividingBy: 360)
        if d < 0 { d += 360 }
        return d
    }

    /// The longitude at `i` in the frame starting at `west` (west to west + 360).
    func unwrapped(_ i: Int, from west: Double) -> Double { west + shifted(i, from: west) }

    func yPositions(south: Double, north: Double) -> [Int] {
        yValues.indices.filter { yValues[$0] >= south && yValues[$0] <= north }
    }
}

/// What an EDR query selects: one dataset per point (position) or one grid (area, cube), lazy,
/// with dimensions in t, z, y, x order, and for an area the mask of grid points inside it.
struct EDRSelection: Sendable {
    var parts: [Dataset]
    /// For an area: inside[yi * nx + xi] over the selected grid.
    var inside: [Bool]?
}

extension EDRGrid {
    func select(_ q: EDRQuery, from ds: Dataset, name: String) throws -> EDRSelection {
        let params = q.parameters ?? parameters
        for p in params where !parameters.contains(p) {
            throw GyreServerError(.badRequest, "parameter-name '\(p.prefix(80))' is not a parameter of collection '\(name)'; its parameters are \(parameters.joined(separator: ", "))")
        }
        var base = try ds.select(params)
        var indexers: [String: PositionIndexer] = [:]
        if let times = q.times {
            guard let t else { throw GyreServerError(.badRequest, "collection '\(name)' has no time axis; leave out datetime") }
            indexers[t] = try timePositions(times, in: base, axis: t, name: name)
        }
        if let levels = q.levels {
            guard let z else { throw GyreServerError(.badRequest, "collection '\(name)' has no vertical axis; leave out z") }
            let index = base.indexes[z]!
            switch levels {
            case .values(let vs):
                indexers[z] = .positions(try vs.map { try index.position(of: .double($0), method: .nearest) })
            case .interval(let a, let b):
                let zs = (try? base.variables[z]!.data.doubles()) ?? []
                let pos = zs.indices.filter { zs[$0] >= a && zs[$0] <= b }
                guard !pos.isEmpty else { throw GyreServerError(.noData, "no level of collection '\(name)' lies in z=\(a)/\(b)") }
                indexers[z] = .positions(pos)
            }
        }
        if !indexers.isEmpty { base = try base.isel(indexers) }
        let order = [t, z, y, x].compactMap { $0 }
        switch q.geometry {
        case .points(let points)?:
            let parts = try points.map { p -> Dataset in
                let (xi, yi) = try nearest(p)
                return try base.isel([x: .positions([xi]), y: .positions([yi])]).transposed(order)
            }
            return EDRSelection(parts: parts)
        case .polygons(let polygons)?:
            let pts = polygons.flatMap { $0.flatMap { $0 } }
            let west = pts.map(\.x).min()!, east = pts.map(\.x).max()!
            let south = pts.map(\.y).min()!, north = pts.map(\.y).max()!
            let xs = xPositions(west: west, east: Swift.min(east, west + 359.999_999)), ys = yPositions(south: south, north: north)
            var inside: [Bool] = []
            inside.reserveCapacity(xs.count * ys.count)
            for yi in ys { for xi in xs { inside.append(WKTGeometry.contains(polygons, x: unwrapped(xi, from: west), y: yValues[yi])) } }
            guard inside.contains(true) else { throw GyreServerError(.noData, "no grid point of collection '\(name)' lies in the polygon") }
            return EDRSelection(parts: [try base.isel([x: .positions(xs), y: .positions(ys)]).transposed(order)], inside: inside)
        case nil:
            let b = q.bbox!
            let xs = xPositions(west: b.west, east: b.east), ys = yPositions(south: b.south, north: b.north)
            guard !xs.isEmpty, !ys.isEmpty else { throw GyreServerError(.noData, "no grid point of collection '\(name)' lies in the bbox") }
            return EDRSelection(parts: [try base.isel([x: .positions(xs), y: .positions(ys)]).transposed(order)])
        }
    }

    /// Instants select the nearest times; an interval every time within it (ends included).
    func timePositions(_ times: EDRQuery.Times, in ds: Dataset, axis t: String, name: String) throws -> PositionIndexer {
        let index = ds.indexes[t]!
        func label(_ s: String) throws -> Scalar {
            let c = try parseDateComponents(s)
            return .datetime(try datetime64Ticks(c, unit: .nanoseconds) - c.utcOffsetMinutes * 60_000_000_000, .nanoseconds)
        }
        do {
            switch times {
            case .instants(let list):
                return .positions(try list.map { try index.position(of: try label($0), method: .nearest) })
            case .interval(let a, let b):
                let s = try index.slice(from: try a.map(label), to: try b.map(label))
                guard (s.stop ?? index.count) > (s.start ?? 0) else {
                    throw GyreServerError(.noData, "no time of collection '\(name)' lies in datetime=\(a ?? "..")/\(b ?? "..")")
                }
                return .slice(s)
            }
        } catch let e as GyreDataError {
            throw GyreServerError(.badRequest, "datetime: \(e.message)")
        }
    }
}

extension GyreServerError.Code {
    /// A valid EDR query that matches no data: answered 204 with no body, as EDR's status
    /// table has it.
    static let noData = GyreServerError.Code("NoData", status: 204)
}
