import Crypto
import Foundation
import GyreArrays
import GyreCore
import Hummingbird
import NIOCore
import Synchronization

/// The request context of Gyre's routes: Hummingbird's core context and the client's address
/// (for the per-client limit on anonymous tokens).
public struct GyreRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client as the rate limit counts it: its IP address (not the port: one client opens
    /// many connections).
    var client: String { remoteAddress?.ipAddress ?? "unknown" }
}

/// Signed access as the Planetary Computer has it: `GET /api/sas/v1/token/{collection}` gives a
/// short-lived token for a collection's data, `GET /api/sas/v1/sign?href=URL` appends one to a
/// URL. With `required`, the data routes of a dataset (its Zarr view, eval, EDR queries) need a
/// valid token, or the API key; its metadata, the listings and the STAC API stay anonymous.
public struct SigningConfiguration: Sendable {
    /// The HMAC-SHA256 key tokens are signed with. Tokens outlive a restart only when it is
    /// given (otherwise each start draws a new one).
    public var secret: [UInt8]
    public var required: Bool
    /// How long anonymous tokens last, in seconds.
    public var anonymousSeconds: Int
    /// How long tokens asked for with the API key last.
    public var registeredSeconds: Int
    /// Anonymous token requests (token and sign) a client may make per minute; past them, 429.
    public var anonymousPerMinute: Int

    public init(secret: [UInt8]? = nil, required: Bool = false, anonymousSeconds: Int = 3600, registeredSeconds: Int = 86_400,
                anonymousPerMinute: Int = 30) {
        self.secret = secret ?? Array(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        self.required = required
        self.anonymousSeconds = anonymousSeconds
        self.registeredSeconds = registeredSeconds
        self.anonymousPerMinute = anonymousPerMinute
    }
}

/// A shared access signature for one collection's data, written as a query string as Azure
/// SAS tokens are (`se=EXPIRY&sp=r&sr=COLLECTION&sig=SIGNATURE`), so it is appended to a URL as
/// it is. The signature is HMAC-SHA256 with the server's secret over the version, the
/// collection, the permissions and the expiry.
struct SASToken: Sendable, Equatable {
    var collection: String
    var permissions: String
    /// Seconds since 1970.
    var expiry: Int64
    var signature: String

    static func sign(collection: String, expiry: Int64, secret: [UInt8]) -> SASToken {
        SASToken(collection: collection, permissions: "r", expiry: expiry,
                 signature: mac(collection: collection, permissions: "r", expiry: expiry, secret: secret))
    }

    static func mac(collection: String, permissions: String, expiry: Int64, secret: [UInt8]) -> String {
        let message = "gyre-sas-v1\n\(collection)\n\(permissions)\n\(expiry)"
        let code = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: secret))
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The expiry as ISO 8601 (`msft:expiry`).
    var expiryText: String { formatDatetime64(expiry, unit: .seconds) + "Z" }

    var queryString: String {
        let enc = { (s: String) in PercentEncoding.encode(s, keeping: PercentEncoding.queryValue) }
        return "se=\(enc(expiryText))&sp=\(enc(permissions))&sr=\(enc(collection))&sig=\(enc(signature))"
    }

    /// The token a request carries: in its query (`se`, `sp`, `sr`, `sig`), or in an
    /// `Authorization: SAS <token>` header (what Zarr clients send, as they add keys to a
    /// store's URL and cannot keep a query on it). Nil when it carries none; 403 when it
    /// carries a malformed one.
    static func carried(by request: Request) throws -> SASToken? {
        var pairs: [(name: String, value: String)] = []
        if let header = request.headers[.authorization], header.hasPrefix("SAS ") {
            pairs = try QueryString(String(header.dropFirst(4))).pairs
        } else {
            pairs = try QueryString(request.uri.query).pairs.filter { ["se", "sp", "sr", "sig"].contains($0.name) }
        }
        guard !pairs.isEmpty else { return nil }
        func field(_ n: String) throws -> String {
            guard let v = pairs.first(where: { $0.name == n })?.value, !v.isEmpty, v.count <= 512 else {
                throw GyreServerError(.forbidden, "the access token has no '\(n)'; get one from /api/sas/v1/token/{collection}")
            }
            return v
        }
        let se = try field("se")
        guard let expiry = try? parseDatetime64(se, unit: .seconds) else {
            throw GyreServerError(.forbidden, "the access token's expiry '\(se.prefix(40))' is not a date-time")
        }
        return SASToken(collection: try field("sr"), permissions: try field("sp"), expiry: expiry, signature: try field("sig"))
    }

    /// Checks the token grants reading `collection` now: a signature the secret makes (compared
    /// in constant time), not expired, for that collection. Each failure is a 403 that says
    /// which, never echoing the signature.
    func verify(collection wanted: String, now: Int64, secret: [UInt8]) throws {
        let expected = Array(Self.mac(collection: collection, permissions: permissions, expiry: expiry, secret: secret).utf8)
        let given = Array(signature.utf8)
        var diff = UInt8(given.count == expected.count ? 0 : 1)
        for i in 0..<Swift.min(given.count, expected.count) { diff |= given[i] ^ expected[i] }
        guard diff == 0 else { throw GyreServerError(.forbidden, "the access token's signature does not match: it was altered or signed by another server") }
        guard expiry > now else { throw GyreServerError(.forbidden, "the access token expired at \(expiryText); get a new one from /api/sas/v1/token/\(wanted)") }
        guard collection == wanted else {
            throw GyreServerError(.forbidden, "the access token is for collection '\(collection)', not '\(wanted)'; get one from /api/sas/v1/token/\(wanted)")
        }
        guard permissions.contains("r") else { throw GyreServerError(.forbidden, "the access token does not grant reading") }
    }
}

/// A fixed one-minute window of requests per client.
final class RateLimiter: Sendable {
    private let windows: Mutex<[String: (start: Int64, count: Int)]>
    let perMinute: Int

    init(perMinute: Int) {
        windows = Mutex([:])
        self.perMinute = perMinute
    }

    /// Counts one request of `client`; the seconds to wait when it is over the limit, else nil.
    func take(_ client: String, now: Int64) -> Int64? {
        windows.withLock { w in
            if w.count > 100_000 { w = w.filter { now - $0.value.start < 60 } }
            var entry = w[client] ?? (now, 0)
            if now - entry.start >= 60 { entry = (now, 0) }
            guard entry.count < perMinute else { return Swift.max(1, 60 - (now - entry.start)) }
            entry.count += 1
            w[client] = entry
            return nil
        }
    }
}

extension STACService {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Whether the request carries the API key as `Authorization: Bearer KEY` (constant-time
    /// comparison); a wrong key is a 401, no key false.
    func carriesAPIKey(_ request: Request) throws -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        guard configuration.apiKey != nil else { throw GyreServerError(.unauthorized, "this server has no API key; leave out the Authorization header") }
        try authorize(request)
        return true
    }

    /// A data route of `collection`: with signing required, it needs a valid token or the API key.
    func authorizeData(_ request: Request, collection: String) throws {
        guard configuration.signing.required else { return }
        if try carriesAPIKey(request) { return }
        guard let token = try SASToken.carried(by: request) else {
            throw GyreServerError(.forbidden, "this server's data needs a signed URL: append the token from /api/sas/v1/token/\(collection) "
                                  + "(or sign the URL with /api/sas/v1/sign?href=...), or send it as Authorization: SAS <token>")
        }
        try token.verify(collection: collection, now: Self.now(), secret: configuration.signing.secret)
    }

    /// A token for `collection`, for whoever asks: API-key holders get long ones; anonymous
    /// clients short ones, so many a minute each (429 with Retry-After past that).
    func issueToken(_ collection: String, _ request: Request, _ context: GyreRequestContext) throws -> SASToken {
        let registered = try carriesAPIKey(request)
        let now = Self.now()
        if !registered, let wait = tokenLimiter.take(context.client, now: now) {
            throw GyreServerError(.tooManyRequests, "more than \(configuration.signing.anonymousPerMinute) anonymous token requests this minute; "
                                  + "try again in \(wait) s, or ask with the API key", retryAfter: Int(wait))
        }
        let seconds = registered ? configuration.signing.registeredSeconds : configuration.signing.anonymousSeconds
        return SASToken.sign(collection: collection, expiry: now + Int64(seconds), secret: configuration.signing.secret)
    }

    /// The collection a URL of this server reads the data of: `/datasets/{name}/...` or
    /// `/edr/collections/{name}/...`.
    func signedCollection(of href: String) -> String? {
        var path = href
        if path.hasPrefix(baseURL) { path = String(path.dropFirst(baseURL.count)) }
        guard path.hasPrefix("/") else { return nil }
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<q]) }
        let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        if parts.count >= 2, parts[0] == "datasets" { return parts[1] }
        if parts.count >= 3, parts[0] == "edr", parts[1] == "collections" { return parts[2] }
        return nil
    }

    func addSigningRoutes(to router: Router<GyreRequestContext>) {
        router.get("/api/sas/v1/token/{collection}") { request, context in
            let name = try Self.parameter(context, "collection")
            guard try await self.knowsCollection(name) else {
                throw GyreServerError(.notFound, "no dataset or collection '\(name.prefix(128))' to sign for")
            }
            let token = try self.issueToken(name, request, context)
            return Self.respond(["msft:expiry": .string(token.expiryText), "token": .string(token.queryString)])
        }
        router.get("/api/sas/v1/sign") { request, context in
            guard let href = try QueryString(request.uri.query)["href"], !href.isEmpty, href.count <= 8192 else {
                throw GyreServerError(.badRequest, "href is missing: /api/sas/v1/sign?href=\(self.baseURL)/datasets/NAME/zarr/")
            }
            guard let name = self.signedCollection(of: href) else {
                throw GyreServerError(.badRequest, "href '\(href.prefix(200))' is not a data URL of this server (\(self.baseURL)/datasets/NAME/... or /edr/collections/NAME/...)")
            }
            guard try await self.knowsCollection(name) else { throw GyreServerError(.notFound, "no dataset or collection '\(name.prefix(128))' to sign for") }
            let token = try self.issueToken(name, request, context)
            let signed = href + (href.contains("?") ? "&" : "?") + token.queryString
            return Self.respond(["href": .string(signed), "msft:expiry": .string(token.expiryText)])
        }
    }

    func knowsCollection(_ name: String) async throws -> Bool {
        if datasets[name] != nil { return true }
        return try await backend.collection(name) != nil
    }
}
