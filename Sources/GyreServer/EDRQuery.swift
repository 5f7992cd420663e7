import GyreArrays
import GyreCore

/// The parameters of an OGC API EDR query (`position`, `area`, `cube`), parsed and checked: any
/// that does not parse is a 400 naming the parameter and what it should look like.
struct EDRQuery: Sendable {
    enum Kind: String, Sendable { case position, area, cube }

    /// A time selection: instants (the nearest time to each is taken), or an inclusive
    /// interval with either end open (`..`).
    enum Times: Sendable, Equatable {
        case instants([String])
        case interval(String?, String?)
    }

    /// A vertical selection: values (the nearest level of each), or an inclusive interval.
    enum Levels: Sendable, Equatable {
        case values([Double])
        case interval(Double, Double)
    }

    enum Format: String, Sendable { case coverageJSON = "CoverageJSON", csv = "CSV", netCDF = "NetCDF" }

    var kind: Kind
    /// Points (position) or polygons (area), lon/lat in CRS84.
    var geometry: WKTGeometry?
    /// West, south, east, north (cube).
    var bbox: (west: Double, south: Double, east: Double, north: Double)?
    var times: Times?
    var levels: Levels?
    var parameters: [String]?
    var format: Format

    static let crsNames: Set<String> = ["CRS84", "OGC:CRS84", "EPSG:4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                        "http://www.opengis.net/def/crs/EPSG/0/4326", "[OGC:CRS84]"]

    init(_ kind: Kind, query: QueryString) throws {
        self.kind = kind
        let known: Set<String> = ["coords", "bbox", "datetime", "z", "parameter-name", "crs", "f", "method", "se", "sp", "sr", "sig"]
        for (name, _) in query.pairs where !known.contains(name) {
            throw GyreServerError(.badRequest, "unknown query parameter '\(name.prefix(60))' for an EDR \(kind) query; the parameters are "
                                  + "coords, bbox (cube), datetime, z, parameter-name, crs and f")
        }
        switch kind {
        case .position, .area:
            guard let coords = query["coords"], !coords.isEmpty else {
                throw GyreServerError(.badRequest, kind == .position
                    ? "coords is missing: a WKT point in lon lat order, such as coords=POINT(-30 10) or MULTIPOINT((-30 10),(20 -5))"
                    : "coords is missing: a WKT polygon in lon lat order, such as coords=POLYGON((-40 0,-20 0,-20 20,-40 20,-40 0))")
            }
            let g = try WKTGeometry.parse(coords)
            switch (kind, g) {
            case (.position, .points), (.area, .polygons): break
            case (.position, _): throw GyreServerError(.badRequest, "coords for a position query must be a POINT or MULTIPOINT, not '\(coords.prefix(40))'")
            default: throw GyreServerError(.badRequest, "coords for an area query must be a POLYGON or MULTIPOLYGON, not '\(coords.prefix(40))'")
            }
            geometry = g
            if query["bbox"] != nil { throw GyreServerError(.badRequest, "bbox is for cube queries; a \(kind) query takes coords") }
        case .cube:
            guard let raw = query["bbox"] else {
                throw GyreServerError(.badRequest, "bbox is missing: west,south,east,north in degrees, such as bbox=-40,0,-20,20")
            }
            let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 4, let w = parts[0], let s = parts[1], let e = parts[2], let n = parts[3],
                  [w, s, e, n].allSatisfy(\.isFinite) else {
                throw GyreServerError(.badRequest, "bbox '\(raw.prefix(80))' must be four numbers west,south,east,north, such as bbox=-40,0,-20,20")
            }
            guard s <= n else { throw GyreServerError(.badRequest, "bbox '\(raw)': south \(s) is north of north \(n)") }
            guard (-90...90).contains(s), (-90...90).contains(n) else { throw GyreServerError(.badRequest, "bbox '\(raw)': latitudes must be within -90 and 90") }
            bbox = (w, s, e, n)
            if query["coords"] != nil { throw GyreServerError(.badRequest, "a cube query takes bbox, not coords") }
        }
        if let d = query["datetime"] { times = try Self.parseTimes(d) }
        if let z = query["z"] { levels = try Self.parseLevels(z) }
        if let p = query["parameter-name"] {
            let names = p.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw GyreServerError(.badRequest, "parameter-name is empty: name one or more parameters, comma-separated") }
            parameters = names
        }
        if let crs = query["crs"], !Self.crsNames.contains(crs) {
            throw GyreServerError(.badRequest, "crs '\(crs.prefix(80))' is not supported: this server answers in CRS84 (lon lat), crs=CRS84")
        }
        if let m = query["method"], m != "nearest" {
            throw GyreServerError(.badRequest, "method '\(m.prefix(40))' is not supported; the only method is nearest")
        }
        switch (query["f"] ?? "CoverageJSON").lowercased() {
        case "coveragejson", "covjson", "json", "cf_covjson": format = .coverageJSON
        case "csv": format = .csv
        case "netcdf", "nc", "netcdf4": format = .netCDF
        case let other: throw GyreServerError(.badRequest, "f=\(other.prefix(40)) is not an output format; the formats are CoverageJSON, CSV and NetCDF")
        }
    }

    /// `datetime`: an instant, a list of them (`a,b,c`, as EDR's examples have it), `a/b`,
    /// `../b` or `a/..` (RFC 3339 dates or date-times; seconds and the zone may be left out).
    static func parseTimes(_ raw: String) throws -> Times {
        func check(_ s: String) throws -> String {
            guard s.count <= 40, s.first?.isNumber == true, (try? parseDatetime64(s, unit: .seconds)) != nil else {
                throw GyreServerError(.badRequest, "datetime '\(raw.prefix(100))': '\(s.prefix(40))' is not an RFC 3339 date or date-time such as 2001-03-01 or 2001-03-01T12:00:00Z")
            }
            return s
        }
        let parts = raw.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            let list = parts[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard list.count <= 10_000 else { throw GyreServerError(.badRequest, "datetime: at most 10000 instants") }
            return .instants(try list.map(check))
        case 2:
            let a = parts[0] == ".." || parts[0].isEmpty ? nil : try check(parts[0])
            let b = parts[1] == ".." || parts[1].isEmpty ? nil : try check(parts[1])
            guard a != nil || b != nil else { throw GyreServerError(.badRequest, "datetime '\(raw)': an interval needs at least one end") }
            if let a, let b, let ta = try? parseDatetime64(a, unit: .seconds), let tb = try? parseDatetime64(b, unit: .seconds), ta > tb {
                throw GyreServerError(.badRequest, "datetime '\(raw)': the interval ends before it starts")
            }
            return .interval(a, b)
        default:
            throw GyreServerError(.badRequest, "datetime '\(raw.prefix(100))' must be an instant or an interval start/end ('..' for an open end)")
        }
    }

    /// `z`: a level, `a/b` (an interval), `a,b,c` (a list) or `Rn/min/step` (n levels from min).
    static func parseLevels(_ raw: String) throws -> Levels {
        func number(_ s: Substring) throws -> Double {
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else {
                throw GyreServerError(.badRequest, "z '\(raw.prefix(80))': '\(s.prefix(30))' is not a number; z takes a level, min/max, a list a,b,c or Rn/min/step")
            }
            return d
        }
        if raw.hasPrefix("R") {
            let p = raw.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            guard p.count == 3, let n = Int(p[0]), n > 0, n <= 10_000 else {
                throw GyreServerError(.badRequest, "z '\(raw.prefix(80))': a recurring interval is Rn/min/step with 1 <= n <= 10000")
            }
            let start = try number(p[1]), step = try number(p[2])
            return .values((0..<n).map { start + Double($0) * step })
        }
        if raw.contains("/") {
            let p = raw.split(separator: "/", omittingEmptySubsequences: false)
            guard p.count == 2 else { throw GyreServerError(.badRequest, "z '\(raw.prefix(80))': an interval is min/max") }
            let a = try number(p[0]), b = try number(p[1])
            guard a <= b else { throw GyreServerError(.badRequest, "z '\(raw)': the interval's min is above its max") }
            return .interval(a, b)
        }
        let list = raw.split(separator: ",", omittingEmptySubsequences: false)
        guard list.count <= 10_000 else { throw GyreServerError(.badRequest, "z: at most 10000 levels") }
        return .values(try list.map(number))
    }
}

/// The WKT geometries EDR queries take, in lon lat order: points for `position`, polygons (an
/// outer ring and holes) for `area`.
enum WKTGeometry: Sendable {
    case points([Point])
    case polygons([[[Point]]])

    struct Point: Sendable, Equatable {
        var x: Double, y: Double
    }

    /// Parses POINT, MULTIPOINT (both `((x y),(x y))` and `(x y, x y)`), POLYGON and
    /// MULTIPOLYGON; coordinates are two numbers (lon lat).
    static func parse(_ text: String) throws -> WKTGeometry {
        guard text.utf8.count <= 100_000 else { throw GyreServerError(.badRequest, "coords is longer than 100000 bytes") }
        var p = Parser(text: Array(text.utf8), source: text)
        let g = try p.geometry()
        p.skipSpace()
        guard p.i == p.text.count else { throw p.fail("unexpected text after the geometry") }
        return g
    }

    struct Parser {
        let text: [UInt8]
        let source: String
        var i = 0

        func fail(_ what: String) -> GyreServerError {
            GyreServerError(.badRequest, "coords '\(source.prefix(120))' is not WKT the server reads (at character \(i + 1): \(what)); "
                            + "use POINT(lon lat), MULTIPOINT((lon lat),(lon lat)), POLYGON((lon lat, ...)) or MULTIPOLYGON(((lon lat, ...)))")
        }

        mutating func skipSpace() { while i < text.count, text[i] == 32 || text[i] == 9 || text[i] == 10 || text[i] == 13 { i += 1 } }

        mutating func word() -> String {
            skipSpace()
            let start = i
            while i < text.count, (text[i] | 0x20) >= UInt8(ascii: "a"), (text[i] | 0x20) <= UInt8(ascii: "z") { i += 1 }
            return String(decoding: text[start..<i], as: UTF8.self).uppercased()
        }

        mutating func expect(_ c: Character) throws {
            skipSpace()
            guard i < text.count, text[i] == c.asciiValue! else { throw fail("expected '\(c)'") }
            i += 1
        }

        mutating func peek(_ c: Character) -> Bool {
            skipSpace()
            return i < text.count && text[i] == c.asciiValue!
        }

        mutating func number() throws -> Double {
            skipSpace()
            let start = i
            while i < text.count, "+-.eE0123456789".utf8.contains(text[i]) { i += 1 }
            guard i > start, let d = Double(String(decoding: text[start..<i], as: UTF8.self)), d.isFinite else { throw fail("expected a number") }
            return d
        }

        mutating func point() throws -> Point {
            let x = try number(), y = try number()
            skipSpace()
            if i < text.count, "+-.0123456789".utf8.contains(text[i]) { throw fail("three coordinates: give lon lat only, and the level as z=") }
            guard (-90...90).contains(y) else { throw fail("latitude \(y) is outside -90 to 90 (the order is lon lat)") }
            return Point(x: x, y: y)
        }

        /// `(x y, x y, ...)`
        mutating func ring() throws -> [Point] {
            try expect("(")
            var pts = [try point()]
            while peek(",") { i += 1; pts.append(try point()) }
            try expect(")")
            return pts
        }

        /// `((ring), (hole), ...)`
        mutating func polygon() throws -> [[Point]] {
            try expect("(")
            var rings = [try ring()]
            while peek(",") { i += 1; rings.append(try ring()) }
            try expect(")")
            for r in rings {
                guard r.count >= 4, r.first == r.last else { throw fail("a polygon ring needs at least 4 points, the last equal to the first") }
            }
            return rings
        }

        mutating func geometry() throws -> WKTGeometry {
            switch word() {
            case "POINT":
                try expect("(")
                let p = try point()
                try expect(")")
                return .points([p])
            case "MULTIPOINT":
                try expect("(")
                var pts: [Point] = []
                repeat {
                    if pts.count > 0 { i += 1 }
                    if peek("(") { i += 1; pts.append(try point()); try expect(")") } else { pts.append(try point()) }
                } while peek(",")
                try expect(")")
                guard pts.count <= 1000 else { throw fail("more than 1000 points") }
                return .points(pts)
            case "POLYGON":
                return .polygons([try polygon()])
            case "MULTIPOLYGON":
                try expect("(")
                var polys = [try polygon()]
                while peek(",") { i += 1; polys.append(try polygon()) }
                try expect(")")
                return .polygons(polys)
            case "":
                throw fail("expected a geometry type")
            case let other:
                throw fail("\(other.prefix(20)) is not a geometry type EDR queries take")
            }
        }
    }
}

extension WKTGeometry {
    /// Whether a point is inside one of the polygons or on its boundary (shapely's
    /// `intersects`): even-odd crossings over every ring, so holes are outside.
    static func contains(_ polygons: [[[Point]]], x: Double, y: Double) -> Bool {
        for rings in polygons {
            var inside = false
            for ring in rings {
                for k in 0..<(ring.count - 1) {
                    let a = ring[k], b = ring[k + 1]
                    // On the edge: collinear and within the segment's box.
                    let cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x)
                    let scale = Swift.max(1, Swift.abs(b.x - a.x) + Swift.abs(b.y - a.y))
                    if Swift.abs(cross) <= 1e-12 * scale * scale, x >= Swift.min(a.x, b.x), x <= Swift.max(a.x, b.x),
                       y >= Swift.min(a.y, b.y), y <= Swift.max(a.y, b.y) { return true }
                    if (a.y > y) != (b.y > y), x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
                }
            }
            if inside { return true }
        }
        return false
    }
}
