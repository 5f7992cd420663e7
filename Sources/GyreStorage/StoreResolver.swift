import Foundation
import GyreCore

/// Turns a location into a store: a plain path or a `file://` URL is a `FileStore`, `s3://` an
/// `S3Store`, `http://` and `https://` an `HTTPStore`. Options are fsspec's storage options by
/// their names (`--storage-option KEY=VALUE` on the command line):
///
/// - `endpoint_url`: an S3-compatible server's URL (else `AWS_ENDPOINT_URL` or AWS's);
/// - `anon`: `true` for unsigned requests (public buckets);
/// - `region` (or `region_name`), `profile`, `key` and `secret` (and `token`): as fsspec's s3fs;
/// - `addressing`: `path` or `virtual`;
/// - `header.NAME`: a header every HTTP request sends (`header.Authorization=Bearer ...`);
/// - `attempts`, `timeout` (seconds per request), `deadline` (seconds for all attempts);
/// - `cache`: a directory for the cache of reads on disk (`DiskCache`; `--cache DIR`);
/// - `memory_cache`: bytes of reads each store keeps in memory (`MemoryCache`; none by default).
public enum StoreResolver {
    public static let optionNames: Set<String> = ["endpoint_url", "anon", "region", "region_name", "profile", "key", "secret", "token",
                                                  "addressing", "attempts", "timeout", "deadline", "cache", "memory_cache"]

    /// The scheme of a location ("s3", "https", ...), nil for a plain path.
    public static func scheme(_ location: String) -> String? {
        guard let colon = location.range(of: "://") else { return nil }
        let s = location[..<colon.lowerBound]
        guard let first = s.first, first.isLetter, s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return nil }
        return s.lowercased()
    }

    /// Whether a location names a remote store rather than a local path.
    public static func isRemote(_ location: String) -> Bool {
        guard let s = scheme(location) else { return false }
        return s != "file"
    }

    public static func store(for location: String, options: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any ReadableStore {
        for k in options.keys where !optionNames.contains(k) && !k.hasPrefix("header.") {
            throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(location)): unknown storage option '\(k)' (known: \(optionNames.sorted().joined(separator: ", ")), header.NAME)")
        }
        switch scheme(location) {
        case nil:
            return FileStore(path: location)
        case "file":
            guard let u = URL(string: location), u.isFileURL, !u.path.isEmpty else {
                throw GyreStorageError(.invalidKey, "\(location): not a file:// URL of a local path")
            }
            return FileStore(path: u.path)
        case "s3":
            return try S3Store(url: location, options: try s3Options(options, environment: environment))
        case "http", "https":
            return try HTTPStore(url: location, options: try network(options))
        case let other?:
            throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(location)): Gyre reads no '\(other)://' URLs (it reads paths, file://, s3://, http:// and https://)")
        }
    }

    /// A file's URL as the store of its directory and the file's key there
    /// (`https://host/data/sst.nc?sig=...` is the store `https://host/data?sig=...` and the key
    /// `sst.nc`): what single-file formats such as netCDF read by byte range.
    public static func file(_ location: String, options: [String: String] = [:],
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (store: any ReadableStore, key: String) {
        let (parent, key) = try split(location)
        return (try store(for: parent, options: options, environment: environment), key)
    }

    /// A file's location split into its directory's location (with the query string) and the
    /// file's key there, as `file(_:options:)` splits it.
    public static func split(_ location: String) throws -> (parent: String, key: String) {
        guard let s = scheme(location), let sep = location.range(of: "://") else {
            return ((location as NSString).deletingLastPathComponent, (location as NSString).lastPathComponent)
        }
        var path = location, query = ""
        if let q = path.firstIndex(of: "?") { query = String(path[q...]); path = String(path[..<q]) }
        if let h = path.firstIndex(of: "#") { path = String(path[..<h]) }
        let rest = path[sep.upperBound...]
        guard let slash = rest.lastIndex(of: "/"), rest.index(after: slash) < rest.endIndex,
              rest[..<slash].contains(where: { $0 != "/" }) || s == "file" else {
            throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(location)): names no file (a URL of the form \(s)://host/path/file)")
        }
        var key = String(rest[rest.index(after: slash)...])
        if s == "http" || s == "https" || s == "file" {
            guard let decoded = key.removingPercentEncoding else { throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(location)): bad percent-encoding") }
            key = decoded
        }
        return (String(path[..<slash]) + query, key)
    }

    /// The locations a glob over an `s3://` URL matches (`s3://bucket/sst/*.nc`,
    /// `s3://bucket/runs/*.zarr`), sorted: the bucket is listed from the pattern's literal
    /// prefix (ListObjectsV2), and each key's first components, as many as the pattern has,
    /// are matched as `fnmatch` matches paths ('*' and '?' stop at '/'). HTTP has no listing;
    /// a pattern that matches nothing is an error naming it.
    public static func glob(_ pattern: String, options: [String: String] = [:],
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> [String] {
        guard scheme(pattern) == "s3" else {
            throw GyreStorageError(.invalidKey, "\(HTTPTransport.shown(pattern)): a glob needs a listing, which only s3:// (and local paths) have; name the files")
        }
        let rest = pattern.dropFirst("s3://".count)
        guard let slash = rest.firstIndex(of: "/") else { throw GyreStorageError(.invalidKey, "\(pattern): no key pattern after the bucket") }
        let bucket = String(rest[..<slash])
        let keyPattern = String(rest[rest.index(after: slash)...])
        let parts = keyPattern.split(separator: "/", omittingEmptySubsequences: false)
        let literal = parts.prefix { !$0.contains(where: { "*?[".contains($0) }) }
        let prefix = literal.isEmpty ? "" : literal.joined(separator: "/") + "/"
        let store = try S3Store(bucket: bucket, options: try s3Options(options, environment: environment))
        var found = Set<String>()
        for key in try await store.list(prefix: prefix) {
            let components = key.split(separator: "/", omittingEmptySubsequences: false)
            guard components.count >= parts.count else { continue }
            let candidate = components.prefix(parts.count).joined(separator: "/")
            if fnmatch(keyPattern, candidate, FNM_PATHNAME) == 0 { found.insert(candidate) }
        }
        guard !found.isEmpty else { throw GyreStorageError(.notFound, "'\(pattern)' matches nothing in s3://\(bucket)") }
        return found.sorted().map { "s3://\(bucket)/\($0)" }
    }

    static func flag(_ options: [String: String], _ name: String) throws -> Bool {
        guard let v = options[name] else { return false }
        switch v.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw GyreStorageError(.invalidKey, "storage option \(name)=\(v): expected true or false")
        }
    }

    static func network(_ options: [String: String]) throws -> NetworkOptions {
        var n = NetworkOptions()
        func number(_ name: String) throws -> Double? {
            guard let v = options[name] else { return nil }
            guard let d = Double(v), d > 0, d.isFinite else { throw GyreStorageError(.invalidKey, "storage option \(name)=\(v): expected a positive number") }
            return d
        }
        if let a = try number("attempts") { n.attempts = max(1, Int(a)) }
        if let t = try number("timeout") { n.requestTimeout = t }
        if let d = try number("deadline") { n.deadline = d }
        n.cacheDirectory = options["cache"]
        if let m = try number("memory_cache") { n.memoryCacheBytes = Int(m) }
        n.headers = options.filter { $0.key.hasPrefix("header.") }.sorted { $0.key < $1.key }.map { (String($0.key.dropFirst("header.".count)), $0.value) }
        return n
    }

    static func s3Options(_ options: [String: String], environment: [String: String]) throws -> S3Options {
        var o: S3Options
        let anonymous = try flag(options, "anon")
        if let key = options["key"], let secret = options["secret"] {
            o = try S3Options.standard(environment: environment, profile: options["profile"], anonymous: true)
            o.credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: options["token"])
        } else {
            o = try S3Options.standard(environment: environment, profile: options["profile"], anonymous: anonymous)
        }
        if let e = options["endpoint_url"] { o.endpoint = e }
        if let r = options["region"] ?? options["region_name"] { o.region = r }
        switch options["addressing"] {
        case nil: break
        case "path": o.addressing = .path
        case "virtual", "virtual-hosted": o.addressing = .virtualHosted
        case let v?: throw GyreStorageError(.invalidKey, "storage option addressing=\(v): expected path or virtual")
        }
        o.network = try network(options)
        return o
    }
}
