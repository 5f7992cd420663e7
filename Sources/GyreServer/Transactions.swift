import GyreCore
import Foundation
import GyreCatalog
import GyreSTAC
import Hummingbird

/// The transaction extension: create, replace, merge-patch (RFC 7396) and delete collections
/// and items. Every write needs `Authorization: Bearer KEY`; without a configured key the
/// server is read-only.
extension STACService {
    func addTransactions(to router: Router<GyreRequestContext>) {
        router.post("/collections") { request, _ in
            try self.authorize(request)
            let c = try STACCollection(json: Self.withLinks(try await self.readJSON(request, what: "the collection")), path: "collection")
            // One statement checks and creates, so two clients creating one collection at once
            // get one 201 and one 409.
            guard try await self.backend.createCollection(c) else {
                throw GyreServerError(.conflict, "collection '\(c.id)' already exists; PUT /collections/\(c.id) replaces it")
            }
            return Self.respond(self.collectionJSON(c), status: .created)
        }
        router.put("/collections/{collectionId}") { request, context in
            try self.authorize(request)
            let id = try Self.parameter(context, "collectionId")
            let c = try STACCollection(json: Self.withLinks(try await self.readJSON(request, what: "the collection")), path: "collection")
            guard c.id == id else { throw GyreServerError(.badRequest, "the body's id '\(c.id)' is not the collection '\(id)' of the URL") }
            guard try await self.backend.collection(id) != nil else { throw GyreServerError(.notFound, "collection '\(id)' does not exist; POST /collections creates it") }
            try await self.backend.putCollection(c)
            return Self.noContent()
        }
        router.patch("/collections/{collectionId}") { request, context in
            try self.authorize(request)
            let id = try Self.parameter(context, "collectionId")
            let patch = try await self.readJSON(request, what: "the patch")
            guard let old = try await self.backend.collection(id) else { throw GyreServerError(.notFound, "collection '\(id)' does not exist") }
            let merged = Self.mergePatch(old.json, patch)
            let c = try STACCollection(json: merged, path: "patched collection '\(id)'")
            guard c.id == id else { throw GyreServerError(.badRequest, "a patch cannot change the collection id ('\(id)' to '\(c.id)')") }
            try await self.backend.putCollection(c)
            return Self.noContent()
        }
        router.delete("/collections/{collectionId}") { request, context in
            try self.authorize(request)
            _ = try await self.backend.deleteCollection(try Self.parameter(context, "collectionId"))
            return Self.noContent()
        }

        router.post("/collections/{collectionId}/items") { request, context in
            try self.authorize(request)
            let cid = try Self.parameter(context, "collectionId")
            guard try await self.backend.collection(cid) != nil else { throw GyreServerError(.notFound, "collection '\(cid)' does not exist") }
            let body = try await self.readJSON(request, what: "the item")
            var items: [Item]
            if body["type"]?.string == "FeatureCollection", case .array(let features)? = body["features"] {
                items = try features.enumerated().map { try Item(json: Self.withLinks($1), path: "features[\($0)]") }
            } else {
                items = [try Item(json: Self.withLinks(body), path: "item")]
            }
            for i in items.indices {
                if let c = items[i].collection, c != cid {
                    throw GyreServerError(.badRequest, "item '\(items[i].id)' names collection '\(c)', but was posted to '\(cid)'")
                }
                items[i].collection = cid
            }
            if items.count == 1, try await self.backend.item(collection: cid, id: items[0].id) != nil {
                throw GyreServerError(.conflict, "collection '\(cid)' already has item '\(items[0].id)'; PUT replaces it")
            }
            try await self.backend.putItems(items)
            if items.count == 1 { return Self.respond(self.itemJSON(items[0]), status: .created, type: Self.geojson) }
            return Self.respond(["type": "FeatureCollection", "numberReturned": .int(Int64(items.count)), "features": [], "links": []], status: .created, type: Self.geojson)
        }
        router.put("/collections/{collectionId}/items/{itemId}") { request, context in
            try self.authorize(request)
            let (cid, iid) = try Self.ids(context)
            var item = try Item(json: Self.withLinks(try await self.readJSON(request, what: "the item")), path: "item")
            try Self.check(item, cid, iid)
            guard try await self.backend.item(collection: cid, id: iid) != nil else {
                throw GyreServerError(.notFound, "collection '\(cid)' has no item '\(iid)'; POST /collections/\(cid)/items creates it")
            }
            item.collection = cid
            try await self.backend.putItems([item])
            return Self.noContent()
        }
        router.patch("/collections/{collectionId}/items/{itemId}") { request, context in
            try self.authorize(request)
            let (cid, iid) = try Self.ids(context)
            let patch = try await self.readJSON(request, what: "the patch")
            guard let old = try await self.backend.item(collection: cid, id: iid) else {
                throw GyreServerError(.notFound, "collection '\(cid)' has no item '\(iid)'")
            }
            var item = try Item(json: Self.mergePatch(old.json, patch), path: "patched item '\(iid)'")
            try Self.check(item, cid, iid)
            item.collection = cid
            try await self.backend.putItems([item])
            return Self.noContent()
        }
        router.delete("/collections/{collectionId}/items/{itemId}") { request, context in
            try self.authorize(request)
            let (cid, iid) = try Self.ids(context)
            _ = try await self.backend.deleteItem(collection: cid, id: iid)
            return Self.noContent()
        }
    }

    /// Links are the server's to write, so a posted object may leave them out.
    static func withLinks(_ j: JSON) -> JSON {
        guard case .object(var o) = j, o["links"] == nil else { return j }
        o["links"] = []
        return .object(o)
    }

    static func check(_ item: Item, _ cid: String, _ iid: String) throws {
        guard item.id == iid else { throw GyreServerError(.badRequest, "the body's id '\(item.id)' is not the item '\(iid)' of the URL") }
        if let c = item.collection, c != cid {
            throw GyreServerError(.badRequest, "item '\(iid)' names collection '\(c)', but the URL names '\(cid)'")
        }
    }

    /// Writes need the configured key as a bearer token; compared in constant time.
    func authorize(_ request: Request) throws {
        guard let key = configuration.apiKey else {
            throw GyreServerError(.forbidden, "this server is read-only: start it with --api-key to allow transactions")
        }
        guard let header = request.headers[.authorization] else {
            throw GyreServerError(.unauthorized, "transactions need an Authorization: Bearer header")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix) else { throw GyreServerError(.unauthorized, "the Authorization header must be Bearer KEY") }
        let given = Array(header.dropFirst(prefix.count).utf8), expected = Array(key.utf8)
        var diff = UInt8(given.count == expected.count ? 0 : 1)
        for i in 0..<max(given.count, expected.count) {
            diff |= (i < given.count ? given[i] : 0) ^ (i < expected.count ? expected[i] : 0)
        }
        guard diff == 0 else { throw GyreServerError(.unauthorized, "the API key is wrong") }
    }

    /// RFC 7396 JSON merge patch: objects merge key by key, null deletes, anything else replaces.
    static func mergePatch(_ target: JSON, _ patch: JSON) -> JSON {
        guard case .object(let p) = patch else { return patch }
        var out = target.object ?? [:]
        for (k, v) in p {
            if v.isNull { out.removeValue(forKey: k) } else { out[k] = mergePatch(out[k] ?? .null, v) }
        }
        return .object(out)
    }
}
