import GyreCore
import Foundation
import Testing
import Gyre

/// The `gyre` binary: info and convert on netCDF collections, eval's output flags, and errors.
@Suite("CLI: gyre info, gyre convert and gyre eval -o")
struct CLITests {
    static var binary: URL { Interop.root.appendingPathComponent(".build/debug/gyre") }

    static func gyre(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw InteropError("\(binary.path) is missing: build the package first (swift build --build-tests)")
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test("a glob of daily files: info, convert to Zarr and to netCDF, refusals")
    func collection() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 8, resolution: 30)
        // Four files of two days, named in reverse time order.
        for k in 0..<4 {
            let part = try sample.isel(["time": .slice(Slice(2 * k, 2 * k + 2))])
            try await part.writeNetCDF(to: dir.appendingPathComponent("day-\(9 - k).nc").path, options: NetCDFWriteOptions(zlibLevel: 1))
        }
        let glob = dir.path + "/day-*.nc"
        let info = try Self.gyre(["info", glob, "--concat-dim", "time", "--json"])
        #expect(info.status == 0, "\(info.err)")
        let json = try JSON.parse(Array(info.out.utf8), source: "gyre info")
        #expect(json["dims"]?["time"] == 8 && json["data_vars"]?["sst"]?["dtype"] == "float32")
        let text = try Self.gyre(["info", glob])
        #expect(text.status == 0 && text.out.contains("sst") && text.out.contains("(time: 8"), "\(text.out)\(text.err)")

        let zarr = dir.appendingPathComponent("out.zarr").path
        let conv = try Self.gyre(["convert", glob, zarr, "--chunks", "time=4", "--codec", "blosc:lz4:5"])
        #expect(conv.status == 0, "\(conv.err)")
        #expect(conv.err.isEmpty, "no progress bar when not on a terminal: \(conv.err)")
        #expect(try await Dataset.open(zarr).load().equals(sample))
        #expect(try await ZarrArray.open(FileStore(path: zarr), path: "sst").metadata.chunkShape[0] == 4)

        let nc = dir.appendingPathComponent("out.nc").path
        #expect(try Self.gyre(["convert", glob, nc, "--codec", "zlib:2", "--chunks", "time=8"]).status == 0)
        #expect(try await Dataset.open(nc).load().equals(sample))

        let again = try Self.gyre(["convert", glob, nc])
        #expect(again.status != 0 && again.err.contains("already exists"), "\(again.err)")
        let none = try Self.gyre(["info", dir.path + "/nothing-*.nc"])
        #expect(none.status != 0 && none.err.contains("matches no files"), "\(none.err)")
        let badCodec = try Self.gyre(["convert", glob, dir.appendingPathComponent("x.nc").path, "--codec", "zstd:3"])
        #expect(badCodec.status != 0 && badCodec.err.contains("zlib"), "\(badCodec.err)")
        // The README's netCDF walk-through starts from files the demo writes.
        let files = dir.appendingPathComponent("demo-files").path
        #expect(try Self.gyre(["demo", "--days", "80", "--resolution", "30", "--netcdf", files]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files).count == 2)
        #expect(try await Dataset.open(files + "/*.nc").load().equals(SampleData.sst(days: 80, resolution: 30)))
    }

    @Test("gyre eval -o: the output's format, codec and chunks as asked; xarray reads it; bad flags refused")
    func evalOutput() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try SampleData.sst(days: 40, resolution: 20)
        let src = dir.appendingPathComponent("sst.zarr").path
        try await sample.writeZarr(to: FileStore(path: src), options: ZarrWriteOptions(format: .v3, chunks: ["time": 16]))
        let expr = "sst.groupby(\"time.month\") - sst.groupby(\"time.month\").mean()"
        let out = dir.appendingPathComponent("anomaly.zarr").path
        let r = try Self.gyre(["eval", src, expr, "-o", out, "--format", "zarr2", "--codec", "blosc:lz4:5:shuffle", "--chunks", "time=10"])
        #expect(r.status == 0, "\(r.err)")
        let meta = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/sst/.zarray"))), source: ".zarray")
        #expect(meta["compressor"]?["id"]?.string == "blosc" && meta["compressor"]?["cname"]?.string == "lz4")
        #expect(meta["chunks"]?.array?.first?.integer == 10)
        // The values are the eager anomaly, read back by Gyre and by xarray.
        let x = try sample.dataArray("sst")
        let want = try (x.groupby("time.month") - x.groupby("time.month").mean()).astype(.float64).doubles()
        let got = try await Dataset.open(out).dataArray("sst").load().astype(.float64).doubles()
        #expect(got.count == want.count && zip(got, want).allSatisfy { ($0.isNaN && $1.isNaN) || abs($0 - $1) < 1e-5 })
        let p = Process()
        p.executableURL = Interop.python
        p.arguments = ["-c", "import sys, numpy as np, xarray as xr; a = xr.open_zarr(sys.argv[1]).sst.values; print(a.shape, float(np.nansum(a.astype('f8'))))", out]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let total = want.filter { !$0.isNaN }.reduce(0, +)
        #expect(p.terminationStatus == 0 && printed.hasPrefix("(40, 9, 18)"), "\(printed)")
        let theirs = Double(printed.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .nan
        #expect(abs(theirs - total) < 1e-3, "xarray's sum \(theirs), expected \(total)")
        // Output flags without an output, and a codec that does not exist, are refused.
        let noOut = try Self.gyre(["eval", src, "sst.mean()", "--codec", "zstd:3"])
        #expect(noOut.status != 0 && noOut.err.contains("give -o DST"), "\(noOut.err)")
        let badCodec = try Self.gyre(["eval", src, "sst.mean()", "-o", dir.appendingPathComponent("m.zarr").path, "--codec", "brotli:3"])
        #expect(badCodec.status != 0 && badCodec.err.contains("brotli"), "\(badCodec.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.zarr").path))
        // Printed, a 40-value result is wrapped at NumPy's 75 columns; a missing store is "file not found".
        let series = try Self.gyre(["eval", src, "sst.mean([\"lat\", \"lon\"])"])
        let lines = series.out.split(separator: "\n")
        let values = lines.dropFirst().prefix { !$0.hasPrefix("Coordinates:") }
        #expect(series.status == 0 && values.count > 8 && values.allSatisfy { $0.count <= 75 } && lines.allSatisfy { $0.count <= 80 }, "\(series.out)")
        // Codec and size specs: good ones are written as asked, bad ones refused saying what is wrong.
        let zstd = dir.appendingPathComponent("zstd7.zarr").path
        #expect(try Self.gyre(["convert", src, zstd, "--format", "zarr2", "--codec", "zstd:7", "--chunks", "time=8,lat=3"]).status == 0)
        let zmeta = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: zstd + "/sst/.zarray"))), source: ".zarray")
        #expect(zmeta["compressor"]?["id"]?.string == "zstd" && zmeta["compressor"]?["level"]?.integer == 7)
        #expect(zmeta["chunks"]?.array?.compactMap(\.integer) == [8, 3, 18])
        for (flag, bad, says) in [("--codec", "zstd:99", "not in -7...22"), ("--codec", "blosc", "needs a compressor name"),
                                  ("--codec", "blosc:nonesuch:5", "nonesuch"), ("--codec", "blosc:lz4:5:sideways", "shuffle must be"),
                                  ("--codec", "snappy", "unknown codec 'snappy'"), ("--chunks", "time=0", "positive N"), ("--chunks", "time", "positive N")] {
            let r = try Self.gyre(["convert", src, dir.appendingPathComponent("bad.zarr").path, flag, bad])
            #expect(r.status != 0 && r.err.contains(says), "\(flag) \(bad): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.zarr").path))
        let missing = try Self.gyre(["info", dir.appendingPathComponent("nothing.zarr").path])
        #expect(missing.status != 0 && missing.err.contains("file not found"), "\(missing.err)")
    }

    @Test("gyre stac validate and ingest: a static catalog followed through its links, newline-delimited items, refusals")
    func stac() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-stac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("s2/items"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ json: JSON) throws { try Data(json.serialized).write(to: dir.appendingPathComponent(name)) }
        func item(_ id: String, _ day: Int, collection: String? = nil) -> JSON {
            var o: JSONObject = ["type": "Feature", "stac_version": "1.1.0", "id": .string(id),
                                 "geometry": ["type": "Point", "coordinates": [10, .int(Int64(day))]], "bbox": [10, .int(Int64(day)), 10, .int(Int64(day))],
                                 "properties": ["datetime": .string("2020-01-1\(day)T00:00:00Z"), "eo:cloud_cover": .int(Int64(day * 10))],
                                 "links": [], "assets": [:]]
            if let collection { o["collection"] = .string(collection) }
            return .object(o)
        }
        try write("catalog.json", ["type": "Catalog", "stac_version": "1.1.0", "id": "root", "description": "test",
                                   "links": [["rel": "child", "href": "./s2/collection.json"]]])
        try write("s2/collection.json", ["type": "Collection", "stac_version": "1.1.0", "id": "s2", "description": "d", "license": "other",
                                         "extent": ["spatial": ["bbox": [[-180, -90, 180, 90]]], "temporal": ["interval": [["2020-01-01T00:00:00Z", nil]]]],
                                         "links": [["rel": "item", "href": "items/a.json"], ["rel": "item", "href": "items/b.json"], ["rel": "root", "href": "../catalog.json"]]])
        try write("s2/items/a.json", item("a", 1))
        try write("s2/items/b.json", item("b", 2, collection: "s2"))
        let lines = (3...5).map { String(decoding: item("n\($0)", $0, collection: "s2").serialized, as: UTF8.self) }.joined(separator: "\n")
        try Data((lines + "\n").utf8).write(to: dir.appendingPathComponent("more.ndjson"))

        let valid = try Self.gyre(["stac", "validate", dir.appendingPathComponent("catalog.json").path])
        #expect(valid.status == 0 && valid.out.contains("valid: 1 catalogs, 1 collections, 2 items"), "\(valid.out)\(valid.err)")
        let db = dir.appendingPathComponent("cat.db").path
        let ingest = try Self.gyre(["stac", "ingest", dir.appendingPathComponent("catalog.json").path, dir.appendingPathComponent("more.ndjson").path, "--catalog", db])
        #expect(ingest.status == 0 && ingest.out.contains("1 collections, 5 items"), "\(ingest.out)\(ingest.err)")
        // Twice is the same as once.
        #expect(try Self.gyre(["stac", "ingest", dir.appendingPathComponent("more.ndjson").path, "--catalog", db]).status == 0)
        let catalog = try SQLiteCatalog(path: db)
        let page = try await catalog.search(SearchRequest(limit: 100, filter: try CQL2.parse(text: "eo:cloud_cover >= 20")))
        #expect(try page.items.map(\.id) == ["n5", "n4", "n3", "b"])
        #expect(try await catalog.item(collection: "s2", id: "a")?.collection == "s2", "an item takes the collection that links to it")

        // Problems: each names the file and the field; validation goes on past the first.
        var broken = item("c", 6, collection: "s2").object!
        broken["geometry"] = ["type": "Point", "coordinates": [500, 0]]
        try write("bad1.json", .object(broken))
        try Data("{\"type\": \"Feature\",".utf8).write(to: dir.appendingPathComponent("bad2.json"))
        let invalid = try Self.gyre(["stac", "validate", dir.appendingPathComponent("bad1.json").path, dir.appendingPathComponent("bad2.json").path])
        #expect(invalid.status == 1, "\(invalid.out)")
        #expect(invalid.out.contains("bad1.json") && invalid.out.contains("geometry.coordinates") && invalid.out.contains("outside longitude"), "\(invalid.out)")
        #expect(invalid.out.contains("bad2.json: line 1") && invalid.out.contains("2 problems"), "\(invalid.out)")
        try Data(item("o", 7, collection: "modis").serialized).write(to: dir.appendingPathComponent("orphan.json"))
        let orphan = try Self.gyre(["stac", "ingest", dir.appendingPathComponent("orphan.json").path, "--catalog", db])
        #expect(orphan.status != 0 && orphan.err.contains("'o'") && orphan.err.contains("'modis'"), "\(orphan.err)")
        // Streamed NDJSON: a bad line stops the ingest naming file and line; whole batches
        // before it stay written (and re-ingesting the fixed file would update them).
        var streamLines = (0..<7).map { item("s\($0)", $0, collection: "s2").text }
        streamLines[5] = "{\"type\": \"Feature\", \"id\": \"broken\"}"
        try Data(streamLines.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("stream.ndjson"))
        let streamed = try Self.gyre(["stac", "ingest", dir.appendingPathComponent("stream.ndjson").path, "--catalog", db, "--batch", "2"])
        #expect(streamed.status != 0 && streamed.err.contains("stream.ndjson line 6"), "\(streamed.err)")
        let kept = try await catalog.search(SearchRequest(ids: (0..<7).map { "s\($0)" }, limit: 10)).items.map(\.id).sorted()
        #expect(kept == ["s0", "s1", "s2", "s3"], "the two batches before the bad line are written, the one holding it is not")
    }
}
