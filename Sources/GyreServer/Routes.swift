import GyreCore
import Foundation
import GyreCatalog
import GyreSTAC
import Hummingbird

extension STACService {
    /// The router with every route of the API. Errors from any handler become JSON bodies
    /// (`{"code", "description"}`) with the status their code carries.
    public func router() -> Router<GyreRequestContext> {
        let router = Router(context: GyreRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())

        // A browser asking for / gets the explorer; API clients get the landing page.
        router.get("/") { request, _ in
            if Self.wantsPage(request) { return Self.html(ExplorerAssets.page) }
            return Self.respond(try await self.landing())
        }
        router.get("/conformance") { _, _ in
            Self.respond(["conformsTo": .array(self.conformance.map { .string($0) })])
        }
        router.get("/api") { _, _ in
            Self.respond(self.openAPI(), type: "application/vnd.oai.openapi+json;version=3.0")
        }
        router.get("/api.html") { _, _ in Self.html(self.documentationPage()) }
        router.get("/queryables") { _, _ in
            Self.respond(try await self.queryablesJSON(collection: nil), type: "application/schema+json")
        }

        router.get("/collections") { _, _ in
            let cs = try await self.backend.collections()
            return Self.respond([
                "collections": .array(cs.map(self.collectionJSON)),
                "links": .array([self.link("self", "/collections"), self.link("root", "/"), self.link("parent", "/")]),
                "numberReturned": .int(Int64(cs.count)), "numberMatched": .int(Int64(cs.count)),
            ])
        }
        router.get("/collections/{collectionId}") { _, context in
            let c = try await self.requireCollection(context)
            return Self.respond(self.collectionJSON(c))
        }
        router.get("/collections/{collectionId}/queryables") { _, context in
            let c = try await self.requireCollection(context)
            return Self.respond(try await self.queryablesJSON(collection: c.id), type: "application/schema+json")
        }
        router.get("/collections/{collectionId}/items") { request, context in
            let c = try await self.requireCollection(context)
            let s = try SearchParser.parse(query: try QueryString(request.uri.query), collection: c.id)
            return Self.respond(try await self.searchPage(s, path: "/collections/\(Self.escape(c.id))/items"), type: Self.geojson)
        }
        router.get("/collections/{collectionId}/items/{itemId}") { _, context in
            let (cid, iid) = try Self.ids(context)
            guard let item = try await self.backend.item(collection: cid, id: iid) else {
                guard try await self.backend.collection(cid) != nil else { throw GyreServerError(.notFound, "collection '\(cid)' does not exist") }
                throw GyreServerError(.notFound, "collection '\(cid)' has no item '\(iid)'")
            }
            return Self.respond(self.itemJSON(item), type: Self.geojson)
        }

        router.get("/search") { request, _ in
            let s = try SearchParser.parse(query: try QueryString(request.uri.query))
            return Self.respond(try await self.searchPage(s, path: "/search"), type: Self.geojson)
        }
        router.post("/search") { request, _ in
            let body = try await self.readJSON(request, what: "the search body")
            let s = try SearchParser.parse(body: body)
            return Self.respond(try await self.searchPage(s, path: "/search"), type: Self.geojson)
        }
        router.get("/search/stream") { request, _ in
            let s = try SearchParser.parse(query: try QueryString(request.uri.query))
            return try await self.stream(s, maxItems: s.query?["limit"] != nil ? s.request.limit : nil)
        }
        router.post("/search/stream") { request, _ in
            let s = try SearchParser.parse(body: try await self.readJSON(request, what: "the search body"))
            return try await self.stream(s, maxItems: s.body?["limit"] != nil ? s.request.limit : nil)
        }

        addTransactions(to: router)
        addDatasetRoutes(to: router)
        addDatasetRegistration(to: router)
        addEDRRoutes(to: router)
        addTileRoutes(to: router)
        addExplorerRoutes(to: router)
        addSigningRoutes(to: router)
        return router
    }

    // MARK: Helpers

    static func respond(_ json: JSON, status: HTTPResponse.Status = .ok, type: String = STACService.json) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4096)
        json.write(into: &bytes)
        return respond(bytes, status: status, type: type)
    }

    static func respond(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, type: String = STACService.json) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    /// Path parameters arrive percent-encoded.
    static func parameter(_ context: GyreRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let s = raw.removingPercentEncoding else {
            throw GyreServerError(.badRequest, "\(name) \"\(raw.prefix(80))\" is not valid percent-encoded UTF-8")
        }
        return s
    }

    static func ids(_ context: GyreRequestContext) throws -> (String, String) {
        (try parameter(context, "collectionId"), try parameter(context, "itemId"))
    }

    func requireCollection(_ context: GyreRequestContext) async throws -> STACCollection {
        let id = try Self.parameter(context, "collectionId")
        guard let c = try await backend.collection(id) else { throw GyreServerError(.notFound, "collection '\(id)' does not exist") }
        return c
    }

    func readJSON(_ request: Request, what: String) async throws -> JSON {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch {
            throw GyreServerError(.payloadTooLarge, "\(what) is larger than the \(configuration.maxBodyBytes) bytes this server reads")
        }
        guard buffer.readableBytes > 0 else { throw GyreServerError(.badRequest, "\(what) is empty; a JSON object is needed") }
        return try JSON.parse(buffer.readableBytesView, source: what)
    }

    // MARK: Server-Sent Events

    /// `/search/stream`: the items that match, as they are written through the API, one
    /// `item` event each; a comment every `streamHeartbeat` seconds keeps proxies open and
    /// notices clients that left. With `limit`, the stream ends after that many items.
    func stream(_ s: ParsedSearch, maxItems: Int?) async throws -> Response {
        // Check the filter against the catalog's queryables as a search would (the same 400s).
        var probe = s.request
        probe.limit = 1
        probe.token = nil
        _ = try await backend.search(probe)
        let filter = s.request.asFilter
        let fields = s.fields
        let (id, items) = try await feed.subscribe()
        let heartbeat = configuration.streamHeartbeat
        let feed = self.feed
        let body = ResponseBody { writer in
            defer { Task { await feed.unsubscribe(id) } }
            try await writer.write(ByteBuffer(string: ": gyre search stream\n\n"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (events, sink) = AsyncStream<ByteBuffer?>.makeStream()
                group.addTask {
                    var sent = 0
                    for await item in items where filter.matches(item) {
                        let j = self.itemJSON(item)
                        let data = (fields.map { $0.apply(j) } ?? j).text
                        sink.yield(ByteBuffer(string: "event: item\nid: \(item.collection ?? "")/\(item.id)\ndata: \(data)\n\n"))
                        sent += 1
                        if let maxItems, sent >= maxItems { break }
                    }
                    sink.yield(nil)
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(nanoseconds: UInt64(heartbeat * 1e9))
                        sink.yield(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                for await event in events {
                    guard let event else { break }
                    try await writer.write(event)
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// Turns every error thrown below it into a JSON error body with the right status.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = GyreRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError {
            let code: GyreServerError.Code
            switch e.status.code {
            case 404: code = .notFound
            case 405: code = .methodNotAllowed
            case 413: code = .payloadTooLarge
            case 400..<500: code = GyreServerError.Code("BadRequest", status: e.status.code)
            default: code = .internalError
            }
            let message = e.status.code == 404 ? "no such resource: \(request.method) \(request.uri.path)" : (e.body ?? e.status.reasonPhrase)
            return STACService.respond(GyreServerError(code, message).json, status: .init(code: code.status))
        } catch {
            let e = GyreServerError(mapping: error)
            if e.code.status >= 500 { context.logger.error("\(request.method) \(request.uri.path): \(e)") }
            var r = STACService.respond(e.json, status: .init(code: e.code.status))
            if let wait = e.retryAfter { r.headers[.retryAfter] = String(wait) }
            return r
        }
    }
}
