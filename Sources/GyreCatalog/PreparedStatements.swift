import PostgresNIO
import Synchronization

/// Which statement texts a catalog keeps compiled on its connections: the searches a server
/// runs over and over. PostgreSQL parses and plans a statement sent unnamed anew each time; for
/// a bbox search at 1,000,000 items that was half of its time per query (0.85 ms against 0.43 ms
/// prepared, measured with pgbench). Prepared, PostgreSQL plans the first five executions for
/// their values and then keeps one generic plan when it costs no more than those did; Gyre's
/// statements already fix their index paths by their shape, so the generic plan is the one the
/// values would get. SQLite keeps the compiled statement in GRDB's per-connection cache.
///
/// A text (with its parameter types) is admitted the second time it is seen, so one-off
/// filters do not fill the connections with statements nobody runs again, and at most
/// `capacity` texts are admitted per catalog; past that, new texts are compiled each time.
/// PostgreSQL's statements are named (postgres-nio prepares a name on each connection the
/// first time it runs there and keeps it with the connection).
package final class PreparedStatements: Sendable {
    package let capacity: Int
    private struct State {
        var names: [String: String] = [:]
        var seen: Set<String> = []
    }
    private let state = Mutex(State())

    package init(capacity: Int = 128) { self.capacity = capacity }

    /// The name to run `key` under, or nil to run it unnamed this time.
    package func name(for key: String) -> String? {
        state.withLock { s in
            if let n = s.names[key] { return n }
            guard s.names.count < capacity else { return nil }
            if s.seen.remove(key) == nil {
                if s.seen.count >= 8 * capacity { s.seen.removeAll() }
                s.seen.insert(key)
                return nil
            }
            let n = "gyre_\(s.names.count)"
            s.names[key] = n
            return n
        }
    }

    /// Whether `key` is admitted this time (for a backend that keeps statements by their text
    /// and needs no name).
    package func admits(_ key: String) -> Bool { name(for: key) != nil }

    /// How many names have been given (for tests).
    package var count: Int { state.withLock { $0.names.count } }

    /// The key of a statement: its text and its parameters' types, since the same text bound
    /// with other types is another statement to PostgreSQL.
    package static func key(_ f: SQLFragment) -> String {
        var key = ""
        for p in f.parameters {
            switch p {
            case .text: key += "t"
            case .int: key += "i"
            case .double: key += "d"
            }
        }
        return key + "|" + f.text
    }
}

/// postgres-nio's `PostgresPreparedStatement` takes its name and text from static properties,
/// one type per statement. Gyre's statements are made at run time, so this one type reads them
/// from a task-local value that `PostgresCatalog.runPrepared` sets around the call; postgres-nio reads
/// them in the calling task, and keeps the prepared statement per connection under the name.
struct RuntimeStatement: PostgresPreparedStatement {
    struct Text: Sendable { var name = "", sql = "" }
    @TaskLocal static var current = Text()
    static var name: String { current.name }
    static var sql: String { current.sql }

    typealias Row = PostgresRow
    let bindings: PostgresBindings
    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
