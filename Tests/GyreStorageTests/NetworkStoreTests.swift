import Foundation
import GyreCore
import Testing
@testable import GyreStorage
import GyreTestSupport

@Suite("Signature V4 against botocore's")
struct SigV4Tests {
    @Test("the same Authorization for GETs, ranged GETs, PUTs with bodies, odd keys, query strings and session tokens")
    func againstBotocore() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.0)
        let credentials = [AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                           AWSCredentials(accessKeyID: "ASIATEMP", secretAccessKey: "s3cr3t/+=", sessionToken: "FQoGZXIvYXdzE//token+/=")]
        let keys = ["a/b/c.zarr/.zarray", "with space/and+plus/100%/x", "ünïcødé/日本/ключ", "~tilde_-.dot/(paren)!*'"]
        var cases: [[String: Any]] = [], ours: [String] = []
        for (n, key) in keys.enumerated() {
            for c in credentials {
                let path = "/bucket/" + SigV4.encode(key, encodeSlash: false)
                let queries: [[(String, String)]] = [[], [("list-type", "2"), ("prefix", key), ("continuation-token", "a+b/c=")], [("uploads", "")],
                                                     [("partNumber", "3"), ("uploadId", "x~y z")]]
                for query in queries {
                    let body: [UInt8] = n % 2 == 0 ? [] : Array("body \(key)".utf8)
                    let method = body.isEmpty ? "GET" : "PUT"
                    var headers = [("host", "127.0.0.1:9000")]
                    if n == 2 { headers.append(("Range", "bytes=10-  20")) }
                    let hash = body.isEmpty ? SigV4.emptyHash : SigV4.sha256Hex(body)
                    let signed = SigV4.sign(method: method, path: path, query: query, headers: headers, payloadHash: hash, region: "eu-west-3",
                                            service: "s3", credentials: c, date: date)
                    ours.append(signed.first { $0.0 == "Authorization" }!.1)
                    let q = query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
                    cases.append(["method": method, "url": "http://127.0.0.1:9000" + path + (q.isEmpty ? "" : "?" + q),
                                  "body": body.map { String(format: "%02x", $0) }.joined(), "headers": Dictionary(uniqueKeysWithValues: headers.dropFirst().map { ($0.0, $0.1) }),
                                  "key": c.accessKeyID, "secret": c.secretAccessKey, "token": c.sessionToken as Any])
                }
            }
        }
        let code = """
            import sys, json, datetime
            import botocore.auth
            from botocore.auth import S3SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            botocore.auth.get_current_datetime = lambda: datetime.datetime(2023, 11, 14, 22, 13, 20)
            out = []
            for c in json.loads(sys.stdin.read()):
                r = AWSRequest(method=c["method"], url=c["url"], data=bytes.fromhex(c["body"]), headers=c["headers"])
                S3SigV4Auth(Credentials(c["key"], c["secret"], c["token"]), "s3", "eu-west-3").add_auth(r)
                out.append(r.headers["Authorization"])
            print(json.dumps(out))
            """
        let input = String(decoding: try JSONSerialization.data(withJSONObject: cases), as: UTF8.self)
        let theirs = try JSONSerialization.jsonObject(with: Data(try LocalServers.python(code, stdin: input).utf8)) as! [String]
        #expect(theirs.count == ours.count)
        let urls = cases.map { $0["url"] as? String ?? "" }
        for (i, (a, b)) in zip(ours, theirs).enumerated() {
            let url = urls[i]
            #expect(a == b, "case \(i): \(url)")
        }
    }

    @Test("credentials never show their secret or token")
    func redacted() {
        let c = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "SECRETSECRET", sessionToken: "TOKENTOKEN")
        #expect(!"\(c)".contains("SECRET") && !"\(c)".contains("TOKEN") && !"\(c)".contains("EXAMPLE"))
    }
}

@Suite("S3Store on moto's S3 server", .serialized)
struct S3StoreTests {
    static func options(_ server: LocalServers.Server) -> S3Options {
        var o = S3Options(endpoint: server.url, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
        o.network.attempts = 2
        return o
    }

    @Test("values whole and by range, missing keys, odd key names listed back exactly, paging, batched deletes, multipart uploads")
    func roundTrip() async throws {
        let server = try LocalServers.moto()
        defer { server.stop() }
        var o = Self.options(server)
        o.multipartThreshold = 6 << 20
        o.partSize = 5 << 20
        let bucket = try S3Store(bucket: "gyre-test", options: o)
        try await bucket.createBucket()
        let store = try S3Store(url: "s3://gyre-test/data/cube.zarr", options: o)
        #expect(store.name == "s3://gyre-test/data/cube.zarr")

        var rng = SplitMix64(seed: 7)
        let value = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try await store.set("a/0.0", value)
        #expect(try await store.get("a/0.0") == value)
        #expect(try await store.get("a/0.0", range: .range(offset: 10, length: 90)) == Array(value[10..<100]))
        #expect(try await store.get("a/0.0", range: .from(offset: 990)) == Array(value[990...]))
        #expect(try await store.get("a/0.0", range: .from(offset: 1000)) == [])
        #expect(try await store.get("a/0.0", range: .suffix(length: 7)) == Array(value[993...]))
        #expect(try await store.get("a/0.0", range: .suffix(length: 5000)) == value)
        #expect(try await store.get("a/0.0", range: .range(offset: 5, length: 0)) == [])
        #expect(try await store.get("missing") == nil)
        #expect(try await store.get("missing", range: .range(offset: 0, length: 10)) == nil)
        #expect(try await store.getStored("a/0.0")?.array == value)
        #expect(try await store.getStored("missing") == nil)
        await #expect(throws: GyreStorageError.self) { try await store.get("a/0.0", range: .range(offset: 995, length: 10)) }
        await #expect(throws: GyreStorageError.self) { try await store.get("a/0.0", range: .range(offset: 2000, length: 10)) }
        await #expect(throws: GyreStorageError.self) { try await store.get("../escape") }

        // Names S3 encodes: spaces, '%', '+', non-ASCII, and characters XML escapes.
        let odd = ["with space/x", "100%/y", "a+b/c", "ünï/日本", "amp&lt<gt>/'q\"", "plus + space/z"]
        for (i, k) in odd.enumerated() { try await store.set(k, [UInt8(i)]) }
        for (i, k) in odd.enumerated() { #expect(try await store.get(k) == [UInt8(i)], "\(k)") }
        #expect(try await store.list(prefix: "") == (odd + ["a/0.0"]).sorted())
        #expect(try await store.list(prefix: "a") == ["a+b/c", "a/0.0", "amp&lt<gt>/'q\""].sorted())
        // The other store at the bucket's root sees the prefix.
        #expect(try await bucket.list(prefix: "data/cube.zarr/a/").map { $0 } == ["data/cube.zarr/a/0.0"])

        // More keys than a page of the listing holds.
        let many = (0..<1205).map { String(format: "many/%05d", $0) }
        try await Bounded.forEach(count: many.count, limit: 32, { i in try await store.set(many[i], [1]) }, consume: { _, _ in })
        #expect(try await store.list(prefix: "many/") == many)
        try await store.delete(keys: many + ["never/was"])
        #expect(try await store.list(prefix: "many/") == [])
        try await store.delete("a/0.0")
        try await store.delete("a/0.0")
        #expect(try await store.get("a/0.0") == nil)

        // Above the threshold, in parts (5 MiB, the smallest S3 takes, and a short last one).
        let big = (0..<(13 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try await store.set("big", big)
        #expect(try await store.get("big") == big)
        #expect(try await store.get("big", range: .range(offset: (5 << 20) - 3, length: 6)) == Array(big[((5 << 20) - 3)..<((5 << 20) + 3)]))
    }

    @Test("missing buckets, bad endpoints and unreachable servers are errors naming the URL; nothing prints a secret")
    func errors() async throws {
        let server = try LocalServers.moto()
        defer { server.stop() }
        var o = Self.options(server)
        o.credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "VERYSECRETVALUE", sessionToken: "SESSIONTOKENVALUE")
        let store = try S3Store(url: "s3://no-such-bucket/x", options: o)
        do {
            _ = try await store.list(prefix: "")
            Issue.record("listing a missing bucket succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("s3://no-such-bucket") && text.contains("404") && text.contains("NoSuchBucket"), "\(text)")
            #expect(!text.contains("VERYSECRET") && !text.contains("SESSIONTOKEN") && !text.contains("Signature="), "\(text)")
        }
        await #expect(throws: GyreStorageError.self) { try await store.set("k", [1]) }

        // Anonymous reads: a bucket whose policy lets anyone read answers them, a private one
        // refuses them with a 403 that says so.
        for b in ["open", "closed"] { try await S3Store(bucket: b, options: Self.options(server)).createBucket() }
        try await S3Store(url: "s3://open/x", options: Self.options(server)).set("k", [5, 6])
        try await S3Store(url: "s3://closed/x", options: Self.options(server)).set("k", [5, 6])
        _ = try LocalServers.python("""
            import boto3, json, sys
            s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
            s3.put_bucket_policy(Bucket="open", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::open", "arn:aws:s3:::open/*"]}]}))
            """, [server.url])
        var anonymous = Self.options(server)
        anonymous.credentials = nil
        #expect(try await S3Store(url: "s3://open/x", options: anonymous).get("k") == [5, 6])
        #expect(try await S3Store(url: "s3://open/x", options: anonymous).list(prefix: "") == ["k"])
        do {
            _ = try await S3Store(url: "s3://closed/x", options: anonymous).get("k")
            Issue.record("an anonymous read of a private bucket succeeded")
        } catch {
            #expect("\(error)".contains("403") && "\(error)".contains("anonymous access was refused") && "\(error)".contains("s3://closed/x/k"), "\(error)")
        }
        #expect(throws: GyreStorageError.self) { try S3Store(url: "s3://", options: o) }
        for hostile in ["s3://b/../other/x", "s3://b/a/./x", "s3://b/a//x", "s3://b c/x", "s3://b/a/.."] {
            #expect(throws: GyreStorageError.self, "\(hostile)") { try S3Store(url: hostile, options: o) }
        }
        var bad = o
        bad.endpoint = "ftp://127.0.0.1:1"
        #expect(throws: GyreStorageError.self) { try S3Store(url: "s3://b/k", options: bad) }
        // Nothing listens: the attempts, then an error within the deadline.
        var gone = o
        gone.endpoint = "http://127.0.0.1:\(try LocalServers.freePort())"
        gone.network.attempts = 3
        gone.network.initialBackoff = 0.01
        let start = Date()
        do {
            _ = try await S3Store(url: "s3://b/k", options: gone).get("x")
            Issue.record("a read from a closed port succeeded")
        } catch {
            #expect("\(error)".contains("after 3 attempts") && "\(error)".contains("127.0.0.1"), "\(error)")
        }
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test("credentials from the environment and from a profile in the shared credentials file, as the AWS CLI reads them")
    func standardCredentials() throws {
        let dir = try LocalServers.scratch("aws")
        try "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n\n[work]\naws_access_key_id=WORKKEY\naws_secret_access_key=worksecret\naws_session_token = worktoken\n"
            .write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try "[profile work]\nregion = eu-central-1\n".write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let files = ["AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("credentials").path, "AWS_CONFIG_FILE": dir.appendingPathComponent("config").path]
        let env = try S3Options.standard(environment: files.merging(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret",
                                                                     "AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"]) { $1 })
        #expect(env.credentials?.accessKeyID == "ENVKEY" && env.region == "ap-south-1" && env.endpoint == "http://127.0.0.1:1")
        let plain = try S3Options.standard(environment: files)
        #expect(plain.credentials?.accessKeyID == "DEFAULTKEY" && plain.credentials?.sessionToken == nil && plain.region == "us-east-1")
        let work = try S3Options.standard(environment: files.merging(["AWS_PROFILE": "work"]) { $1 })
        #expect(work.credentials?.accessKeyID == "WORKKEY" && work.credentials?.sessionToken == "worktoken" && work.region == "eu-central-1")
        #expect(try S3Options.standard(environment: files, anonymous: true).credentials == nil)
        #expect(throws: GyreStorageError.self) { try S3Options.standard(environment: files, profile: "nope") }
        #expect(throws: GyreStorageError.self) { try S3Options.standard(environment: ["HOME": dir.path]) }
    }
}

@Suite("HTTPStore on nginx", .serialized)
struct HTTPStoreTests {
    @Test("whole values, ranges, suffixes, missing keys, query tokens kept on every request and never shown, no listing")
    func reads() async throws {
        let dir = try LocalServers.scratch("www")
        var rng = SplitMix64(seed: 3)
        let value = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("cube.zarr/a b"), withIntermediateDirectories: true)
        try Data(value).write(to: dir.appendingPathComponent("cube.zarr/a b/0.0"))
        try Data().write(to: dir.appendingPathComponent("cube.zarr/empty"))
        // Like a SAS token: without the right `sig`, 403.
        let server = try LocalServers.nginx(serving: dir, locations: #"location /private/ { if ($arg_sig != "s3cr3t") { return 403; } alias "# + dir.path + "/cube.zarr/; }")
        defer { server.stop() }

        let store = try HTTPStore(url: server.url + "/cube.zarr/")
        #expect(try await store.get("a b/0.0") == value)
        #expect(try await store.get("a b/0.0", range: .range(offset: 100, length: 900)) == Array(value[100..<1000]))
        #expect(try await store.get("a b/0.0", range: .from(offset: 4990)) == Array(value[4990...]))
        #expect(try await store.get("a b/0.0", range: .suffix(length: 10)) == Array(value[4990...]))
        #expect(try await store.get("a b/0.0", range: .range(offset: 10, length: 0)) == [])
        #expect(try await store.get("empty") == [])
        #expect(try await store.get("missing") == nil)
        #expect(try await store.getStored("a b/0.0")?.array == value)
        #expect(try await store.getStored("empty")?.count == 0)
        #expect(try await store.getStored("missing") == nil)
        await #expect(throws: GyreStorageError.self) { try await store.get("a b/0.0", range: .range(offset: 4990, length: 20)) }
        await #expect(throws: GyreStorageError.self) { try await store.get("a b/0.0", range: .range(offset: 6000, length: 20)) }
        do {
            _ = try await store.list(prefix: "")
            Issue.record("HTTP listing succeeded")
        } catch { #expect("\(error)".contains("no listing"), "\(error)") }

        let signed = try HTTPStore(url: server.url + "/private?sv=2020-08-04&sig=s3cr3t")
        #expect(try await signed.get("a b/0.0", range: .range(offset: 0, length: 4)) == Array(value[0..<4]))
        let unsigned = try HTTPStore(url: server.url + "/private?sv=2020-08-04&sig=wrong")
        do {
            _ = try await unsigned.get("a b/0.0")
            Issue.record("a read without the token succeeded")
        } catch {
            #expect("\(error)".contains("403") && "\(error)".contains("/private/a%20b/0.0") && !"\(error)".contains("wrong"), "\(error)")
        }
        // Ranges close together go as one request; far ones as their own; the answers come in
        // the order asked.
        let before = server.accessLog.count
        let asked = [4000..<4100, 10..<20, 30..<50, 15..<40, 4990..<5000, 0..<0]
        let gapped = try HTTPStore(url: server.url + "/cube.zarr/", options: { var n = NetworkOptions(); n.rangeGap = 1000; return n }())
        let parts = try #require(try await gapped.get("a b/0.0", ranges: asked))
        #expect(parts == asked.map { Array(value[$0]) })
        let sent = server.accessLog.dropFirst(before)
        #expect(sent.count == 2 && sent.contains { $0.hasSuffix("bytes=0-49") } && sent.contains { $0.hasSuffix("bytes=4000-4999") }, "\(Array(sent))")
        #expect(try await gapped.get("missing", ranges: [0..<10]) == nil)

        #expect(throws: GyreStorageError.self) { try HTTPStore(url: "ftp://127.0.0.1/x") }
        #expect(throws: GyreStorageError.self) { try HTTPStore(url: "http:///nohost") }
    }
}

@Suite("StoreResolver: locations and fsspec's storage options to stores")
struct StoreResolverTests {
    @Test("paths and file:// are files, s3:// and http(s):// network stores with their options; unknown schemes and options are errors")
    func resolve() throws {
        let env = ["HOME": "/nonexistent"]
        #expect(try StoreResolver.store(for: "/tmp/x.zarr", environment: env) is FileStore)
        #expect(try StoreResolver.store(for: "relative/x.zarr", environment: env) is FileStore)
        let file = try #require(try StoreResolver.store(for: "file:///tmp/a%20b.zarr", environment: env) as? FileStore)
        #expect(file.root.path == "/tmp/a b.zarr")
        let s3 = try #require(try StoreResolver.store(for: "s3://bucket/sst/cube.zarr", options: ["endpoint_url": "http://127.0.0.1:9", "anon": "true"],
                                                      environment: env) as? S3Store)
        #expect(s3.bucket == "bucket" && s3.prefix == "sst/cube.zarr" && s3.options.credentials == nil && s3.options.endpoint == "http://127.0.0.1:9")
        #expect(s3.path("0.0") == "/bucket/sst/cube.zarr/0.0")
        let keyed = try #require(try StoreResolver.store(for: "s3://b", options: ["key": "K", "secret": "S", "region": "eu-west-1", "addressing": "virtual"],
                                                         environment: env) as? S3Store)
        #expect(keyed.options.credentials?.accessKeyID == "K" && keyed.options.region == "eu-west-1" && keyed.host == "b.s3.eu-west-1.amazonaws.com")
        let http = try #require(try StoreResolver.store(for: "https://example.com/data/x.zarr?sig=abc", options: ["header.Authorization": "Bearer t", "attempts": "2"],
                                                        environment: env) as? HTTPStore)
        #expect(http.url("a/0") == "https://example.com/data/x.zarr/a/0?sig=abc" && http.options.attempts == 2)
        #expect(http.options.headers.map { "\($0.0)=\($0.1)" } == ["Authorization=Bearer t"])
        for (location, options) in [("gs://bucket/x", [String: String]()), ("s3://b/x", ["anon": "maybe"]), ("s3://b/x", ["endpoint": "http://x"]),
                                    ("https://h/x", ["timeout": "-1"]), ("s3://b/x", [:])] {
            #expect(throws: GyreStorageError.self, "\(location) \(options)") { try StoreResolver.store(for: location, options: options, environment: env) }
        }
        #expect(StoreResolver.isRemote("s3://b/x") && StoreResolver.isRemote("https://h/x") && !StoreResolver.isRemote("/a/b") && !StoreResolver.isRemote("file:///a"))
    }
}

@Suite("Network stores under injected faults (fault_proxy.py in front of nginx and moto)", .serialized)
struct FaultTests {
    static func network() -> NetworkOptions {
        var n = NetworkOptions()
        n.attempts = 10
        n.initialBackoff = 0.01
        n.maxBackoff = 0.2
        return n
    }

    @Test("with 10% of reads and 25% of writes faulty, every read equals the file's bytes and every write lands whole; an object that always fails is an error within the deadline")
    func tenPercent() async throws {
        let dir = try LocalServers.scratch("faults")
        var rng = SplitMix64(seed: 29)
        var files: [[UInt8]] = []
        for i in 0..<30 {
            let bytes = (0..<Int.random(in: 1...150_000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try Data(bytes).write(to: dir.appendingPathComponent("f\(i)"))
            files.append(bytes)
        }
        let nginx = try LocalServers.nginx(serving: dir)
        defer { nginx.stop() }
        let proxy = try LocalServers.faultProxy(upstream: nginx.url, rate: 0.1, seed: 1)
        defer { proxy.stop() }
        let http = try HTTPStore(url: proxy.url, options: Self.network())
        for _ in 0..<300 {
            let i = Int.random(in: 0..<files.count, using: &rng)
            let f = files[i]
            let o = Int.random(in: 0..<f.count, using: &rng), n = Int.random(in: 1...(f.count - o), using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: #expect(try await http.get("f\(i)") == f)
            case 3: #expect(try await http.getStored("f\(i)")?.array == f)
            case 1: #expect(try await http.get("f\(i)", range: .range(offset: o, length: n)) == Array(f[o..<(o + n)]))
            default: #expect(try await http.get("f\(i)", range: .suffix(length: n)) == Array(f[(f.count - n)...]))
            }
        }

        let moto = try LocalServers.moto()
        defer { moto.stop() }
        // Writes at 25%, so that each kind of fault meets several of the 90 PUTs.
        let s3Proxy = try LocalServers.faultProxy(upstream: moto.url, rate: 0.25, seed: 2)
        defer { s3Proxy.stop() }
        let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")
        let direct = try S3Store(url: "s3://faults/data", options: S3Options(endpoint: moto.url, credentials: credentials))
        try await direct.createBucket()
        var o = S3Options(endpoint: s3Proxy.url, credentials: credentials)
        o.network = Self.network()
        let faulty = try S3Store(url: "s3://faults/data", options: o)
        for round in 0..<3 { for (i, f) in files.enumerated() { try await faulty.set("k\(i)", round == 2 ? f : Array(f.reversed())) } }
        for (i, f) in files.enumerated() {
            #expect(try await direct.get("k\(i)") == f, "k\(i) as stored")
            #expect(try await faulty.get("k\(i)", range: .range(offset: 0, length: min(10, f.count))) == Array(f.prefix(10)), "k\(i) through the proxy")
        }
        #expect(try await faulty.list(prefix: "") == files.indices.map { "k\($0)" }.sorted())
        // Multipart uploads through the faults (a completion whose answer is lost is retried;
        // S3 then answers NoSuchUpload, and the object is checked instead).
        var big = o
        big.multipartThreshold = 6 << 20
        big.partSize = 5 << 20
        let uploads = try S3Store(url: "s3://faults/big", options: big)
        for i in 0..<4 {
            let value = (0..<((11 << 20) + i)).map { UInt8(truncatingIfNeeded: $0 &* (i + 3)) }
            try await uploads.set("b\(i)", value)
            let stored = try await S3Store(url: "s3://faults/big", options: S3Options(endpoint: moto.url, credentials: credentials)).get("b\(i)")
            #expect(stored == value, "b\(i) as stored")
        }
        try await faulty.delete(keys: files.indices.map { "k\($0)" })
        #expect(try await direct.list(prefix: "") == [])

        // Every kind of fault happened, to reads and to writes.
        for (server, method) in [(proxy, "GET"), (s3Proxy, "PUT")] {
            let log = try String(contentsOf: server.log, encoding: .utf8)
            for kind in ["500", "503", "reset", "503-after", "truncate", "slow"] where !(kind == "truncate" && method == "PUT") {
                #expect(log.contains("fault \(kind) \(method) "), "no \(kind) fault for a \(method) in \(server.log.path)")
            }
        }

        // Always 503: the attempts go on until the deadline, then an error that says so.
        var quick = Self.network()
        quick.attempts = 1000
        quick.deadline = 1.5
        let start = Date()
        do {
            _ = try await HTTPStore(url: proxy.url, options: quick).get("always-fail/x")
            Issue.record("an always-failing object read")
        } catch {
            #expect("\(error)".contains("HTTP 503") && "\(error)".contains("attempts") && "\(error)".contains("always-fail/x"), "\(error)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }
}

@Suite("Byte ranges merged into requests")
struct ByteRangesTests {
    @Test("close and overlapping ranges join, far ones and spans past the cap do not, every range is in one span")
    func merged() {
        let ranges = [100..<200, 0..<10, 250..<300, 5..<50, 10_000..<10_010, 190..<260, 400..<400]
        let spans = ByteRanges.merged(ranges, gap: 60)
        #expect(spans.map(\.span) == [0..<300, 400..<400, 10_000..<10_010])
        #expect(spans.flatMap(\.members).sorted() == Array(ranges.indices))
        for s in spans { for m in s.members { #expect(s.span.lowerBound <= ranges[m].lowerBound && ranges[m].upperBound <= s.span.upperBound) } }
        #expect(ByteRanges.merged(ranges, gap: 0).map(\.span) == [0..<50, 100..<300, 400..<400, 10_000..<10_010])
        #expect(ByteRanges.merged([0..<100, 100..<200, 200..<300], gap: 1000, maxSpan: 200).map(\.span) == [0..<200, 200..<300])
        #expect(ByteRanges.merged([], gap: 10).isEmpty)
    }
}

@Suite("The disk cache of network reads (ETag, If-None-Match)", .serialized)
struct DiskCacheTests {
    @Test("a second read is a 304 answered from the disk; a changed value is read anew; S3 too")
    func revalidated() async throws {
        let dir = try LocalServers.scratch("cached-www")
        let cacheDir = try LocalServers.scratch("cache").path
        try Data((0..<3000).map { UInt8($0 % 251) }).write(to: dir.appendingPathComponent("v"))
        let server = try LocalServers.nginx(serving: dir)
        defer { server.stop() }
        var n = NetworkOptions()
        n.cacheDirectory = cacheDir
        let store = try HTTPStore(url: server.url + "?token=a", options: n)
        let first = try await store.get("v", range: .range(offset: 100, length: 50))
        // Another token: the same entry (the query string is not part of its name).
        let again = try await HTTPStore(url: server.url + "?token=b", options: n).get("v", range: .range(offset: 100, length: 50))
        #expect(first == again && first == (100..<150).map { UInt8($0 % 251) })
        #expect(try await store.getStored("v")?.array == (0..<3000).map { UInt8($0 % 251) })
        #expect(try await store.getStored("v")?.array == (0..<3000).map { UInt8($0 % 251) })
        let statuses = server.accessLog.map { $0.prefix(3) }
        #expect(statuses == ["206", "304", "200", "304"], "\(server.accessLog)")
        // The file changes (another size, so another ETag): read anew.
        try Data((0..<4000).map { UInt8($0 % 7) }).write(to: dir.appendingPathComponent("v"))
        #expect(try await store.get("v", range: .range(offset: 100, length: 50)) == (100..<150).map { UInt8($0 % 7) })
        #expect(server.accessLog.last?.hasPrefix("206") == true)

        let moto = try LocalServers.moto()
        defer { moto.stop() }
        var o = S3Options(endpoint: moto.url, credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
        o.network.cacheDirectory = cacheDir
        let s3 = try S3Store(url: "s3://cached/x", options: o)
        try await s3.createBucket()
        try await s3.set("k", [1, 2, 3, 4])
        #expect(try await s3.get("k") == [1, 2, 3, 4])
        #expect(try await s3.get("k") == [1, 2, 3, 4])
        #expect(try await s3.get("k", range: .range(offset: 1, length: 2)) == [2, 3])
        try await s3.set("k", [9, 8, 7])
        #expect(try await s3.get("k") == [9, 8, 7])
        #expect(try await s3.get("k", range: .range(offset: 1, length: 2)) == [8, 7])
        #expect(try await s3.getStored("k")?.array == [9, 8, 7])
    }
}

@Suite("The in-memory cache of network reads", .serialized)
struct MemoryCacheTests {
    @Test("repeated reads are served from memory up to the capacity, least recently used out first; writes forget what they replace")
    func bounded() async throws {
        let dir = try LocalServers.scratch("mem-www")
        for i in 0..<4 { try Data([UInt8](repeating: UInt8(i), count: 1000)).write(to: dir.appendingPathComponent("v\(i)")) }
        let server = try LocalServers.nginx(serving: dir)
        defer { server.stop() }
        var n = NetworkOptions()
        n.memoryCacheBytes = 24_000   // values up to 3,000 bytes are kept
        let store = try HTTPStore(url: server.url, options: n)
        for _ in 0..<3 { #expect(try await store.get("v0") == [UInt8](repeating: 0, count: 1000)) }
        #expect(try await store.get("v0", range: .range(offset: 10, length: 5)) == [0, 0, 0, 0, 0])
        #expect(server.accessLog(atLeast: 2).count == 2, "one GET for the value, one for the range: \(server.accessLog)")
        #expect(try await store.getStored("v0")?.array == [UInt8](repeating: 0, count: 1000))
        #expect(server.accessLog.count == 2)
        let cache = try #require(store.cache)
        #expect(cache.bytes == 1005)
        // Over the capacity: the least recently used go first.
        let small = MemoryCache(capacity: 16_000)
        for i in 0..<4 { small.put("k\(i)", [UInt8](repeating: 1, count: 1500)) }
        _ = small.get("k0")
        small.put("k4", [UInt8](repeating: 1, count: 1500))
        small.put("k5", [UInt8](repeating: 1, count: 1500))
        small.put("k6", [UInt8](repeating: 1, count: 1500))
        small.put("k7", [UInt8](repeating: 1, count: 1500))
        small.put("k8", [UInt8](repeating: 1, count: 1500))
        small.put("k9", [UInt8](repeating: 1, count: 1500))
        small.put("k10", [UInt8](repeating: 1, count: 1500))
        #expect(small.bytes <= 16_000)
        #expect(small.get("k0") != nil && small.get("k1") == nil, "k0 was used after k1")
        small.put("huge", [UInt8](repeating: 1, count: 2001))
        #expect(small.get("huge") == nil, "over an eighth of the capacity")

        let moto = try LocalServers.moto()
        defer { moto.stop() }
        var o = S3Options(endpoint: moto.url, credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
        o.network.memoryCacheBytes = 1 << 20
        let s3 = try S3Store(url: "s3://mem/x", options: o)
        try await s3.createBucket()
        try await s3.set("k", [1, 2, 3])
        #expect(try await s3.get("k") == [1, 2, 3])
        #expect(try await s3.get("k", range: .suffix(length: 2)) == [2, 3])
        try await s3.set("k", [7, 8, 9, 10])
        #expect(try await s3.get("k") == [7, 8, 9, 10])
        #expect(try await s3.get("k", range: .suffix(length: 2)) == [9, 10])
        try await s3.delete("k")
        #expect(try await s3.get("k") == nil)
    }
}
