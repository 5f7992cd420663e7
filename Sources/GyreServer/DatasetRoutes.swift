import Foundation
import GyreCodecs
import GyreCore
import GyreData
import GyreStorage
import Hummingbird

/// The datasets the server serves: `/datasets` lists them, `/datasets/{name}` gives one's
/// metadata (JSON in xarray's `to_dict(data=False)` form, or HTML), and
/// `/datasets/{name}/zarr/` is a Zarr store (v2 and v3 keys) that zarr-python and xarray open
/// as they open any other over HTTP: GET and HEAD, Range, ETag with If-None-Match, CORS.
extension STACService {
    func addDatasetRoutes(to router: Router<GyreRequestContext>) {
        router.get("/datasets") { request, _ in
            Self.respondJSON(["datasets": .array(self.datasets.all.map(self.datasetListing)),
                              "links": .array([self.link("self", "/datasets"), self.link("root", "/")])], request)
        }
        router.get("/datasets/{name}") { request, context in
            let d = try self.requireDataset(context)
            let accept = request.headers[.accept] ?? ""
            let f = (try? QueryString(request.uri.query))?["f"]
            if f == "text" {
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: d.dataset.description)))
            }
            let wantsHTML = f == "html" || (accept.contains("text/html") && !accept.contains("json"))
            if wantsHTML {
                return Self.html("<!doctype html><meta charset=utf-8><title>\(Self.htmlEscape(d.name))</title><pre>\(Self.htmlEscape(d.dataset.description))</pre>")
            }
            return Self.respondJSON(d.json, request)
        }
        router.get("/datasets/{name}/eval") { request, context in
            let d = try self.requireDataset(context)
            try self.authorizeData(request, collection: d.name)
            let query = try QueryString(request.uri.query)
            guard let expr = query["expr"] else {
                throw GyreServerError(.badRequest, "expr is missing: /datasets/\(d.name)/eval?expr=ds.sst.mean('time')")
            }
            switch query["f"] ?? "json" {
            case "json":
                return Self.respondJSON(try await d.evaluate(expr, limits: self.datasets.limits), request)
            case "netcdf", "nc":
                guard case .dataset(let result, _, _) = try await d.compute(expr, limits: self.datasets.limits) else {
                    throw GyreServerError(.badRequest, "'\(expr)' is a plain value, not an array or a dataset: ask f=json")
                }
                return try await Self.netCDF(result, name: "\(d.name)-eval.nc")
            case let other:
                throw GyreServerError(.badRequest, "f=\(other.prefix(40)): the formats are json and netcdf")
            }
        }
        router.get("/datasets/{name}/eval/zarr") { request, context in
            let d = try self.requireDataset(context)
            try self.authorizeData(request, collection: d.name)
            guard let expr = try QueryString(request.uri.query)["expr"] else {
                throw GyreServerError(.badRequest, "expr is missing: /datasets/\(d.name)/eval/zarr?expr=ds.sst.mean('time')")
            }
            let (_, estimate) = try await d.evalView(expr, limits: self.datasets.limits)
            let url = self.baseURL + "/datasets/\(d.name)/eval/\(ServedDataset.evalToken(expr))/zarr/"
            return Self.respondJSON(["expr": .string(expr), "zarr": .string(url), "estimate": estimate], request)
        }
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/datasets/{name}/zarr/**", method: method) { request, context in
                let d = try self.requireDataset(context)
                try self.authorizeData(request, collection: d.name)
                let key = context.parameters.getCatchAll().joined(separator: "/")
                return try await Self.zarrResponse(d.view, label: "the Zarr view of dataset '\(d.name)'", key: key, request: request)
            }
            router.on("/datasets/{name}/eval/{token}/zarr/**", method: method) { request, context in
                let d = try self.requireDataset(context)
                try self.authorizeData(request, collection: d.name)
                let expr = try ServedDataset.expression(fromToken: try Self.parameter(context, "token"))
                let (view, _) = try await d.evalView(expr, limits: self.datasets.limits)
                let key = context.parameters.getCatchAll().joined(separator: "/")
                return try await Self.zarrResponse(view, label: "the view of '\(expr.prefix(200))' over dataset '\(d.name)'", key: key, request: request,
                                                   within: self.datasets.limits.maxSeconds)
            }
        }
    }

    func requireDataset(_ context: GyreRequestContext) throws -> ServedDataset {
        let name = try Self.parameter(context, "name")
        guard let d = datasets[name] else {
            throw GyreServerError(.notFound, "no dataset '\(name.prefix(128))'; this server serves \(datasets.all.map(\.name))")
        }
        return d
    }

    static func htmlEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// One key of a Zarr view, as a static file server would answer it. With `within`, a key
    /// that takes longer to make (a computed chunk) is cancelled (503).
    static func zarrResponse(_ view: ZarrView, label: String, key raw: String, request: Request, within seconds: Double? = nil) async throws -> Response {
        guard let key = raw.removingPercentEncoding, !key.isEmpty,
              !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw GyreServerError(.notFound, "no key '\(raw.prefix(200))' in \(label)")
        }
        let value: (bytes: ByteBuffer, etag: String)?
        if let seconds {
            let work = Task { try await view.zarrValue(key) }
            guard let v = try await ServedDataset.finished(work, within: seconds) else {
                throw GyreServerError(.serviceUnavailable, "\(label): computing '\(key.prefix(200))' ran past this server's limit of \(seconds) s and was cancelled")
            }
            value = v
        } else {
            value = try await view.zarrValue(key)
        }
        guard let (bytes, etag) = value else {
            throw GyreServerError(.notFound, "no key '\(key.prefix(200))' in \(label)")
        }
        var headers: HTTPFields = [
            .contentType: key.hasSuffix(".json") || key.hasPrefix(".z") || key.contains("/.z") ? "application/json" : "application/octet-stream",
            .eTag: etag, .cacheControl: "public, max-age=300", .acceptRanges: "bytes", .accessControlAllowOrigin: "*",
            .accessControlExposeHeaders: "ETag, Content-Range, Content-Length",
        ]
        let head = request.method == .head
        let gzEtag = String(etag.dropLast()) + "-gzip\""
        if let match = request.headers[.ifNoneMatch],
           match.split(separator: ",").contains(where: { [etag, gzEtag, "*"].contains($0.trimmingCharacters(in: .whitespaces)) }) {
            return Response(status: .notModified, headers: headers)
        }
        if let header = request.headers[.range] {
            let range = try Self.byteRange(header, size: bytes.readableBytes)
            guard let range else {
                headers[.contentRange] = "bytes */\(bytes.readableBytes)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(bytes.readableBytes)"
            headers[.contentLength] = String(range.count)
            return Response(status: .partialContent, headers: headers,
                            body: head ? .init() : .init(byteBuffer: bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)!))
        }
        headers[.vary] = "Accept-Encoding"
        if headers[.contentType] == "application/json", Self.acceptsGzip(request), bytes.readableBytes > 512,
           let z = try? ZlibCodec(level: 6, format: .gzip).encode(Array(bytes.readableBytesView)) {
            // JSON metadata, gzipped when asked (chunks are compressed already); the ETag names
            // the encoding, as each representation needs its own.
            headers[.contentEncoding] = "gzip"
            headers[.eTag] = String(etag.dropLast()) + "-gzip\""
            headers[.contentLength] = String(z.count)
            return Response(status: .ok, headers: headers, body: head ? .init() : .init(byteBuffer: ByteBuffer(bytes: z)))
        }
        headers[.contentLength] = String(bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: head ? .init() : .init(byteBuffer: bytes))
    }

    /// Whether the request's Accept-Encoding takes gzip (or `*`) with a q-value above 0.
    static func acceptsGzip(_ request: Request) -> Bool {
        guard let accept = request.headers[.acceptEncoding]?.lowercased() else { return false }
        return accept.split(separator: ",").contains { part in
            let p = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard p.first == "gzip" || p.first == "*" else { return false }
            let q = p.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return q > 0
        }
    }

    /// A JSON body, gzipped when the client asks for it and it is over a few hundred bytes.
    static func respondJSON(_ json: JSON, _ request: Request) -> Response {
        var bytes: [UInt8] = []
        json.write(into: &bytes)
        guard acceptsGzip(request), bytes.count > 512, let z = try? ZlibCodec(level: 6, format: .gzip).encode(bytes) else {
            var r = respond(bytes)
            r.headers[.vary] = "Accept-Encoding"
            return r
        }
        return Response(status: .ok, headers: [.contentType: STACService.json, .contentEncoding: "gzip", .vary: "Accept-Encoding"],
                        body: .init(byteBuffer: ByteBuffer(bytes: z)))
    }

    /// A dataset as a netCDF-4 file, written to a temporary file and sent.
    static func netCDF(_ ds: Dataset, name: String) async throws -> Response {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-eval-\(UUID().uuidString).nc").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await ds.writeNetCDF(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return Response(status: .ok, headers: [.contentType: "application/x-netcdf", .contentDisposition: "attachment; filename=\"\(name)\"",
                                               .contentLength: String(bytes.count)],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An HTTP Range header for one range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a value
    /// of `size` bytes: the range, nil when it is not satisfiable (416), an error when the
    /// header does not parse (400). Several ranges at once are refused.
    static func byteRange(_ header: String, size: Int) throws -> Range<Int>? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.hasPrefix("bytes="), h.count <= 64 else { throw GyreServerError(.badRequest, "Range '\(h.prefix(64))' is not 'bytes=START-END'") }
        let spec = h.dropFirst("bytes=".count)
        guard !spec.contains(",") else { throw GyreServerError(.badRequest, "Range '\(h)': one range at a time") }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) && $0.count <= 18 }),
              !(parts[0].isEmpty && parts[1].isEmpty) else {
            throw GyreServerError(.badRequest, "Range '\(h)' is not 'bytes=START-END', 'bytes=START-' or 'bytes=-LENGTH'")
        }
        if parts[0].isEmpty {
            let n = Int(parts[1])!
            guard n > 0, size > 0 else { return nil }
            return Swift.max(0, size - n)..<size
        }
        let a = Int(parts[0])!
        if parts[1].isEmpty { return a < size ? a..<size : nil }
        let b = Int(parts[1])!
        guard b >= a else { throw GyreServerError(.badRequest, "Range '\(h)' ends before it starts") }
        guard a < size else { return nil }
        return a..<(Swift.min(b, size - 1) + 1)
    }
}
