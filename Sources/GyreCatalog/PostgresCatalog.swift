import GyreCore
import Foundation
import GyreSTAC
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The catalog for scale: PostgreSQL with PostGIS through postgres-nio. Items keep their exact
/// JSON text (so key order and number forms come back as written), their properties as `jsonb`
/// for filters, their time span in microseconds (B-tree indexes with the collection and in the
/// default sort order), and their geometry as a PostGIS `geometry` with a GiST index, so the
/// exact spatial predicates run in the database.
public final class PostgresCatalog: CatalogBackend {
    let client: PostgresClient
    let runner: Task<Void, Never>
    /// Where it connects, without the password (for messages).
    public let location: String
    let queryableNames = QueryableCache()
    package let statements = PreparedStatements()

    /// Connects to `postgresql://user:password@host:port/database` and brings the schema up to
    /// date (PostGIS, unaccent and btree_gist are created when missing, which needs a role
    /// allowed to). At most `maxConnections` queries run at once; the rest wait their turn in
    /// order. The default, twice this machine's cores, keeps a busy server's slowest answers
    /// close to its typical ones: with 16 clients on 2 cores, 32 connections left the p99 of a
    /// bbox search at 85 ms and 4 bring it to 12-20 ms, at slightly more throughput.
    public init(url: String, maxConnections: Int? = nil) async throws {
        guard let c = URLComponents(string: url), ["postgres", "postgresql"].contains(c.scheme ?? ""),
              let host = c.host, let user = c.user, !c.path.dropFirst().isEmpty else {
            throw GyreCatalogError(.badRequest, "\"\(url.prefix(200))\" is not a postgresql://user:password@host:port/database URL")
        }
        let database = String(c.path.dropFirst())
        location = "postgresql://\(user)@\(host):\(c.port ?? 5432)/\(database)"
        var config = PostgresClient.Configuration(host: host, port: c.port ?? 5432, username: user,
                                                  password: c.password?.removingPercentEncoding, database: database, tls: .disable)
        config.options.maximumConnections = max(1, maxConnections ?? 2 * ProcessInfo.processInfo.activeProcessorCount)
        // Every search orders by indexed keys and stops at `limit`. The planner cannot estimate
        // predicates on jsonb properties, so left alone it scans and sorts the whole table
        // (90 ms at 100,000 items) rather than walk the order index until `limit` rows match
        // (1 ms). Seq scans stay possible where nothing else can answer; parallel workers cost
        // more to start than these queries take, and so does JIT compilation (100 ms a query at
        // 1,000,000 items, where the index walk's estimated cost passes jit_above_cost).
        config.options.additionalStartupParameters = [("enable_seqscan", "off"), ("max_parallel_workers_per_gather", "0"),
                                                      ("jit", "off"), ("application_name", "gyre")]
        var logger = Logger(label: "gyre.postgres")
        logger.logLevel = .critical
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        let client = self.client
        runner = Task { await client.run() }
        do {
            try await migrate()
            try await ensureIndexes()
        } catch {
            runner.cancel()
            throw error
        }
    }

    deinit { runner.cancel() }

    func fail(_ doing: String, _ error: any Error) -> GyreCatalogError {
        if let e = error as? GyreCatalogError { return e }
        if let t = error as? PostgresTransactionError {
            if let inner = t.closureError { return fail(doing, inner) }
            if let inner = t.beginError ?? t.commitError ?? t.rollbackError { return fail(doing, inner) }
        }
        if let e = error as? PSQLError {
            let detail = e.serverInfo?[.message] ?? "\(e.code)"
            return GyreCatalogError(.database, "\(location): \(doing): \(detail)", cause: e)
        }
        return GyreCatalogError(.database, "\(location): \(doing): \(error)")
    }

    /// Runs SQL written with `?` placeholders (as the filter compiler writes it) with its
    /// parameters bound, never spliced.
    static func query(_ f: SQLFragment) -> PostgresQuery {
        // Byte by byte: every search goes through here, and appending Characters to a String
        // showed in the server's profile.
        var bytes: [UInt8] = [], n = 0
        bytes.reserveCapacity(f.text.utf8.count + 3 * f.parameters.count)
        for b in f.text.utf8 {
            if b == UInt8(ascii: "?") { n += 1; bytes += "$\(n)".utf8 } else { bytes.append(b) }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var binds = PostgresBindings(capacity: f.parameters.count)
        for p in f.parameters {
            switch p {
            case .text(let s): binds.append(s)
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    package func run(_ doing: String, _ f: SQLFragment) async throws -> [PostgresRow] {
        do { return try await client.query(Self.query(f)).collect() } catch { throw fail(doing, error) }
    }

    /// Runs a statement the server may run many times (a search) as a named prepared statement
    /// once its text has come round again (see `PreparedStatements`).
    func runPrepared(_ doing: String, _ f: SQLFragment) async throws -> [PostgresRow] {
        guard let name = statements.name(for: PreparedStatements.key(f)) else { return try await run(doing, f) }
        let query = Self.query(f)
        do {
            return try await RuntimeStatement.$current.withValue(.init(name: name, sql: query.sql)) {
                var rows: [PostgresRow] = []
                for try await row in try await client.execute(RuntimeStatement(bindings: query.binds)) { rows.append(row) }
                return rows
            }
        } catch { throw fail(doing, error) }
    }

    // MARK: Schema

    /// Each migration is a list of statements (the extended protocol runs one at a time).
    static let migrations: [(Int, [String])] = [
        (1, [
            "CREATE EXTENSION IF NOT EXISTS postgis",
            "CREATE EXTENSION IF NOT EXISTS unaccent",
            "CREATE TABLE gyre_collections (id text PRIMARY KEY, content text NOT NULL)",
            "CREATE TABLE gyre_items ( collection text NOT NULL REFERENCES gyre_collections (id) ON DELETE CASCADE, id text NOT NULL, datetime bigint NOT NULL, end_datetime bigint NOT NULL, geometry geometry(Geometry, 4326), properties jsonb NOT NULL, content text NOT NULL, PRIMARY KEY (collection, id))",
            "CREATE INDEX gyre_items_geometry ON gyre_items USING gist (geometry)",
            "CREATE INDEX gyre_items_order ON gyre_items (datetime DESC, collection, id)",
            "CREATE INDEX gyre_items_collection_datetime ON gyre_items (collection, datetime DESC, id)",
            "CREATE INDEX gyre_items_end ON gyre_items (end_datetime)",
            "CREATE INDEX gyre_items_id ON gyre_items (id)",
            "CREATE TABLE gyre_queryables (collection text NOT NULL REFERENCES gyre_collections (id) ON DELETE CASCADE, name text NOT NULL, type text NOT NULL, PRIMARY KEY (collection, name, type))",
            """
            CREATE FUNCTION gyre_time(t text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $f$
            BEGIN
                IF t IS NULL OR t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$' THEN
                    RETURN NULL;
                END IF;
                IF length(t) = 10 THEN t := t || 'T00:00:00Z'; END IF;
                RETURN floor(extract(epoch FROM t::timestamptz) * 1000000)::bigint;
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $f$;
            """,
        ]),
        // A change sequence: writers take a transaction-level advisory lock, so numbers are
        // handed out in commit order and a reader asking for seq > n never misses a row.
        (2, [
            "CREATE SEQUENCE gyre_items_seq",
            "ALTER TABLE gyre_items ADD COLUMN seq bigint NOT NULL DEFAULT nextval('gyre_items_seq')",
            "CREATE INDEX gyre_items_seq_index ON gyre_items (seq)",
        ]),
        // Geometry and start time in one GiST index (btree_gist): a spatial search sorted by time
        // walks it nearest-first by time (`datetime <-> far future`) and stops after `limit`
        // matches, instead of reading every item in the area.
        (3, [
            "CREATE EXTENSION IF NOT EXISTS btree_gist",
            "CREATE INDEX gyre_items_geometry_time ON gyre_items USING gist (geometry, datetime)",
            "DROP INDEX gyre_items_geometry",
        ]),
        // The same index led by the start time's 30-day period (2,592,000,000,000 us). Led by
        // the geometry, each page of it held items of every date, so the walk nearest-first by
        // time read every page overlapping the area before its first match: 2,111 pages
        // (35 ms) for a 90 x 110 degree box at 1,000,000 items over 9 years. Led by the
        // period, a page holds one period's items close together in space, and the walk reads
        // only the latest periods' pages in the area (86 pages). The price is about a page per
        // period for a small area with few matches (197 pages instead of 25 for a 0.1-degree
        // box with 8 matches). The period only shapes the tree; no query names it.
        (4, [
            "CREATE INDEX gyre_items_period_geometry_time ON gyre_items USING gist ((datetime / 2592000000000), geometry, datetime)",
            "DROP INDEX gyre_items_geometry_time",
        ]),
        // The longest time span of any item, kept by every write. An item matches
        // `datetime=A/B` when it ends at A or later, which no index on its start time bounds:
        // a search that ran out of matches walked every item older than A (1.2 s for a month
        // with 2 matches at 1,000,000 items). No item starts earlier than A less the longest
        // span, and that bound is one an index on the start time answers.
        (5, [
            "CREATE TABLE gyre_span (one boolean PRIMARY KEY DEFAULT true CHECK (one), longest bigint NOT NULL)",
            "INSERT INTO gyre_span (longest) SELECT COALESCE(MAX(end_datetime - datetime), 0) FROM gyre_items",
        ]),
        // Cheaper writes. The foreign key to the collections cost every copied row a lookup
        // (putItems checks the collections itself, under the writers' lock, and
        // deleteCollection deletes the items under the same lock), and rows of up to 8 kB
        // stay in the table's pages uncompressed instead of being compressed on the way in:
        // copying 20,000 items took 0.68 s instead of 1.20 s, for 26% more table.
        (6, [
            "ALTER TABLE gyre_items DROP CONSTRAINT IF EXISTS gyre_items_collection_fkey",
            "ALTER TABLE gyre_items SET (toast_tuple_target = 8160)",
        ]),
        // Datasets registered through the API (POST /datasets).
        (7, [
            "CREATE TABLE gyre_datasets (seq bigserial PRIMARY KEY, name text UNIQUE NOT NULL, registration text NOT NULL)",
        ]),
    ]

    package func migrate() async throws {
        do {
            try await client.withConnection { conn in
                // One migrator at a time, across processes.
                try await conn.query("SELECT pg_advisory_lock(7265712)", logger: Self.quiet)
                do {
                    try await conn.query("CREATE TABLE IF NOT EXISTS gyre_migrations (version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())", logger: Self.quiet)
                    var done = Set<Int>()
                    for try await v in try await conn.query("SELECT version FROM gyre_migrations", logger: Self.quiet).decode(Int.self) { done.insert(v) }
                    for (version, statements) in Self.migrations where !done.contains(version) {
                        try await conn.query("BEGIN", logger: Self.quiet)
                        do {
                            for sql in statements { try await conn.query(PostgresQuery(unsafeSQL: sql), logger: Self.quiet) }
                            try await conn.query("INSERT INTO gyre_migrations (version) VALUES (\(version))", logger: Self.quiet)
                            try await conn.query("COMMIT", logger: Self.quiet)
                        } catch {
                            _ = try? await conn.query("ROLLBACK", logger: Self.quiet)
                            throw error
                        }
                    }
                } catch {
                    _ = try? await conn.query("SELECT pg_advisory_unlock(7265712)", logger: Self.quiet)
                    throw error
                }
                try await conn.query("SELECT pg_advisory_unlock(7265712)", logger: Self.quiet)
            }
        } catch {
            throw fail("migrating the schema", error)
        }
    }

    static let quiet: Logger = { var l = Logger(label: "gyre.postgres.query"); l.logLevel = .critical; return l }()

    // MARK: Collections

    public func registeredDatasets() async throws -> [(name: String, registration: JSON)] {
        let rows = try await run("listing registered datasets", SQLFragment("SELECT name, registration FROM gyre_datasets ORDER BY seq"))
        return try rows.map { row in
            let (name, text) = try row.decode((String, String).self)
            return (name, try JSON.parse(text, source: "registered dataset '\(name)'"))
        }
    }

    public func registerDataset(name: String, registration: JSON) async throws -> Bool {
        let rows = try await run("registering dataset '\(name)'", SQLFragment(
            "INSERT INTO gyre_datasets (name, registration) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
            [.text(name), .text(registration.text)]))
        return !rows.isEmpty
    }

    public func unregisterDataset(_ name: String) async throws -> Bool {
        let rows = try await run("removing dataset '\(name)'", SQLFragment("DELETE FROM gyre_datasets WHERE name = ? RETURNING name", [.text(name)]))
        return !rows.isEmpty
    }

    public func collections() async throws -> [STACCollection] {
        let rows = try await run("listing collections", SQLFragment("SELECT content FROM gyre_collections ORDER BY id"))
        return try rows.map { try STACCollection(json: JSON.parse(try $0.decode(String.self), source: "stored collection")) }
    }

    public func collection(_ id: String) async throws -> STACCollection? {
        let rows = try await run("reading collection '\(id)'", SQLFragment("SELECT content FROM gyre_collections WHERE id = ?", [.text(id)]))
        return try rows.first.map { try STACCollection(json: JSON.parse(try $0.decode(String.self), source: "stored collection '\(id)'")) }
    }

    public func putCollection(_ collection: STACCollection) async throws {
        _ = try await run("writing collection '\(collection.id)'", SQLFragment(
            "INSERT INTO gyre_collections (id, content) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET content = excluded.content",
            [.text(collection.id), .text(collection.json.text)]))
    }

    public func createCollection(_ collection: STACCollection) async throws -> Bool {
        let rows = try await run("creating collection '\(collection.id)'", SQLFragment(
            "INSERT INTO gyre_collections (id, content) VALUES (?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            [.text(collection.id), .text(collection.json.text)]))
        return !rows.isEmpty
    }

    public func deleteCollection(_ id: String) async throws -> Bool {
        defer { queryableNames.clear() }
        // Under the writers' lock, so no batch that found the collection lands after it is gone.
        do {
            return try await client.withTransaction(logger: Self.quiet) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(7265713)", logger: Self.quiet)
                try await conn.query("DELETE FROM gyre_items WHERE collection = \(id)", logger: Self.quiet)
                let rows = try await conn.query("DELETE FROM gyre_collections WHERE id = \(id) RETURNING id", logger: Self.quiet)
                var deleted = false
                for try await _ in rows { deleted = true }
                return deleted
            }
        } catch { throw fail("deleting collection '\(id)'", error) }
    }

    // MARK: Items

    public func item(collection: String, id: String) async throws -> Item? {
        let rows = try await runPrepared("reading item '\(id)'", SQLFragment("SELECT content FROM gyre_items WHERE collection = ? AND id = ?", [.text(collection), .text(id)]))
        return try rows.first.map { try Item(json: JSON.parse(try $0.decode(String.self), source: "stored item '\(id)'")) }
    }

    public func prepare(_ items: [Item]) throws -> ItemBatch { try ItemBatch(items, format: .postgresCopy) }

    public func prepare(lines: NDJSONLines, range: Range<Int>) throws -> ItemBatch { try ItemBatch(lines: lines, range: range, format: .postgresCopy) }

    /// One transaction: the rows go by `COPY` into a temporary staging table (geometries as
    /// hexadecimal 2D EWKB, so no GeoJSON is parsed on the server), then into the items in one
    /// set-based upsert. In a bulk load that dropped the indexes, a batch is first copied
    /// straight into the items: a new item needs no staging and no upsert, and a batch holding
    /// one the catalog has fails on the primary key, is rolled back to before the copy and goes
    /// through the staging table (as every later batch of that load does). The longest span and
    /// the queryables are raised in the same transaction, so no search sees an item its bound
    /// leaves out.
    public func putItems(_ batch: ItemBatch) async throws {
        defer { queryableNames.clear() }
        guard !batch.rows.isEmpty, let text = batch.copyText else { return }
        let location = self.location, bulk = bulkLoad.withLock { $0 != nil }
        let tryDirect = bulkLoad.withLock { $0 == true } && directCopies.withLock { $0 }
        let columns = ["collection", "id", "datetime", "end_datetime", "geometry", "properties", "content"]
        func send(_ writer: PostgresCopyFromWriter) async throws {
            var at = 0
            while at < text.count {
                let end = min(at + (1 << 20), text.count)
                try await writer.write(ByteBuffer(bytes: text[at..<end]))
                at = end
            }
        }
        do {
            try await client.withTransaction(logger: Self.quiet) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(7265713)", logger: Self.quiet)
                // A bulk load's batches need not wait for the disk: a crash loses at most the
                // last moments' batches, never consistency, and re-running the load restores them.
                if bulk { try await conn.query("SET LOCAL synchronous_commit = off", logger: Self.quiet) }
                var known = Set<String>()
                for try await id in try await conn.query("SELECT id FROM gyre_collections", logger: Self.quiet).decode(String.self) { known.insert(id) }
                for row in batch.rows where !known.contains(row.collection) {
                    throw GyreCatalogError(.conflict, "\(batch.label(row)) names collection '\(row.collection)', which \(location) does not have; ingest the collection first")
                }
                var binds = PostgresBindings(capacity: 1)
                binds.append(batch.longestSpan)
                if tryDirect {
                    try await conn.query("SAVEPOINT gyre_direct", logger: Self.quiet)
                    do {
                        try await conn.copyFrom(table: "gyre_items", columns: columns, logger: Self.quiet, writeData: send)
                        try await conn.query(PostgresQuery(unsafeSQL: "UPDATE gyre_span SET longest = GREATEST(longest, $1::bigint)", binds: binds), logger: Self.quiet)
                        try await self.raiseQueryables(batch, conn)
                        return
                    } catch let e as PSQLError where e.serverInfo?[.sqlState] == "23505" {
                        try await conn.query("ROLLBACK TO SAVEPOINT gyre_direct", logger: Self.quiet)
                        self.directCopies.withLock { $0 = false }
                    }
                }
                // Rows up to 8 kB stay in the staging table's pages as they are, not compressed.
                try await conn.query("""
                    CREATE TEMPORARY TABLE IF NOT EXISTS gyre_stage (collection text, id text, datetime bigint, end_datetime bigint, \
                    geometry text, properties jsonb, content text) WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS
                    """, logger: Self.quiet)
                try await conn.copyFrom(table: "gyre_stage", columns: columns, logger: Self.quiet, writeData: send)
                let upsert = """
                    WITH span AS (UPDATE gyre_span SET longest = GREATEST(longest, $1::bigint)) \
                    INSERT INTO gyre_items (collection, id, datetime, end_datetime, geometry, properties, content) \
                    SELECT collection, id, datetime, end_datetime, \
                    geometry::geometry, \
                    properties, content FROM gyre_stage \
                    ON CONFLICT (collection, id) DO UPDATE SET datetime = excluded.datetime, end_datetime = excluded.end_datetime, \
                    geometry = excluded.geometry, properties = excluded.properties, content = excluded.content, seq = nextval('gyre_items_seq')
                    """
                try await conn.query(PostgresQuery(unsafeSQL: upsert, binds: binds), logger: Self.quiet)
                try await self.raiseQueryables(batch, conn)
            }
        } catch {
            throw fail("writing \(batch.count) items\(batch.path.map { " from \($0)" } ?? "")", error)
        }
    }

    func raiseQueryables(_ batch: ItemBatch, _ conn: PostgresConnection) async throws {
        guard !batch.queryables.isEmpty else { return }
        var values: [String] = [], params: [SQLParameter] = []
        for q in batch.queryables { values.append("(?, ?, ?)"); params += [.text(q.collection), .text(q.name), .text(q.type)] }
        try await conn.query(Self.query(SQLFragment("INSERT INTO gyre_queryables (collection, name, type) VALUES " + values.joined(separator: ", ")
                                                    + " ON CONFLICT DO NOTHING", params)), logger: Self.quiet)
    }

    // MARK: Bulk loads

    /// The indexes a bulk load may drop and rebuild (all but the primary key, which the upsert
    /// needs), as the migrations leave them.
    static let deferrableIndexes: [(name: String, definition: String)] = [
        ("gyre_items_order", "ON gyre_items (datetime DESC, collection, id)"),
        ("gyre_items_collection_datetime", "ON gyre_items (collection, datetime DESC, id)"),
        ("gyre_items_end", "ON gyre_items (end_datetime)"),
        ("gyre_items_id", "ON gyre_items (id)"),
        ("gyre_items_seq_index", "ON gyre_items (seq)"),
        ("gyre_items_period_geometry_time", "ON gyre_items USING gist ((datetime / 2592000000000), geometry, datetime)"),
    ]

    /// Whether a bulk load is under way, and whether it dropped the indexes.
    let bulkLoad = Mutex<Bool?>(nil)
    /// Whether this bulk load still copies batches straight into the items (until one holds an
    /// item the catalog has).
    let directCopies = Mutex(true)

    public func beginBulkLoad(items: Int) async throws -> Bool {
        let rows = try await run("counting items", SQLFragment("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = 'gyre_items'"))
        let existing = try rows.first?.decode(Int64.self) ?? 0
        let drop = items > 0 && Int64(items) >= existing
        if drop {
            do {
                try await client.withTransaction(logger: Self.quiet) { conn in
                    for (name, _) in Self.deferrableIndexes {
                        try await conn.query(PostgresQuery(unsafeSQL: "DROP INDEX IF EXISTS \(name)"), logger: Self.quiet)
                    }
                }
            } catch { throw fail("dropping indexes for a bulk load", error) }
        }
        bulkLoad.withLock { $0 = drop }
        directCopies.withLock { $0 = true }
        return drop
    }

    public func finishBulkLoad(written: Int) async throws {
        let dropped = bulkLoad.withLock { state -> Bool in defer { state = nil }; return state ?? false }
        if dropped {
            try await cluster()
            try await ensureIndexes()
            _ = try await run("analyzing", SQLFragment(Self.analyzeItems))
        } else {
            try await analyze(afterIngesting: written)
        }
    }

    /// Rewrites the items in start-time order (newest first), after a bulk load that dropped
    /// the indexes. A search answered by walking the items in time order and testing each
    /// one's properties (a filter on properties alone) then reads the rows it tests from pages
    /// in a row, several to a page, instead of one page from anywhere for each: in the order
    /// a load wrote them, a filter on three properties that tested about 10,000 items read
    /// 10,700 pages (52 ms); clustered, 3,456 pages (23 ms), and 16 clients' random such
    /// searches at 1,000,000 items went from 933 to 1,809 per second. The rewrite takes about
    /// 35 s for 1,000,000 items and blocks readers meanwhile (`CLUSTER` holds the table
    /// exclusively); later writes land where there is room, and `CLUSTER gyre_items` run
    /// by hand restores the order.
    func cluster() async throws {
        do {
            try await client.withConnection { conn in
                try await conn.query("SET maintenance_work_mem = '512MB'", logger: Self.quiet)
                let order = Self.deferrableIndexes.first { $0.name == "gyre_items_order" }!
                try await conn.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(order.name) \(order.definition)"), logger: Self.quiet)
                try await conn.query(PostgresQuery(unsafeSQL: "CLUSTER gyre_items USING \(order.name)"), logger: Self.quiet)
                try await conn.query("RESET maintenance_work_mem", logger: Self.quiet)
            }
        } catch { throw fail("ordering the items by time", error) }
    }

    /// Creates every deferrable index that is missing, each sorted in one go with a large
    /// sort memory (a bulk load's rebuild, or one a load that never finished left undone).
    /// The GiST index is built on one connection while the B-trees are built on another: a
    /// GiST build runs on one core, where a B-tree build sorts with parallel workers.
    package func ensureIndexes() async throws {
        do {
            var present = Set<String>()
            for row in try await run("listing indexes", SQLFragment("SELECT indexname FROM pg_indexes WHERE tablename = 'gyre_items'")) {
                present.insert(try row.decode(String.self))
            }
            let missing = Self.deferrableIndexes.filter { !present.contains($0.name) }
            guard !missing.isEmpty else { return }
            let groups = [missing.filter { $0.definition.contains("USING gist") }, missing.filter { !$0.definition.contains("USING gist") }]
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for group in groups where !group.isEmpty {
                    tasks.addTask {
                        try await self.client.withConnection { conn in
                            try await conn.query("SET maintenance_work_mem = '512MB'", logger: Self.quiet)
                            for (name, definition) in group {
                                try await conn.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(name) \(definition)"), logger: Self.quiet)
                            }
                            try await conn.query("RESET maintenance_work_mem", logger: Self.quiet)
                        }
                    }
                }
                try await tasks.waitForAll()
            }
        } catch { throw fail("building indexes", error) }
    }

    /// Statistics for the columns searches filter and sort on. The properties and the item
    /// text are left out: no search's plan uses their statistics (a property is read through
    /// `->>`, which column statistics do not describe), and sampling them took 45% of the time
    /// (0.69 s instead of 0.40 s at 100,000 items).
    static let analyzeItems = "ANALYZE gyre_items (collection, id, datetime, end_datetime, geometry, seq)"

    /// After a bulk ingest of `count` items: refreshes the planner's statistics and, when the
    /// ingest wrote at least a quarter of the catalog, rebuilds the spatial index without
    /// blocking readers. Built row by row, the index overlaps more: a spatial search cost about
    /// 20% more than on one built in one go (sorted), measured at 1,000,000 items on the index
    /// before migration 4.
    public func analyze(afterIngesting count: Int) async throws {
        _ = try await run("analyzing", SQLFragment(Self.analyzeItems))
        let rows = try await run("counting items", SQLFragment("SELECT reltuples::bigint FROM pg_class WHERE relname = 'gyre_items'"))
        let total = try rows.first?.decode(Int64.self) ?? 0
        if count > 0, Int64(count) * 4 >= total {
            _ = try await run("rebuilding the spatial index", SQLFragment("REINDEX INDEX CONCURRENTLY gyre_items_period_geometry_time"))
        }
    }

    public func changes(after cursor: Int64?, limit: Int) async throws -> ItemChanges {
        guard let cursor else {
            let rows = try await run("reading changes", SQLFragment("SELECT COALESCE(MAX(seq), 0) FROM gyre_items"))
            return ItemChanges(items: [], cursor: try rows.first?.decode(Int64.self) ?? 0)
        }
        let rows = try await run("reading changes", SQLFragment("SELECT seq, content FROM gyre_items WHERE seq > ? ORDER BY seq LIMIT ?",
                                                                [.int(cursor), .int(Int64(limit))]))
        var items: [Item] = [], last = cursor
        for row in rows {
            let (seq, content) = try row.decode((Int64, String).self)
            items.append(try Item(json: JSON.parse(content, source: "stored item")))
            last = seq
        }
        return ItemChanges(items: items, cursor: last)
    }

    public func deleteItem(collection: String, id: String) async throws -> Bool {
        let rows = try await run("deleting item '\(id)'", SQLFragment("DELETE FROM gyre_items WHERE collection = ? AND id = ? RETURNING id", [.text(collection), .text(id)]))
        return !rows.isEmpty
    }

    public func queryables(collection: String?) async throws -> [Queryable] {
        let f = collection.map { SQLFragment("SELECT name, type FROM gyre_queryables WHERE collection = ? ORDER BY name", [.text($0)]) }
            ?? SQLFragment("SELECT name, type FROM gyre_queryables ORDER BY name")
        let rows = try await run("reading queryables", f).map { try $0.decode((String, String).self) }
        return Queryable.merged(rows.map { [$0.0, $0.1] })
    }

    // MARK: Search

    public func search(_ request: SearchRequest) async throws -> SearchPage {
        guard (1...SearchRequest.maxLimit).contains(request.limit) else {
            throw GyreCatalogError(.badRequest, "limit must be in 1...\(SearchRequest.maxLimit), not \(request.limit)")
        }
        let names = try await queryableNames.names { Set(try await queryables(collection: nil).map(\.name)) }
        let (sql, kinds) = try PostgresSearch.build(request, queryables: names)
        let rows = try await runPrepared("searching", sql)
        var records: [StoredItem] = [], keys: [[String?]] = []
        for row in rows.prefix(request.limit) {
            var cells = row.makeIterator()
            guard let content = try cells.next()?.decode(String.self) else { continue }
            var k: [String?] = []
            for _ in kinds { k.append(try cells.next()?.decode(String?.self)) }
            // The last two sort keys are always the collection and the id.
            records.append(StoredItem(collection: k[k.count - 2] ?? "", id: k[k.count - 1] ?? "", text: content))
            keys.append(k)
        }
        let next = rows.count > request.limit ? keys.last.map(PostgresSearch.token) : nil
        return SearchPage(records: records, next: next)
    }
}

extension Queryable {
    /// Queryables from (name, type) rows: integers and numbers together are numbers; other
    /// mixtures have no one type ("mixed"). The core fields come first.
    static func merged(_ rows: [[String]]) -> [Queryable] {
        var byName: [String: String] = [:], order: [String] = []
        for r in rows {
            if let t = byName[r[0]] {
                byName[r[0]] = t == r[1] ? t : (Set([t, r[1]]) == ["integer", "number"] ? "number" : "mixed")
            } else { byName[r[0]] = r[1]; order.append(r[0]) }
        }
        return Queryable.core + order.filter { n in !Queryable.core.contains { $0.name == n } }.map { Queryable(name: $0, type: byName[$0]!) }
    }
}

/// PostgreSQL's side of the filter compiler: `jsonb` operators with the key as a parameter,
/// PostGIS for the spatial relations, `lower`/`unaccent`, and `gyre_time` for RFC 3339 text.
/// Booleans are compared as 1 and 0, as the compiler writes them for SQLite.
struct PostgresDialect: SQLDialect {
    /// The property's value read by `value` (which names the key once, as `?`) when its JSON
    /// type is `type`, NULL otherwise.
    func typed(_ p: String, _ type: String, _ value: String) -> SQLFragment {
        SQLFragment("(CASE WHEN jsonb_typeof(properties -> ?::text) = '\(type)' THEN \(value) END)", [.text(p), .text(p)])
    }
    func number(_ p: String) -> SQLFragment { typed(p, "number", "(properties ->> ?::text)::double precision") }
    func string(_ p: String) -> SQLFragment { typed(p, "string", "(properties ->> ?::text)") }
    func boolean(_ p: String) -> SQLFragment { typed(p, "boolean", "(CASE WHEN (properties ->> ?::text)::boolean THEN 1 ELSE 0 END)") }
    func json(_ p: String) -> SQLFragment {
        SQLFragment("(CASE WHEN jsonb_typeof(properties -> ?::text) <> 'null' THEN properties -> ?::text END)", [.text(p), .text(p)])
    }
    func array(_ p: String) -> SQLFragment { typed(p, "array", "(properties -> ?::text)") }
    func call(_ function: String, _ args: [SQLFragment]) -> SQLFragment {
        let name = ["gyre_casei": "lower", "gyre_accenti": "unaccent"][function] ?? function
        return SQLFragment("\(name)(") + SQLFragment.joined(args, ", ") + SQLFragment(")")
    }
    func like(_ value: SQLFragment, _ pattern: SQLFragment) -> SQLFragment { SQLFragment("(") + value + SQLFragment(" LIKE ") + pattern + SQLFragment(")") }
    func arrayRelation(_ op: String, _ a: SQLFragment, _ b: SQLFragment) -> SQLFragment {
        switch op {
        case "a_equals": return SQLFragment("(") + a + SQLFragment(" = ") + b + SQLFragment(")")
        case "a_contains": return SQLFragment("(") + a + SQLFragment(" @> ") + b + SQLFragment(")")
        case "a_containedby": return SQLFragment("(") + a + SQLFragment(" <@ ") + b + SQLFragment(")")
        default:
            return SQLFragment("(SELECT bool_or(") + b + SQLFragment(" @> jsonb_build_array(x)) FROM jsonb_array_elements(") + a + SQLFragment(") AS x)")
        }
    }
    func spatial(_ op: String, _ geometryColumn: String, _ literal: Geometry) -> SQLFragment {
        let fn = ["s_intersects": "ST_Intersects", "s_disjoint": "ST_Disjoint", "s_within": "ST_Within",
                  "s_contains": "ST_Contains", "s_equals": "ST_Equals"][op] ?? "ST_Intersects"
        return SQLFragment("\(fn)(\(geometryColumn), ST_SetSRID(ST_GeomFromGeoJSON(?::text), 4326))", [.text(literal.json.text)])
    }
    func jsonLiteral(_ value: JSON) -> SQLFragment { SQLFragment("?::jsonb", [.text(value.text)]) }
    func timeOf(_ text: SQLFragment) -> SQLFragment { SQLFragment("gyre_time(") + text + SQLFragment(")") }
}

/// Item search as one PostgreSQL statement, with keyset paging on the sort keys.
enum PostgresSearch {
    /// How a sort key is typed in the statement and the token.
    enum Kind { case int, text, json }

    static func build(_ r: SearchRequest, queryables: Set<String>) throws -> (SQLFragment, [Kind]) {
        let dialect = PostgresDialect()
        let compiler = SQLFilterCompiler(dialect: dialect, queryables: queryables)
        var conds: [SQLFragment] = []
        // With a spatial condition the GiST index on (period, geometry, datetime) drives the
        // search: the planner otherwise ANDs in bitmaps of the (far less selective) collection
        // and end-time indexes, which costs more than the whole search. `|| ''` and `+ 0` keep
        // those columns out of index paths; `datetime` stays plain, as the GiST index answers
        // its bounds. A bbox of the whole globe is no spatial condition (`areaIsWholeGlobe`).
        // The path the request's shape gives (`SearchRequest.path`): only a spatial one keeps
        // the other columns out of index paths, so the GiST index drives it.
        let path = r.path
        let bound = r.filterBound(on: path)
        let spatial = path.isSpatial
        let (collection, start, end) = spatial ? ("(collection || '')", "(end_datetime + 0)", "datetime") : ("collection", "end_datetime", "datetime")
        if let c = r.collections { conds.append(SQLFragment("\(collection) = ANY(?::text[])", [.text(pgArray(c))])) }
        if let i = r.ids { conds.append(SQLFragment("id = ANY(?::text[])", [.text(pgArray(i))])) }
        if let d = r.datetime {
            if let s = d.start {
                conds.append(SQLFragment("\(start) >= ?", [.int(s.microseconds)]))
                conds.append(SQLFragment("datetime >= ?::bigint - (SELECT longest FROM gyre_span)", [.int(s.microseconds)]))
            }
            if let e = d.end { conds.append(SQLFragment("\(end) <= ?", [.int(e.microseconds)])) }
        }
        if let b = r.bbox {
            conds.append(r.areaIsWholeGlobe ? SQLFragment("ST_IsEmpty(geometry) = false") : dialect.spatial("s_intersects", "geometry", b.geometry))
        }
        if let g = r.intersects { conds.append(dialect.spatial("s_intersects", "geometry", g)) }
        // A box the filter implies (`SearchRequest.filterBound`), for the GiST index.
        if let b = bound {
            conds.append(SQLFragment("geometry && ST_MakeEnvelope(?, ?, ?, ?, 4326)", [.double(b.west), .double(b.south), .double(b.east), .double(b.north)]))
        }
        if let f = r.filter { conds.append(try compiler.compile(f)) }

        var keys: [(SQLFragment, Bool, Kind)] = []
        for k in r.sortKeys {
            var f = k.field
            if f.hasPrefix("properties.") { f.removeFirst("properties.".count) }
            switch f {
            case "datetime", "start_datetime": keys.append((SQLFragment("datetime"), k.ascending, .int))
            case "end_datetime": keys.append((SQLFragment("end_datetime"), k.ascending, .int))
            case "id": keys.append((SQLFragment("id"), k.ascending, .text))
            case "collection": keys.append((SQLFragment("collection"), k.ascending, .text))
            default:
                let p = try compiler.checked(f)
                keys.append((SQLFragment("COALESCE(properties -> ?::text, 'null'::jsonb)", [.text(p)]), k.ascending, .json))
            }
        }
        keys.append((SQLFragment("collection"), true, .text))
        keys.append((SQLFragment("id"), true, .text))
        if let token = r.token {
            let last = try decode(token, keys.map(\.2))
            let values = zip(last, keys).map { value, key -> SQLFragment in
                switch key.2 {
                case .int: return SQLFragment("?::bigint", [.int(Int64(value) ?? 0)])
                case .text: return SQLFragment("?::text", [.text(value)])
                case .json: return SQLFragment("?::jsonb", [.text(value)])
                }
            }
            conds += SQLFragment.keyset(keys.map { ($0.0, $0.1) }, after: values)
        }
        let limit = SQLFragment(" LIMIT ?", [.int(Int64(r.limit + 1))])
        func matching(_ extra: [SQLFragment]) -> SQLFragment {
            let all = conds + extra
            return all.isEmpty ? SQLFragment("") : SQLFragment(" WHERE ") + SQLFragment.joined(all, " AND ")
        }
        var sql: SQLFragment
        if spatial, r.primarySortKey.isStartTime {
            // The first limit + 1 matches in start-time order come from the GiST index
            // nearest-first by their distance from a date past any item (or before any), which
            // stops as soon as it has them. Every match further from that date than the last of
            // them is among them; those at the last one's start time may not all be, so they
            // are read again from the B-tree on datetime, and the page is sorted with the
            // tie-breaking keys the distance order does not have.
            let ascending = r.primarySortKey.ascending
            let far: Int64 = ascending ? -100_000_000_000_000_000 : 300_000_000_000_000_000
            let raw = SQLFragment("SELECT content, ") + SQLFragment.joined(keys.enumerated().map { $1.0 + SQLFragment(" AS v\($0)") }, ", ")
                + SQLFragment(" FROM gyre_items")
            let edge = ascending ? ("max", "<") : ("min", ">")
            sql = SQLFragment("WITH t AS MATERIALIZED (") + raw + matching([]) + SQLFragment(" ORDER BY datetime <-> ?::bigint", [.int(far)]) + limit
                + SQLFragment("), m AS (SELECT \(edge.0)(v0) AS d FROM t) SELECT content, ")
                + SQLFragment(keys.indices.map { "v\($0)::text AS k\($0)" }.joined(separator: ", "))
                + SQLFragment(" FROM (SELECT * FROM t WHERE v0 \(edge.1) (SELECT d FROM m) UNION ALL ") + raw + matching([SQLFragment("datetime = (SELECT d FROM m)")])
                + SQLFragment(") u ORDER BY ") + SQLFragment(keys.indices.map { "v\($0)" + (keys[$0].1 ? " ASC" : " DESC") }.joined(separator: ", "))
        } else {
            let select = SQLFragment.joined(keys.enumerated().map { $1.0 + SQLFragment("::text AS k\($0)") }, ", ")
            let order = SQLFragment(" ORDER BY ") + SQLFragment.joined(keys.map { $0.0 + SQLFragment($0.1 ? " ASC" : " DESC") }, ", ")
            sql = SQLFragment("SELECT content, ") + select + SQLFragment(" FROM gyre_items") + matching([]) + order
        }
        sql = sql + limit
        return (sql, keys.map(\.2))
    }

    /// A text[] literal for `= ANY(...)`, bound as one parameter.
    static func pgArray(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"
    }

    static func token(_ values: [String?]) -> String {
        let json = JSON.array(values.map { $0.map { JSON.string($0) } ?? .null })
        return "p" + Base64URL.encode(json.serialized)
    }

    static func decode(_ token: String, _ kinds: [Kind]) throws -> [String] {
        func bad() -> GyreCatalogError { GyreCatalogError(.badRequest, "token \"\(token.prefix(80))\" is not a paging token of this search") }
        guard token.hasPrefix("p"), let data = Base64URL.decode(String(token.dropFirst())), let json = try? JSON.parse(data),
              let parts = json.array, parts.count == kinds.count else { throw bad() }
        return try zip(parts, kinds).map { part, kind in
            guard let s = part.string else { throw bad() }
            if kind == .int, Int64(s) == nil { throw bad() }
            if kind == .json, (try? JSON.parse(s)) == nil { throw bad() }
            return s
        }
    }
}
