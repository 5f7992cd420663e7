import Foundation
import GyreTestSupport
import Testing
import Gyre

/// Zarr on a real S3-compatible server (moto), against xarray with s3fs: xarray's v2, v3 and
/// sharded v3 stores open in Gyre as the same store does locally; Gyre's writes to S3 (the
/// library's and `gyre convert`'s) open in xarray identical to the original.
@Suite("Interop: Zarr on S3 (moto) vs xarray + s3fs", .enabled(if: Interop.enabled), .serialized)
struct S3InteropTests {
    static func run(_ args: [String]) throws -> (Int32, String) { try Interop.script("s3_cases.py", args) }

    @Test("xarray's stores read in Gyre; Gyre's stores (library and gyre convert/info) read identically in xarray")
    func roundTrip() async throws {
        let server = try LocalServers.moto()
        defer { server.stop() }
        let options = ["endpoint_url": server.url, "key": "testing", "secret": "testing"]
        let bucket = try #require(try StoreResolver.store(for: "s3://interop", options: options) as? S3Store)
        try await bucket.createBucket()
        let dir = try LocalServers.scratch("s3-interop")
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try Self.run(["write", dir.path, server.url, "interop"])
        try #require(written.0 == 0, "xarray could not write to moto: \(written.1)")

        let reference = try await Dataset.open(dir.appendingPathComponent("ref.zarr").path).load()
        for name in ["v2", "v3", "sharded"] {
            let ds = try await Dataset.open("s3://interop/\(name).zarr", storageOptions: options).load()
            #expect(try ds.equals(reference), "\(name): values differ from the local store")
            #expect(ds.attrs == reference.attrs, "\(name): attributes")
            for (k, v) in reference.variables { #expect(ds.variables[k]?.attrs == v.attrs, "\(name) \(k): attributes") }
        }

        // Gyre writes: the library, then the CLI copying a store from S3 to S3.
        try await reference.write(to: "s3://interop/gyre.zarr", options: ZarrWriteOptions(format: .v3, chunks: ["time": 5]), storageOptions: options)
        var check = try Self.run(["verify", server.url, "s3://interop/gyre.zarr", dir.path])
        #expect(check.0 == 0, "xarray on Gyre's store: \(check.1)")
        let flags = options.sorted { $0.key < $1.key }.flatMap { ["--storage-option", "\($0.key)=\($0.value)"] }
        let convert = try CLITests.gyre(["convert", "s3://interop/v2.zarr", "s3://interop/copy.zarr", "--format", "zarr2"] + flags)
        try #require(convert.status == 0, "gyre convert: \(convert.err)")
        check = try Self.run(["verify", server.url, "s3://interop/copy.zarr", dir.path])
        #expect(check.0 == 0, "xarray on gyre convert's store: \(check.1)")
        let again = try CLITests.gyre(["convert", "s3://interop/v2.zarr", "s3://interop/copy.zarr"] + flags)
        #expect(again.status != 0 && again.err.contains("s3://interop/copy.zarr"), "a second convert onto the store: \(again.err)")
        // With --overwrite the old keys go (in batched deletes) and the new store reads as the source.
        let replaced = try CLITests.gyre(["convert", "s3://interop/sharded.zarr", "s3://interop/copy.zarr", "--overwrite"] + flags)
        try #require(replaced.status == 0, "gyre convert --overwrite: \(replaced.err)")
        check = try Self.run(["verify", server.url, "s3://interop/copy.zarr", dir.path])
        #expect(check.0 == 0, "xarray on the overwritten store: \(check.1)")
        let left = try await bucket.list(prefix: "copy.zarr/")
        #expect(!left.contains { $0.hasSuffix(".zarray") || $0.hasSuffix(".zmetadata") }, "v2 keys left after the overwrite: \(left.filter { $0.hasPrefix("copy.zarr/.") })")

        // Through a proxy that makes 10% of the requests fail: the write completes and reads
        // identically in xarray, or it fails with an error and the store does not open.
        let proxy = try LocalServers.faultProxy(upstream: server.url, rate: 0.1, seed: 5)
        defer { proxy.stop() }
        var faulty = options
        faulty["endpoint_url"] = proxy.url
        faulty["attempts"] = "10"
        do {
            try await reference.write(to: "s3://interop/faulty.zarr", options: ZarrWriteOptions(format: .v2, chunks: ["time": 2]), storageOptions: faulty)
            check = try Self.run(["verify", server.url, "s3://interop/faulty.zarr", dir.path])
            #expect(check.0 == 0, "xarray on the store written through faults: \(check.1)")
        } catch {
            #expect("\(error)".contains("faulty.zarr"), "\(error)")
            await #expect(throws: (any Error).self) { try await Dataset.open("s3://interop/faulty.zarr", storageOptions: options) }
        }
        let injected = try String(contentsOf: proxy.log, encoding: .utf8).components(separatedBy: "\nfault ").count - 1
        #expect(injected > 3, "faults injected: \(injected)")

        // A glob over the bucket: two halves written apart open as the whole, through the
        // library and gyre info.
        try await reference.isel(["time": .slice(Slice(0, 6))]).write(to: "s3://interop/parts/p0.zarr", storageOptions: options)
        try await reference.isel(["time": .slice(Slice(6, 12))]).write(to: "s3://interop/parts/p1.zarr", storageOptions: options)
        #expect(try await StoreResolver.glob("s3://interop/parts/p*.zarr", options: options) == ["s3://interop/parts/p0.zarr", "s3://interop/parts/p1.zarr"])
        let joined = try await Dataset.open("s3://interop/parts/p*.zarr", storageOptions: options).load()
        #expect(try joined.equals(reference), "the glob's two stores joined along time")
        let globbed = try CLITests.gyre(["info", "s3://interop/parts/*.zarr"] + flags)
        #expect(globbed.status == 0 && globbed.out.contains("time: 12"), "gyre info of a glob: \(globbed.out) \(globbed.err)")
        let none = try CLITests.gyre(["info", "s3://interop/parts/*.nc"] + flags)
        #expect(none.status != 0 && none.err.contains("matches nothing"), "\(none.err)")

        let info = try CLITests.gyre(["info", "s3://interop/sharded.zarr"] + flags)
        #expect(info.status == 0 && info.out.contains("sst") && info.out.contains("(time, lat, lon)"), "gyre info: \(info.out) \(info.err)")
        // Errors name the place: a missing store, an unknown option, an HTTP destination.
        let missing = try CLITests.gyre(["info", "s3://interop/none.zarr"] + flags)
        #expect(missing.status != 0 && missing.err.contains("s3://interop/none.zarr"), "\(missing.err)")
        let unknown = try CLITests.gyre(["info", "s3://interop/v3.zarr", "--storage-option", "endpoint=x"])
        #expect(unknown.status != 0 && unknown.err.contains("unknown storage option 'endpoint'"), "\(unknown.err)")
        await #expect(throws: (any Error).self) {
            try await reference.write(to: "https://127.0.0.1:1/x.zarr")
        }
    }

    @Test("netCDF-4 and netCDF-3 on S3 and over HTTP, and a glob of netCDF files on S3, read as xarray reads them through fsspec")
    func netCDF() async throws {
        let server = try LocalServers.moto()
        defer { server.stop() }
        let options = ["endpoint_url": server.url, "key": "testing", "secret": "testing"]
        let bucket = try #require(try StoreResolver.store(for: "s3://ncdata", options: options) as? S3Store)
        try await bucket.createBucket()
        let dir = try LocalServers.scratch("s3-netcdf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try Self.run(["netcdf", dir.path, server.url, "ncdata"])
        try #require(written.0 == 0, "xarray could not write or read the netCDF files: \(written.1)")
        let http = try LocalServers.nginx(serving: dir.appendingPathComponent("nc"))
        defer { http.stop() }

        for name in ["cube4.nc", "cube3.nc"] {
            let want = try await Dataset.open(dir.appendingPathComponent("\(name).xarray.zarr").path).load()
            let local = try await Dataset.open(dir.appendingPathComponent("nc/\(name)").path).load()
            for url in ["s3://ncdata/nc/\(name)", "\(http.url)/\(name)"] {
                let got = try await Dataset.open(url, storageOptions: url.hasPrefix("s3") ? options : [:]).load()
                #expect(try got.equals(want), "\(url): values differ from xarray's through fsspec")
                #expect(try got.equals(local) && got.attrs == local.attrs, "\(url): differs from the same file read locally")
                for (k, v) in local.variables { #expect(got.variables[k]?.attrs == v.attrs, "\(url) \(k): attributes") }
            }
        }
        // A lazy selection of the chunked file over HTTP reads only the chunks it needs.
        let before = http.accessLog.count
        let lazy = try await Dataset.open("\(http.url)/cube4.nc")
        let opened = http.accessLog.count
        _ = try await lazy.isel(["time": .slice(Slice(0, 4)), "lon": .slice(Slice(0, 6))]).load()
        let requests = http.accessLog.dropFirst(opened)
        #expect(opened - before <= 4, "requests to open: \(http.accessLog.dropFirst(before))")
        #expect(requests.count <= 2, "requests for one chunk of sst: \(requests)")

        // A glob of netCDF files on S3 opens as one dataset along time.
        let parts = try await Dataset.open("s3://ncdata/nc/part-*.nc", storageOptions: options).load()
        let wantParts = try await Dataset.open(dir.appendingPathComponent("parts.xarray.zarr").path).load()
        #expect(try parts.equals(wantParts), "the glob of parts")
        #expect(parts.sizes["time"] == 12)
        let flags = options.sorted { $0.key < $1.key }.flatMap { ["--storage-option", "\($0.key)=\($0.value)"] }
        let info = try CLITests.gyre(["info", "s3://ncdata/nc/part-*.nc"] + flags)
        #expect(info.status == 0 && info.out.contains("time: 12"), "gyre info of a netCDF glob: \(info.out) \(info.err)")
        // gyre convert from netCDF on S3 (a glob, and one file over HTTP) to Zarr on S3.
        let converted = try CLITests.gyre(["convert", "s3://ncdata/nc/part-*.nc", "s3://ncdata/parts.zarr"] + flags)
        try #require(converted.status == 0, "gyre convert of a netCDF glob to S3: \(converted.err)")
        #expect(try await Dataset.open("s3://ncdata/parts.zarr", storageOptions: options).load().equals(wantParts), "the converted glob")
        let fromHTTP = try CLITests.gyre(["convert", "\(http.url)/cube4.nc", dir.appendingPathComponent("cube4.zarr").path])
        try #require(fromHTTP.status == 0, "gyre convert from HTTP: \(fromHTTP.err)")
        #expect(try await Dataset.open(dir.appendingPathComponent("cube4.zarr").path).load().equals(
            Dataset.open(dir.appendingPathComponent("nc/cube4.nc").path).load()), "cube4.nc over HTTP converted to Zarr")
        let mean = try CLITests.gyre(["eval", "\(http.url)/cube3.nc", "sst.mean()"])
        #expect(mean.status == 0, "gyre eval over HTTP: \(mean.err)")

        // Through a proxy failing 10% of the requests, the same values.
        let proxy = try LocalServers.faultProxy(upstream: server.url, rate: 0.1, seed: 11)
        defer { proxy.stop() }
        var faulty = options
        faulty["endpoint_url"] = proxy.url
        faulty["attempts"] = "10"
        for name in ["cube4.nc", "cube3.nc"] {
            let want = try await Dataset.open(dir.appendingPathComponent("nc/\(name)").path).load()
            let got = try await Dataset.open("s3://ncdata/nc/\(name)", storageOptions: faulty).load()
            #expect(try got.equals(want), "\(name) through faults")
        }
        let throughFaults = try await Dataset.open("s3://ncdata/nc/part-*.nc", storageOptions: faulty).load()
        #expect(try throughFaults.equals(wantParts), "the glob through faults")
        let injected = try String(contentsOf: proxy.log, encoding: .utf8).components(separatedBy: "\nfault ").count - 1
        #expect(injected >= 1, "faults injected: \(injected)")

        // Errors name the URL: a missing file, a file that is not netCDF.
        await #expect(throws: (any Error).self) { try await Dataset.open("s3://ncdata/nc/none.nc", storageOptions: options) }
        let missing = try CLITests.gyre(["info", "\(http.url)/none.nc"])
        #expect(missing.status != 0 && missing.err.contains("none.nc"), "\(missing.err)")
        try "not netCDF".write(to: dir.appendingPathComponent("nc/text.nc"), atomically: true, encoding: .utf8)
        let text = try CLITests.gyre(["info", "\(http.url)/text.nc"])
        #expect(text.status != 0 && text.err.contains("text.nc") && text.err.contains("not a netCDF file"), "\(text.err)")
        // Truncated files: the header cut short, or the data.
        for name in ["cube3.nc", "cube4.nc"] {
            let whole = try Data(contentsOf: dir.appendingPathComponent("nc/\(name)"))
            try whole.prefix(40).write(to: dir.appendingPathComponent("nc/head-\(name)"))
            try whole.prefix(whole.count * 3 / 4).write(to: dir.appendingPathComponent("nc/cut-\(name)"))
            let head = try CLITests.gyre(["info", "\(http.url)/head-\(name)"])
            #expect(head.status != 0 && head.err.contains("head-\(name)") && (head.err.contains("past the end") || head.err.contains("truncated")), "\(head.err)")
            let cut = try CLITests.gyre(["eval", "\(http.url)/cut-\(name)", "sst.sum()"])
            #expect(cut.status != 0 && cut.err.contains("cut-\(name)") && (cut.err.contains("truncated") || cut.err.contains("past the end")), "\(cut.err)")
        }
    }
}
