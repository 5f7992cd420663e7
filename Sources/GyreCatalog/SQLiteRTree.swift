import Foundation
import GRDB

/// Builds the items' R*Tree (`items_space_time`) in one go, by writing SQLite's R*Tree shadow
/// tables directly, instead of inserting boxes one at a time: one at a time, 1,000,000 boxes
/// took 39 s (SQLite 3.40, 3 dimensions), each insert walking and splitting nodes.
///
/// The shadow tables, as SQLite's R*Tree module (ext/rtree/rtree.c) reads and writes them:
/// `<name>_node(nodeno, data)` holds one blob per node, node 1 the root; `<name>_parent(nodeno,
/// parentnode)` maps every node but the root to its parent; `<name>_rowid(rowid, nodeno)` maps
/// every box to its leaf. A node's blob is exactly as long as the root's (1,636 bytes for 3
/// dimensions on 4 kB pages: at most 51 cells): a big-endian 16-bit depth of the tree (read
/// from the root only; 0 when the root is a leaf), a big-endian 16-bit cell count, then the
/// cells, each a big-endian 64-bit rowid (in a leaf) or child node number, and the
/// coordinates (minx, maxx, miny, maxy, mint, maxt) as big-endian 32-bit floats. A parent's
/// cell must contain its child's cells; SQLite's `rtreecheck()` checks all of this, and the
/// tests run it on every tree built here.
///
/// The tree is packed by sort-tile-recursive (Leutenegger, Lopez and Edgington, 1997): the
/// boxes sorted by their centre's x and cut into slabs, each slab sorted by y and cut into
/// runs, each run sorted by time and cut into nodes; each level above is packed the same way
/// from the nodes' boxes. The nodes are filled as evenly as the counts allow.
///
/// The slab and run counts make nodes about as long on each axis in the units the tree stores
/// (degrees, degrees, days), the shape SQLite's own R* splits aim for, rather than cutting each
/// axis into as many parts: a search reads the windows of time that hold a few times the items
/// it wants (`SQLiteSearch.windows`), boxes of many degrees by a day or less, and nodes that
/// cut the years as finely as the degrees (27 ways each) made such a search read nearly five
/// times the nodes (1,000,000 items over 9 years, 40 searches of each shape at random places
/// and times, Benchmarks/rtree_nodes.py: 224 nodes on average for a 90x110-degree box, 45 now,
/// 58 in a tree grown by SQLite's inserts; a 10-degree box reads 13 to 15 in all three; only
/// boxes of a few degrees read more, 48 against 20, where a window is years long).
package enum SQLiteRTree {
    /// One cell: a rowid (or child node number) and its box as the tree stores it.
    package struct Cell: Equatable {
        package var id: Int64
        package var minX: Float, maxX: Float, minY: Float, maxY: Float, minT: Float, maxT: Float

        package init(id: Int64, minX: Float, maxX: Float, minY: Float, maxY: Float, minT: Float, maxT: Float) {
            (self.id, self.minX, self.maxX, self.minY, self.maxY, self.minT, self.maxT) = (id, minX, maxX, minY, maxY, minT, maxT)
        }

        /// A box given in doubles, rounded outwards as SQLite rounds a value it stores.
        package init(id: Int64, west: Double, east: Double, south: Double, north: Double, start: Double, end: Double) {
            self.init(id: id, minX: SQLiteRTree.down(west), maxX: SQLiteRTree.up(east), minY: SQLiteRTree.down(south),
                      maxY: SQLiteRTree.up(north), minT: SQLiteRTree.down(start), maxT: SQLiteRTree.up(end))
        }

        var centre: (x: Float, y: Float, t: Float) { ((minX + maxX) / 2, (minY + maxY) / 2, (minT + maxT) / 2) }

        mutating func cover(_ c: Cell) {
            minX = Swift.min(minX, c.minX); maxX = Swift.max(maxX, c.maxX)
            minY = Swift.min(minY, c.minY); maxY = Swift.max(maxY, c.maxY)
            minT = Swift.min(minT, c.minT); maxT = Swift.max(maxT, c.maxT)
        }
    }

    // SQLite's rounding of a double to the float it stores: to nearest, and when that lands on
    // the wrong side, the double scaled by one part in 2^23 towards (or away from) zero.
    static let towards = 1.0 - 1.0 / 8_388_608.0, away = 1.0 + 1.0 / 8_388_608.0

    /// The stored lower bound: never above `d`.
    package static func down(_ d: Double) -> Float {
        var f = Float(d)
        if Double(f) > d { f = Float(d * (d < 0 ? away : towards)) }
        return f
    }

    /// The stored upper bound: never below `d`.
    package static func up(_ d: Double) -> Float {
        var f = Float(d)
        if Double(f) < d { f = Float(d * (d < 0 ? towards : away)) }
        return f
    }

    /// `count` things cut into `parts` runs whose lengths differ by one at most.
    static func even(_ range: Range<Int>, parts: Int) -> [Range<Int>] {
        let n = range.count, p = Swift.max(1, Swift.min(parts, n))
        return (0..<p).map { k in (range.lowerBound + k * n / p)..<(range.lowerBound + (k + 1) * n / p) }
    }

    /// How many nodes a run of time holds and how many runs of y a slab of x holds, so that
    /// nodes come out about as long on each axis as `cells`' extents allow (an axis all of one
    /// value is not cut), every node but the last of a run full.
    static func cuts(_ cells: [Cell], nodes: Int) -> (perRun: Int, runsPerSlab: Int) {
        guard var all = cells.first else { return (1, 1) }
        for c in cells.dropFirst() { all.cover(c) }
        let extents = [Double(all.maxX) - Double(all.minX), Double(all.maxY) - Double(all.minY), Double(all.maxT) - Double(all.minT)]
        let cut = extents.filter { $0 > 0 }
        guard !cut.isEmpty else { return (nodes, 1) }
        let side = pow(cut.reduce(1, *) / Double(nodes), 1 / Double(cut.count))
        func parts(_ e: Double, most: Int) -> Int { e > 0 ? Swift.max(1, Swift.min(most, Int((e / side).rounded()))) : 1 }
        let perRun = parts(extents[2], most: nodes)
        return (perRun, parts(extents[1], most: (nodes + perRun - 1) / perRun))
    }

    /// `cells` cut into groups of at most `capacity`, by sort-tile-recursive in three
    /// dimensions (`cells` is reordered so that each group is a contiguous run of it).
    static func tiles(_ cells: inout [Cell], capacity: Int) -> [Range<Int>] {
        let n = cells.count
        guard n > capacity else { return n == 0 ? [] : [0..<n] }
        let nodes = (n + capacity - 1) / capacity
        let (perRun, runsPerSlab) = cuts(cells, nodes: nodes)
        let runCells = perRun * capacity, slabCells = runsPerSlab * runCells
        var out: [Range<Int>] = []
        out.reserveCapacity(nodes + nodes / perRun + 1)
        cells.withUnsafeMutableBufferPointer { all in
            func sort(_ r: Range<Int>, _ key: (Cell) -> Float) {
                var part = UnsafeMutableBufferPointer(rebasing: all[r])
                part.sort { key($0) < key($1) }
            }
            sort(0..<n) { $0.centre.x }
            for slab in even(0..<n, parts: (n + slabCells - 1) / slabCells) {
                sort(slab) { $0.centre.y }
                for run in even(slab, parts: (slab.count + runCells - 1) / runCells) {
                    sort(run) { $0.centre.t }
                    out += even(run, parts: (run.count + capacity - 1) / capacity)
                }
            }
        }
        return out
    }

    /// Every box the R*Tree `table` holds, read from its leaves' blobs.
    package static func leafCells(_ db: Database, table: String) throws -> [Cell] {
        var out: [Cell] = []
        let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT nodeno, data FROM \"\(table)_node\" WHERE nodeno IN (SELECT DISTINCT nodeno FROM \"\(table)_rowid\")")
        while let row = try rows.next() {
            let node: Int64 = row[0]
            guard let data = row[1] as Data? else { throw DatabaseError(message: "\(table): R*Tree node \(node) has no data") }
            try data.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
                guard b.count >= 4 else { throw DatabaseError(message: "\(table): R*Tree node \(node) is \(b.count) bytes long") }
                let count = Int(b[2]) << 8 | Int(b[3])
                guard 4 + count * 32 <= b.count else { throw DatabaseError(message: "\(table): R*Tree node \(node) says \(count) cells in \(b.count) bytes") }
                func u32(_ at: Int) -> UInt32 { UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]) }
                func f(_ at: Int) -> Float { Float(bitPattern: u32(at)) }
                for k in 0..<count {
                    let at = 4 + 32 * k
                    let id = Int64(bitPattern: UInt64(u32(at)) << 32 | UInt64(u32(at + 4)))
                    out.append(Cell(id: id, minX: f(at + 8), maxX: f(at + 12), minY: f(at + 16), maxY: f(at + 20), minT: f(at + 24), maxT: f(at + 28)))
                }
            }
        }
        return out
    }

    /// Rebuilds the R*Tree `table` (in `db`, inside the caller's transaction) from `cells`:
    /// its shadow tables are emptied and written anew. Returns the tree's depth.
    @discardableResult
    package static func rebuild(_ db: Database, table: String, cells input: [Cell]) throws -> Int {
        guard let rootSize = try Int.fetchOne(db, sql: "SELECT length(data) FROM \"\(table)_node\" WHERE nodeno = 1") else {
            throw DatabaseError(message: "\(table): the R*Tree has no root node")
        }
        let cellSize = 8 + 6 * 4
        let capacity = (rootSize - 4) / cellSize
        guard capacity >= 4 else { throw DatabaseError(message: "\(table): R*Tree nodes of \(rootSize) bytes hold no tree of 3 dimensions") }

        // The last box of a repeated rowid wins.
        var cells = input
        cells.sort { $0.id < $1.id }
        var unique: [Cell] = []
        unique.reserveCapacity(cells.count)
        for c in cells {
            if let last = unique.last, last.id == c.id { unique[unique.count - 1] = c } else { unique.append(c) }
        }
        cells = unique

        try db.execute(sql: "DELETE FROM \"\(table)_node\"")
        try db.execute(sql: "DELETE FROM \"\(table)_parent\"")
        try db.execute(sql: "DELETE FROM \"\(table)_rowid\"")
        let putNode = try db.makeStatement(sql: "INSERT INTO \"\(table)_node\" (nodeno, data) VALUES (?, ?)")
        let putParent = try db.makeStatement(sql: "INSERT INTO \"\(table)_parent\" (nodeno, parentnode) VALUES (?, ?)")
        let putRowid = try db.makeStatement(sql: "INSERT INTO \"\(table)_rowid\" (rowid, nodeno) VALUES (?, ?)")

        func blob(_ cells: ArraySlice<Cell>, depth: Int) -> [UInt8] {
            var b = [UInt8](repeating: 0, count: rootSize)
            func put16(_ v: Int, at i: Int) { b[i] = UInt8(v >> 8 & 0xff); b[i + 1] = UInt8(v & 0xff) }
            put16(depth, at: 0)
            put16(cells.count, at: 2)
            var at = 4
            for c in cells {
                let id = UInt64(bitPattern: c.id)
                for k in 0..<8 { b[at + k] = UInt8(id >> (56 - 8 * UInt64(k)) & 0xff) }
                at += 8
                func put(_ f: Float) {
                    let bits = f.bitPattern
                    b[at] = UInt8(bits >> 24 & 0xff); b[at + 1] = UInt8(bits >> 16 & 0xff)
                    b[at + 2] = UInt8(bits >> 8 & 0xff); b[at + 3] = UInt8(bits & 0xff)
                    at += 4
                }
                put(c.minX); put(c.maxX); put(c.minY); put(c.maxY); put(c.minT); put(c.maxT)
            }
            return b
        }

        // Bottom-up: each level's nodes are numbered from 2 on as they are made; the single
        // node of the last level is the root, node 1.
        var level = cells, depth = 0, next: Int64 = 2
        while true {
            let groups = level.count > capacity ? tiles(&level, capacity: capacity) : [0..<level.count]
            let isRoot = groups.count == 1
            var parents: [Cell] = []
            parents.reserveCapacity(groups.count)
            for g in groups {
                let node: Int64 = isRoot ? 1 : next
                if !isRoot { next += 1 }
                let members = level[g]
                try putNode.execute(arguments: [node, Data(blob(members, depth: isRoot ? depth : 0))])
                if depth == 0 {
                    for c in members { try putRowid.execute(arguments: [c.id, node]) }
                } else {
                    for c in members { try putParent.execute(arguments: [c.id, node]) }
                }
                var box = members.first ?? Cell(id: node, minX: 0, maxX: 0, minY: 0, maxY: 0, minT: 0, maxT: 0)
                for c in members.dropFirst() { box.cover(c) }
                box.id = node
                parents.append(box)
            }
            if isRoot { break }
            level = parents
            depth += 1
        }
        return depth
    }
}
