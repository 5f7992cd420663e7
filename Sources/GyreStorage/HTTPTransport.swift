import AsyncHTTPClient
import Foundation
import GyreCore
import NIOCore
import NIOHTTP1

/// How a network store retries, waits and bounds its requests.
public struct NetworkOptions: Sendable {
    /// Tries per request, the first included.
    public var attempts = 6
    /// The wait before the first retry, doubled for each one after (up to `maxBackoff`), each
    /// wait drawn at random between none and that ("full jitter").
    public var initialBackoff = 0.1
    public var maxBackoff = 5.0
    /// Seconds one attempt may take, and all the attempts of one request together.
    public var requestTimeout = 60.0
    public var deadline = 300.0
    /// Headers every request sends (a bearer token, say).
    public var headers: [(String, String)] = []
    /// Byte ranges of one value closer than this are read in one request
    /// (`ReadableStore.get(_:ranges:)`): 512 KiB, a few milliseconds of transfer, against a
    /// round trip per request saved.
    public var rangeGap = 512 << 10
    /// A directory for `DiskCache` (nil: no cache on disk).
    public var cacheDirectory: String?
    /// Bytes of reads kept in memory by each store (`MemoryCache`; 0: none).
    public var memoryCacheBytes = 0

    public init() {}
}

/// A response: its status, headers and whole body.
package struct HTTPReply: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: [UInt8]
    /// The body, when it was asked for in a `StoredBytes` buffer (`send(stored: true)`) and the
    /// answer was a 200 or 206 with a Content-Length; `body` is empty then.
    package var stored: StoredBytes? = nil

    package func header(_ name: String) -> String? { headers.first(name: name) }
}

/// The HTTP client under every network store: one pooled, keep-alive client for the process
/// (async-http-client), at most `connectionsPerHost` connections to a host (the bound on
/// requests in flight; more wait for a free connection), and each request retried with
/// jittered exponential backoff on 429, 500, 502, 503 and 504, on connection failures and
/// timeouts, and on bodies shorter than their Content-Length, within a total deadline. Errors
/// name the method, the URL without its query (which may hold a token or a signature), the
/// status and the attempts; no header is ever printed.
package enum HTTPTransport {
    package static let connectionsPerHost = 64

    package static let client: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        // A refused connection fails the attempt at once, and `send` retries it as it retries
        // the rest (the pool's own retries went on until the connect timeout).
        c.connectionPool.retryConnectionEstablishment = false
        c.decompression = .disabled
        c.redirectConfiguration = .follow(max: 5, allowCycles: false)
        c.timeout = .init(connect: .seconds(10), read: .seconds(60))
        // Chunk bodies are megabytes: reads of up to 1 MiB from the socket (NIO's default
        // stops at 64 KiB) hand the body over in a sixteenth of the pieces, each a wakeup of
        // the reading task fewer.
        c.http1_1ConnectionDebugInitializer = { channel in
            channel.setOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 256 << 10, maximum: 1 << 20))
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    package static let retriedStatuses: Set<Int> = [429, 500, 502, 503, 504]

    /// The URL to show in messages: without its query string.
    package static func shown(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        return String(url[..<q]) + "?…"
    }

    /// Sends a request until it gets an answer that is not worth retrying, and gives that
    /// answer whatever its status. `headers` is called for each attempt (a signature holds the
    /// time). Bodies are read up to `maxBody` bytes.
    package static func send(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, options: NetworkOptions,
                             maxBody: Int = 1 << 34, stored: Bool = false, headers: @Sendable () -> [(String, String)]) async throws -> HTTPReply {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int64(options.deadline * 1000))
        var attempt = 0
        // What went wrong, in the order first seen, with how often.
        var problems: [(String, Int)] = []
        var lastProblem = "" {
            didSet {
                if let i = problems.firstIndex(where: { $0.0 == lastProblem }) { problems[i].1 += 1 } else { problems.append((lastProblem, 1)) }
            }
        }
        var rng = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            try Task.checkCancellation()
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (n, v) in options.headers { request.headers.add(name: n, value: v) }
            for (n, v) in headers() { request.headers.replaceOrAdd(name: n, value: v) }
            if let body {
                request.body = .bytes(ByteBuffer(bytes: body))
                request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            }
            let left = deadline - ContinuousClock.now
            let perAttempt = min(Duration.milliseconds(Int64(options.requestTimeout * 1000)), left)
            var retry = false
            do {
                let ms = max(1, Int64(perAttempt.components.seconds * 1000 + perAttempt.components.attoseconds / 1_000_000_000_000_000))
                let response = try await client.execute(request, timeout: .milliseconds(ms))
                let status = Int(response.status.code)
                let expected = response.headers.first(name: "Content-Length").flatMap(Int.init)
                var bytes: [UInt8] = [], buffer: StoredBytes?, received = 0
                if method == .HEAD {
                    for try await _ in response.body {}
                } else if let n = expected, n <= maxBody {
                    // Straight into its buffer as it arrives: no growing, one copy.
                    if stored, status == 200 || status == 206 {
                        let b = StoredBytes(uninitialized: n)
                        for try await piece in response.body {
                            guard received + piece.readableBytes <= n else { received += piece.readableBytes; break }
                            piece.withUnsafeReadableBytes { b.write($0, at: received) }
                            received += piece.readableBytes
                        }
                        buffer = b
                    } else {
                        bytes.reserveCapacity(n)
                        for try await piece in response.body {
                            guard received + piece.readableBytes <= n else { received += piece.readableBytes; break }
                            piece.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
                            received += piece.readableBytes
                        }
                    }
                } else {
                    var all = try await response.body.collect(upTo: maxBody)
                    bytes = all.readBytes(length: all.readableBytes) ?? []
                    received = bytes.count
                }
                if let expected, method != .HEAD, expected != received {
                    lastProblem = "a body of \(received) bytes where Content-Length said \(expected)"
                    retry = true
                } else if retriedStatuses.contains(status) {
                    lastProblem = "HTTP \(status)"
                    retry = true
                } else {
                    return HTTPReply(status: status, headers: response.headers, body: bytes, stored: buffer)
                }
            } catch let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
                lastProblem = "no answer within the timeout"
                retry = true
            } catch is CancellationError {
                throw CancellationError()
            } catch let e as HTTPClientError where e == .invalidURL || e == .emptyHost || e == .emptyScheme {
                throw GyreStorageError(.io, "\(method) \(shown(url)): not a URL Gyre can request (\(e))")
            } catch {
                if Task.isCancelled { throw CancellationError() }
                lastProblem = "\(error)"
                retry = true
            }
            precondition(retry)
            let now = ContinuousClock.now
            if attempt >= options.attempts || now >= deadline {
                let took = now - start
                let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
                let what = problems.map { $0.1 > 1 && problems.count > 1 ? "\($0.0) (\($0.1) times)" : $0.0 }.joined(separator: "; ")
                let limit = attempt >= options.attempts ? "" : ", the deadline of \(String(format: "%g", options.deadline)) s passed"
                throw GyreStorageError(.io, "\(method) \(shown(url)): \(what), after \(attempt) attempt\(attempt == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s\(limit)")
            }
            let cap = min(options.maxBackoff, options.initialBackoff * pow(2, Double(attempt - 1)))
            let wait = Double.random(in: 0...max(cap, 0.001), using: &rng)
            let until = min(now + .milliseconds(Int64(wait * 1000)), deadline)
            try await Task.sleep(until: until, clock: .continuous)
        }
    }
}
