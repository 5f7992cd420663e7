import GyreCore
import GyreCatalog
import GyreSTAC

/// The OpenAPI 3.0 description of the API (linked as `service-desc`) and a plain HTML page
/// (linked as `service-doc`).
extension STACService {
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var parameters: [String] = []
        var body: String? = nil
        var responses: [(String, String)] = [("200", "OK")]
        var write = false
    }

    static var operations: [Operation] {
        let search = ["bbox", "intersects", "datetime", "collections", "ids", "limit", "filter", "filter-lang", "filter-crs", "query", "sortby", "fields", "token"]
        let items = ["bbox", "datetime", "limit", "filter", "filter-lang", "filter-crs", "query", "sortby", "fields", "token"]
        return [
            Operation(method: "get", path: "/", summary: "Landing page"),
            Operation(method: "get", path: "/conformance", summary: "Conformance classes"),
            Operation(method: "get", path: "/api", summary: "This OpenAPI document"),
            Operation(method: "get", path: "/queryables", summary: "Properties a filter may use (JSON Schema)"),
            Operation(method: "get", path: "/collections", summary: "All collections"),
            Operation(method: "post", path: "/collections", summary: "Create a collection", body: "Collection", responses: [("201", "Created"), ("409", "Exists")], write: true),
            Operation(method: "get", path: "/collections/{collectionId}", summary: "One collection", responses: [("200", "OK"), ("404", "No such collection")]),
            Operation(method: "put", path: "/collections/{collectionId}", summary: "Replace a collection", body: "Collection", responses: [("204", "Replaced")], write: true),
            Operation(method: "patch", path: "/collections/{collectionId}", summary: "Merge-patch a collection (RFC 7396)", body: "Patch", responses: [("204", "Updated")], write: true),
            Operation(method: "delete", path: "/collections/{collectionId}", summary: "Delete a collection and its items", responses: [("204", "Deleted")], write: true),
            Operation(method: "get", path: "/collections/{collectionId}/queryables", summary: "Properties of one collection a filter may use"),
            Operation(method: "get", path: "/collections/{collectionId}/items", summary: "Items of a collection", parameters: items),
            Operation(method: "post", path: "/collections/{collectionId}/items", summary: "Create an item (or an ItemCollection of them)", body: "Item", responses: [("201", "Created"), ("409", "Exists")], write: true),
            Operation(method: "get", path: "/collections/{collectionId}/items/{itemId}", summary: "One item", responses: [("200", "OK"), ("404", "No such item")]),
            Operation(method: "put", path: "/collections/{collectionId}/items/{itemId}", summary: "Replace an item", body: "Item", responses: [("204", "Replaced")], write: true),
            Operation(method: "patch", path: "/collections/{collectionId}/items/{itemId}", summary: "Merge-patch an item (RFC 7396)", body: "Patch", responses: [("204", "Updated")], write: true),
            Operation(method: "delete", path: "/collections/{collectionId}/items/{itemId}", summary: "Delete an item", responses: [("204", "Deleted")], write: true),
            Operation(method: "get", path: "/search", summary: "Item search", parameters: search),
            Operation(method: "post", path: "/search", summary: "Item search (JSON body)", body: "Search"),
            Operation(method: "get", path: "/search/stream", summary: "Items that match, as they are written (Server-Sent Events)", parameters: search),
            Operation(method: "post", path: "/search/stream", summary: "Items that match, as they are written (Server-Sent Events, JSON body)", body: "Search"),
            Operation(method: "get", path: "/datasets", summary: "The datasets served beside the catalog"),
            Operation(method: "get", path: "/datasets/{name}", summary: "One dataset's metadata (xarray's to_dict(data=False); f=html for the repr)",
                      responses: [("200", "OK"), ("404", "No such dataset")]),
            Operation(method: "get", path: "/datasets/{name}/zarr/{key}", summary: "A key of the dataset's Zarr store (v2 and v3 keys; Range, ETag, gzip for JSON)",
                      responses: [("200", "OK"), ("206", "Partial content"), ("304", "Not modified"), ("404", "No such key"), ("416", "Range not satisfiable")]),
            Operation(method: "head", path: "/datasets/{name}/zarr/{key}", summary: "A key's headers", responses: [("200", "OK"), ("404", "No such key")]),
            Operation(method: "get", path: "/datasets/{name}/eval", summary: "A gyre eval expression computed next to the data", parameters: ["expr", "f"],
                      responses: [("200", "OK"), ("413", "The plan's estimate passes the server's limits"), ("503", "Past the server's time limit")]),
            Operation(method: "get", path: "/datasets/{name}/eval/zarr", summary: "The URL and estimate of an expression's result as a Zarr store", parameters: ["expr"],
                      responses: [("200", "OK"), ("413", "The plan's estimate passes the server's limits")]),
            Operation(method: "get", path: "/datasets/{name}/eval/{token}/zarr/{key}",
                      summary: "A key of an expression's result as a Zarr store (token: the expression in base64url), each chunk computed when asked",
                      responses: [("200", "OK"), ("404", "No such key"), ("413", "Over the server's limits"), ("503", "Past the server's time limit")]),
            Operation(method: "post", path: "/datasets", summary: "Register a dataset (name, source, description, concat_dim, storage_options, metadata)",
                      body: "Dataset registration", responses: [("201", "Registered"), ("403", "A local path outside --register-root"), ("409", "The name is taken")], write: true),
            Operation(method: "delete", path: "/datasets/{name}", summary: "Remove a registered dataset (and its collection)",
                      responses: [("204", "Removed"), ("404", "No such dataset"), ("409", "Given at start, not registered")], write: true),
            Operation(method: "get", path: "/edr", summary: "OGC API EDR landing page"),
            Operation(method: "get", path: "/edr/conformance", summary: "OGC API EDR conformance classes"),
            Operation(method: "get", path: "/edr/collections", summary: "The datasets with longitude and latitude axes, as EDR collections"),
            Operation(method: "get", path: "/edr/collections/{name}", summary: "One EDR collection: extent, parameters, queries", responses: [("200", "OK"), ("404", "No such collection")]),
            Operation(method: "get", path: "/edr/collections/{name}/position", summary: "Values at points (POINT, MULTIPOINT): CoverageJSON, CSV or netCDF",
                      parameters: ["coords", "datetime:edr", "z", "parameter-name", "crs", "f:edr"], responses: Self.edrResponses),
            Operation(method: "get", path: "/edr/collections/{name}/area", summary: "Values in polygons (POLYGON, MULTIPOLYGON), null outside them",
                      parameters: ["coords", "datetime:edr", "z", "parameter-name", "crs", "f:edr"], responses: Self.edrResponses),
            Operation(method: "get", path: "/edr/collections/{name}/cube", summary: "Values in a bbox",
                      parameters: ["bbox", "datetime:edr", "z", "parameter-name", "crs", "f:edr"], responses: Self.edrResponses),
            Operation(method: "get", path: "/api/sas/v1/token/{collection}", summary: "A token for a dataset's data ({msft:expiry, token}); longer with the API key",
                      responses: [("200", "OK"), ("404", "No such dataset or collection"), ("429", "Too many anonymous requests (Retry-After)")]),
            Operation(method: "get", path: "/api/sas/v1/sign", summary: "A data URL of this server with a token appended", parameters: ["href"],
                      responses: [("200", "OK"), ("429", "Too many anonymous requests (Retry-After)")]),
        ]
    }

    static let edrResponses = [("200", "OK"), ("204", "Nothing matches"), ("403", "A token is needed (--require-signing)"), ("404", "No such collection"),
                               ("413", "Over the server's limits")]

    static let parameterDocs: [String: (String, String)] = [
        "bbox": ("array", "west,south,east,north (or with heights); west > east crosses the antimeridian"),
        "expr": ("string", "a gyre eval expression over ds, such as ds.sst.mean('time')"),
        "f": ("string", "json (the default) or netcdf"),
        "intersects": ("string", "a GeoJSON geometry"),
        "datetime": ("string", "an RFC 3339 instant or interval start/end, either end open with .."),
        "collections": ("array", "collection ids, comma-separated"),
        "ids": ("array", "item ids, comma-separated"),
        "limit": ("integer", "items per page, 1 to \(10_000); larger values are clamped"),
        "filter": ("string", "a CQL2 expression"),
        "filter-lang": ("string", "cql2-text (the GET default) or cql2-json"),
        "filter-crs": ("string", "only http://www.opengis.net/def/crs/OGC/1.3/CRS84"),
        "query": ("string", "the Query extension's object, as JSON"),
        "sortby": ("string", "fields, comma-separated, each with an optional + or -"),
        "fields": ("string", "fields to include (+ or none) or exclude (-), comma-separated"),
        "token": ("string", "the paging token of a next link"),
        "coords": ("string", "WKT in lon lat order: POINT or MULTIPOINT (position), POLYGON or MULTIPOLYGON (area)"),
        "datetime:edr": ("string", "an RFC 3339 instant (the nearest time), a list a,b,c, or an interval start/end, either end open with .."),
        "z": ("string", "a level (the nearest), a list a,b,c, an interval min/max, or Rn/min/step"),
        "parameter-name": ("array", "parameters, comma-separated (all when left out)"),
        "crs": ("string", "only CRS84 (also EPSG:4326)"),
        "f:edr": ("string", "CoverageJSON (the default), CSV or NetCDF"),
        "href": ("string", "a URL of this server's data: /datasets/NAME/... or /edr/collections/NAME/..."),
    ]

    func openAPI() -> JSON {
        var paths = JSONObject()
        for op in Self.operations {
            var o: JSONObject = ["summary": .string(op.summary)]
            var params: [JSON] = []
            for name in ["collectionId", "itemId", "name", "key", "token", "collection"] where op.path.contains("{\(name)}") {
                params.append(["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"]])
            }
            for entry in op.parameters {
                // "name:variant" documents a parameter one way for some routes (f for EDR).
                let p = String(entry.split(separator: ":").first ?? Substring(entry))
                let (type, doc) = Self.parameterDocs[entry] ?? ("string", "")
                var schema: JSONObject = ["type": .string(type)]
                if type == "array" { schema["items"] = ["type": type == "array" && p == "bbox" ? "number" : "string"] }
                if p == "limit" { schema["minimum"] = 1; schema["maximum"] = .int(Int64(SearchRequest.maxLimit)) }
                params.append(["name": .string(p), "in": "query", "required": false, "description": .string(doc), "schema": .object(schema),
                               "style": "form", "explode": false])
            }
            if !params.isEmpty { o["parameters"] = .array(params) }
            if let body = op.body {
                o["requestBody"] = ["required": true, "content": ["application/json": ["schema": ["type": "object", "description": .string(body)]]]]
            }
            var responses = JSONObject()
            for (code, text) in op.responses { responses[code] = ["description": .string(text)] }
            responses["400"] = ["description": "Bad request: a JSON body {code, description} names what is wrong"]
            if op.write {
                responses["401"] = ["description": "Missing or wrong API key"]
                o["security"] = [["bearerAuth": []]]
            }
            o["responses"] = .object(responses)
            var entry = paths[op.path]?.object ?? [:]
            entry[op.method] = .object(o)
            paths[op.path] = .object(entry)
        }
        return [
            "openapi": "3.0.3",
            "info": ["title": .string(configuration.title), "description": .string(configuration.description), "version": "1.0.0"],
            "servers": [["url": .string(baseURL)]],
            "paths": .object(paths),
            "components": ["securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer"]]],
        ]
    }

    func documentationPage() -> String {
        let esc = Self.htmlEscape
        var rows = ""
        for op in Self.operations {
            rows += "<tr><td>\(op.method.uppercased())</td><td><code>\(esc(op.path))</code></td><td>\(esc(op.summary))\(op.write ? " (API key)" : "")</td></tr>\n"
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>\(esc(configuration.title))</title></head>
            <body><h1>\(esc(configuration.title))</h1><p>\(esc(configuration.description))</p>
            <p>A STAC API, datasets as Zarr stores, and OGC API EDR. The OpenAPI document is at <a href="\(esc(baseURL))/api">/api</a>.</p>
            <table border="1" cellpadding="4"><tr><th>Method</th><th>Path</th><th>What</th></tr>
            \(rows)</table></body></html>
            """
    }
}
