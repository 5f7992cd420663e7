import Foundation
import GyreCatalog
import GyreCore
import GyreData
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

@Suite("Signed access: /api/sas/v1 tokens, --require-signing on the data routes")
struct SigningTests {
    static let secret = Array("a test secret of more than sixteen bytes".utf8)

    func withSigning<T: Sendable>(required: Bool = true, perMinute: Int = 3,
                                  _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let dir = try DatasetRouteTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let sample = try SampleData.sst(days: 4, resolution: 30)
        let datasets = try ServedDatasets([try await ServedDataset(name: "sst", source: "generated", dataset: sample),
                                           try await ServedDataset(name: "other", source: "generated", dataset: sample)])
        let config = STACServerConfiguration(apiKey: "key", signing: SigningConfiguration(secret: Self.secret, required: required, anonymousSeconds: 600,
                                                                                          registeredSeconds: 7200, anonymousPerMinute: perMinute))
        let service = STACService(backend: db, configuration: config, baseURL: "http://test.local", datasets: datasets)
        return try await Application(router: service.router()).test(.router) { client in try await body(client) }
    }

    static let protected = ["/datasets/sst/zarr/.zmetadata", "/datasets/sst/zarr/sst/0.0.0", "/datasets/sst/eval?expr=1%2B1",
                            "/datasets/sst/eval/zarr?expr=ds.sst", "/datasets/sst/eval/\(ServedDataset.evalToken("ds.sst"))/zarr/zarr.json",
                            "/edr/collections/sst/position?coords=POINT(-40%2010)"]

    static func with(_ uri: String, _ token: String) -> String { uri + (uri.contains("?") ? "&" : "?") + token }

    @Test("Every data route: 403 without a token, with a tampered, an expired or another collection's one; 200 with a valid one (query or Authorization: SAS) or the API key")
    func protectedRoutes() async throws {
        try await withSigning { client in
            let now = STACService.now()
            let valid = SASToken.sign(collection: "sst", expiry: now + 600, secret: Self.secret).queryString
            var tampered = SASToken.sign(collection: "sst", expiry: now + 600, secret: Self.secret)
            tampered.expiry += 3600  // a longer life than signed for
            let expired = SASToken.sign(collection: "sst", expiry: now - 1, secret: Self.secret).queryString
            let other = SASToken.sign(collection: "other", expiry: now + 600, secret: Self.secret).queryString
            let foreign = SASToken.sign(collection: "sst", expiry: now + 600, secret: Array("another server's secret bytes".utf8)).queryString
            for uri in Self.protected {
                let none = try await client.execute(uri: uri, method: .get)
                #expect(none.status == .forbidden, "\(uri)")
                #expect(String(buffer: none.body).contains("/api/sas/v1/token/sst"), "\(uri)")
                for (token, why) in [(tampered.queryString, "signature"), (expired, "expired"), (other, "for collection 'other'"), (foreign, "signature")] {
                    let r = try await client.execute(uri: Self.with(uri, token), method: .get)
                    #expect(r.status == .forbidden, "\(uri) with a bad token")
                    let text = String(buffer: r.body)
                    #expect(text.contains(why), "\(uri): \(text)")
                    #expect(!text.contains(SASToken.carried(tokenText: token)?.signature ?? "?"), "the answer echoes the signature")
                }
                let ok = try await client.execute(uri: Self.with(uri, valid), method: .get)
                #expect(ok.status == .ok, "\(uri): \(String(buffer: ok.body))")
                let header = try await client.execute(uri: uri, method: .get, headers: [.authorization: "SAS " + valid])
                #expect(header.status == .ok, "\(uri) with Authorization: SAS")
                let key = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer key"])
                #expect(key.status == .ok, "\(uri) with the API key")
                let wrong = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer nope"])
                #expect(wrong.status == .unauthorized, "\(uri) with a wrong key")
            }
            // A malformed token is refused as such.
            #expect(try await client.execute(uri: "/datasets/sst/zarr/.zmetadata?se=tomorrow&sp=r&sr=sst&sig=x", method: .get).status == .forbidden)
            #expect(try await client.execute(uri: "/datasets/sst/zarr/.zmetadata?sig=x", method: .get).status == .forbidden)
            // Metadata, listings and the STAC API stay anonymous.
            for uri in ["/", "/datasets", "/datasets/sst", "/edr", "/edr/collections", "/edr/collections/sst", "/search", "/collections"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .ok, "\(uri)")
            }
        }
    }

    @Test("Tokens: anonymous ones short and limited per client (429 with Retry-After), API-key ones longer and unlimited; sign appends a token that opens the href")
    func tokens() async throws {
        try await withSigning(perMinute: 3) { client in
            var expiries: [String] = []
            for _ in 0..<3 {
                let (code, t) = try await get(client, "/api/sas/v1/token/sst")
                #expect(code == 200)
                let token = try #require(t["token"]?.string)
                #expect(token.hasPrefix("se=") && token.contains("&sr=sst&sig="))
                expiries.append(try #require(t["msft:expiry"]?.string))
                #expect(try await client.execute(uri: "/datasets/sst/zarr/.zmetadata?" + token, method: .get).status == .ok)
            }
            let limited = try await client.execute(uri: "/api/sas/v1/token/sst", method: .get)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try await client.execute(uri: "/api/sas/v1/sign?href=http://test.local/datasets/sst/zarr/", method: .get).status == .tooManyRequests)
            // The API key is not limited, and gets a longer token.
            for _ in 0..<5 {
                let r = try await client.execute(uri: "/api/sas/v1/token/sst", method: .get, headers: [.authorization: "Bearer key"])
                #expect(r.status == .ok)
                let t = try json(r)
                #expect(try #require(t["msft:expiry"]?.string) > expiries[0])
            }
            let signed = try await client.execute(uri: "/api/sas/v1/sign?href=http://test.local/edr/collections/sst/position%3Fcoords%3DPOINT(-40%252010)",
                                                  method: .get, headers: [.authorization: "Bearer key"])
            #expect(signed.status == .ok)
            let href = try #require(try json(signed)["href"]?.string)
            #expect(href.hasPrefix("http://test.local/edr/collections/sst/position?coords=POINT(-40%2010)&se="))
            #expect(try await client.execute(uri: String(href.dropFirst("http://test.local".count)), method: .get).status == .ok)
            for (uri, status) in [("/api/sas/v1/token/nope", 404), ("/api/sas/v1/sign", 400), ("/api/sas/v1/sign?href=https://elsewhere.example/x", 400),
                                  ("/api/sas/v1/sign?href=http://test.local/datasets/nope/zarr/", 404)] {
                let r = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer key"])
                #expect(r.status.code == status, "\(uri)")
            }
        }
    }

    @Test("Without --require-signing the data routes are open, and tokens are still handed out")
    func optional() async throws {
        try await withSigning(required: false) { client in
            for uri in Self.protected {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .ok, "\(uri)")
            }
            #expect(try await get(client, "/api/sas/v1/token/sst").0 == 200)
        }
    }
}

extension SASToken {
    /// The token a query string holds (for the test's checks).
    static func carried(tokenText: String) -> SASToken? {
        try? carried(by: Request(head: .init(method: .get, scheme: "http", authority: "test.local", path: "/x?" + tokenText),
                                 body: .init(buffer: ByteBuffer())))
    }
}
