import GyreCore
import Foundation
import GRDB
import GyreSTAC
import Synchronization

/// The embedded catalog: one SQLite file (or memory) through GRDB. Items keep their whole JSON,
/// their time span in microseconds (indexed with the collection), their bbox in an R*Tree, and
/// their geometry for exact predicates, which run in Swift functions registered on each
/// connection after the R*Tree has narrowed the candidates.
public final class SQLiteCatalog: CatalogBackend {
    package let writer: any DatabaseWriter
    public let path: String
    let queryableNames = QueryableCache()
    /// Which search texts keep a compiled statement on each connection (see `PreparedStatements`).
    package let statements = PreparedStatements()

    /// Opens the catalog at `path`, creating the file and its schema when missing
    /// (`":memory:"` for a catalog that lives as long as this object).
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try SQLiteFunctions.register(db)
            // Up to 128 MiB of page cache per connection (grown as needed): index inserts of a
            // bulk ingest land all over the B-trees, and SQLite's default 2 MiB thrashes.
            try db.execute(sql: "PRAGMA cache_size = -131072")
        }
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true  // set when each connection opens, outside any transaction
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: config)
            } else {
                writer = try DatabasePool(path: path, configuration: config)
            }
            try Self.migrator.migrate(writer)
            // What a bulk load that never finished left undone.
            try writer.write { db in
                try Self.ensureIndexes(db)
                try Self.finishRTree(db)
            }
        } catch let e as DatabaseError {
            throw GyreCatalogError(.database, "\(path): cannot open the catalog: \(e.message ?? "\(e)")", cause: e)
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: collections, items, R*Tree, queryables") { db in
            try db.execute(sql: """
                CREATE TABLE collections (id TEXT PRIMARY KEY NOT NULL, content TEXT NOT NULL);
                CREATE TABLE items (
                    rowid INTEGER PRIMARY KEY,
                    collection TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    datetime INTEGER NOT NULL,
                    end_datetime INTEGER NOT NULL,
                    geometry TEXT,
                    properties TEXT NOT NULL,
                    content TEXT NOT NULL,
                    UNIQUE (collection, id)
                );
                CREATE INDEX items_datetime ON items (datetime, end_datetime);
                CREATE INDEX items_collection_datetime ON items (collection, datetime);
                CREATE INDEX items_id ON items (id);
                CREATE VIRTUAL TABLE items_rtree USING rtree (rowid, minx, maxx, miny, maxy);
                CREATE TRIGGER items_rtree_delete AFTER DELETE ON items BEGIN
                    DELETE FROM items_rtree WHERE rowid = old.rowid;
                END;
                CREATE TABLE queryables (collection TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                    PRIMARY KEY (collection, name)) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2: a change sequence on items") { db in
            // Each write numbers what it wrote after everything before it, so a reader can
            // ask for what changed since the number it saw last (`/search/stream`).
            try db.execute(sql: """
                ALTER TABLE items ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
                UPDATE items SET seq = rowid;
                CREATE INDEX items_seq ON items (seq);
                """)
        }
        m.registerMigration("v3: start time in the R*Tree") { db in
            // Boxes and start times (in seconds) in one R*Tree: a spatial search in time order
            // reads it one time window at a time and stops once a window fills the page.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE items_space_time USING rtree (rowid, minx, maxx, miny, maxy, mint, maxt);
                INSERT INTO items_space_time (rowid, minx, maxx, miny, maxy, mint, maxt)
                    SELECT r.rowid, r.minx, r.maxx, r.miny, r.maxy, i.datetime / 1000000.0, i.datetime / 1000000.0
                    FROM items_rtree r JOIN items i ON i.rowid = r.rowid;
                DROP TRIGGER items_rtree_delete;
                DROP TABLE items_rtree;
                CREATE TRIGGER items_space_time_delete AFTER DELETE ON items BEGIN
                    DELETE FROM items_space_time WHERE rowid = old.rowid;
                END;
                """)
        }
        m.registerMigration("v4: start time in days in the R*Tree") { db in
            // In seconds, the time axis is a million times longer than the others, so the R*Tree
            // split its nodes along time alone: each node held a thin slice of time over the
            // whole globe, and a 10° box over 51 days read 908 pages at 1,000,000 items. In days
            // the axes are of a size and the same lookup reads 62. The unit is written out (it is
            // SQLiteSearch.microsecondsPerRTreeUnit): a migration's text never changes.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE items_space_days USING rtree (rowid, minx, maxx, miny, maxy, mint, maxt);
                INSERT INTO items_space_days (rowid, minx, maxx, miny, maxy, mint, maxt)
                    SELECT r.rowid, r.minx, r.maxx, r.miny, r.maxy, i.datetime / 86400000000.0, i.datetime / 86400000000.0
                    FROM items_space_time r JOIN items i ON i.rowid = r.rowid;
                DROP TRIGGER items_space_time_delete;
                DROP TABLE items_space_time;
                ALTER TABLE items_space_days RENAME TO items_space_time;
                CREATE TRIGGER items_space_time_delete AFTER DELETE ON items BEGIN
                    DELETE FROM items_space_time WHERE rowid = old.rowid;
                END;
                """)
        }
        m.registerMigration("v5: the longest time span of any item") { db in
            // An item matches `datetime=A/B` when it ends at A or later, which no index on its
            // start time bounds: a search that ran out of matches walked every item older than
            // A. No item starts earlier than A less the longest span.
            try db.execute(sql: """
                CREATE TABLE span (longest INTEGER NOT NULL);
                INSERT INTO span (longest) SELECT IFNULL(MAX(end_datetime - datetime), 0) FROM items;
                """)
        }
        m.registerMigration("v6: boxes awaiting the R*Tree") { db in
            // A bulk load leaves the R*Tree alone and builds it in one go when it finishes
            // (SQLiteRTree). Until then the items numbered above `rtree_pending.above` keep
            // their boxes here, where the searches look as well; both tables are empty
            // otherwise.
            try db.execute(sql: """
                CREATE TABLE rtree_pending (above INTEGER NOT NULL);
                CREATE TABLE items_pending_box (rowid INTEGER PRIMARY KEY, minx REAL NOT NULL, maxx REAL NOT NULL,
                    miny REAL NOT NULL, maxy REAL NOT NULL, mint REAL NOT NULL, maxt REAL NOT NULL);
                CREATE TRIGGER items_pending_box_delete AFTER DELETE ON items BEGIN
                    DELETE FROM items_pending_box WHERE rowid = old.rowid;
                END;
                """)
        }
        m.registerMigration("v7: properties in the start-time index") { db in
            // A search that only its filter's property terms select (`SearchPath.scan`) reads
            // the items newest first until its page is full; with the properties in the index
            // SQLite tests each item there and reads the table for the matches only. The worst
            // of the benchmark's random 3-property filters (5,850 items read for a page of 10,
            // 1,000,000 items) took 36 ms through the index on start time and 11 ms through this one.
            try db.execute(sql: """
                DROP INDEX IF EXISTS items_datetime;
                CREATE INDEX items_datetime_properties ON items (datetime, end_datetime, properties);
                """)
        }
        m.registerMigration("v8: datasets registered through the API") { db in
            try db.execute(sql: "CREATE TABLE datasets (seq INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, registration TEXT NOT NULL)")
        }
        return m
    }

    func run<T: Sendable>(_ what: String, write: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return write ? try await writer.write(body) : try await writer.read(body)
        } catch let e as DatabaseError {
            throw GyreCatalogError(.database, "\(path): \(what): \(e.message ?? "\(e)")", cause: e)
        }
    }

    // MARK: Registered datasets

    public func registeredDatasets() async throws -> [(name: String, registration: JSON)] {
        let rows = try await run("listing registered datasets") { db in
            try Row.fetchAll(db, sql: "SELECT name, registration FROM datasets ORDER BY seq").map { ($0["name"] as String, $0["registration"] as String) }
        }
        return try rows.map { ($0.0, try JSON.parse($0.1, source: "\(path): registered dataset '\($0.0)'")) }
    }

    public func registerDataset(name: String, registration: JSON) async throws -> Bool {
        let text = registration.text
        return try await run("registering dataset '\(name)'", write: true) { db in
            try db.execute(sql: "INSERT INTO datasets (name, registration) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", arguments: [name, text])
            return db.changesCount > 0
        }
    }

    public func unregisterDataset(_ name: String) async throws -> Bool {
        try await run("removing dataset '\(name)'", write: true) { db in
            try db.execute(sql: "DELETE FROM datasets WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    // MARK: Collections

    public func collections() async throws -> [STACCollection] {
        let texts = try await run("listing collections") { db in try String.fetchAll(db, sql: "SELECT content FROM collections ORDER BY id") }
        return try texts.map { try STACCollection(json: JSON.parse($0, source: "stored collection")) }
    }

    public func collection(_ id: String) async throws -> STACCollection? {
        let text = try await run("reading collection '\(id)'") { db in try String.fetchOne(db, sql: "SELECT content FROM collections WHERE id = ?", arguments: [id]) }
        return try text.map { try STACCollection(json: JSON.parse($0, source: "stored collection '\(id)'")) }
    }

    public func putCollection(_ collection: STACCollection) async throws {
        let text = collection.json.text, id = collection.id
        try await run("writing collection '\(id)'", write: true) { db in
            try db.execute(sql: "INSERT INTO collections (id, content) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET content = excluded.content",
                           arguments: [id, text])
        }
    }

    public func createCollection(_ collection: STACCollection) async throws -> Bool {
        let text = collection.json.text, id = collection.id
        return try await run("creating collection '\(id)'", write: true) { db in
            try db.execute(sql: "INSERT INTO collections (id, content) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", arguments: [id, text])
            return db.changesCount > 0
        }
    }

    public func deleteCollection(_ id: String) async throws -> Bool {
        defer { queryableNames.clear() }
        // The items go explicitly, in the same transaction (foreign keys are on for every
        // connection, GRDB's default, but a PRAGMA inside a transaction would change nothing).
        return try await run("deleting collection '\(id)'", write: true) { db in
            try db.execute(sql: "DELETE FROM items WHERE collection = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM queryables WHERE collection = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM collections WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: Items

    public func item(collection: String, id: String) async throws -> Item? {
        let text = try await run("reading item '\(id)'") { db in
            try String.fetchOne(db, sql: "SELECT content FROM items WHERE collection = ? AND id = ?", arguments: [collection, id])
        }
        return try text.map { try Item(json: JSON.parse($0, source: "stored item '\(id)'")) }
    }

    public func prepare(_ items: [Item]) throws -> ItemBatch { try ItemBatch(items, format: .sqlite) }

    public func prepare(lines: NDJSONLines, range: Range<Int>) throws -> ItemBatch { try ItemBatch(lines: lines, range: range, format: .sqlite) }

    public func putItems(_ batch: ItemBatch) async throws {
        defer { queryableNames.clear() }
        guard !batch.rows.isEmpty else { return }
        let path = self.path, bulk = bulkLoad.withLock { $0 == true }
        try await run("writing \(batch.count) items\(batch.path.map { " from \($0)" } ?? "")", write: true) { db in
            let known = Set(try String.fetchAll(db, sql: "SELECT id FROM collections"))
            for r in batch.rows where !known.contains(r.collection) {
                throw GyreCatalogError(.conflict, "\(batch.label(r)) names collection '\(r.collection)', which \(path) does not have; ingest the collection first")
            }
            // Writes are serialized, so numbering after the largest number keeps them in order.
            var seq = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM items") ?? 0
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO items (collection, id, datetime, end_datetime, geometry, properties, content, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (collection, id) DO UPDATE SET datetime = excluded.datetime, end_datetime = excluded.end_datetime,
                    geometry = excluded.geometry, properties = excluded.properties, content = excluded.content, seq = excluded.seq
                RETURNING rowid
                """)
            let rtree = try db.cachedStatement(sql: "INSERT OR REPLACE INTO items_space_time (rowid, minx, maxx, miny, maxy, mint, maxt) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let dropBox = try db.cachedStatement(sql: "DELETE FROM items_space_time WHERE rowid = ?")
            let pendingBox = try db.cachedStatement(sql: "INSERT OR REPLACE INTO items_pending_box (rowid, minx, maxx, miny, maxy, mint, maxt) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let dropPendingBox = try db.cachedStatement(sql: "DELETE FROM items_pending_box WHERE rowid = ?")
            let queryable = try db.cachedStatement(sql: "INSERT OR IGNORE INTO queryables (collection, name, type) VALUES (?, ?, ?)")
            // In a bulk load, new items' boxes wait for the R*Tree's build at the end (and a
            // process that opened the catalog meanwhile may have built it: the marker is put
            // back). Every writer keeps the boxes of the items above the mark aside.
            if bulk { try db.execute(sql: "INSERT INTO rtree_pending (above) SELECT IFNULL((SELECT MAX(rowid) FROM items), 0) WHERE NOT EXISTS (SELECT 1 FROM rtree_pending)") }
            let above = try Int64.fetchOne(db, sql: "SELECT MIN(above) FROM rtree_pending")
            // Written with the items, so no search sees an item its bound leaves out.
            try db.execute(sql: "UPDATE span SET longest = MAX(longest, ?)", arguments: [batch.longestSpan])
            for r in batch.rows {
                seq += 1
                SQLiteRaw.bind(upsert, 1, r.collection); SQLiteRaw.bind(upsert, 2, r.id)
                SQLiteRaw.bind(upsert, 3, r.start); SQLiteRaw.bind(upsert, 4, r.end)
                SQLiteRaw.bind(upsert, 5, r.geometry); SQLiteRaw.bind(upsert, 6, r.properties)
                SQLiteRaw.bind(upsert, 7, r.content); SQLiteRaw.bind(upsert, 8, seq)
                guard let rowid = try SQLiteRaw.run(upsert, db) else { continue }
                if let above, rowid > above {
                    if let b = r.bbox {
                        let t = Double(r.start) / SQLiteSearch.microsecondsPerRTreeUnit
                        SQLiteRaw.bind(pendingBox, 1, rowid)
                        SQLiteRaw.bind(pendingBox, 2, b.west); SQLiteRaw.bind(pendingBox, 3, b.east)
                        SQLiteRaw.bind(pendingBox, 4, b.south); SQLiteRaw.bind(pendingBox, 5, b.north)
                        SQLiteRaw.bind(pendingBox, 6, t); SQLiteRaw.bind(pendingBox, 7, t)
                        try SQLiteRaw.run(pendingBox, db)
                    } else {
                        try dropPendingBox.execute(arguments: [rowid])
                    }
                } else if let b = r.bbox {
                    let t = Double(r.start) / SQLiteSearch.microsecondsPerRTreeUnit
                    try rtree.execute(arguments: [rowid, b.west, b.east, b.south, b.north, t, t])
                } else {
                    try dropBox.execute(arguments: [rowid])
                }
            }
            for q in batch.queryables { try queryable.execute(arguments: [q.collection, q.name, q.type]) }
        }
    }

    // MARK: Bulk loads

    /// The indexes a bulk load may drop and rebuild, as the migrations leave them. The unique
    /// key on collection and id stays (the upsert needs it), and so does the one on `seq`:
    /// each batch starts numbering after `MAX(seq)`, which without it reads the whole table
    /// (and it grows at its right edge only, so keeping it costs little).
    static let deferrableIndexes: [(name: String, definition: String)] = [
        ("items_datetime_properties", "ON items (datetime, end_datetime, properties)"),
        ("items_collection_datetime", "ON items (collection, datetime)"),
        ("items_id", "ON items (id)"),
    ]

    let bulkLoad = Mutex<Bool?>(nil)

    public func beginBulkLoad(items: Int) async throws -> Bool {
        let drop = try await run("dropping indexes for a bulk load", write: true) { db -> Bool in
            let existing = try Int.fetchOne(db, sql: "SELECT IFNULL(MAX(rowid), 0) FROM items") ?? 0
            guard items > 0, items >= existing else { return false }
            for (name, _) in Self.deferrableIndexes { try db.execute(sql: "DROP INDEX IF EXISTS \(name)") }
            try db.execute(sql: "INSERT INTO rtree_pending (above) SELECT IFNULL((SELECT MAX(rowid) FROM items), 0) WHERE NOT EXISTS (SELECT 1 FROM rtree_pending)")
            return true
        }
        bulkLoad.withLock { $0 = drop }
        // The WAL is copied into the database less often: pages a load writes again and again
        // (the unique key's, the change sequence's) are copied once per checkpoint.
        if drop { try await configureWriter("PRAGMA wal_autocheckpoint = 65536") }
        return drop
    }

    /// Runs a connection setting (a PRAGMA) on the writer's connection, outside a transaction.
    func configureWriter(_ sql: String) async throws {
        do {
            try await writer.writeWithoutTransaction { db in try db.execute(sql: sql) }
        } catch let e as DatabaseError {
            throw GyreCatalogError(.database, "\(path): \(sql): \(e.message ?? "\(e)")", cause: e)
        }
    }

    public func finishBulkLoad(written: Int) async throws {
        let dropped = bulkLoad.withLock { state -> Bool in defer { state = nil }; return state ?? false }
        // No ANALYZE: the searches' plans are chosen for SQLite's defaults.
        if dropped {
            // SQLite's sorter may use every core for the index builds; the WAL goes back to
            // being copied every 1,000 pages (SQLite's default), from this commit on.
            try await configureWriter("PRAGMA threads = \(ProcessInfo.processInfo.activeProcessorCount)")
            try await configureWriter("PRAGMA wal_autocheckpoint = 1000")
            try await run("building indexes", write: true) { db in
                try Self.ensureIndexes(db)
                try Self.finishRTree(db)
            }
            try await configureWriter("PRAGMA threads = 0")
        }
    }

    /// Builds the R*Tree in one go (SQLiteRTree) when items wait for it (`rtree_pending`):
    /// from the boxes it holds and those set aside, which it then clears.
    package static func finishRTree(_ db: Database) throws {
        guard try Int64.fetchOne(db, sql: "SELECT MIN(above) FROM rtree_pending") != nil else { return }
        var cells = try SQLiteRTree.leafCells(db, table: "items_space_time")
        let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT rowid, minx, maxx, miny, maxy, mint, maxt FROM items_pending_box")
        while let r = try rows.next() {
            cells.append(SQLiteRTree.Cell(id: r[0], west: r[1], east: r[2], south: r[3], north: r[4], start: r[5], end: r[6]))
        }
        try SQLiteRTree.rebuild(db, table: "items_space_time", cells: cells)
        try db.execute(sql: "DELETE FROM items_pending_box")
        try db.execute(sql: "DELETE FROM rtree_pending")
    }

    /// Creates every deferrable index that is missing (a bulk load's rebuild, or one a load
    /// that never finished left undone).
    static func ensureIndexes(_ db: Database) throws {
        for (name, definition) in deferrableIndexes { try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(name) \(definition)") }
    }

    public func changes(after cursor: Int64?, limit: Int) async throws -> ItemChanges {
        guard let cursor else {
            let latest = try await run("reading changes") { db in try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM items") ?? 0 }
            return ItemChanges(items: [], cursor: latest)
        }
        let rows = try await run("reading changes") { db -> [(Int64, String)] in
            try GRDB.Row.fetchAll(db, sql: "SELECT seq, content FROM items WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [cursor, limit])
                .map { ($0["seq"] as Int64, $0["content"] as String) }
        }
        let items = try rows.map { try Item(json: JSON.parse($0.1, source: "stored item")) }
        return ItemChanges(items: items, cursor: rows.last?.0 ?? cursor)
    }

    public func deleteItem(collection: String, id: String) async throws -> Bool {
        try await run("deleting item '\(id)'", write: true) { db in
            try db.execute(sql: "DELETE FROM items WHERE collection = ? AND id = ?", arguments: [collection, id])
            return db.changesCount > 0
        }
    }

    public func queryables(collection: String?) async throws -> [Queryable] {
        let rows = try await run("reading queryables") { db -> [[String]] in
            let sql = collection == nil ? "SELECT name, type FROM queryables ORDER BY name" : "SELECT name, type FROM queryables WHERE collection = ? ORDER BY name"
            return try GRDB.Row.fetchAll(db, sql: sql, arguments: StatementArguments(collection.map { [$0] } ?? [])).map { [$0[0], $0[1]] }
        }
        return Queryable.merged(rows)
    }

    // MARK: Search

    public func search(_ request: SearchRequest) async throws -> SearchPage {
        guard (1...SearchRequest.maxLimit).contains(request.limit) else {
            throw GyreCatalogError(.badRequest, "limit must be in 1...\(SearchRequest.maxLimit), not \(request.limit)")
        }
        let names = try await queryableNames.names { Set(try await queryables(collection: nil).map(\.name)) }
        let limit = request.limit, statements = self.statements
        let fetched = try await run("searching") { db -> [(String, [DatabaseValue])] in
            func fetch(_ query: (sql: SQLFragment, keyCount: Int)) throws -> [(String, [DatabaseValue])] {
                // Texts that come round again keep their compiled statement on the connection.
                let statement = statements.admits(PreparedStatements.key(query.sql))
                    ? try db.cachedStatement(sql: query.sql.text) : try db.makeStatement(sql: query.sql.text)
                let args = StatementArguments(query.sql.parameters.map(SQLiteSearch.bind))
                return try GRDB.Row.fetchAll(statement, arguments: args).map { row in
                    (row["content"] as String, (0..<query.keyCount).map { row["k\($0)"] as DatabaseValue })
                }
            }
            guard let plan = try SQLiteSearch.windows(request, db) else { return try fetch(try SQLiteSearch.build(request, queryables: names)) }
            // A spatial search in time order: windows of start time, newest (or oldest) first,
            // until limit + 1 items are found, each sized from the matches seen so far (see
            // `nextLength`). The windows do not overlap and follow the first sort key, so their
            // pages in turn are the search's page.
            var out: [(String, [DatabaseValue])] = [], window = plan.first, length = plan.length, covered: Int64 = 0
            while out.count <= limit {
                out += try fetch(try SQLiteSearch.build(request, queryables: names, window: window, fetch: limit + 1 - out.count))
                if plan.ascending ? window.upper > plan.end : window.lower < plan.end { break }
                let (sum, overflow) = covered.addingReportingOverflow(length)
                covered = overflow ? .max : sum
                length = SQLiteSearch.nextLength(after: length, covered: covered, found: out.count, needed: limit + 1 - out.count)
                window = plan.ascending ? SQLiteSearch.Window(lower: window.upper, upper: window.upper &+ length, ascending: true)
                                        : SQLiteSearch.Window(lower: window.lower &- length, upper: window.lower, ascending: false)
            }
            return out
        }
        let page = Array(fetched.prefix(limit))
        // The last two sort keys are always the collection and the id.
        let records = page.map { row in
            StoredItem(collection: String.fromDatabaseValue(row.1[row.1.count - 2]) ?? "", id: String.fromDatabaseValue(row.1[row.1.count - 1]) ?? "", text: row.0)
        }
        let next = fetched.count > limit ? page.last.map { PageToken.encode($0.1) } : nil
        return SearchPage(records: records, next: next)
    }
}

/// Keyset paging tokens: the last item's sort values, so a page stays the same while items
/// are added before it.
enum PageToken {
    static func encode(_ values: [DatabaseValue]) -> String {
        let parts: [JSON] = values.map { v in
            switch v.storage {
            case .int64(let i): return ["i", .string(String(i))]
            case .double(let d): return d.isInfinite ? ["d", .string(d < 0 ? "-inf" : "inf")] : ["d", .double(d)]
            case .string(let s): return ["s", .string(s)]
            case .blob, .null: return ["n"]
            }
        }
        return Base64URL.encode(JSON.array(parts).serialized)
    }

    static func decode(_ token: String, count: Int) throws -> [SQLParameter] {
        func bad() -> GyreCatalogError { GyreCatalogError(.badRequest, "token \"\(token.prefix(80))\" is not a paging token of this search") }
        guard let data = Base64URL.decode(token), let json = try? JSON.parse(data), let parts = json.array, parts.count == count else { throw bad() }
        var out: [SQLParameter] = []
        for p in parts {
            guard let a = p.array, let tag = a.first?.string else { throw bad() }
            let v: JSON? = a.count > 1 ? a[1] : nil
            switch tag {
            case "i":
                guard let i = v?.string.flatMap({ Int64($0) }) else { throw bad() }
                out.append(.int(i))
            case "d":
                if v?.string == "-inf" { out.append(.double(-.infinity)) }
                else if v?.string == "inf" { out.append(.double(.infinity)) }
                else if let d = v?.number { out.append(.double(d)) }
                else { throw bad() }
            case "s":
                guard let s = v?.string else { throw bad() }
                out.append(.text(s))
            default: throw bad()
            }
        }
        return out
    }
}

/// The SQL of one search over the items table, with its sort keys selected as k0, k1, ...
package enum SQLiteSearch {
    package static func bind(_ p: SQLParameter) -> (any DatabaseValueConvertible)? {
        switch p {
        case .text(let s): return s
        case .int(let i): return i
        case .double(let d): return d
        }
    }

    /// The R*Tree keeps start times in days (see migration v4).
    static let microsecondsPerRTreeUnit = 86_400_000_000.0

    /// A window of start times: `lower < datetime <= upper` for a descending search, `lower <=
    /// datetime < upper` for an ascending one.
    package struct Window {
        package var lower: Int64, upper: Int64, ascending: Bool
    }

    /// Where a spatial search in time order starts and stops (nil for other searches or an
    /// empty catalog): the first window, its length, and the start time past which there is
    /// nothing more to read.
    package static func windows(_ r: SearchRequest, _ db: Database) throws -> (first: Window, length: Int64, end: Int64, ascending: Bool)? {
        let path = r.path
        guard path.isSpatial else { return nil }
        let key = r.primarySortKey
        guard key.isStartTime else { return nil }
        // Subqueries that each read one end of an index, where MIN and MAX together scan it
        // all; the largest rowid stands for the number of items (deletions leave it higher).
        guard let row = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT (SELECT MIN(datetime) FROM items), (SELECT MAX(datetime) FROM items), (SELECT MAX(rowid) FROM items), (SELECT longest FROM span)")),
              let low = row[0] as Int64?, let high = row[1] as Int64?, let count = row[2] as Int64? else { return nil }
        // Nothing that starts before the interval's start less the longest span can match.
        var oldest = low
        if let s = r.datetime?.start, let longest = row[3] as Int64? { oldest = max(low, s.microseconds &- longest) }
        // The token's first value bounds the start time on the side the search moves from.
        var from: Int64? = nil
        if let token = r.token, let first = try PageToken.decode(token, count: r.sortKeys.count + 2).first,
           case .int(let t) = first { from = t }
        let areas = [r.bbox, r.intersects?.bbox, r.filterBound(on: path)].compactMap { $0 }.map(globeFraction)
        let length = firstLength(span: high - low, count: count, area: areas.min() ?? 1, wanted: r.limit + 1)
        if key.ascending {
            let lower = max(oldest, from ?? oldest)
            return (Window(lower: lower, upper: lower &+ length, ascending: true), length, high, true)
        }
        var upper = min(high, from ?? high)
        if let e = r.datetime?.end { upper = min(upper, e.microseconds) }
        return (Window(lower: upper &- length, upper: upper, ascending: false), length, oldest, false)
    }

    /// The first window's length: where items spread evenly over the catalog's time span and
    /// the globe, long enough to hold twice the items wanted in an area covering `area` of the
    /// globe (counted as at least 1/10,000 of it, since items have an extent of their own),
    /// and at least a second. Each window reads every item of the area in it, so a window too
    /// long costs more than one too short, which the next window makes up for (`nextLength`).
    /// One fixed length, 1/64 of the span, read 15,600 items for a search of the whole world
    /// that wanted 11 (1 s p99 at 16 clients, 1,000,000 items).
    package static func firstLength(span: Int64, count: Int64, area: Double, wanted: Int) -> Int64 {
        let perMicrosecond = Double(max(count, 1)) / Double(max(span, 1)) * max(area, 1e-4)
        let length = 2 * Double(wanted) / perMicrosecond
        return length >= 0x1p62 ? 1 << 62 : max(1_000_000, Int64(length))
    }

    /// The share of the globe's longitude-latitude rectangle that a bounding box covers.
    package static func globeFraction(_ b: BBox) -> Double {
        let width = b.east >= b.west ? b.east - b.west : b.east - b.west + 360
        return min(1, max(0, width) * max(0, b.north - b.south) / 64_800)
    }

    /// The length of the window after one of `length`, when the windows so far covered
    /// `covered` and held `found` matches, and `needed` more are wanted: long enough to hold
    /// them one and a half times over at the rate seen so far, at least twice the last and at
    /// most 16 times (8 times while nothing has matched).
    package static func nextLength(after length: Int64, covered: Int64, found: Int, needed: Int) -> Int64 {
        let last = Double(length)
        let want = found == 0 ? 8 * last : min(16 * last, max(2 * last, Double(covered) * 1.5 * Double(needed) / Double(found)))
        return want >= 0x1p62 ? 1 << 62 : Int64(want)
    }

    package static func build(_ r: SearchRequest, queryables: Set<String>, window: Window? = nil, fetch: Int? = nil) throws -> (sql: SQLFragment, keyCount: Int) {
        // The path the request's shape gives (`SearchRequest.path`). On the ids path the id
        // index drives the query and every other condition is a test of the rows it finds.
        // Otherwise a box the filter implies drives the search through the R*Tree, as a bbox
        // does, and the filter's own spatial terms are exact tests only.
        let path = r.path
        let byIDs = path == .ids
        let bound = r.filterBound(on: path)
        let dialect = SQLiteDialect(spatialIndex: bound == nil && !byIDs)
        let compiler = SQLFilterCompiler(dialect: dialect, queryables: queryables)
        var conds: [SQLFragment] = []
        // In a time window the R*Tree must drive the query: SQLite would rather range-scan the
        // time index over the whole window. A unary `+` keeps a column out of index paths.
        let plus = window == nil && !byIDs ? "" : "+"
        if let c = r.collections {
            conds.append(SQLFragment("\(plus)collection IN (\(c.map { _ in "?" }.joined(separator: ",")))", c.map { .text($0) }))
        }
        if let i = r.ids {
            conds.append(SQLFragment("id IN (\(i.map { _ in "?" }.joined(separator: ",")))", i.map { .text($0) }))
        }
        if let d = r.datetime {
            if let s = d.start {
                conds.append(SQLFragment("\(plus)end_datetime >= ?", [.int(s.microseconds)]))
                conds.append(SQLFragment("\(plus)datetime >= ? - (SELECT longest FROM span)", [.int(s.microseconds)]))
            }
            if let e = d.end { conds.append(SQLFragment("\(plus)datetime <= ?", [.int(e.microseconds)])) }
        }
        // The R*Tree lookup first (it drives the query); the exact geometry test, which parses
        // each candidate's GeoJSON, last, after the cheaper conditions have thinned them.
        var exact: [SQLFragment] = []
        for g in [r.bbox?.geometry, r.intersects].compactMap({ $0 }) {
            let (index, test) = dialect.indexedIntersects(g, window: window)
            if !r.areaIsWholeGlobe, !byIDs { conds.insert(index, at: 0) }
            exact.append(test)
        }
        if let b = bound { conds.insert(dialect.boxed(b, window: window), at: 0) }
        if let w = window {
            conds.append(SQLFragment(w.ascending ? "+datetime >= ? AND +datetime < ?" : "+datetime > ? AND +datetime <= ?", [.int(w.lower), .int(w.upper)]))
        }
        if let f = r.filter { conds.append(try compiler.compile(f)) }
        conds += exact

        // Sort keys, then collection and id to break ties.
        var keys: [(SQLFragment, Bool)] = []
        for k in r.sortKeys {
            var f = k.field
            if f.hasPrefix("properties.") { f.removeFirst("properties.".count) }
            let expr: SQLFragment
            switch f {
            case "datetime", "start_datetime": expr = SQLFragment("\(plus)datetime")
            case "end_datetime": expr = SQLFragment("\(plus)end_datetime")
            case "id": expr = SQLFragment("id")
            case "collection": expr = SQLFragment("\(plus)collection")
            default:
                let p = try compiler.checked(f)
                expr = SQLFragment("IFNULL(json_extract(properties, ?), ?)", [.text(SQLiteDialect.path(p)), .double(-.infinity)])
            }
            keys.append((expr, k.ascending))
        }
        keys.append((SQLFragment("\(plus)collection"), true))
        keys.append((SQLFragment("\(plus)id"), true))
        if let token = r.token {
            let last = try PageToken.decode(token, count: keys.count)
            conds += SQLFragment.keyset(keys, after: last.map { SQLFragment("?", [$0]) })
        }
        let select = SQLFragment.joined(keys.enumerated().map { $1.0 + SQLFragment(" AS k\($0)") }, ", ")
        var sql = SQLFragment("SELECT content, ") + select + SQLFragment(" FROM items")
        if !conds.isEmpty { sql = sql + SQLFragment(" WHERE ") + SQLFragment.joined(conds, " AND ") }
        sql = sql + SQLFragment(" ORDER BY ") + SQLFragment(keys.indices.map { "k\($0) \(keys[$0].1 ? "ASC" : "DESC")" }.joined(separator: ", "))
        sql = sql + SQLFragment(" LIMIT ?", [.int(Int64(fetch ?? r.limit + 1))])
        return (sql, keys.count)
    }
}

/// SQLite's side of the filter compiler: properties read in place by `SQLiteProperties`' functions
/// with the name as a parameter, and Gyre's registered functions for what SQLite lacks.
struct SQLiteDialect: SQLDialect {
    /// Whether a filter's spatial terms also look their literal's box up in the R*Tree (false
    /// when the search is already bounded by it: `SearchRequest.filterBound`).
    var spatialIndex = true

    static func path(_ p: String) -> String { "$.\"\(p)\"" }

    /// The property read by one of `SQLiteProperties`' functions (NULL when absent or of
    /// another JSON type), with the name as a parameter.
    func typed(_ p: String, _ function: String) -> SQLFragment { SQLFragment("\(function)(properties, ?)", [.text(p)]) }
    func number(_ p: String) -> SQLFragment { typed(p, "gyre_number") }
    func string(_ p: String) -> SQLFragment { typed(p, "gyre_string") }
    func boolean(_ p: String) -> SQLFragment { typed(p, "gyre_boolean") }
    func json(_ p: String) -> SQLFragment { typed(p, "gyre_json") }
    func array(_ p: String) -> SQLFragment { typed(p, "gyre_array_value") }
    func call(_ function: String, _ args: [SQLFragment]) -> SQLFragment {
        SQLFragment("\(function)(") + SQLFragment.joined(args, ", ") + SQLFragment(")")
    }
    func like(_ value: SQLFragment, _ pattern: SQLFragment) -> SQLFragment { call("gyre_like", [value, pattern]) }
    func arrayRelation(_ op: String, _ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        call("gyre_array", [SQLFragment("?", [.text(op)]), a, b])
    }
    func jsonLiteral(_ value: JSON) -> SQLFragment { SQLFragment("?", [.text(value.text)]) }
    func timeOf(_ text: SQLFragment) -> SQLFragment { call("gyre_time", [text]) }

    /// The exact relation, after the R*Tree has picked the items whose boxes meet the
    /// literal's (s_disjoint has no such shortcut). Items without a geometry give NULL.
    func spatial(_ op: String, _ column: String, _ literal: Geometry) -> SQLFragment {
        let exact = call("gyre_spatial", [SQLFragment("?", [.text(op)]), SQLFragment(column), SQLFragment("?", [.text(literal.json.text)])])
        guard spatialIndex, op != "s_disjoint", let b = literal.bbox else { return SQLFragment("(CASE WHEN \(column) IS NOT NULL THEN ") + exact + SQLFragment(" END)") }
        let rtree = boxed(b, window: nil)
        return SQLFragment("(CASE WHEN \(column) IS NOT NULL THEN (") + rtree + SQLFragment(" AND ") + exact + SQLFragment(") END)")
    }
}

extension SQLiteDialect {
    /// `bbox` and `intersects` of a search, which are always top-level conjuncts: the R*Tree
    /// lookup stands alone so SQLite can drive the query from it (rather than walk the
    /// datetime index testing every row), then the exact test. Items without a geometry are
    /// not in the R*Tree, so they never match, as the three-valued form has it too.
    /// With a window, the R*Tree also bounds the start time (it keeps days as 32-bit floats,
    /// rounded outwards, so the window's exact bounds are tested on the row as well).
    func indexedIntersects(_ literal: Geometry, window: SQLiteSearch.Window? = nil) -> (index: SQLFragment, exact: SQLFragment) {
        let exact = call("gyre_spatial", [SQLFragment("?", [.text("s_intersects")]), SQLFragment("geometry"), SQLFragment("?", [.text(literal.json.text)])])
        guard let b = literal.bbox else { return (SQLFragment("geometry IS NOT NULL"), exact) }
        return (boxed(b, window: window), exact)
    }

    /// The items whose boxes meet `b` (and, with a window, whose start times may fall in it):
    /// the R*Tree's, and those a bulk load has written and not yet put in the R*Tree (see
    /// `SQLiteCatalog.finishRTree`; their table is empty otherwise).
    func boxed(_ b: BBox, window: SQLiteSearch.Window?) -> SQLFragment {
        var test = SQLFragment(" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                               [.double(b.east), .double(b.west), .double(b.north), .double(b.south)])
        if let w = window {
            let unit = SQLiteSearch.microsecondsPerRTreeUnit
            test = test + SQLFragment(" AND mint <= ? AND maxt >= ?", [.double(Double(w.upper) / unit), .double(Double(w.lower) / unit)])
        }
        return SQLFragment("rowid IN (SELECT rowid FROM items_space_time") + test
            + SQLFragment(" UNION ALL SELECT rowid FROM items_pending_box") + test + SQLFragment(")")
    }
}

/// The Swift functions every catalog connection registers.
package enum SQLiteFunctions {
    /// Parsed literal geometries by their JSON text: one search parses its literal once.
    static let literals = Mutex<[String: Geometry]>([:])

    static func geometry(_ text: String, literal: Bool) -> Geometry? {
        if literal, let g = literals.withLock({ $0[text] }) { return g }
        guard let json = try? JSON.parse(text), let g = try? Geometry(json: json) else { return nil }
        if literal { literals.withLock { if $0.count > 256 { $0.removeAll() }; $0[text] = g } }
        return g
    }

    /// Registers them all on a connection: these, and `SQLiteProperties`' through the C interface.
    package static func register(_ db: Database) throws {
        for f in all { db.add(function: f) }
        try SQLiteProperties.register(db)
    }

    static let all: [DatabaseFunction] = [
        DatabaseFunction("gyre_casei", argumentCount: 1, pure: true) { v in String.fromDatabaseValue(v[0]).map(CQL2.casei) },
        DatabaseFunction("gyre_accenti", argumentCount: 1, pure: true) { v in String.fromDatabaseValue(v[0]).map(CQL2.accenti) },
        DatabaseFunction("gyre_like", argumentCount: 2, pure: true) { v in
            guard let s = String.fromDatabaseValue(v[0]), let p = String.fromDatabaseValue(v[1]) else { return nil }
            return CQL2.like(s, p)
        },
        DatabaseFunction("gyre_time", argumentCount: 1, pure: true) { v in
            String.fromDatabaseValue(v[0]).flatMap { try? Timestamp(rfc3339: $0) }?.microseconds
        },
        DatabaseFunction("gyre_spatial", argumentCount: 3, pure: true) { v in
            guard let op = String.fromDatabaseValue(v[0]), let a = String.fromDatabaseValue(v[1]), let b = String.fromDatabaseValue(v[2]),
                  let ga = geometry(a, literal: false), let gb = geometry(b, literal: true) else { return nil }
            return spatialRelation(op, ga, gb)
        },
        DatabaseFunction("gyre_array", argumentCount: 3, pure: true) { v in
            guard let op = String.fromDatabaseValue(v[0]), let a = String.fromDatabaseValue(v[1]), let b = String.fromDatabaseValue(v[2]),
                  let x = (try? JSON.parse(a))?.array, let y = (try? JSON.parse(b))?.array else { return nil }
            return arrayRelation(op, x, y)
        },
    ]

    static func arrayRelation(_ op: String, _ x: [JSON], _ y: [JSON]) -> Bool {
        func same(_ a: JSON, _ b: JSON) -> Bool {
            if let p = a.number, let q = b.number { return p == q }
            return a == b
        }
        func has(_ list: [JSON], _ v: JSON) -> Bool { list.contains { same($0, v) } }
        switch op {
        case "a_equals": return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case "a_contains": return y.allSatisfy { has(x, $0) }
        case "a_containedby": return x.allSatisfy { has(y, $0) }
        default: return x.contains { has(y, $0) }
        }
    }
}
