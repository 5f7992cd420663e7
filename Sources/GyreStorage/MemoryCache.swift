import GyreCore
import Synchronization

/// The in-memory cache of a network store's reads (`NetworkOptions.memoryCacheBytes`, the
/// storage option `memory_cache`): the bytes of each whole value or range read, least
/// recently used out first, never more than the capacity in all; a value larger than an eighth
/// of it is not kept. Off (0) unless asked for, since what it holds is outside any memory budget
/// a computation plans with.
package final class MemoryCache: Sendable {
    package let capacity: Int
    private struct State {
        var entries: [String: (bytes: [UInt8], used: UInt64)] = [:]
        var total = 0
        var clock: UInt64 = 0
    }
    private let state = Mutex(State())

    package init(capacity: Int) { self.capacity = capacity }

    package func get(_ name: String) -> [UInt8]? {
        state.withLock { s in
            guard let e = s.entries[name] else { return nil }
            s.clock += 1
            s.entries[name] = (e.bytes, s.clock)
            return e.bytes
        }
    }

    package func put(_ name: String, _ bytes: [UInt8]) {
        guard bytes.count <= capacity / 8 else { return }
        state.withLock { s in
            if let old = s.entries[name] { s.total -= old.bytes.count }
            s.clock += 1
            s.entries[name] = (bytes, s.clock)
            s.total += bytes.count
            while s.total > capacity, let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.total -= oldest.value.bytes.count
                s.entries[oldest.key] = nil
            }
        }
    }

    /// A read through the cache: `read` runs only when the cache has not got it.
    package func through(_ key: String, _ range: ByteRange, _ read: () async throws -> [UInt8]?) async throws -> [UInt8]? {
        let entry = Self.name(key, range)
        if let hit = get(entry) { return hit }
        let bytes = try await read()
        if let bytes { put(entry, bytes) }
        return bytes
    }

    /// Forgets every read of these keys (after they were written or deleted).
    package func forget(_ keys: [String]) {
        let gone = Set(keys)
        state.withLock { s in
            for name in Array(s.entries.keys) {
                let key = name.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? name
                if gone.contains(key), let e = s.entries.removeValue(forKey: name) { s.total -= e.bytes.count }
            }
        }
    }

    /// Bytes held now.
    package var bytes: Int { state.withLock { $0.total } }

    /// The name of a read: the key and the range.
    package static func name(_ key: String, _ range: ByteRange) -> String {
        switch range {
        case .full: return key
        case .range(let o, let n): return "\(key)\u{0}\(o)+\(n)"
        case .from(let o): return "\(key)\u{0}\(o)-"
        case .suffix(let n): return "\(key)\u{0}-\(n)"
        }
    }
}
