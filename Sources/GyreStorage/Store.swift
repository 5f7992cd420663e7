/// Which bytes of a value to read.
public enum ByteRange: Sendable, Hashable {
    /// The whole value.
    case full
    /// `length` bytes starting at `offset`.
    case range(offset: Int, length: Int)
    /// Everything from `offset` to the end.
    case from(offset: Int)
    /// The last `length` bytes.
    case suffix(length: Int)

    /// The concrete start and end (exclusive) within a value of `size` bytes, or an error naming
    /// the key when the range does not fit.
    public func resolve(size: Int, key: String, store: String) throws -> Range<Int> {
        switch self {
        case .full: return 0..<size
        case .range(let o, let n):
            guard o >= 0, n >= 0, o + n <= size else {
                throw GyreStorageError(.invalidRange, "\(store): bytes \(o)..<\(o + n) of '\(key)' are outside its \(size) bytes")
            }
            return o..<(o + n)
        case .from(let o):
            guard o >= 0, o <= size else {
                throw GyreStorageError(.invalidRange, "\(store): offset \(o) of '\(key)' is outside its \(size) bytes")
            }
            return o..<size
        case .suffix(let n):
            guard n >= 0 else { throw GyreStorageError(.invalidRange, "\(store): negative suffix length \(n) for '\(key)'") }
            return Swift.max(0, size - n)..<size
        }
    }
}

/// A store values can be read from, whole or by byte range. Stores are async (they may be
/// remote); a missing key reads as `nil`, not as an error.
public protocol ReadableStore: Sendable {
    /// A short name for messages ("file:///data/sst.zarr", "memory").
    var name: String { get }
    func get(_ key: String, range: ByteRange) async throws -> [UInt8]?
}

extension ReadableStore {
    public func get(_ key: String) async throws -> [UInt8]? { try await get(key, range: .full) }
}

/// A store values can be written to and deleted from.
public protocol WritableStore: ReadableStore {
    /// Writes a value; a reader sees either the old value or the whole new one, never a part.
    func set(_ key: String, _ value: [UInt8]) async throws
    /// Deletes a value; deleting a missing key is not an error.
    func delete(_ key: String) async throws
}

/// A store whose keys can be listed.
public protocol ListableStore: ReadableStore {
    /// All keys that start with `prefix`, sorted.
    func list(prefix: String) async throws -> [String]
}

/// Checks a store key: "/"-separated, relative, no empty, "." or ".." parts.
public func validateKey(_ key: String, store: String) throws {
    guard !key.isEmpty, !key.hasPrefix("/") else {
        throw GyreStorageError(.invalidKey, "\(store): key '\(key)' must be a non-empty relative path")
    }
    for part in key.split(separator: "/", omittingEmptySubsequences: false) where part.isEmpty || part == "." || part == ".." {
        throw GyreStorageError(.invalidKey, "\(store): key '\(key)' has an empty, '.' or '..' component")
    }
}
