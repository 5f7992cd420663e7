import GyreSTAC

/// Geometries as PostGIS reads them fastest: extended well-known binary (EWKB, little-endian,
/// SRID 4326 on the outer geometry) in hexadecimal, the text form of `geometry` that `COPY`
/// parses without the GeoJSON parser. Always 2D: the items' geometry column is 2D (predicates
/// are planar in longitude and latitude), so heights are left out here and kept in the item's
/// JSON; before, an item with heights was refused ("Geometry has Z dimension but column does
/// not").
package enum WKB {
    package static func hexEWKB(_ g: Geometry, srid: UInt32 = 4326) -> [UInt8] {
        var w = Writer(hasZ: false)
        w.geometry(g, srid: srid)
        return w.out
    }

    struct Writer {
        let hasZ: Bool
        var out: [UInt8] = []
        init(hasZ: Bool) { self.hasZ = hasZ; out.reserveCapacity(256) }

        static let digits = Array("0123456789ABCDEF".utf8)
        mutating func byte(_ b: UInt8) { out.append(Self.digits[Int(b >> 4)]); out.append(Self.digits[Int(b & 15)]) }
        mutating func uint32(_ v: UInt32) { for k in 0..<4 { byte(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
        mutating func double(_ d: Double) { let bits = d.bitPattern; for k in 0..<8 { byte(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) } }
        mutating func count(_ n: Int) { uint32(UInt32(n)) }
        mutating func position(_ p: Position) { double(p.x); double(p.y); if hasZ { double(p.z ?? 0) } }
        mutating func line(_ ps: [Position]) { count(ps.count); for p in ps { position(p) } }
        mutating func rings(_ rs: [[Position]]) { count(rs.count); for r in rs { line(r) } }

        mutating func header(_ type: UInt32, srid: UInt32?) {
            byte(1)  // little-endian
            var t = type
            if hasZ { t |= 0x8000_0000 }
            if srid != nil { t |= 0x2000_0000 }
            uint32(t)
            if let srid { uint32(srid) }
        }

        mutating func geometry(_ g: Geometry, srid: UInt32?) {
            switch g {
            case .point(let p): header(1, srid: srid); position(p)
            case .lineString(let ps): header(2, srid: srid); line(ps)
            case .polygon(let rs): header(3, srid: srid); rings(rs)
            case .multiPoint(let ps):
                header(4, srid: srid); count(ps.count)
                for p in ps { header(1, srid: nil); position(p) }
            case .multiLineString(let ls):
                header(5, srid: srid); count(ls.count)
                for l in ls { header(2, srid: nil); line(l) }
            case .multiPolygon(let ps):
                header(6, srid: srid); count(ps.count)
                for p in ps { header(3, srid: nil); rings(p) }
            case .geometryCollection(let gs):
                header(7, srid: srid); count(gs.count)
                for g in gs { geometry(g, srid: nil) }
            }
        }
    }
}
