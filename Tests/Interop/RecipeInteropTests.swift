import Foundation
import GyreTestSupport
import Testing
import Gyre

/// Recipes end to end with the CLI (`recipe_cases.py`): a daily netCDF archive behind nginx
/// into Zarr, equal to `xarray.open_mfdataset(...).to_zarr(...)`; inputs that 404 or hold
/// corrupt bytes named, and left out with --skip-failed; --append reading only the new days;
/// kill -9 at random points, ten times, then a resume giving the bytes of an uninterrupted run;
/// `gyre publish` making a collection pystac-client finds and xarray opens.
@Suite("Interop: recipes against xarray, kill -9 and resume, publish", .enabled(if: Interop.enabled), .serialized)
struct RecipeInteropTests {
    static func recipe(_ pattern: String, end: String, target: String, chunks: Int = 5, extra: String = "") -> String {
        """
        name: daily-sst
        source:
          pattern: "\(pattern)"
          keys: {time: {start: 2020-01-01, end: \(end), freq: 1D}}
        target: {url: "\(target)", format: zarr2, chunks: {time: \(chunks)}, codec: "zstd:3"}
        run: {retries: 1, concurrency: 4}
        \(extra)
        """
    }

    static func write(_ text: String, _ url: URL) throws -> String {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("an archive over HTTP equals open_mfdataset + to_zarr; 404 and corrupt inputs named, --skip-failed; --append reads only new days")
    func overHTTP() async throws {
        let dir = try Interop.generate("recipe_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A copy of the archive with one file's data bytes corrupted.
        let bad = dir.appendingPathComponent("corrupt")
        try FileManager.default.copyItem(at: dir.appendingPathComponent("daily"), to: bad)
        let victim = bad.appendingPathComponent("sst_20200107.nc")
        var bytes = try Data(contentsOf: victim)
        for i in (bytes.count / 2)..<(bytes.count / 2 + 2000) { bytes[i] ^= 0x33 }
        try bytes.write(to: victim)
        let nginx = try LocalServers.nginx(serving: dir)
        defer { nginx.stop() }
        let daily = nginx.url + "/daily/sst_{time:%Y%m%d}.nc"

        let full = dir.appendingPathComponent("full.zarr").path
        let r = try Self.write(Self.recipe(daily, end: "2020-01-20", target: full), dir.appendingPathComponent("full.yaml"))
        let plan = try CLITests.gyre(["recipe", "plan", r])
        #expect(plan.status == 0 && plan.out.contains("reads 20 inputs") && plan.out.contains("sst[\"time\", \"lat\", \"lon\"]"), "\(plan.out)\(plan.err)")
        let ran = try CLITests.gyre(["recipe", "run", r])
        try #require(ran.status == 0, "\(ran.err)")
        #expect(ran.out.contains("20 inputs read, 4 of 4 parts written"), "\(ran.out)")
        let check = try Interop.script("recipe_cases.py", ["--verify", full, "20", dir.path])
        #expect(check.0 == 0, "xarray: \(check.1)")

        // Two days past the archive's end: 404s, named; with --skip-failed the run finishes.
        let gap = dir.appendingPathComponent("gap.zarr").path
        let g = try Self.write(Self.recipe(daily, end: "2020-01-26", target: gap), dir.appendingPathComponent("gap.yaml"))
        let failed = try CLITests.gyre(["recipe", "run", g])
        #expect(failed.status != 0 && failed.err.contains("sst_20200125.nc") && failed.err.contains("sst_20200126.nc") && failed.err.contains("no such file"), "\(failed.err)")
        #expect(!FileManager.default.fileExists(atPath: gap), "nothing is written when inputs are missing")
        let skipped = try CLITests.gyre(["recipe", "run", g, "--skip-failed"])
        #expect(skipped.status == 0 && skipped.out.contains("2 inputs failed") && skipped.out.contains("sst_20200126.nc"), "\(skipped.out)\(skipped.err)")
        #expect(try await Dataset.open(gap).sizes["time"] == 24)

        // Corrupt bytes in day 7: the run names the file and leaves the target incomplete.
        let corrupt = dir.appendingPathComponent("corrupt.zarr").path
        let c = try Self.write(Self.recipe(nginx.url + "/corrupt/sst_{time:%Y%m%d}.nc", end: "2020-01-10", target: corrupt), dir.appendingPathComponent("c.yaml"))
        let broken = try CLITests.gyre(["recipe", "run", c])
        #expect(broken.status != 0 && broken.err.contains("sst_20200107.nc"), "\(broken.err)")
        await #expect(throws: (any Error).self) { _ = try await Dataset.open(corrupt) }
        let withoutIt = try CLITests.gyre(["recipe", "run", c, "--skip-failed"])
        #expect(withoutIt.status == 0 && withoutIt.out.contains("sst_20200107.nc"), "\(withoutIt.out)\(withoutIt.err)")

        // Ten days, then --append with twenty: only the ten new files are requested.
        let grow = dir.appendingPathComponent("grow.zarr").path
        let first = try Self.write(Self.recipe(daily, end: "2020-01-10", target: grow), dir.appendingPathComponent("grow.yaml"))
        #expect(try CLITests.gyre(["recipe", "run", first]).status == 0)
        let logged = nginx.accessLog.count
        let second = try Self.write(Self.recipe(daily, end: "2020-01-20", target: grow), dir.appendingPathComponent("grow.yaml"))
        let appended = try CLITests.gyre(["recipe", "run", second, "--append"])
        #expect(appended.status == 0 && appended.out.contains("10 inputs read") && appended.out.contains("appended"), "\(appended.out)\(appended.err)")
        let requests = nginx.accessLog.dropFirst(logged)
        let old = requests.filter { line in (1...10).contains { line.contains(String(format: "sst_202001%02d.nc", $0)) } }
        #expect(old.isEmpty, "the append read old files: \(old.prefix(3))")
        let afterAppend = try Interop.script("recipe_cases.py", ["--verify", grow, "20", dir.path])
        #expect(afterAppend.0 == 0, "xarray on the appended store: \(afterAppend.1)")
        let again = try CLITests.gyre(["recipe", "run", second])
        #expect(again.status != 0 && again.err.contains("--append"), "\(again.err)")
    }

    @Test("kill -9 at ten random points, then a resume: byte for byte the store of an uninterrupted run")
    func killAndResume() throws {
        let dir = try Interop.generate("recipe_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pattern = dir.path + "/daily/sst_{time:%Y%m%d}.nc"
        let clean = dir.appendingPathComponent("clean.zarr")
        let cr = try Self.write(Self.recipe(pattern, end: "2020-01-24", target: clean.path, chunks: 2), dir.appendingPathComponent("clean.yaml"))
        let started = Date()
        #expect(try CLITests.gyre(["recipe", "run", cr]).status == 0)
        let seconds = Date().timeIntervalSince(started)
        let want = try Self.tree(clean)
        var rng = SplitMix64(seed: 27)
        var interrupted = 0
        for round in 0..<10 {
            let target = dir.appendingPathComponent("run\(round).zarr")
            let r = try Self.write(Self.recipe(pattern, end: "2020-01-24", target: target.path, chunks: 2), dir.appendingPathComponent("run\(round).yaml"))
            let p = Process()
            p.executableURL = CLITests.binary
            p.arguments = ["recipe", "run", r]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32(Double(rng.next() % 1000) / 1000 * seconds * 0.9 * 1e6))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // Killed (or it had finished already): then run it to the end.
            if p.terminationReason == .uncaughtSignal {
                interrupted += 1
                let resumed = try CLITests.gyre(["recipe", "run", r])
                #expect(resumed.status == 0, "round \(round): \(resumed.err)")
            }
            #expect(try Self.tree(target) == want, "round \(round): the resumed store differs from an uninterrupted run's")
        }
        #expect(interrupted >= 5, "only \(interrupted) of 10 runs were killed before they finished")
    }

    @Test("gyre publish: a collection with the datacube extension and a Zarr asset, valid, found by pystac-client, opened by xarray; served by gyre serve")
    func publish() async throws {
        let dir = try Interop.generate("recipe_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("pub.zarr").path
        let extra = "catalog: {collection: daily-sst, title: Daily SST, description: Daily sea surface temperature from a recipe, license: CC-BY-4.0, keywords: [sst, daily]}"
        let r = try Self.write(Self.recipe(dir.path + "/daily/sst_{time:%Y%m%d}.nc", end: "2020-01-20", target: target, extra: extra), dir.appendingPathComponent("pub.yaml"))
        let db = dir.appendingPathComponent("catalog.db").path
        let published = try CLITests.gyre(["publish", r, "--catalog", db])
        try #require(published.status == 0, "\(published.err)")
        #expect(published.out.contains("collection 'daily-sst' published"), "\(published.out)")
        let server = try STACServerInteropTests.Server(catalog: ["--catalog", db], apiKey: "k")
        defer { server.stop() }
        let asset = try Interop.script("recipe_cases.py", ["--asset", server.url, "daily-sst"])
        #expect(asset.0 == 0 && asset.1.contains("\"time\": 20") && asset.1.contains("application/vnd+zarr"), "\(asset.1)")
        #expect(asset.1.contains("\"lat\"") && asset.1.contains("2020-01-20"), "cube:dimensions and the temporal extent: \(asset.1)")
        // The collection as served passes gyre stac validate.
        let json = try LocalServers.python("import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())", [server.url + "/collections/daily-sst"])
        let file = dir.appendingPathComponent("collection.json")
        try json.write(to: file, atomically: true, encoding: .utf8)
        let valid = try CLITests.gyre(["stac", "validate", file.path])
        #expect(valid.status == 0, "\(valid.out)\(valid.err)")
        // stac-api-validator's core and collections checks (extension schemas from the wheels
        // setup downloads), and the dataset served too.
        let validator = try Interop.script("stac_api_check.py", [server.url, "daily-sst", "k", "core,collections"])
        #expect(validator.0 == 0 && validator.1.contains("stac-api-validator: 0 errors"), "\(validator.1.suffix(3000))")
        let zattrs = try LocalServers.python("import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).status)", [server.url + "/datasets/daily-sst/zarr/.zmetadata"])
        #expect(zattrs.contains("200"))
        // Publishing again (nothing new) updates the collection in place.
        let again = try CLITests.gyre(["publish", r, "--catalog", db])
        #expect(again.status == 0 && again.out.contains("nothing new"), "\(again.out)\(again.err)")
    }

    @Test("a target on S3 (moto): written, checked and resumable there, equal to the local run; published to PostgreSQL")
    func s3TargetAndPostgres() async throws {
        let dir = try Interop.generate("recipe_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LocalServers.moto()
        defer { server.stop() }
        let options = ["endpoint_url": server.url, "key": "testing", "secret": "testing"]
        let bucket = try #require(try StoreResolver.store(for: "s3://recipes", options: options) as? S3Store)
        try await bucket.createBucket()
        let pattern = dir.path + "/daily/sst_{time:%Y%m%d}.nc"
        let so = "storage_options: {endpoint_url: \"\(server.url)\", key: testing, secret: testing}"
        let remote = """
            name: s3-sst
            source: {pattern: "\(pattern)", keys: {time: {start: 2020-01-01, end: 2020-01-12, freq: 1D}}}
            target: {url: "s3://recipes/sst.zarr", format: zarr3, chunks: {time: 4}, codec: "zstd:3", \(so)}
            catalog: {collection: s3-sst, description: Daily SST on S3, license: CC-BY-4.0}
            """
        let r = try Self.write(remote, dir.appendingPathComponent("s3.yaml"))
        let ran = try CLITests.gyre(["recipe", "run", r])
        try #require(ran.status == 0, "\(ran.err)")
        #expect(try await bucket.get("sst.zarr.recipe.json") != nil, "the manifest beside the target on S3")
        let local = dir.appendingPathComponent("local.zarr").path
        let lr = try Self.write(Self.recipe(pattern, end: "2020-01-12", target: local, chunks: 4), dir.appendingPathComponent("local.yaml"))
        #expect(try CLITests.gyre(["recipe", "run", lr]).status == 0)
        let onS3 = try await Dataset.open("s3://recipes/sst.zarr", storageOptions: options).load()
        #expect(try onS3.equals(try await Dataset.open(local).load()), "the S3 target differs from the local one")
        // Published to PostgreSQL (a database of its own); the asset names the endpoint, not the key.
        let name = "gyre_recipe_\(UInt32.random(in: 0..<UInt32.max))"
        try STACServerInteropTests.psql("CREATE DATABASE \(name)")
        defer { try? STACServerInteropTests.psql("DROP DATABASE \(name) WITH (FORCE)") }
        let admin = ProcessInfo.processInfo.environment["GYRE_TEST_POSTGRES"] ?? "postgresql://gyre:gyre@127.0.0.1:5432/postgres"
        let url = admin.replacingOccurrences(of: #"/[^/]*$"#, with: "/\(name)", options: .regularExpression)
        let published = try CLITests.gyre(["publish", r, "--postgres", url])
        try #require(published.status == 0, "\(published.err)")
        let catalog = try await PostgresCatalog(url: url)
        let c = try #require(try await catalog.collection("s3-sst"))
        let asset = try #require(c.assets?["zarr"])
        #expect(asset.href == "s3://recipes/sst.zarr")
        let text = c.json.text
        #expect(text.contains(server.url) && !text.contains("testing"), "the collection carries the endpoint and no credentials: \(text.prefix(2000))")
        #expect(try await catalog.registeredDatasets().contains { $0.name == "s3-sst" })
    }

    static func tree(_ root: URL) throws -> [String: Data] { try LocalServers.fileTree(root) }
}
