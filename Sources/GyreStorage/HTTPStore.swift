import Foundation
import GyreCore
import NIOHTTP1

/// A read-only store over HTTP(S): a key is a path under the base URL, and the base URL's query
/// string (an Azure SAS token, say) goes with every request, as do `options.headers` (a bearer
/// token). Reads are GETs, with Range for byte ranges (offset and length, from an offset, or a
/// suffix) and no HEAD before them; a server that ignores Range and sends the whole value has it
/// cut to the range asked. HTTP has no listing, so `list` is an error that says so.
public final class HTTPStore: ListableStore, MergingRangeReads {
    public let base: String
    let query: String
    public let name: String
    public let options: NetworkOptions
    package var rangeGap: Int { options.rangeGap }
    let cache: MemoryCache?

    public init(url: String, options: NetworkOptions = NetworkOptions()) throws {
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = u.host, !host.isEmpty else {
            throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(url)): not an http:// or https:// URL")
        }
        var b = url
        var q = ""
        if let i = b.firstIndex(of: "?") {
            q = String(b[b.index(after: i)...])
            b = String(b[..<i])
        }
        if let i = b.firstIndex(of: "#") { b = String(b[..<i]) }
        while b.hasSuffix("/") { b.removeLast() }
        base = b
        query = q
        name = b
        self.options = options
        cache = options.memoryCacheBytes > 0 ? MemoryCache(capacity: options.memoryCacheBytes) : nil
    }

    /// The URL of a key: each part percent-encoded, the base's query string after it.
    func url(_ key: String) -> String {
        base + "/" + SigV4.encode(key, encodeSlash: false) + (query.isEmpty ? "" : "?" + query)
    }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        try validateKey(key, store: name)
        guard let cache else { return try await read(key, range: range) }
        return try await cache.through(key, range) { try await read(key, range: range) }
    }

    func read(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        // HTTP has no empty range: an empty one reads the value's first byte, which tells
        // whether it exists and how long it is.
        let header = try range.httpHeader(key: key, store: name) ?? (range.isEmpty ? "bytes=0-0" : nil)
        let headers = header.map { [("Range", $0)] } ?? []
        let u = url(key)
        let r = try await fetch(u, headers, stored: false)
        switch r.status {
        case 200, 206:
            if case .range(let o, 0) = range {
                let size = r.header("Content-Range").flatMap(S3Store.totalSize) ?? r.body.count
                _ = try ByteRange.range(offset: o, length: 0).resolve(size: size, key: key, store: name)
                return []
            }
            if case .suffix(0) = range { return [] }
            return try S3Store.checked(r, range: range, key: key, store: name)
        case 404, 410:
            return nil
        case 416:
            let size = r.header("Content-Range").flatMap(S3Store.totalSize)
            if case .from(let o) = range, o == size { return [] }
            if case .range(_, 0) = range, let size { _ = try range.resolve(size: size, key: key, store: name); return [] }
            throw GyreStorageError(.invalidRange, "\(name): \(range) of '\(key)' is outside its \(size.map { "\($0) bytes" } ?? "size")")
        default:
            throw GyreStorageError(.io, "GET \(HTTPTransport.shown(u)): HTTP \(r.status)\(r.status == 401 || r.status == 403 ? " (access refused: a token or a signed URL may be needed)" : "")")
        }
    }

    /// A value, or a range of it, read straight into a `StoredBytes` buffer as it arrives.
    /// Answers other than the plain ones (a whole value for a range, 416) go the way of `get`.
    public func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        try validateKey(key, store: name)
        guard cache == nil else { return try await get(key, range: range).map { StoredBytes(copying: $0) } }
        let u = url(key)
        switch range {
        case .full:
            let r = try await fetch(u, [], stored: true)
            switch r.status {
            case 200: return r.stored ?? StoredBytes(copying: r.body)
            case 404, 410: return nil
            default: throw GyreStorageError(.io, "GET \(HTTPTransport.shown(u)): HTTP \(r.status)\(r.status == 401 || r.status == 403 ? " (access refused: a token or a signed URL may be needed)" : "")")
            }
        case .range(let o, let n) where o >= 0 && n > 0:
            let r = try await fetch(u, [("Range", "bytes=\(o)-\(o + n - 1)")], stored: true)
            if r.status == 404 || r.status == 410 { return nil }
            if let stored = S3Store.storedRange(r, offset: o, length: n) { return stored }
            return try await read(key, range: range).map { StoredBytes(copying: $0) }
        default:
            return try await get(key, range: range).map { StoredBytes(copying: $0) }
        }
    }

    /// A GET, through the disk cache when there is one.
    func fetch(_ u: String, _ headers: [(String, String)], stored: Bool) async throws -> HTTPReply {
        let options = self.options
        guard let dir = options.cacheDirectory else { return try await HTTPTransport.send(.GET, u, options: options, stored: stored) { headers } }
        return try await DiskCache(dir).get(u, range: headers.first { $0.0 == "Range" }?.1, stored: stored) { validator in
            try await HTTPTransport.send(.GET, u, options: options, stored: stored) { headers + validator }
        }
    }

    public func list(prefix: String) async throws -> [String] {
        throw GyreStorageError(.io, "\(name): an HTTP server offers no listing of its keys; open a store with consolidated metadata "
                                   + "(.zmetadata or zarr.json), or name the files")
    }
}
