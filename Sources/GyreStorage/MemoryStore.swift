import Synchronization

/// A store held in memory (tests, intermediate results).
public final class MemoryStore: WritableStore, ListableStore {
    private let values = Mutex<[String: [UInt8]]>([:])
    public let name: String

    public init(name: String = "memory") { self.name = name }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        try validateKey(key, store: name)
        guard let v = values.withLock({ $0[key] }) else { return nil }
        let r = try range.resolve(size: v.count, key: key, store: name)
        return r == 0..<v.count ? v : Array(v[r])
    }

    public func set(_ key: String, _ value: [UInt8]) async throws {
        try validateKey(key, store: name)
        values.withLock { $0[key] = value }
    }

    public func delete(_ key: String) async throws {
        try validateKey(key, store: name)
        _ = values.withLock { $0.removeValue(forKey: key) }
    }

    public func list(prefix: String) async throws -> [String] {
        values.withLock { $0.keys.filter { $0.hasPrefix(prefix) }.sorted() }
    }

    /// Number of values (for tests and diagnostics).
    public var count: Int { values.withLock { $0.count } }
}
