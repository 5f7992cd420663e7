import Crypto
import Foundation
import GyreCore
import NIOHTTP1

/// Where an S3 store's requests go and how they are signed.
public struct S3Options: Sendable {
    public enum Addressing: Sendable { case path, virtualHosted }

    /// The service's base URL: `https://s3.REGION.amazonaws.com` by default, or an
    /// S3-compatible server's (`http://127.0.0.1:9000`).
    public var endpoint: String?
    public var region = "us-east-1"
    /// Virtual-hosted (`bucket.s3.amazonaws.com/key`) for AWS, path-style (`host/bucket/key`)
    /// for a custom endpoint, unless set.
    public var addressing: Addressing?
    /// nil: anonymous, unsigned requests (public buckets).
    public var credentials: AWSCredentials?
    /// Values at least this large go up in parts of `partSize` bytes, in parallel.
    public var multipartThreshold = 64 << 20
    public var partSize = 16 << 20
    public var partConcurrency = 8
    public var network = NetworkOptions()

    public init(endpoint: String? = nil, region: String = "us-east-1", credentials: AWSCredentials? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
    }

    /// What the AWS CLI would use: `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION` (else the profile's region in ~/.aws/config), and credentials from
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, else from the
    /// profile (`profile`, else `AWS_PROFILE`, else `default`) in ~/.aws/credentials
    /// (`AWS_SHARED_CREDENTIALS_FILE`). With `anonymous`, no credentials.
    public static func standard(environment env: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil,
                                anonymous: Bool = false) throws -> S3Options {
        var o = S3Options()
        o.endpoint = env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"]
        let name = profile ?? env["AWS_PROFILE"] ?? "default"
        let home = env["HOME"] ?? NSHomeDirectory()
        let config = AWSConfigFile.read(env["AWS_CONFIG_FILE"] ?? home + "/.aws/config")
        let section = name == "default" ? "default" : "profile \(name)"
        o.region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? config[section]?["region"] ?? config[name]?["region"] ?? "us-east-1"
        if o.endpoint == nil, let e = config[section]?["endpoint_url"] { o.endpoint = e }
        if anonymous { return o }
        if let key = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"], !key.isEmpty, !secret.isEmpty {
            o.credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
            return o
        }
        let path = env["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let file = AWSConfigFile.read(path)
        if let p = file[name], let key = p["aws_access_key_id"], let secret = p["aws_secret_access_key"] {
            o.credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: p["aws_session_token"])
            return o
        }
        if profile != nil || env["AWS_PROFILE"] != nil {
            throw GyreStorageError(.io, "S3: the profile '\(name)' has no aws_access_key_id and aws_secret_access_key in \(path)")
        }
        throw GyreStorageError(.io, "S3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile of \(path), "
                                   + "or read a public bucket anonymously (--storage-option anon=true)")
    }
}

/// The INI files of the AWS CLI (~/.aws/credentials, ~/.aws/config): sections of key = value.
enum AWSConfigFile {
    static func read(_ path: String) -> [String: [String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: [String: String]] = [:], section = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[section, default: [:]][line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}

/// A store in an S3 bucket under a prefix, on AWS or an S3-compatible server: keys are object
/// names under `prefix/`. Reads are GETs (with Range for byte ranges; no HEAD first), writes
/// PUTs (multipart above `multipartThreshold`: parts in parallel, the upload aborted when one
/// fails, so a failed write leaves no object), deletes DELETEs, listing ListObjectsV2 page by
/// page. Object names are percent-encoded as S3 expects (spaces, `%`, `+` and non-ASCII
/// characters included), and every request is signed with Signature Version 4 unless the store
/// is anonymous.
public final class S3Store: WritableStore, ListableStore, MergingRangeReads {
    public let bucket: String
    /// The prefix, without a trailing '/' ("" for the bucket's root).
    public let prefix: String
    public let options: S3Options
    public let name: String
    let base: String, host: String, basePath: String
    package var rangeGap: Int { options.network.rangeGap }
    let cache: MemoryCache?

    public init(bucket: String, prefix: String = "", options: S3Options) throws {
        guard !bucket.isEmpty, bucket.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") }) else {
            throw GyreStorageError(.invalidKey, "s3://\(bucket): not a bucket name")
        }
        self.bucket = bucket
        var p = prefix
        while p.hasSuffix("/") { p.removeLast() }
        while p.hasPrefix("/") { p.removeFirst() }
        // A prefix is a key's start: no empty, "." or ".." parts (a URL normalized on the way
        // could otherwise name another bucket).
        if !p.isEmpty { try validateKey(p, store: "s3://\(bucket)") }
        self.prefix = p
        self.options = options
        name = "s3://\(bucket)" + (p.isEmpty ? "" : "/\(p)")
        let endpoint = options.endpoint ?? "https://s3.\(options.region).amazonaws.com"
        guard let url = URL(string: endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme), let h = url.host, !h.isEmpty else {
            throw GyreStorageError(.invalidKey, "\(name): the endpoint '\(endpoint)' is not an http:// or https:// URL")
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let addressing = options.addressing ?? (options.endpoint == nil ? .virtualHosted : .path)
        var path = url.path
        while path.hasSuffix("/") { path.removeLast() }
        switch addressing {
        case .path:
            host = h + port
            basePath = path + "/" + SigV4.encode(bucket)
        case .virtualHosted:
            host = bucket + "." + h + port
            basePath = path
        }
        base = "\(scheme)://\(host)"
        cache = options.network.memoryCacheBytes > 0 ? MemoryCache(capacity: options.network.memoryCacheBytes) : nil
    }

    /// A store for `s3://bucket/prefix`.
    public convenience init(url: String, options: S3Options) throws {
        guard url.hasPrefix("s3://") else { throw GyreStorageError(.invalidKey, "\(url): not an s3:// URL") }
        let rest = url.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        try self.init(bucket: String(rest[..<slash]), prefix: slash < rest.endIndex ? String(rest[rest.index(after: slash)...]) : "", options: options)
    }

    /// The encoded path of an object (or of the bucket, for nil).
    func path(_ key: String?) -> String {
        guard let key else { return basePath + "/" }
        let object = prefix.isEmpty ? key : prefix + "/" + key
        return basePath + "/" + SigV4.encode(object, encodeSlash: false)
    }

    func url(_ path: String, _ query: [(String, String)]) -> String {
        base + path + (query.isEmpty ? "" : "?" + query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&"))
    }

    func objectName(_ key: String) -> String { prefix.isEmpty ? key : prefix + "/" + key }

    /// One request, signed (or not, for an anonymous store), retried as `HTTPTransport` does.
    func request(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
                 body: [UInt8]? = nil, stored: Bool = false) async throws -> HTTPReply {
        let p = path(key)
        let u = url(p, query)
        let payload = body.map { SigV4.sha256Hex($0) } ?? SigV4.emptyHash
        let host = self.host, region = options.region, credentials = options.credentials
        return try await HTTPTransport.send(method, u, body: body, options: options.network, stored: stored) {
            var h = extra
            h.append(("host", host))
            guard let credentials else { return h }
            return h + SigV4.sign(method: method.rawValue, path: p, query: query, headers: h, payloadHash: payload, region: region,
                                  service: "s3", credentials: credentials, date: Date())
        }
    }

    /// The error S3 answered, with its code and message when the body has them.
    func failure(_ method: HTTPMethod, _ what: String, _ r: HTTPReply) -> GyreStorageError {
        let code = S3XML.first("Code", in: r.body), message = S3XML.first("Message", in: r.body)
        let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
        let hint: String
        switch r.status {
        case 403: hint = options.credentials == nil ? " (anonymous access was refused; give credentials)" : " (the credentials were refused)"
        case 301: hint = " (the bucket is in another region than \(options.region))"
        default: hint = ""
        }
        return GyreStorageError(r.status == 404 ? .notFound : .io,
                                "\(method) \(what): HTTP \(r.status)\(detail.isEmpty ? "" : " \(detail)")\(hint)")
    }

    /// Creates the bucket (in the store's region); one that this account has already is no error.
    public func createBucket() async throws {
        let body = options.region == "us-east-1" ? nil
            : Array("<CreateBucketConfiguration><LocationConstraint>\(options.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        let r = try await request(.PUT, key: nil, body: body)
        guard r.status == 200 || S3XML.first("Code", in: r.body) == "BucketAlreadyOwnedByYou" else { throw failure(.PUT, "s3://\(bucket)", r) }
    }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        try validateKey(key, store: name)
        guard let cache else { return try await read(key, range: range) }
        return try await cache.through(key, range) { try await read(key, range: range) }
    }

    func read(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        let header = try range.httpHeader(key: key, store: name)
        if range.isEmpty {
            // HTTP has no empty range: the value must exist (and, for an offset, be long enough).
            guard let size = try await size(of: key) else { return nil }
            _ = try range.resolve(size: size, key: key, store: name)
            return []
        }
        let headers = header.map { [("Range", $0)] } ?? []
        let r = try await cachedGet(key, headers, stored: false)
        switch r.status {
        case 200, 206:
            return try Self.checked(r, range: range, key: key, store: name)
        case 404:
            return nil
        case 416:
            if let size = r.header("Content-Range").flatMap(Self.totalSize) { _ = try range.resolve(size: size, key: key, store: name) }
            // A range from the end of the value, or one past it: what the value's size says.
            guard let size = try await size(of: key) else { return nil }
            _ = try range.resolve(size: size, key: key, store: name)
            if case .from(let o) = range, o == size { return [] }
            throw GyreStorageError(.invalidRange, "\(name): \(range) of '\(key)' is outside its \(size) bytes")
        default:
            throw failure(.GET, "\(name)/\(key)", r)
        }
    }

    /// A value, or a range of it, read straight into a `StoredBytes` buffer as it arrives.
    /// Answers other than the plain ones (a whole value for a range, 416) go the way of `get`.
    public func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        try validateKey(key, store: name)
        guard cache == nil else { return try await get(key, range: range).map { StoredBytes(copying: $0) } }
        switch range {
        case .full:
            let r = try await cachedGet(key, [], stored: true)
            switch r.status {
            case 200: return r.stored ?? StoredBytes(copying: r.body)
            case 404: return nil
            default: throw failure(.GET, "\(name)/\(key)", r)
            }
        case .range(let o, let n) where o >= 0 && n > 0:
            let r = try await cachedGet(key, [("Range", "bytes=\(o)-\(o + n - 1)")], stored: true)
            if r.status == 404 { return nil }
            if let stored = Self.storedRange(r, offset: o, length: n) { return stored }
            return try await read(key, range: range).map { StoredBytes(copying: $0) }
        default:
            return try await get(key, range: range).map { StoredBytes(copying: $0) }
        }
    }

    /// The body of a 206 answer that holds exactly bytes `offset..<offset+length`, as asked;
    /// nil for any other answer.
    static func storedRange(_ r: HTTPReply, offset: Int, length: Int) -> StoredBytes? {
        guard r.status == 206, let cr = r.header("Content-Range"), cr.hasPrefix("bytes "), let dash = cr.firstIndex(of: "-"),
              let slash = cr.lastIndex(of: "/"), Int(cr[cr.index(cr.startIndex, offsetBy: 6)..<dash]) == offset,
              Int(cr[cr.index(after: dash)..<slash]) == offset + length - 1 else { return nil }
        if let stored = r.stored { return stored.count == length ? stored : nil }
        return r.body.count == length ? StoredBytes(copying: r.body) : nil
    }

    /// A GET of an object, through the disk cache when there is one.
    func cachedGet(_ key: String, _ headers: [(String, String)], stored: Bool) async throws -> HTTPReply {
        guard let dir = options.network.cacheDirectory else { return try await request(.GET, key: key, headers: headers, stored: stored) }
        return try await DiskCache(dir).get(url(path(key), []), range: headers.first { $0.0 == "Range" }?.1, stored: stored) { validator in
            try await self.request(.GET, key: key, headers: headers + validator, stored: stored)
        }
    }

    /// A value's size (a HEAD), or nil when there is none.
    public func size(of key: String) async throws -> Int? {
        let r = try await request(.HEAD, key: key)
        if r.status == 404 { return nil }
        guard r.status == 200, let n = r.header("Content-Length").flatMap(Int.init) else { throw failure(.HEAD, "\(name)/\(key)", r) }
        return n
    }

    static func totalSize(_ contentRange: String) -> Int? {
        guard let slash = contentRange.lastIndex(of: "/") else { return nil }
        return Int(contentRange[contentRange.index(after: slash)...])
    }

    /// The bytes a 200 or 206 answer holds for `range`: a server that ignored the Range and sent
    /// the whole value is cut to it; one that sent other bytes than asked is an error.
    static func checked(_ r: HTTPReply, range: ByteRange, key: String, store: String) throws -> [UInt8] {
        if r.status == 200 {
            let span = try range.resolve(size: r.body.count, key: key, store: store)
            return span.count == r.body.count ? r.body : Array(r.body[span])
        }
        guard let cr = r.header("Content-Range"), cr.hasPrefix("bytes "), let dash = cr.firstIndex(of: "-"), let slash = cr.lastIndex(of: "/"),
              let first = Int(cr[cr.index(cr.startIndex, offsetBy: 6)..<dash]), let last = Int(cr[cr.index(after: dash)..<slash]) else {
            throw GyreStorageError(.io, "\(store): '\(key)': a partial answer without a Content-Range it can be read by")
        }
        let total = Int(cr[cr.index(after: slash)...])
        let want: Range<Int>
        switch range {
        case .full: want = first..<(last + 1)
        case .range(let o, let n): want = o..<(o + n)
        case .from(let o): want = o..<(total ?? last + 1)
        case .suffix(let n): want = (total.map { max(0, $0 - n) } ?? first)..<(total ?? last + 1)
        }
        guard first == want.lowerBound, r.body.count == last - first + 1 else {
            throw GyreStorageError(.io, "\(store): '\(key)': asked for bytes \(want.lowerBound)..<\(want.upperBound), got \(cr) (\(r.body.count) bytes)")
        }
        if want.upperBound < last + 1 { return Array(r.body[0..<(want.upperBound - first)]) }
        guard want.upperBound == last + 1 else {
            // Shorter than asked: the value ends before the range does.
            throw GyreStorageError(.invalidRange, "\(store): bytes \(want.lowerBound)..<\(want.upperBound) of '\(key)' are outside its \(total.map(String.init) ?? "?") bytes")
        }
        return r.body
    }

    public func set(_ key: String, _ value: [UInt8]) async throws {
        try validateKey(key, store: name)
        defer { cache?.forget([key]) }
        if value.count >= options.multipartThreshold, value.count > options.partSize {
            try await multipart(key, value)
            return
        }
        let r = try await request(.PUT, key: key, headers: [("Content-Type", "application/octet-stream")], body: value)
        guard r.status == 200 else { throw failure(.PUT, "\(name)/\(key)", r) }
    }

    /// A multipart upload: parts in parallel, completed in order; any failure aborts it, so no
    /// object (nor a stray upload) is left.
    func multipart(_ key: String, _ value: [UInt8]) async throws {
        let what = "\(name)/\(key)"
        let created = try await request(.POST, key: key, query: [("uploads", "")], headers: [("Content-Type", "application/octet-stream")])
        guard created.status == 200, let upload = S3XML.first("UploadId", in: created.body) else { throw failure(.POST, what + " (starting a multipart upload)", created) }
        let size = options.partSize
        let parts = (value.count + size - 1) / size
        do {
            let tags = try await Bounded.map(count: parts, limit: options.partConcurrency) { i -> String in
                let body = Array(value[(i * size)..<min(value.count, (i + 1) * size)])
                let r = try await self.request(.PUT, key: key, query: [("partNumber", String(i + 1)), ("uploadId", upload)], body: body)
                guard r.status == 200, let tag = r.header("ETag") else { throw self.failure(.PUT, what + " (part \(i + 1) of \(parts))", r) }
                return tag
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, tag) in tags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(S3XML.escape(tag))</ETag></Part>" }
            xml += "</CompleteMultipartUpload>"
            let done = try await request(.POST, key: key, query: [("uploadId", upload)], headers: [("Content-Type", "application/xml")], body: Array(xml.utf8))
            // S3 may answer 200 with an error in the body. A NoSuchUpload after retries is the
            // answer to a completion that already succeeded (its first answer lost on the way):
            // the object is there, of the size written.
            if done.status == 404, S3XML.first("Code", in: done.body) == "NoSuchUpload", try await self.size(of: key) == value.count { return }
            guard done.status == 200, S3XML.first("Code", in: done.body) == nil else { throw failure(.POST, what + " (completing a multipart upload)", done) }
        } catch {
            _ = try? await request(.DELETE, key: key, query: [("uploadId", upload)])
            throw error
        }
    }

    public func delete(_ key: String) async throws {
        try validateKey(key, store: name)
        defer { cache?.forget([key]) }
        let r = try await request(.DELETE, key: key)
        guard r.status == 204 || r.status == 200 || r.status == 404 else { throw failure(.DELETE, "\(name)/\(key)", r) }
    }

    /// Deletes many values, up to 1,000 to a request (DeleteObjects); missing keys are no error.
    public func delete(keys: [String]) async throws {
        for k in keys { try validateKey(k, store: name) }
        defer { cache?.forget(keys) }
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(keys.count, start + 1000)]
            start += batch.count
            var xml = "<Delete><Quiet>true</Quiet>"
            for k in batch { xml += "<Object><Key>\(S3XML.escape(objectName(k)))</Key></Object>" }
            xml += "</Delete>"
            let body = Array(xml.utf8)
            let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
            let r = try await request(.POST, key: nil, query: [("delete", "")], headers: [("Content-MD5", md5), ("Content-Type", "application/xml")], body: body)
            guard r.status == 200 else { throw failure(.POST, "\(name) (deleting \(batch.count) keys)", r) }
            if let failed = S3XML.first("Key", in: r.body, within: "Error") {
                throw GyreStorageError(.io, "\(name): deleting '\(failed)' failed: \(S3XML.first("Message", in: r.body, within: "Error") ?? "no reason given")")
            }
        }
    }

    public func list(prefix listed: String) async throws -> [String] {
        let full = prefix.isEmpty ? listed : prefix + "/" + listed
        let cut = prefix.isEmpty ? 0 : prefix.utf8.count + 1
        var keys: [String] = [], token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", full), ("encoding-type", "url")]
            if let token { query.append(("continuation-token", token)) }
            let r = try await request(.GET, key: nil, query: query)
            guard r.status == 200 else { throw failure(.GET, "\(name) (listing '\(listed)')", r) }
            for k in S3XML.all("Key", in: r.body, within: "Contents") {
                let decoded = S3XML.urlDecoded(k)
                guard decoded.utf8.count > cut else { continue }
                keys.append(String(decoded.utf8.dropFirst(cut))!)
            }
            token = S3XML.first("IsTruncated", in: r.body) == "true" ? S3XML.first("NextContinuationToken", in: r.body) : nil
        } while token != nil
        return keys.sorted()
    }
}

/// The few elements of S3's XML answers Gyre reads (keys, tokens, upload ids, error codes):
/// found by their tags, entities decoded. S3's answers have no CDATA, comments or attributes
/// on these elements.
enum S3XML {
    static func all(_ tag: String, in body: [UInt8], within parent: String? = nil) -> [String] {
        let text = String(decoding: body, as: UTF8.self)
        let scopes = parent.map { elements($0, text[...]) } ?? [text[...]]
        return scopes.flatMap { elements(tag, $0).map { decode(String($0)) } }
    }

    static func first(_ tag: String, in body: [UInt8], within parent: String? = nil) -> String? { all(tag, in: body, within: parent).first }

    /// The contents of every `<tag>...</tag>` in `text`, in order, not nested.
    static func elements(_ tag: String, _ text: Substring) -> [Substring] {
        var out: [Substring] = [], rest = text[...]
        let open = "<\(tag)>", close = "</\(tag)>"
        while let a = rest.range(of: open), let b = rest[a.upperBound...].range(of: close) {
            out.append(rest[a.upperBound..<b.lowerBound])
            rest = rest[b.upperBound...]
        }
        return out
    }

    static func decode(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = "", rest = s[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let hex = entity.hasPrefix("#x") || entity.hasPrefix("#X")
                if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10), let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else {
                    out += rest[amp...semi]
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// `encoding-type=url` keys: percent-decoded, '+' as a space as S3 writes it.
    static func urlDecoded(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = [], i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
