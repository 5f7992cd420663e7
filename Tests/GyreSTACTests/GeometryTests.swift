import GyreCore
import GyreSTAC
import Testing

@Suite("GeoJSON geometry and predicates")
struct GeometryTests {
    static func g(_ text: String) throws -> Geometry { try Geometry(json: JSON.parse(text)) }
    static func box(_ w: Double, _ s: Double, _ e: Double, _ n: Double) -> Geometry { BBox(west: w, south: s, east: e, north: n).geometry }

    // A square 0..10 with a hole 4..6.
    static let holed = #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#
    // An L-shape: concave at (5, 5).
    static let ell = #"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,5],[5,5],[5,10],[0,10],[0,0]]]}"#

    @Test("intersects: points, lines, polygons, holes, boundaries, collections")
    func intersects() throws {
        let holed = try Self.g(Self.holed), ell = try Self.g(Self.ell)
        let cases: [(Geometry, Geometry, Bool)] = [
            (try Self.g(#"{"type":"Point","coordinates":[2,2]}"#), holed, true),
            (try Self.g(#"{"type":"Point","coordinates":[5,5]}"#), holed, false),              // in the hole
            (try Self.g(#"{"type":"Point","coordinates":[4,5]}"#), holed, true),               // on the hole's edge
            (try Self.g(#"{"type":"Point","coordinates":[10,3]}"#), holed, true),              // on the outer edge
            (try Self.g(#"{"type":"Point","coordinates":[7,7]}"#), ell, false),                // in the notch
            (Self.box(4.5, 4.5, 5.5, 5.5), holed, false),                                       // inside the hole
            (Self.box(3, 3, 7, 7), holed, true),                                                // around the hole
            (Self.box(5, 5, 9, 9), ell, true),                                                  // fills the notch: shares its edges
            (Self.box(6.5, 6.5, 9, 9), ell, false),
            (Self.box(-5, -5, 20, 20), holed, true),                                            // contains it: no edges cross
            (try Self.g(#"{"type":"LineString","coordinates":[[-1,5],[11,5]]}"#), holed, true),
            (try Self.g(#"{"type":"LineString","coordinates":[[6,9],[9,6]]}"#), ell, false),
            (try Self.g(#"{"type":"MultiPoint","coordinates":[[50,50],[1,1]]}"#), holed, true),
            (try Self.g(#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[50,50]},{"type":"LineString","coordinates":[[7,6],[9,9]]}]}"#), ell, false),
            (try Self.g(#"{"type":"MultiPolygon","coordinates":[[[[20,20],[30,20],[30,30],[20,20]]],[[[9,9],[12,9],[12,12],[9,9]]]]}"#), holed, true),
        ]
        for (k, (a, b, want)) in cases.enumerated() {
            #expect(a.intersects(b) == want, "case \(k)")
            #expect(b.intersects(a) == want, "case \(k), swapped")
        }
    }

    @Test("within and contains")
    func within() throws {
        let holed = try Self.g(Self.holed), ell = try Self.g(Self.ell)
        #expect(Self.box(1, 1, 3, 3).within(holed))
        #expect(!Self.box(3, 3, 7, 7).within(holed), "covers the hole")
        #expect(Self.box(1, 1, 9, 3).within(ell), "in the lower arm")
        #expect(!Self.box(1, 1, 9, 9).within(ell), "reaches into the notch")
        let edgePoint = try Self.g(#"{"type":"Point","coordinates":[10,5]}"#), holePoint = try Self.g(#"{"type":"Point","coordinates":[5,5]}"#)
        // Simple Features' within (DE-9IM T*F**F***), as shapely and PostGIS have it: the
        // interiors must meet, so what lies on the boundary only is not within.
        #expect(!edgePoint.within(holed), "a point on the edge is not within")
        #expect(!holed.contains(edgePoint))
        let alongEdge = try Self.g(#"{"type":"LineString","coordinates":[[10,0],[10,10]]}"#)
        let edgeInward = try Self.g(#"{"type":"LineString","coordinates":[[10,0],[10,10],[9,9]]}"#)
        #expect(!alongEdge.within(Self.box(0, 0, 10, 10)) && edgeInward.within(Self.box(0, 0, 10, 10)))
        #expect(Self.box(0, 0, 10, 10).within(Self.box(0, 0, 10, 10)), "a polygon is within itself")
        let points = try Self.g(#"{"type":"MultiPoint","coordinates":[[0,0],[5,5]]}"#), corners = try Self.g(#"{"type":"MultiPoint","coordinates":[[0,0],[10,10]]}"#)
        #expect(points.within(Self.box(0, 0, 10, 10)) && !corners.within(Self.box(0, 0, 10, 10)))
        #expect(try Self.g(#"{"type":"Point","coordinates":[2,2]}"#).within(try Self.g(#"{"type":"LineString","coordinates":[[0,0],[4,4]]}"#)))
        #expect(try !Self.g(#"{"type":"Point","coordinates":[0,0]}"#).within(try Self.g(#"{"type":"LineString","coordinates":[[0,0],[4,4]]}"#)), "a line's end is its boundary")
        #expect(!holePoint.within(holed))
        let diagonal = try Self.g(#"{"type":"LineString","coordinates":[[1,9],[9,1]]}"#)
        #expect(diagonal.within(ell), "passes through the concave corner's inside")
        let cutting = try Self.g(#"{"type":"LineString","coordinates":[[4,9],[9,4]]}"#)
        #expect(!cutting.within(ell), "leaves through the notch")
        // A hole's boundary strictly inside the polygon tested means it is not within.
        #expect(!Self.box(0, 0, 10, 10).within(holed))
        #expect(holed.within(Self.box(0, 0, 10, 10)))
        #expect(Self.box(-1, -1, 11, 11).contains(ell) && !ell.contains(Self.box(-1, -1, 11, 11)))
    }

    @Test("bboxes across the antimeridian")
    func antimeridian() throws {
        let across = try BBox([170, -10, -170, 10])
        #expect(across.crossesAntimeridian)
        let west = Self.box(160, 0, 165, 5), hawaii = Self.box(-160, 1, -154, 3), samoa = Self.box(-173, -5, -171, -3)
        let point = try Self.g(#"{"type":"Point","coordinates":[-175,0]}"#)
        #expect(across.geometry.intersects(samoa) && across.geometry.intersects(point))
        #expect(across.geometry.intersects(Self.box(172, 1, 174, 2)))
        #expect(!across.geometry.intersects(hawaii) && !across.geometry.intersects(west))
        #expect(across.intersects(BBox(west: 179, south: 0, east: 180, north: 1)) && !across.intersects(BBox(west: 0, south: 0, east: 10, north: 1)))
        // An item cut at the antimeridian as RFC 7946 asks: a MultiPolygon.
        let cut = try Self.g(#"{"type":"MultiPolygon","coordinates":[[[[175,0],[180,0],[180,5],[175,5],[175,0]]],[[[-180,0],[-175,0],[-175,5],[-180,5],[-180,0]]]]}"#)
        #expect(cut.intersects(Self.box(-177, 1, -176, 2)) && !cut.intersects(Self.box(0, 1, 10, 2)))
        #expect(cut.within(across.geometry))
    }

    @Test("invalid geometries and bboxes name the fault")
    func invalid() throws {
        let bad: [(String, String)] = [
            (#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#, "must end where it starts"),
            (#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#, "at least 4 positions"),
            (#"{"type":"LineString","coordinates":[[0,0]]}"#, "at least 2 positions"),
            (#"{"type":"Point","coordinates":[200,0]}"#, "outside longitude"),
            (#"{"type":"Point","coordinates":[1]}"#, "2 or 3 numbers"),
            (#"{"type":"Point","coordinates":["a","b"]}"#, "must hold numbers"),
            (#"{"type":"Circle","coordinates":[0,0]}"#, "unknown geometry type"),
            (#"{"coordinates":[0,0]}"#, "no \"type\""),
            (#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0]]]]}"#, "coordinates[1][0]"),
        ]
        for (text, want) in bad {
            #expect {
                _ = try Geometry(json: JSON.parse(text), path: "intersects")
            } throws: { e in
                guard let e = e as? GyreSTACError else { return false }
                return e.code == .invalidGeometry && e.message.contains(want) && e.message.hasPrefix("intersects")
            }
        }
        #expect(throws: GyreSTACError.self) { try BBox([0, 10, 1, 5]) }
        #expect(throws: GyreSTACError.self) { try BBox([0, 1, 2]) }
        #expect(throws: GyreSTACError.self) { try BBox([0, 0, 0, 200, 1, 1]) }
        #expect(try BBox([0, 1, -100, 2, 3, 100]) == BBox(west: 0, south: 1, east: 2, north: 3))
    }

    @Test("geometry JSON round-trips and bbox covers every position")
    func roundTrip() throws {
        let ell = try Self.g(Self.ell)
        #expect(try Geometry(json: ell.json) == ell)
        #expect(ell.bbox == BBox(west: 0, south: 0, east: 10, north: 10))
    }
}
