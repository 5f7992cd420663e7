import Foundation
import GRDB
import GyreCatalog
import Testing

/// `SQLiteRTree`: R*Trees written straight into SQLite's shadow tables, checked by SQLite itself
/// (`rtreecheck`, its own queries, inserts and deletes afterwards) and against brute force.
@Suite("SQLite R*Tree bulk build")
struct SQLiteRTreeTests {
    static func database() throws -> DatabaseQueue {
        let q = try DatabaseQueue()
        try q.write { db in try db.execute(sql: "CREATE VIRTUAL TABLE r USING rtree (id, minx, maxx, miny, maxy, mint, maxt)") }
        return q
    }

    static func check(_ db: Database) throws -> String? { try String.fetchOne(db, sql: "SELECT rtreecheck('r')") }

    static func stored(_ db: Database) throws -> [SQLiteRTree.Cell] {
        try GRDB.Row.fetchAll(db, sql: "SELECT * FROM r ORDER BY id").map { r in
            SQLiteRTree.Cell(id: r[0], minX: Float(r[1] as Double), maxX: Float(r[2] as Double), minY: Float(r[3] as Double),
                             maxY: Float(r[4] as Double), minT: Float(r[5] as Double), maxT: Float(r[6] as Double))
        }
    }

    @Test("doubles are rounded outwards to the floats SQLite itself stores")
    func rounding() throws {
        let values: [Double] = [0, 0.1, -0.1, 1.0 / 3, -1.0 / 3, 1e-40, -1e-40, 123_456.789, -123_456.789, 180, -180, 89.999_999_9,
                                16_777_217, -16_777_217, 18_260.409_074_074, 1e30, -1e30, 3.402_823_466e38]
        let q = try Self.database()
        try q.write { db in
            for (k, v) in values.enumerated() {
                try db.execute(sql: "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?)", arguments: [k + 1, v, v, v, v, v, v])
            }
            let rows = try GRDB.Row.fetchAll(db, sql: "SELECT minx, maxx FROM r ORDER BY id")
            for (v, row) in zip(values, rows) {
                #expect(Float(row[0] as Double) == SQLiteRTree.down(v), "lower bound of \(v)")
                #expect(Float(row[1] as Double) == SQLiteRTree.up(v), "upper bound of \(v)")
                // (SQLite's rule is not outwards for numbers below the smallest normal float.)
                if v == 0 || abs(v) >= Double(Float.leastNormalMagnitude) {
                    #expect(Double(SQLiteRTree.down(v)) <= v && Double(SQLiteRTree.up(v)) >= v, "\(v)")
                }
            }
        }
    }

    static func random(_ n: Int, seed: UInt64) -> [SQLiteRTree.Cell] {
        var rng = SplitMix64(seed: seed)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.next() % 1_000_000) / 1_000_000 }
        return (0..<n).map { k in
            let x = uniform(-180, 178), y = uniform(-80, 78), t = uniform(18_000, 21_000)
            return SQLiteRTree.Cell(id: Int64(k + 1), west: x, east: x + uniform(0, 2), south: y, north: y + uniform(0, 2), start: t, end: t + uniform(0, 3))
        }
    }

    @Test("trees of every height pass rtreecheck, hold every box once (the last of a repeated rowid), answer queries as brute force does, and take SQLite's own inserts and deletes afterwards",
          arguments: [0, 1, 51, 52, 700, 6000])
    func build(_ n: Int) throws {
        var cells = Self.random(n, seed: UInt64(n) + 3)
        // Repeats: the later box of a rowid wins.
        let repeats = cells.prefix(n / 10).map { c -> SQLiteRTree.Cell in
            var d = c
            d.minX = max(-180, c.minX - 1)
            return d
        }
        cells += repeats
        var expected = Dictionary(cells.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let q = try Self.database()
        try q.write { db in
            let depth = try SQLiteRTree.rebuild(db, table: "r", cells: cells)
            #expect(depth == (n <= 51 ? 0 : n <= 51 * 51 ? 1 : 2))
            #expect(try Self.check(db) == "ok")
            #expect(try Self.stored(db) == expected.values.sorted { $0.id < $1.id })
            #expect(try Set(SQLiteRTree.leafCells(db, table: "r").map(\.id)) == Set(expected.keys))
            var rng = SplitMix64(seed: 99)
            for _ in 0..<25 {
                let x = Double(rng.next() % 360) - 180, y = Double(rng.next() % 160) - 80, t = 18_000 + Double(rng.next() % 3000)
                let (w, h, d) = (Double(rng.next() % 40), Double(rng.next() % 30), Double(rng.next() % 400))
                let found = try Int64.fetchAll(db, sql: "SELECT id FROM r WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? AND mint <= ? AND maxt >= ? ORDER BY id",
                                               arguments: [x + w, x, y + h, y, t + d, t])
                let brute = expected.values.filter {
                    Double($0.minX) <= x + w && Double($0.maxX) >= x && Double($0.minY) <= y + h && Double($0.maxY) >= y && Double($0.minT) <= t + d && Double($0.maxT) >= t
                }.map(\.id).sorted()
                #expect(found == brute)
            }
            // SQLite goes on with the tree as with one it built.
            for c in Self.random(300, seed: 5) {
                try db.execute(sql: "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [c.id + 100_000, Double(c.minX), Double(c.maxX), Double(c.minY), Double(c.maxY), Double(c.minT), Double(c.maxT)])
                expected[c.id + 100_000] = c
            }
            for id in expected.keys.filter({ $0 % 3 == 0 }) {
                try db.execute(sql: "DELETE FROM r WHERE id = ?", arguments: [id])
                expected[id] = nil
            }
            #expect(try Self.check(db) == "ok")
            #expect(try Self.stored(db).map(\.id) == expected.keys.sorted())
        }
    }

    @Test("leaves come out about as long on each axis in the stored units, whatever the time span; all but a few are full",
          arguments: [3000.0, 30.0, 0.0])
    func leafShapes(days: Double) throws {
        var rng = SplitMix64(seed: UInt64(days) + 11)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.next() % 1_000_000) / 1_000_000 }
        let n = 20_000
        let cells = (0..<n).map { k in
            let x = uniform(-180, 179), y = uniform(-56, 73), t = 18_000 + uniform(0, days)
            return SQLiteRTree.Cell(id: Int64(k + 1), west: x, east: x + 1, south: y, north: y + 0.9, start: t, end: t)
        }
        let q = try Self.database()
        try q.write { db in
            try SQLiteRTree.rebuild(db, table: "r", cells: cells)
            #expect(try Self.check(db) == "ok")
            let leaves = try GRDB.Row.fetchAll(db, sql: """
                SELECT count(*), max(maxx) - min(minx), max(maxy) - min(miny), max(maxt) - min(mint)
                FROM r_rowid JOIN r ON r.id = r_rowid.rowid GROUP BY r_rowid.nodeno
                """)
            let full = leaves.filter { ($0[0] as Int) >= 50 }.count
            #expect(leaves.count <= n / 50 && full * 10 >= leaves.count * 9, "\(leaves.count) leaves, \(full) full")
            // The mean leaf extent of each axis that varies, against the others.
            let means = (1...3).map { k in leaves.map { $0[k] as Double }.reduce(0, +) / Double(leaves.count) }
            let varying = days > 0 ? means : Array(means.prefix(2))
            #expect(varying.max()! < 3 * varying.min()!, "mean leaf extents \(means) for \(days) days")
        }
    }

    @Test("a node blob that is cut short is an error naming the table and node")
    func corruptNode() throws {
        let q = try Self.database()
        try q.write { db in
            try SQLiteRTree.rebuild(db, table: "r", cells: Self.random(10, seed: 1))
            try db.execute(sql: "UPDATE r_node SET data = substr(data, 1, 40) WHERE nodeno = 1")
            #expect { _ = try SQLiteRTree.leafCells(db, table: "r") } throws: { e in "\(e)".contains("r: R*Tree node 1") }
        }
    }
}
