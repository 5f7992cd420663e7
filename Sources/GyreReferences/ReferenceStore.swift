import Foundation
import GyreCore
import GyreStorage

/// A reference set read as a Zarr store: each key's value is its inline bytes or the bytes
/// of the file range it names, read from that file's store (local, `s3://`, `http(s)://`,
/// resolved once per directory with the same storage options). The chunk engine asks it
/// where chunks lie (`ReferencingStore`) and reads the ranges itself, merged where close.
public final class ReferenceStore: ReadableStore, ListableStore, ReferencingStore, @unchecked Sendable {
    public let references: ReferenceSet
    public let name: String
    /// Where relative target paths are resolved from (the references file's directory).
    let base: String?
    let options: [String: String]
    private let lock = NSLock()
    /// Target locations by URL index, resolved at first use.
    private var targets: [Int: (store: any ReadableStore, key: String)] = [:]
    /// Stores by parent location.
    private var stores: [String: any ReadableStore] = [:]
    private var sortedKeys: [String]?

    /// A store over `references`; `name` for messages, `base` the directory relative target
    /// paths are under, `options` the storage options of the targets (fsspec's names).
    public init(_ references: ReferenceSet, name: String, base: String? = nil, options: [String: String] = [:]) {
        self.references = references
        self.name = name
        self.base = base
        self.options = options
    }

    /// Opens a references file (a path or URL; JSON), its relative targets resolved beside it.
    public static func open(_ location: String, options: [String: String] = [:]) async throws -> ReferenceStore {
        let (parent, key) = try StoreResolver.split(location)
        let store = try StoreResolver.store(for: parent.isEmpty ? "." : parent, options: options)
        let shown = HTTPTransport.shown(location)
        let bytes: [UInt8]?
        do { bytes = try await store.get(key) } catch let e as GyreStorageError {
            throw GyreReferencesError(.notFound, "\(shown): cannot read the references: \(e.message)", cause: e)
        }
        guard let bytes else { throw GyreReferencesError(.notFound, "\(shown): no such references file") }
        let refs = try ReferenceSet.parse(bytes, source: shown)
        return ReferenceStore(refs, name: "reference://" + shown, base: parent, options: options)
    }

    /// The store and key of target `u`.
    func target(_ u: Int) throws -> (store: any ReadableStore, key: String) {
        if let t = lock.withLock({ targets[u] }) { return t }
        var url = references.urls[u]
        if StoreResolver.scheme(url) == nil, !url.hasPrefix("/"), let base, !base.isEmpty {
            url = StoreResolver.scheme(base) == nil ? (base as NSString).appendingPathComponent(url) : base + "/" + url
        }
        if let s = StoreResolver.scheme(url), !["file", "s3", "http", "https"].contains(s) {
            throw GyreStorageError(.invalidKey, "\(name): target '\(HTTPTransport.shown(url))': Gyre reads no '\(s)://' targets (paths, file://, s3://, http(s)://)")
        }
        let (parent, key) = try StoreResolver.split(url)
        let store: any ReadableStore
        if let s = lock.withLock({ stores[parent] }) { store = s } else {
            let made = try StoreResolver.store(for: parent.isEmpty ? "/" : parent, options: options)
            store = lock.withLock { () -> any ReadableStore in
                if let s = stores[parent] { return s }
                stores[parent] = made
                return made
            }
        }
        let t = (store: store, key: key)
        lock.withLock { targets[u] = t }
        return t
    }

    package func reference(_ key: String) throws -> StoredReference? {
        switch references.entries[key] {
        case nil: return nil
        case .inline(let b)?: return .bytes(StoredBytes(copying: b))
        case .whole(let u)?:
            let t = try target(u)
            return .object(RequiredValue(store: t.store, url: references.urls[u], referencedBy: key, refs: name), key: t.key)
        case .range(let u, let o, let n)?:
            let t = try target(u)
            return .range(t.store, key: t.key, o..<(o + n))
        }
    }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        switch try reference(key) {
        case nil: return nil
        case .bytes(let b)?:
            let r = try range.resolve(size: b.count, key: key, store: name)
            return b.withUnsafeBytes { Array($0[r]) }
        case .object(let s, let k)?:
            return try await s.get(k, range: range)
        case .range(let s, let k, let whole)?:
            let r = try range.resolve(size: whole.count, key: key, store: name)
            let got: [UInt8]?
            do { got = try await s.get(k, range: .range(offset: whole.lowerBound + r.lowerBound, length: r.count)) } catch let e as GyreStorageError {
                throw GyreStorageError(e.code, "\(name): key '\(key)': \(e.message)", cause: e)
            }
            guard let got else { throw GyreStorageError(.notFound, "\(name): key '\(key)' refers to \(HTTPTransport.shown(s.name))/\(k), which is missing") }
            return got
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let keys = lock.withLock { () -> [String] in
            if let k = sortedKeys { return k }
            let k = references.entries.keys.sorted()
            sortedKeys = k
            return k
        }
        guard !prefix.isEmpty else { return keys }
        var lo = 0, hi = keys.count
        while lo < hi { let mid = (lo + hi) / 2; if keys[mid] < prefix { lo = mid + 1 } else { hi = mid } }
        var out: [String] = []
        while lo < keys.count, keys[lo].hasPrefix(prefix) { out.append(keys[lo]); lo += 1 }
        return out
    }
}

/// A target file a `[url]` reference names whole: missing is an error naming the reference,
/// not an unwritten chunk.
struct RequiredValue: ReadableStore {
    let store: any ReadableStore
    let url: String
    let referencedBy: String
    let refs: String
    var name: String { store.name }

    func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        guard let b = try await store.get(key, range: range) else { throw missing() }
        return b
    }

    func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        guard let b = try await store.getStored(key, range: range) else { throw missing() }
        return b
    }

    func missing() -> GyreStorageError {
        GyreStorageError(.notFound, "\(refs): key '\(referencedBy)' refers to \(HTTPTransport.shown(url)), which is missing")
    }
}
