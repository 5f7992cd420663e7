import Foundation
import Gyre
import GyreTestSupport
import Testing

/// `gyre serve --dataset` end to end: xarray (zarr-python 3 over fsspec's HTTP filesystem)
/// opens the served Zarr views of a Zarr v2 store, the same store in an S3 bucket (moto), a Zarr
/// v3 sharded store and a glob of netCDF-4 files, through both the v3 and the v2 keys, and finds
/// each identical (`assert_identical`) to the source opened directly.
@Suite("Served datasets read by xarray over HTTP", .serialized)
struct DatasetServerInteropTests {
    @Test("xarray.open_zarr on /datasets/{name}/zarr/ equals the source: Zarr v2 (local and on S3), v3 sharded, a netCDF glob", .enabled(if: Interop.enabled))
    func xarrayReadsServedViews() async throws {
        let dir = try Interop.generate("dataset_server_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The v2 store, uploaded to a bucket of a moto server.
        let moto = try LocalServers.moto()
        defer { moto.stop() }
        let options = ["endpoint_url": moto.url, "key": "testing", "secret": "testing"]
        let bucket = try #require(try StoreResolver.store(for: "s3://served", options: options) as? S3Store)
        try await bucket.createBucket()
        let local = dir.appendingPathComponent("v2.zarr")
        let files = FileManager.default.enumerator(at: local, includingPropertiesForKeys: [.isRegularFileKey])!
        var uploaded = 0
        for case let url as URL in files where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let rel = String(url.standardizedFileURL.path.dropFirst(local.standardizedFileURL.path.count + 1))
            try await bucket.set("v2.zarr/" + rel, Array(try Data(contentsOf: url)))
            uploaded += 1
        }
        try #require(uploaded > 3)
        let server = try STACServerInteropTests.Server(catalog: [
            "--catalog", dir.appendingPathComponent("catalog.db").path,
            "--dataset", "v2=" + local.path,
            "--dataset", "s3=s3://served/v2.zarr",
            "--dataset", "v3=" + dir.appendingPathComponent("v3.zarr").path,
            "--dataset", "nc=" + dir.appendingPathComponent("nc").path + "/*.nc",
        ] + options.sorted { $0.key < $1.key }.flatMap { ["--storage-option", "\($0.key)=\($0.value)"] }, apiKey: "interop")
        defer { server.stop() }
        let (status, report) = try Interop.script("dataset_server_cases.py", ["--check", server.url, dir.path, "v2,s3,v3,nc"])
        #expect(status == 0, "\(report)")
        #expect(report.contains("ok"))
    }
}
