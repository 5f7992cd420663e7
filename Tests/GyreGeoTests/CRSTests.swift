import Foundation
import Testing
import GyreGeo

@Suite("CRS and coordinate transforms through PROJ")
struct CRSTests {
    @Test("EPSG codes, WKT and PROJ strings; unknown codes are errors naming them")
    func crs() throws {
        let utm = try CRS("EPSG:32633")
        #expect(utm.epsg == 32633 && !utm.isGeographic && utm.wkt.contains("UTM zone 33N"))
        #expect(try CRS("4326").isGeographic && (try CRS("epsg:4326")) == (try CRS(epsg: 4326)))
        let fromWKT = try CRS(utm.wkt)
        #expect(fromWKT.epsg == 32633)
        #expect(throws: GyreGeoError.self) { _ = try CRS("EPSG:999999") }
        do { _ = try CRS("EPSG:999999") } catch let e as GyreGeoError { #expect(e.message.contains("EPSG:999999")) }
        #expect(throws: GyreGeoError.self) { _ = try CRS("") }
    }

    @Test("transforms in x/y order, both ways; the identity; a point PROJ cannot carry is NaN")
    func transforms() throws {
        let t = try CoordinateTransform(from: CRS(epsg: 4326), to: CRS(epsg: 32633))
        let p = t.transform([(x: 15, y: 0), (x: 15, y: 45)])
        // The central meridian of zone 33 is 15E: easting 500 km exactly.
        #expect(abs(p[0].x - 500_000) < 1e-6 && abs(p[0].y) < 1e-6)
        #expect(abs(p[1].x - 500_000) < 1e-6 && abs(p[1].y - 4_982_950.4) < 1)
        let back = try CoordinateTransform(from: CRS(epsg: 32633), to: CRS(epsg: 4326)).transform(p)
        #expect(abs(back[1].x - 15) < 1e-9 && abs(back[1].y - 45) < 1e-9)
        let same = try CoordinateTransform(from: CRS(epsg: 3857), to: CRS(epsg: 3857))
        #expect(same.isIdentity && same.transform([(x: 1, y: 2)])[0] == (x: 1, y: 2))
        let merc = try CoordinateTransform(from: CRS(epsg: 4326), to: CRS(epsg: 3857)).transform([(x: 0, y: 91)])
        #expect(merc[0].x.isNaN && merc[0].y.isNaN)
    }

    @Test("affine transforms and their inverse")
    func affine() throws {
        let a = Affine.northUp(west: 500_000, north: 5_000_000, xres: 10, yres: 10)
        let p = a.apply(col: 0.5, row: 0.5)
        #expect(p.x == 500_005 && p.y == 4_999_995)
        let inv = try #require(a.inverse)
        let q = inv.apply(col: p.x, row: p.y)
        #expect(abs(q.x - 0.5) < 1e-12 && abs(q.y - 0.5) < 1e-12)
        #expect(Affine(1, 2, 0, 2, 4, 0).inverse == nil)
    }
}
