import GyreCore
/// A GeoJSON position: longitude, latitude and an optional height (RFC 7946 §3.1.1).
public struct Position: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var z: Double?
    public init(_ x: Double, _ y: Double, _ z: Double? = nil) { self.x = x; self.y = y; self.z = z }
}

/// A GeoJSON geometry (RFC 7946 §3.1). Predicates are planar in longitude and latitude, as
/// PostGIS's `geometry` type and every STAC API compute them; a geometry that crosses the
/// antimeridian is given, as RFC 7946 asks, as a MultiPolygon cut at ±180°, and a bbox whose
/// west edge is east of its east edge (`BBox.crossesAntimeridian`) becomes two boxes.
public indirect enum Geometry: Sendable, Hashable {
    case point(Position)
    case multiPoint([Position])
    case lineString([Position])
    case multiLineString([[Position]])
    case polygon([[Position]])
    case multiPolygon([[[Position]]])
    case geometryCollection([Geometry])

    public var typeName: String {
        switch self {
        case .point: return "Point"
        case .multiPoint: return "MultiPoint"
        case .lineString: return "LineString"
        case .multiLineString: return "MultiLineString"
        case .polygon: return "Polygon"
        case .multiPolygon: return "MultiPolygon"
        case .geometryCollection: return "GeometryCollection"
        }
    }

    /// Parses and checks a GeoJSON geometry object; `path` names it in errors ("item 'x'
    /// geometry").
    public init(json: JSON, path: String = "geometry") throws {
        try self.init(json: json, at: { path })
    }

    /// The same, with the name made only for an error (ingest reads millions of geometries).
    package init(json: JSON, at path: () -> String) throws {
        guard let o = json.object else { throw GyreSTACError(.invalidGeometry, "\(path()) must be an object, not \(json.kind)") }
        guard let type = o["type"]?.string else { throw GyreSTACError(.invalidGeometry, "\(path()) has no \"type\" string") }
        if type == "GeometryCollection" {
            guard let gs = o["geometries"]?.array else { throw GyreSTACError(.invalidGeometry, "\(path()): a GeometryCollection needs a \"geometries\" array") }
            var out: [Geometry] = []
            out.reserveCapacity(gs.count)
            for (k, g) in gs.enumerated() { out.append(try Geometry(json: g, at: { "\(path()).geometries[\(k)]" })) }
            self = .geometryCollection(out)
            return
        }
        guard let c = o["coordinates"] else { throw GyreSTACError(.invalidGeometry, "\(path()): a \(type) needs \"coordinates\"") }
        func cp() -> String { "\(path()).coordinates" }
        switch type {
        case "Point": self = .point(try Self.position(c, cp))
        case "MultiPoint": self = .multiPoint(try Self.list(c, cp) { try Self.position($0, $1) })
        case "LineString": self = .lineString(try Self.line(c, cp))
        case "MultiLineString": self = .multiLineString(try Self.list(c, cp) { try Self.line($0, $1) })
        case "Polygon": self = .polygon(try Self.rings(c, cp))
        case "MultiPolygon": self = .multiPolygon(try Self.list(c, cp) { try Self.rings($0, $1) })
        default:
            throw GyreSTACError(.invalidGeometry, "\(path()): unknown geometry type \"\(type)\" (expected Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or GeometryCollection)")
        }
    }

    static func list<T>(_ j: JSON, _ path: () -> String, _ each: (JSON, () -> String) throws -> T) throws -> [T] {
        guard let a = j.array else { throw GyreSTACError(.invalidGeometry, "\(path()) must be an array, not \(j.kind)") }
        var out: [T] = []
        out.reserveCapacity(a.count)
        try withoutActuallyEscaping(path) { path in
            for (k, v) in a.enumerated() { out.append(try each(v, { "\(path())[\(k)]" })) }
        }
        return out
    }

    static func position(_ j: JSON, _ path: () -> String) throws -> Position {
        guard let a = j.array, a.count == 2 || a.count == 3 else {
            throw GyreSTACError(.invalidGeometry, "\(path()) must be a position of 2 or 3 numbers")
        }
        func number(_ v: JSON) throws -> Double {
            guard let d = v.number else { throw GyreSTACError(.invalidGeometry, "\(path()) must hold numbers, not \(v.kind)") }
            return d
        }
        let x = try number(a[0]), y = try number(a[1]), z = a.count == 3 ? try number(a[2]) : nil
        guard x >= -180, x <= 180, y >= -90, y <= 90 else {
            throw GyreSTACError(.invalidGeometry, "\(path()): [\(x), \(y)] is outside longitude -180...180, latitude -90...90")
        }
        return Position(x, y, z)
    }

    static func line(_ j: JSON, _ path: () -> String) throws -> [Position] {
        let p = try list(j, path) { try position($0, $1) }
        guard p.count >= 2 else { throw GyreSTACError(.invalidGeometry, "\(path()): a line needs at least 2 positions, not \(p.count)") }
        return p
    }

    static func rings(_ j: JSON, _ path: () -> String) throws -> [[Position]] {
        let rs = try list(j, path) { r, rp -> [Position] in
            let p = try list(r, rp) { try position($0, $1) }
            guard p.count >= 4 else { throw GyreSTACError(.invalidGeometry, "\(rp()): a linear ring needs at least 4 positions, not \(p.count)") }
            guard p.first!.x == p.last!.x, p.first!.y == p.last!.y else {
                throw GyreSTACError(.invalidGeometry, "\(rp()): a linear ring must end where it starts")
            }
            return p
        }
        guard !rs.isEmpty else { throw GyreSTACError(.invalidGeometry, "\(path()): a polygon needs an exterior ring") }
        return rs
    }

    /// The GeoJSON object.
    public var json: JSON {
        func pos(_ p: Position) -> JSON { .array(p.z.map { [.double(p.x), .double(p.y), .double($0)] } ?? [.double(p.x), .double(p.y)]) }
        func line(_ l: [Position]) -> JSON { .array(l.map(pos)) }
        func rings(_ r: [[Position]]) -> JSON { .array(r.map(line)) }
        switch self {
        case .geometryCollection(let gs): return ["type": "GeometryCollection", "geometries": .array(gs.map(\.json))]
        case .point(let p): return ["type": "Point", "coordinates": pos(p)]
        case .multiPoint(let ps): return ["type": "MultiPoint", "coordinates": line(ps)]
        case .lineString(let l): return ["type": "LineString", "coordinates": line(l)]
        case .multiLineString(let ls): return ["type": "MultiLineString", "coordinates": .array(ls.map(line))]
        case .polygon(let r): return ["type": "Polygon", "coordinates": rings(r)]
        case .multiPolygon(let ps): return ["type": "MultiPolygon", "coordinates": .array(ps.map(rings))]
        }
    }

    /// The smallest box around every position (nil for an empty collection).
    public var bbox: BBox? {
        var b: BBox?
        forEachPosition { p in
            if let c = b { b = BBox(west: Swift.min(c.west, p.x), south: Swift.min(c.south, p.y), east: Swift.max(c.east, p.x), north: Swift.max(c.north, p.y)) }
            else { b = BBox(west: p.x, south: p.y, east: p.x, north: p.y) }
        }
        return b
    }

    package func forEachPosition(_ body: (Position) -> Void) {
        switch self {
        case .point(let p): body(p)
        case .multiPoint(let ps), .lineString(let ps): ps.forEach(body)
        case .multiLineString(let ls), .polygon(let ls): ls.forEach { $0.forEach(body) }
        case .multiPolygon(let ps): ps.forEach { $0.forEach { $0.forEach(body) } }
        case .geometryCollection(let gs): gs.forEach { $0.forEachPosition(body) }
        }
    }

    // MARK: Predicates

    /// Whether the two geometries share at least one point (boundaries included).
    public func intersects(_ other: Geometry) -> Bool {
        guard let a = bbox, let b = other.bbox, a.intersectsPlanar(b) else { return false }
        let pa = Parts(self), pb = Parts(other)
        // Any vertex of one inside (or on) the other, or any two segments touching.
        for p in pa.points where pb.covers(p) { return true }
        for p in pb.points where pa.covers(p) { return true }
        for s in pa.segments { for t in pb.segments where segmentsTouch(s.0, s.1, t.0, t.1) { return true } }
        return false
    }

    /// Whether this geometry is within `other` as Simple Features (DE-9IM `T*F**F***`) and so
    /// CQL2's `s_within` define it: every point of it lies in `other` (boundary included) and
    /// some point of its interior lies in `other`'s interior. So a point on a polygon's edge,
    /// or a line along it, is not within the polygon, as PostGIS's ST_Within says too. Tested
    /// as: no vertex or segment midpoint of this one outside `other`, no segment crossing
    /// `other`'s boundary, no point of `other`'s boundary inside this one's interior, and, for
    /// points and lines, one of the points or a point of a segment (a quarter, half or three
    /// quarters along) in `other`'s interior (a polygon within the closure of another meets
    /// its interior).
    public func within(_ other: Geometry) -> Bool {
        guard let a = bbox, let b = other.bbox, b.containsPlanar(a) else { return false }
        let pa = Parts(self), pb = Parts(other)
        for p in pa.points where !pb.covers(p) { return false }
        for s in pa.segments {
            if !pb.covers(Position((s.0.x + s.1.x) / 2, (s.0.y + s.1.y) / 2)) { return false }
            for t in pb.boundary where segmentsCrossProperly(s.0, s.1, t.0, t.1) { return false }
        }
        if !pa.polygons.isEmpty {
            for t in pb.boundary {
                for q in [t.0, Position((t.0.x + t.1.x) / 2, (t.0.y + t.1.y) / 2)] where pa.interiorContains(q) { return false }
            }
        } else {
            func along(_ s: (Position, Position), _ f: Double) -> Position { Position(s.0.x + (s.1.x - s.0.x) * f, s.0.y + (s.1.y - s.0.y) * f) }
            let inner = pa.isolated.contains(where: pb.interiorHas)
                || pa.lines.contains { s in [0.5, 0.25, 0.75].contains { pb.interiorHas(along(s, $0)) } }
            if !inner { return false }
        }
        return true
    }

    /// Whether `other` lies in this geometry (`s_contains`).
    public func contains(_ other: Geometry) -> Bool { other.within(self) }
}

/// A geometry taken apart for the predicates: its vertices, its segments (polygon boundaries
/// included) and its polygons.
struct Parts {
    var points: [Position] = []
    var segments: [(Position, Position)] = []
    var boundary: [(Position, Position)] = []
    var polygons: [[[Position]]] = []
    /// The points given as points, the segments of lines, and the lines' end points.
    var isolated: [Position] = []
    var lines: [(Position, Position)] = []
    var lineEnds: [Position] = []

    init(_ g: Geometry) { add(g) }

    mutating func add(_ g: Geometry) {
        switch g {
        case .point(let p): points.append(p); isolated.append(p)
        case .multiPoint(let ps): points += ps; isolated += ps
        case .lineString(let l): addLine(l)
        case .multiLineString(let ls): ls.forEach { addLine($0) }
        case .polygon(let r): addPolygon(r)
        case .multiPolygon(let ps): ps.forEach { addPolygon($0) }
        case .geometryCollection(let gs): gs.forEach { add($0) }
        }
    }

    mutating func addLine(_ l: [Position]) {
        points += l
        for k in 1..<l.count { segments.append((l[k - 1], l[k])); lines.append((l[k - 1], l[k])) }
        // A closed line has no boundary.
        if let a = l.first, let b = l.last, a.x != b.x || a.y != b.y { lineEnds += [a, b] }
    }

    mutating func addPolygon(_ rings: [[Position]]) {
        polygons.append(rings)
        for r in rings {
            points += r.dropLast()
            for k in 1..<r.count { segments.append((r[k - 1], r[k])); boundary.append((r[k - 1], r[k])) }
        }
    }

    /// Whether `p` is one of the points, on a segment, or inside a polygon (boundary included).
    func covers(_ p: Position) -> Bool {
        for s in segments where onSegment(p, s.0, s.1) { return true }
        for q in points where q.x == p.x && q.y == p.y { return true }
        return polygons.contains { polygonInterior($0, p) }
    }

    /// Whether `p` lies in the interior of the geometry: one of its points, a point of a line
    /// other than a line's end, or strictly inside a polygon.
    func interiorHas(_ p: Position) -> Bool {
        if isolated.contains(where: { $0.x == p.x && $0.y == p.y }) { return true }
        if lines.contains(where: { onSegment(p, $0.0, $0.1) }), !lineEnds.contains(where: { $0.x == p.x && $0.y == p.y }) { return true }
        return interiorContains(p)
    }

    /// Whether `p` is strictly inside a polygon (not on any boundary).
    func interiorContains(_ p: Position) -> Bool {
        for s in boundary where onSegment(p, s.0, s.1) { return false }
        return polygons.contains { polygonInterior($0, p) }
    }
}

/// Even-odd ray casting over every ring: inside the exterior and outside the holes.
func polygonInterior(_ rings: [[Position]], _ p: Position) -> Bool {
    var inside = false
    for r in rings {
        var j = r.count - 1
        for i in 0..<r.count {
            let a = r[i], b = r[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
    }
    return inside
}

func orient(_ a: Position, _ b: Position, _ c: Position) -> Double {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

func onSegment(_ p: Position, _ a: Position, _ b: Position) -> Bool {
    orient(a, b, p) == 0 && p.x >= Swift.min(a.x, b.x) && p.x <= Swift.max(a.x, b.x) && p.y >= Swift.min(a.y, b.y) && p.y <= Swift.max(a.y, b.y)
}

/// Whether two closed segments share a point.
func segmentsTouch(_ a: Position, _ b: Position, _ c: Position, _ d: Position) -> Bool {
    let d1 = orient(c, d, a), d2 = orient(c, d, b), d3 = orient(a, b, c), d4 = orient(a, b, d)
    if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
    return onSegment(a, c, d) || onSegment(b, c, d) || onSegment(c, a, b) || onSegment(d, a, b)
}

/// Whether two segments cross at one point interior to both.
func segmentsCrossProperly(_ a: Position, _ b: Position, _ c: Position, _ d: Position) -> Bool {
    let d1 = orient(c, d, a), d2 = orient(c, d, b), d3 = orient(a, b, c), d4 = orient(a, b, d)
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
}

/// A bounding box in longitude and latitude. West greater than east means the box crosses the
/// antimeridian (STAC API and RFC 7946 §5.2).
public struct BBox: Sendable, Hashable {
    public var west, south, east, north: Double
    public init(west: Double, south: Double, east: Double, north: Double) {
        self.west = west; self.south = south; self.east = east; self.north = north
    }

    /// Parses 4 numbers (west, south, east, north) or 6 (with the lowest and highest heights,
    /// which searches ignore); `what` names it in errors.
    public init(_ numbers: [Double], what: @autoclosure () -> String = "bbox") throws {
        guard numbers.count == 4 || numbers.count == 6 else {
            throw GyreSTACError(.invalidGeometry, "\(what()) needs 4 or 6 numbers, not \(numbers.count)")
        }
        let h = numbers.count / 2
        let (w, s, e, n) = (numbers[0], numbers[1], numbers[h], numbers[h + 1])
        guard numbers.allSatisfy(\.isFinite) else { throw GyreSTACError(.invalidGeometry, "\(what()) must be finite numbers") }
        guard s <= n else { throw GyreSTACError(.invalidGeometry, "\(what()): south (\(s)) is north of north (\(n))") }
        guard w >= -180, e <= 180, e >= -180, w <= 180, s >= -90, n <= 90 else {
            throw GyreSTACError(.invalidGeometry, "\(what()): [\(w), \(s), \(e), \(n)] is outside longitude -180...180, latitude -90...90")
        }
        self.init(west: w, south: s, east: e, north: n)
    }

    public init(json: JSON, what: String = "bbox") throws {
        guard let a = json.array else { throw GyreSTACError(.invalidGeometry, "\(what) must be an array of numbers, not \(json.kind)") }
        try self.init(try a.map { v -> Double in
            guard let d = v.number else { throw GyreSTACError(.invalidGeometry, "\(what) must hold numbers, not \(v.kind)") }
            return d
        }, what: what)
    }

    public var crossesAntimeridian: Bool { west > east }

    /// The box as a polygon, or as two polygons split at ±180° when it crosses the antimeridian.
    public var geometry: Geometry {
        func box(_ w: Double, _ e: Double) -> [[Position]] {
            [[Position(w, south), Position(e, south), Position(e, north), Position(w, north), Position(w, south)]]
        }
        if crossesAntimeridian { return .multiPolygon([box(west, 180), box(-180, east)]) }
        return .polygon(box(west, east))
    }

    /// Planar boxes (neither crossing) that cover this one.
    var planarParts: [BBox] {
        crossesAntimeridian ? [BBox(west: west, south: south, east: 180, north: north), BBox(west: -180, south: south, east: east, north: north)] : [self]
    }

    /// Whether the boxes share a point, antimeridian crossings included.
    public func intersects(_ o: BBox) -> Bool {
        planarParts.contains { a in o.planarParts.contains { a.intersectsPlanar($0) } }
    }

    func intersectsPlanar(_ o: BBox) -> Bool {
        west <= o.east && o.west <= east && south <= o.north && o.south <= north
    }

    func containsPlanar(_ o: BBox) -> Bool {
        west <= o.west && o.east <= east && south <= o.south && o.north <= north
    }

    public var json: JSON { [.double(west), .double(south), .double(east), .double(north)] }
}
