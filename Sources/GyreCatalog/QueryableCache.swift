import Foundation
import Synchronization

/// The names a filter may use, remembered between searches so a search costs one query, not
/// two. A backend clears it when it writes items or drops a collection; writes by another
/// process are seen within `maxAge` seconds.
final class QueryableCache: Sendable {
    private let state = Mutex<(names: Set<String>, at: Date)?>(nil)
    let maxAge: TimeInterval

    init(maxAge: TimeInterval = 5) { self.maxAge = maxAge }

    func names(_ load: () async throws -> Set<String>) async throws -> Set<String> {
        if let s = state.withLock({ $0 }), Date().timeIntervalSince(s.at) < maxAge { return s.names }
        let names = try await load()
        state.withLock { $0 = (names, Date()) }
        return names
    }

    func clear() { state.withLock { $0 = nil } }
}
