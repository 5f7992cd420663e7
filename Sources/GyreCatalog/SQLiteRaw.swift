import GRDB
import GRDBSQLite

/// The row-at-a-time statements of a SQLite write (`SQLiteCatalog.putItems`) bound and run
/// through SQLite's C interface. GRDB's arguments box each value in an existential and an
/// array per row: at 1,000,000 items that cost the writer's thread about 10 s of its 57.
enum SQLiteRaw {
    /// SQLite copies a text bound with this destructor (SQLITE_TRANSIENT).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bind(_ s: Statement, _ i: Int32, _ v: Int64) { sqlite3_bind_int64(s.sqliteStatement, i, v) }
    static func bind(_ s: Statement, _ i: Int32, _ v: Double) { sqlite3_bind_double(s.sqliteStatement, i, v) }
    static func bind(_ s: Statement, _ i: Int32, _ v: String?) {
        guard var v else { sqlite3_bind_null(s.sqliteStatement, i); return }
        v.withUTF8 { b in
            guard let p = b.baseAddress else { _ = sqlite3_bind_text(s.sqliteStatement, i, "", 0, transient); return }
            _ = sqlite3_bind_text(s.sqliteStatement, i, UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), Int32(b.count), transient)
        }
    }

    /// Runs `s` with what is bound to its end and returns its first row's first column as an
    /// integer, if it gave a row; then resets it.
    @discardableResult
    static func run(_ s: Statement, _ db: Database) throws -> Int64? {
        let h = s.sqliteStatement
        defer { sqlite3_reset(h) }
        var first: Int64?
        while true {
            let rc = sqlite3_step(h)
            if rc == SQLITE_ROW {
                if first == nil { first = sqlite3_column_int64(h, 0) }
            } else if rc == SQLITE_DONE {
                return first
            } else {
                let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(rc)"
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message, sql: s.sql)
            }
        }
    }
}
