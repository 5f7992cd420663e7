import Foundation
import GyreArrays
import GyreCore
import GyreData
import GyreRender
import Hummingbird
import NIOCore
import Synchronization

/// XYZ map tiles of served datasets at `/tiles/{dataset}/{variable}/{z}/{x}/{y}.png`: a
/// gridded variable on longitude/latitude axes regridded onto the tile's Web Mercator pixels
/// (datashader's quadmesh rule), shaded and written as PNG. Query parameters: a label for each
/// other dimension (`time=2001-03-01`, nearest; or a position, `time=@12`), `cmap=`, `range=MIN,MAX` (default the
/// variable's `valid_min`/`valid_max`, `valid_range` or `actual_range`, else the minimum and
/// maximum of the selected slice, so neighbouring tiles share colours), `how=` (linear by
/// default). Tiles are kept in a bounded cache and carry ETags.
extension STACService {
    func addTileRoutes(to router: Router<GyreRequestContext>) {
        router.get("/tiles/{name}/{variable}/{z}/{x}/{file}") { request, context in
            let d = try self.requireDataset(context)
            try self.authorizeData(request, collection: d.name)
            let variable = try Self.parameter(context, "variable")
            let file = try Self.parameter(context, "file")
            guard file.hasSuffix(".png"), let y = Int(file.dropLast(4)), let z = Int(try Self.parameter(context, "z")),
                  let x = Int(try Self.parameter(context, "x")) else {
                throw GyreServerError(.badRequest, "a tile is /tiles/{dataset}/{variable}/{z}/{x}/{y}.png with integer z, x and y")
            }
            do { try WebMercator.check(z: z, x: x, y: y) } catch { throw GyreServerError(.badRequest, "\(error)") }
            let query = try QueryString(request.uri.query)
            let key = "\(variable)/\(z)/\(x)/\(y)?" + query.pairs.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "&")
            let (png, etag) = try await d.tiles.tile(key) {
                try PNG.encode(try await self.gridTile(d, variable: variable, z: z, x: x, y: y, query: query))
            }
            var headers: HTTPFields = [.contentType: "image/png", .eTag: etag, .cacheControl: "public, max-age=300",
                                       .accessControlAllowOrigin: "*", .accessControlExposeHeaders: "ETag"]
            if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { [etag, "*"].contains($0.trimmingCharacters(in: .whitespaces)) }) {
                return Response(status: .notModified, headers: headers)
            }
            headers[.contentLength] = String(png.count)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
    }

    /// What a variable's tiles are drawn from: a variable on the dataset's longitude/latitude
    /// grid, or a variable along a point dataset's points; else a 400 that says which there are.
    enum TileSource {
        case grid(EDRGrid, Variable)
        case points(PointLayout, Variable)
    }

    func tileSource(_ d: ServedDataset, variable: String) throws -> TileSource {
        switch d.edrGrid {
        case .success(let grid):
            guard let v = d.dataset.variables[variable], grid.parameters.contains(variable) else {
                throw GyreServerError(.badRequest, "dataset '\(d.name)' has no variable '\(variable.prefix(100))' on its '\(grid.x)' and '\(grid.y)' axes; "
                                      + "tiles are drawn of \(grid.parameters)")
            }
            return .grid(grid, v)
        case .failure(let error):
            guard let layout = d.pointLayout else {
                throw GyreServerError(.badRequest, "dataset '\(d.name)' has no longitude/latitude grid or points to draw tiles of: \(error.message)")
            }
            guard let v = d.dataset.variables[variable], v.dims == [layout.dim] else {
                let along = d.dataset.variables.filter { $0.value.dims == [layout.dim] }.keys.sorted()
                throw GyreServerError(.badRequest, "dataset '\(d.name)' has no variable '\(variable.prefix(100))' along its points' dimension '\(layout.dim)'; "
                                      + "tiles are drawn of \(along)")
            }
            return .points(layout, v)
        }
    }

    /// One tile of a variable: of a gridded variable here, of points in `pointTile`.
    func gridTile(_ d: ServedDataset, variable: String, z: Int, x: Int, y: Int, query: QueryString) async throws -> RGBAImage {
        let grid: EDRGrid, v: Variable
        switch try tileSource(d, variable: variable) {
        case .grid(let g, let gv): (grid, v) = (g, gv)
        case .points(let layout, let pv): return try await pointTile(d, layout, pv, variable: variable, z: z, x: x, y: y, query: query)
        }
        var options = ShadeOptions(cmap: try Colormap.named("viridis"), how: .linear)
        var selectors: [String: String] = [:]
        var range: ClosedRange<Double>?
        for (name, value) in query.pairs {
            switch name {
            case "cmap": options.cmap = try Self.colormapParameter(value)
            case "how": options.how = try Self.shadeParameter(value)
            case "range": range = try Self.rangeParameter(value)
            case "token", "sig", "se", "sp", "sr", "st": break
            default:
                guard v.dims.contains(name), name != grid.x, name != grid.y else {
                    throw GyreServerError(.badRequest, "unknown tile parameter '\(name.prefix(80))': use cmap, how, range or a dimension of '\(variable)' "
                                          + "(\(v.dims.filter { $0 != grid.x && $0 != grid.y }))")
                }
                selectors[name] = value
            }
        }
        // One position along every other dimension: the label asked for (nearest), else the first.
        var region: [Slice] = []
        var rowAxis = 0, colAxis = 0
        for (axis, dim) in v.dims.enumerated() {
            if dim == grid.y { rowAxis = axis; region.append(.all); continue }
            if dim == grid.x { colAxis = axis; region.append(.all); continue }
            var position = 0
            if let label = selectors[dim], label.hasPrefix("@") {
                // A position rather than a label (`time=@12`: the 13th step).
                guard let i = Int(label.dropFirst()), (0..<(v.sizes[dim] ?? 0)).contains(i) else {
                    throw GyreServerError(.badRequest, "\(dim)=\(label.prefix(80)): a position is @0 to @\((v.sizes[dim] ?? 1) - 1)")
                }
                position = i
            } else if let label = selectors[dim] {
                guard let index = d.dataset.indexes[dim] else {
                    throw GyreServerError(.badRequest, "dimension '\(dim)' has no coordinate to select '\(label.prefix(80))' by")
                }
                let scalar: Scalar = Double(label).map { .double($0) } ?? .string(label)
                do { position = try index.position(of: scalar, method: .nearest) } catch {
                    throw GyreServerError(.badRequest, "\(dim)=\(label.prefix(80)): \(error)")
                }
            }
            region.append(Slice(position, position + 1))
        }
        if options.how == .eqHist && range != nil {
            throw GyreServerError(.badRequest, "range cannot be used with how=eq_hist (histogram equalization spreads the tile's own values)")
        }
        if options.how != .eqHist && range == nil { range = try await d.tiles.defaultRange(variable, region: region) { try await Self.valueRange(v, region) } }
        if options.how != .eqHist { options.span = range }

        // The grid's rows and columns near the tile, two cells of margin on each side.
        let b = WebMercator.lonLatBounds(z: z, x: x, y: y)
        let ys = grid.yValues, xs = grid.xValues
        let dy = ys.count > 1 ? abs(ys[ys.count - 1] - ys[0]) / Double(ys.count - 1) : 1
        let dx = xs.count > 1 ? abs(xs[xs.count - 1] - xs[0]) / Double(xs.count - 1) : 1
        let rows = ys.indices.filter { ys[$0] >= b.south - 2 * dy && ys[$0] <= b.north + 2 * dy }
        var cols: [(i: Int, lon: Double)] = []
        for i in xs.indices {
            let base = grid.lon(xs[i])
            for shift in [-360.0, 0, 360] {
                let l = base + shift
                if l >= b.west - 2 * dx && l <= b.east + 2 * dx { cols.append((i, l)) }
            }
        }
        cols.sort { $0.lon < $1.lon }
        let canvas = try WebMercator.canvas(z: z, x: x, y: y)
        var image = RGBAImage(width: canvas.width, height: canvas.height)
        if rows.count >= 2 && cols.count >= 2 {
            let r0 = rows.min()!, r1 = rows.max()!
            var read = region
            read[rowAxis] = Slice(r0, r1 + 1)
            let slab = try await v.read(read)
            guard let values = slab.doubles() else { throw GyreServerError(.badRequest, "'\(variable)' is \(v.dtype), not numbers to draw") }
            // The slab in (row, column) order whatever the variable's axis order.
            let shape = slab.shape
            let strides = NDArray<Double>.contiguousStrides(shape)
            var grid2 = [Double](repeating: .nan, count: (r1 - r0 + 1) * cols.count)
            for r in 0...(r1 - r0) {
                for (k, c) in cols.enumerated() { grid2[r * cols.count + k] = values[r * strides[rowAxis] + c.i * strides[colAxis]] }
            }
            let g = try GridValues(values: grid2, x: cols.map { WebMercator.x(longitude: $0.lon) },
                                   y: (r0...r1).map { WebMercator.y(latitude: ys[$0]) })
            let agg = try canvas.quadmesh(g, reduction: .mean, rectilinear: true)
            do { image = try shade(agg, options) } catch { throw GyreServerError(.badRequest, "\(error)") }
        }
        return image
    }

    /// `cmap=`, `how=` and `range=MIN,MAX` of the tile and plot routes, a 400 when malformed.
    static func colormapParameter(_ value: String) throws -> Colormap {
        do { return try Colormap.named(value) } catch { throw GyreServerError(.badRequest, "cmap: \(error)") }
    }

    static func shadeParameter(_ value: String) throws -> ShadeHow {
        do { return try ShadeHow(parsing: value) } catch { throw GyreServerError(.badRequest, "how: \(error)") }
    }

    static func rangeParameter(_ value: String) throws -> ClosedRange<Double> {
        let parts = value.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, hi > lo else {
            throw GyreServerError(.badRequest, "range '\(value.prefix(80))' must be MIN,MAX with MIN < MAX")
        }
        return lo...hi
    }

    /// The variable's range for colours: its valid or actual range attributes, else the
    /// minimum and maximum of the slice.
    static func valueRange(_ v: Variable, _ region: [Slice]) async throws -> ClosedRange<Double>? {
        for key in ["valid_range", "actual_range"] {
            if let r = v.attrs[key]?.doubles, r.count == 2, r[0].isFinite, r[1].isFinite, r[1] > r[0] { return r[0]...r[1] }
        }
        if let lo = v.attrs["valid_min"]?.doubles?.first, let hi = v.attrs["valid_max"]?.doubles?.first, hi > lo { return lo...hi }
        guard let values = try await v.read(region).doubles() else { return nil }
        var lo = Double.infinity, hi = -Double.infinity
        for x in values where x.isFinite {
            if x < lo { lo = x }
            if x > hi { hi = x }
        }
        return lo < hi ? lo...hi : (lo == hi ? (lo - 1)...(hi + 1) : nil)
    }
}

/// Tiles of one dataset already drawn (PNG bytes and ETag), the most recently used kept within
/// a byte budget, and the colour ranges of the slices drawn.
final class TileCache: Sendable {
    private let state: Mutex<(tiles: [String: (png: [UInt8], etag: String, used: UInt64)], bytes: Int, clock: UInt64)>
    private let ranges: Mutex<[String: ClosedRange<Double>?]>
    let maxBytes: Int

    init(maxBytes: Int = 32 << 20) {
        state = Mutex(([:], 0, 0))
        ranges = Mutex([:])
        self.maxBytes = maxBytes
    }

    func tile(_ key: String, make: () async throws -> [UInt8]) async throws -> (png: [UInt8], etag: String) {
        let hit = state.withLock { s -> ([UInt8], String)? in
            guard let t = s.tiles[key] else { return nil }
            s.clock += 1
            s.tiles[key] = (t.png, t.etag, s.clock)
            return (t.png, t.etag)
        }
        if let hit { return hit }
        let png = try await make()
        let etag = ZarrView.etag(png)
        state.withLock { s in
            s.clock += 1
            if let old = s.tiles[key] { s.bytes -= old.png.count }
            s.tiles[key] = (png, etag, s.clock)
            s.bytes += png.count
            while s.bytes > maxBytes, let oldest = s.tiles.min(by: { $0.value.used < $1.value.used }) {
                s.bytes -= oldest.value.png.count
                s.tiles[oldest.key] = nil
            }
        }
        return (png, etag)
    }

    func defaultRange(_ variable: String, region: [Slice], make: () async throws -> ClosedRange<Double>?) async throws -> ClosedRange<Double>? {
        let key = variable + "|" + region.map(\.description).joined(separator: ",")
        if let r = ranges.withLock({ $0[key] }) { return r }
        let r = try await make()
        ranges.withLock { m in
            if m.count > 1024 { m.removeAll() }
            m[key] = r
        }
        return r
    }

    var count: Int { state.withLock { $0.tiles.count } }
}
