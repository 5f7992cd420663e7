import Foundation
import GyreCatalog
import GyreCore
import GyreData
import GyreCodecs
import GyreExpr
import GyreStorage
import GyreZarr
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GyreServer

@Suite("Datasets served beside the catalog: /datasets and the Zarr view")
struct DatasetRouteTests {
    /// A fresh directory under the temporary one (the caller removes it).
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The sample cube (6 days at 30 degrees, chunks of 2 days) as a local Zarr store in `dir`.
    static func localCube(in dir: URL, format: ZarrArrayMetadata.Format) async throws -> String {
        let path = dir.appendingPathComponent("cube.zarr").path
        try await SampleData.sst(days: 6, resolution: 30).writeZarr(to: FileStore(root: URL(fileURLWithPath: path)),
                                                                    options: ZarrWriteOptions(format: format, chunks: ["time": 2]))
        return path
    }

    /// A service over an empty catalog serving the sample cube as `sst`, driven in process.
    func withDatasets<T: Sendable>(_ body: @Sendable (ServedDataset, any TestClientProtocol) async throws -> T) async throws -> T {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let served = try await ServedDataset(name: "sst", source: "generated", description: "sample", dataset: SampleData.sst(days: 10, resolution: 30),
                                             chunks: ["time": 4])
        let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([served]))
        let app = Application(router: service.router())
        return try await app.test(.router) { client in try await body(served, client) }
    }

    @Test("/datasets lists them, /datasets/{name} gives to_dict(data=False) JSON or HTML; unknown names are 404")
    func listing() async throws {
        try await withDatasets { _, client in
            let (code, list) = try await get(client, "/datasets")
            #expect(code == 200)
            guard case .array(let items)? = list["datasets"] else { Issue.record("no datasets array: \(list)"); return }
            #expect(items.count == 1)
            #expect(items.first?["id"]?.string == "sst")
            let (c2, meta) = try await get(client, "/datasets/sst")
            #expect(c2 == 200)
            #expect(meta["dims"]?["time"] == .int(10))
            #expect(meta["data_vars"]?["sst"]?["dtype"]?.string == "float32")
            #expect(meta["coords"]?["time"]?["dtype"]?.string == "datetime64[ns]")
            let html = try await client.execute(uri: "/datasets/sst?f=html", method: .get)
            #expect(html.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: html.body).contains("&lt;xarray.Dataset&gt;") || String(buffer: html.body).contains("Dimensions"))
            for uri in ["/datasets/nope", "/datasets/nope/zarr/.zgroup", "/datasets/..%2f..%2fetc/zarr/.zgroup"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status.code == 404, "\(uri)")
            }
        }
    }

    @Test("Zarr keys: the same bytes the view holds, HEAD, Range (206, 416, 400), ETag and If-None-Match (304), CORS; hostile and missing keys are 404 and the server keeps serving")
    func zarrKeys() async throws {
        try await withDatasets { served, client in
            let key = "sst/1.0.0"
            let expected = try #require(try await served.view.zarrKey(key, range: .full))
            let r = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get)
            #expect(r.status == .ok)
            #expect(Array(r.body.readableBytesView) == expected)
            #expect(r.headers[.accessControlAllowOrigin] == "*")
            let etag = try #require(r.headers[.eTag])
            let again = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
            let head = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .head)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == String(expected.count))
            #expect(head.body.readableBytes == 0)
            let part = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get, headers: [.range: "bytes=4-99"])
            #expect(part.status == .partialContent)
            #expect(Array(part.body.readableBytesView) == Array(expected[4...99]))
            #expect(part.headers[.contentRange] == "bytes 4-99/\(expected.count)")
            let suffix = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get, headers: [.range: "bytes=-7"])
            #expect(Array(suffix.body.readableBytesView) == Array(expected.suffix(7)))
            let beyond = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get, headers: [.range: "bytes=\(expected.count)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            for bad in ["bytes=9-2", "items=0-1", "bytes=0-1,4-5", "bytes=-", "bytes=99999999999999999999-"] {
                let b = try await client.execute(uri: "/datasets/sst/zarr/\(key)", method: .get, headers: [.range: bad])
                #expect(b.status == .badRequest, "\(bad)")
            }
            // Metadata keys of both views; v3 keys beside v2 keys.
            for meta in [".zmetadata", ".zgroup", "sst/.zarray", "zarr.json", "sst/zarr.json", "sst/c/1/0/0"] {
                let m = try await client.execute(uri: "/datasets/sst/zarr/\(meta)", method: .get)
                #expect(m.status == .ok, "\(meta)")
            }
            for missing in ["sst/9.0.0", "sst/1.0", "nope/.zarray", "..%2f..%2fetc%2fpasswd", "%2e%2e/sst/1.0.0", "sst/%2e%2e/%2e%2e/x"] {
                let m = try await client.execute(uri: "/datasets/sst/zarr/\(missing)", method: .get)
                #expect(m.status == .notFound, "\(missing)")
            }
            let still = try await client.execute(uri: "/datasets/sst/zarr/.zgroup", method: .get)
            #expect(still.status == .ok)
        }
    }

    @Test("dataset names are path segments: others are refused, and so are two of one name")
    func names() async throws {
        let ds = try SampleData.sst(days: 2, resolution: 60)
        for bad in ["", "../x", "a/b", ".hidden", "white space", String(repeating: "n", count: 129)] {
            await #expect(throws: GyreServerError.self, "\(bad)") { try await ServedDataset(name: bad, source: "x", dataset: ds) }
        }
        let one = try await ServedDataset(name: "a.b_c-1", source: "x", dataset: ds)
        #expect(throws: GyreServerError.self) { try ServedDatasets([one, one]) }
    }

    @Test("ETags tell contents apart: every length up to 70, a flipped bit anywhere, equal bytes alike")
    func etags() {
        var seen = Set<String>()
        var bytes: [UInt8] = []
        for n in 0...70 {
            #expect(seen.insert(ZarrView.etag(bytes)).inserted, "\(n) bytes")
            bytes.append(UInt8(truncatingIfNeeded: n &* 37))
        }
        let base = (0..<4099).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let tag = ZarrView.etag(base)
        #expect(ZarrView.etag(Array(base)) == tag)
        for i in stride(from: 0, to: base.count, by: 97) {
            var flipped = base
            flipped[i] ^= 1 << UInt8(i % 8)
            #expect(ZarrView.etag(flipped) != tag, "bit flipped at byte \(i)")
        }
    }

    @Test("a local Zarr source's chunks are sent as the files hold them (read straight into the response), by range too")
    func localPassThrough() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try await Self.localCube(in: dir, format: .v2)
        let served = try await ServedDataset(name: "cube", source: path, dataset: Dataset.open(path))
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([served]))
        let onDisk = try Array(Data(contentsOf: URL(fileURLWithPath: path + "/sst/1.0.0")))
        try await Application(router: service.router()).test(.router) { client in
            for key in ["sst/1.0.0", "sst/c/1/0/0"] {
                let r = try await client.execute(uri: "/datasets/cube/zarr/\(key)", method: .get)
                #expect(r.status == .ok, "\(key)")
                #expect(Array(r.body.readableBytesView) == onDisk, "\(key)")
                let etag = try #require(r.headers[.eTag])
                #expect(etag.hasPrefix("\"f"))
                let again = try await client.execute(uri: "/datasets/cube/zarr/\(key)", method: .get, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified)
                let part = try await client.execute(uri: "/datasets/cube/zarr/\(key)", method: .get, headers: [.range: "bytes=10-29"])
                #expect(Array(part.body.readableBytesView) == Array(onDisk[10..<30]), "\(key)")
            }
        }
    }

    @Test("/datasets/{name}/eval computes next to the data: values as the evaluator gives them, 400 for bad expressions, 413 over the limits before reading")
    func evaluate() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try await Self.localCube(in: dir, format: .v3)
        let lazy = try await Dataset.open(path)
        let cube = try await ServedDataset(name: "cube", source: path, dataset: lazy)
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        // The reference: the evaluator on the same dataset, loaded here.
        @Sendable func reference(_ expr: String) async throws -> [JSON] {
            guard case .array(let a) = try await Evaluator(dataset: lazy).evaluate(expr) else { return [] }
            let loaded = try await a.load()
            return try loaded.variable.data.doubles()!.map { $0.isNaN ? .null : .double($0) }
        }
        let expected = try await reference("ds.sst.mean('time')")
        for (limits, check) in [(EvalLimits(), true), (EvalLimits(maxReadBytes: 1000), false), (EvalLimits(maxResultBytes: 100), false)] {
            let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([cube], limits: limits))
            try await Application(router: service.router()).test(.router) { client in
                let mean = try await client.execute(uri: "/datasets/cube/eval?expr=ds.sst.mean('time')", method: .get)
                if check {
                    #expect(mean.status == .ok)
                    let j = try json(mean)
                    #expect(j["data_vars"]?["sst"]?["data"] == .array(expected))
                    #expect(j["data_vars"]?["sst"]?["shape"] == .array([.int(6), .int(12)]))
                    #expect(j["estimate"]?["chunks_read"] == .int(3))
                    let (c, scalar) = try await get(client, "/datasets/cube/eval?expr=1%2B2")
                    #expect(c == 200)
                    #expect(scalar["value"] == .int(3))
                    for bad in ["ds.nope", "ds.sst.mean(", "", "ds.sst.isel(time=99)"] {
                        let r = try await client.execute(uri: "/datasets/cube/eval?expr=\(bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", method: .get)
                        #expect(r.status == .badRequest, "\(bad)")
                    }
                    let none = try await client.execute(uri: "/datasets/cube/eval", method: .get)
                    #expect(none.status == .badRequest)
                    // As netCDF: a file that opens with the same values.
                    let nc = try await client.execute(uri: "/datasets/cube/eval?expr=ds.sst.mean('time')&f=netcdf", method: .get)
                    #expect(nc.status == .ok)
                    #expect(nc.headers[.contentType] == "application/x-netcdf")
                    let file = dir.appendingPathComponent("result.nc")
                    try Data(nc.body.readableBytesView).write(to: file)
                    let back = try await Dataset.open(file.path).load()
                    #expect(try back.variables["sst"]?.data.doubles()?.map { $0.isNaN ? JSON.null : .double($0) } == expected)
                    for bad in ["/datasets/cube/eval?expr=1&f=netcdf", "/datasets/cube/eval?expr=ds.sst&f=xml"] {
                        let r = try await client.execute(uri: bad, method: .get)
                        #expect(r.status == .badRequest, "\(bad)")
                    }
                } else {
                    // Refused on the estimate, naming it.
                    #expect(mean.status.code == 413)
                    #expect(String(buffer: mean.body).contains("bytes_read"))
                }
            }
        }
    }

    @Test("/datasets/{name}/eval/{token}/zarr/ serves a computed result as Zarr, chunk by chunk: the bytes a view of the computed values holds; bad tokens 404, plain values 400, over the limits 413")
    func evalView() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try await Self.localCube(in: dir, format: .v2)
        let lazy = try await Dataset.open(path)
        let cube = try await ServedDataset(name: "cube", source: path, dataset: lazy)
        let db = try SQLiteCatalog(path: dir.appendingPathComponent("catalog.db").path)
        let expr = "(ds.sst * 2).isel(time=slice(1, 5))"
        // The reference: the same result computed here, then viewed as Zarr.
        guard case .array(let a) = try await Evaluator(dataset: lazy).evaluate(expr) else { Issue.record("not an array"); return }
        let computed = try await ZarrView(try a.load().toDataset(name: "sst"), label: "reference", chunks: ["time": 2])
        let token = ServedDataset.evalToken(expr)
        #expect(try ServedDataset.expression(fromToken: token) == expr)
        for (limits, check) in [(EvalLimits(), true), (EvalLimits(maxReadBytes: 1000), false)] {
            let service = STACService(backend: db, baseURL: "http://test.local", datasets: try ServedDatasets([cube], limits: limits))
            try await Application(router: service.router()).test(.router) { client in
                let info = try await client.execute(uri: "/datasets/cube/eval/zarr?expr=\(expr.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", method: .get)
                guard check else {
                    #expect(info.status.code == 413)
                    let chunk = try await client.execute(uri: "/datasets/cube/eval/\(token)/zarr/sst/0.0.0", method: .get)
                    #expect(chunk.status.code == 413)
                    return
                }
                #expect(info.status == .ok)
                #expect(try json(info)["zarr"]?.string == "http://test.local/datasets/cube/eval/\(token)/zarr/")
                for key in [".zmetadata", "zarr.json", "sst/.zarray", "sst/0.0.0", "sst/1.0.0", "sst/c/1/0/0"] {
                    let r = try await client.execute(uri: "/datasets/cube/eval/\(token)/zarr/\(key)", method: .get)
                    let want = try await computed.zarrKey(key, range: .full)
                    #expect(r.status == (want == nil ? .notFound : .ok), "\(key)")
                    if let want, !key.hasPrefix(".z"), key != "zarr.json" { #expect(Array(r.body.readableBytesView) == want, "\(key)") }
                }
                let meta = try json(try await client.execute(uri: "/datasets/cube/eval/\(token)/zarr/sst/.zarray", method: .get))
                #expect(meta["shape"] == [4, 6, 12])
                for (uri, status) in [("/datasets/cube/eval/%%%/zarr/zarr.json", 400), ("/datasets/cube/eval/_w/zarr/zarr.json", 404), ("/datasets/cube/eval/\(ServedDataset.evalToken("ds.nope"))/zarr/zarr.json", 400),
                                      ("/datasets/cube/eval/\(ServedDataset.evalToken("1+2"))/zarr/zarr.json", 400), ("/datasets/cube/eval/zarr", 400),
                                      ("/datasets/cube/eval/\(token)/zarr/sst/9.0.0", 404), ("/datasets/cube/eval/\(token)/zarr/../../x", 404)] {
                    let r = try await client.execute(uri: uri, method: .get)
                    #expect(r.status.code == status, "\(uri)")
                }
            }
        }
    }

    @Test("a computation past its time is cancelled and answered as such; one in time gives its value")
    func deadline() async throws {
        let slow = Task { () -> Int in
            try await Task.sleep(nanoseconds: 900_000_000_000)
            return 1
        }
        let started = Date()
        #expect(try await ServedDataset.finished(slow, within: 0.05) == nil)
        // Well before the task would end (generous: the whole suite runs in parallel beside it,
        // and tests that compute for seconds hold the two threads of the concurrency pool; a
        // clean-clone run once took 72 s here).
        #expect(Date().timeIntervalSince(started) < 450)
        #expect(await (try? slow.value) == nil)  // cancelled: the sleep threw
        #expect(Date().timeIntervalSince(started) < 450)
        let quick = Task { () throws -> Int in 7 }
        // Generous too: the parallel suite can keep the concurrency pool busy for tens of seconds.
        #expect(try await ServedDataset.finished(quick, within: 300) == 7)
    }

    @Test("JSON is gzipped when asked (q above 0), with its own ETag; chunks, ranges and other clients get identity")
    func gzip() async throws {
        try await withDatasets { _, client in
            let plain = try await client.execute(uri: "/datasets/sst/zarr/.zmetadata", method: .get)
            #expect(plain.headers[.contentEncoding] == nil)
            let z = try await client.execute(uri: "/datasets/sst/zarr/.zmetadata", method: .get, headers: [.acceptEncoding: "br, gzip;q=0.8"])
            #expect(z.headers[.contentEncoding] == "gzip")
            #expect(z.body.readableBytes < plain.body.readableBytes)
            let unzipped = try ZlibCodec(format: .gzip).decode(Array(z.body.readableBytesView))
            #expect(unzipped == Array(plain.body.readableBytesView))
            let tag = try #require(z.headers[.eTag])
            #expect(tag != plain.headers[.eTag])
            let again = try await client.execute(uri: "/datasets/sst/zarr/.zmetadata", method: .get, headers: [.acceptEncoding: "gzip", .ifNoneMatch: tag])
            #expect(again.status == .notModified)
            for headers: HTTPFields in [[.acceptEncoding: "gzip;q=0"], [.acceptEncoding: "gzip", .range: "bytes=0-99"]] {
                let r = try await client.execute(uri: "/datasets/sst/zarr/.zmetadata", method: .get, headers: headers)
                #expect(r.headers[.contentEncoding] == nil)
            }
            let chunk = try await client.execute(uri: "/datasets/sst/zarr/sst/0.0.0", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(chunk.headers[.contentEncoding] == nil)
            let listing = try await client.execute(uri: "/datasets/sst", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(listing.headers[.contentEncoding] == "gzip")
        }
    }
}

@Suite("POST /datasets and DELETE /datasets/{name}: registered datasets, kept in the catalog")
struct DatasetRegistrationTests {
    @Test("Registering: the API key, a root for local paths, a source that opens; served, listed, a STAC collection of its own, served again after a restart; removed with DELETE")
    func registerAndRemove() async throws {
        let dir = try DatasetRouteTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let path = try await DatasetRouteTests.localCube(in: root, format: .v2)
        let dbPath = dir.appendingPathComponent("catalog.db").path
        let config = STACServerConfiguration(apiKey: "key", registerRoots: [root.path])
        let fixed = try await ServedDataset(name: "fixed", source: "generated", dataset: SampleData.sst(days: 2, resolution: 30))
        let body = #"{"name": "mine", "source": "\#(path)", "description": "my cube", "metadata": {"owner": "me"}}"#
        do {
            let service = STACService(backend: try SQLiteCatalog(path: dbPath), configuration: config, baseURL: "http://test.local",
                                      datasets: try ServedDatasets([fixed]))
            try await Application(router: service.router()).test(.router) { client in
                func post(_ text: String, key: String? = "key") async throws -> TestResponse {
                    var h: HTTPFields = [.contentType: "application/json"]
                    if let key { h[.authorization] = "Bearer \(key)" }
                    return try await client.execute(uri: "/datasets", method: .post, headers: h, body: ByteBuffer(string: text))
                }
                #expect(try await post(body, key: nil).status == .unauthorized)
                #expect(try await post(body, key: "wrong").status == .unauthorized)
                let created = try await post(body)
                #expect(created.status == .created, "\(String(buffer: created.body))")
                #expect(created.headers[.location] == "http://test.local/datasets/mine")
                #expect(try await post(body).status == .conflict)
                let (_, list) = try await get(client, "/datasets")
                #expect(list["datasets"]?.array?.map { $0["id"]?.string } == ["fixed", "mine"])
                #expect(list["datasets"]?.array?.last?["registered"] == true)
                let (_, meta) = try await get(client, "/datasets/mine")
                #expect(meta["attrs"]?["owner"] == "me")
                #expect(try await client.execute(uri: "/datasets/mine/zarr/sst/.zarray", method: .get).status == .ok)
                let (code, collection) = try await get(client, "/collections/mine")
                #expect(code == 200)
                #expect(collection["gyre:dataset"] == "mine")
                #expect(collection["assets"]?["zarr"]?["href"] == "http://test.local/datasets/mine/zarr/")
                #expect(collection["extent"]?["temporal"]?["interval"] == [["2001-01-01T00:00:00Z", "2001-01-06T00:00:00Z"]])
                // Refused: bad fields, a path outside the root, one that does not open, a taken collection id.
                let outside = dir.appendingPathComponent("elsewhere.zarr").path
                for (text, status, why) in [
                    (#"{"name": "x"}"#, 400, "needs a 'source'"),
                    (#"{"name": "../x", "source": "s3://b/x.zarr"}"#, 400, "must be 1 to 128"),
                    (#"{"name": "x", "source": "s3://b/x.zarr", "colour": 1}"#, 400, "unknown field 'colour'"),
                    (#"{"name": "x", "source": 5}"#, 400, "must be a string"),
                    (#"{"name": "x", "source": "\#(outside)"}"#, 403, "outside the directories"),
                    (#"{"name": "x", "source": "\#(root.path)/../elsewhere.zarr"}"#, 403, "outside the directories"),
                    (#"{"name": "x", "source": "\#(root.path)/missing.zarr"}"#, 400, "cannot open"),
                    ("[1]", 400, "JSON object"),
                ] {
                    let r = try await post(text)
                    #expect(r.status.code == status, "\(text): \(String(buffer: r.body))")
                    #expect(String(buffer: r.body).contains(why), "\(text): \(String(buffer: r.body))")
                }
                #expect(try await client.execute(uri: "/datasets/fixed", method: .delete, headers: [.authorization: "Bearer key"]).status == .conflict)
                #expect(try await client.execute(uri: "/datasets/mine", method: .delete).status == .unauthorized)
            }
        }
        // A restart over the same catalog serves it again; DELETE removes it, its collection and its record.
        let service = STACService(backend: try SQLiteCatalog(path: dbPath), configuration: config, baseURL: "http://test.local", datasets: ServedDatasets())
        #expect(try await service.restoreRegisteredDatasets().isEmpty)
        #expect(service.datasets["mine"]?.registered == true)
        try await Application(router: service.router()).test(.router) { client in
            let meta = try await client.execute(uri: "/datasets/mine/zarr/.zmetadata", method: .get)
            #expect(meta.status == .ok)
            #expect(try await client.execute(uri: "/datasets/mine", method: .delete, headers: [.authorization: "Bearer key"]).status == .noContent)
            #expect(try await client.execute(uri: "/datasets/mine", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/collections/mine", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/datasets/mine", method: .delete, headers: [.authorization: "Bearer key"]).status == .notFound)
        }
        #expect(try await SQLiteCatalog(path: dbPath).registeredDatasets().isEmpty)
    }
}
