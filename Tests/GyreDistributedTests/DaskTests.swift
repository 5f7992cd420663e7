import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreDistributed
import GyreExpr
import GyreStorage
import GyreTestSupport
import Testing

/// Gyre's task graphs on a real Dask cluster (`dask scheduler` and two `dask worker`s of one
/// thread each, from the test venv, on loopback), each worker running tasks through
/// libGyreWorker.so.
@Suite(.serialized) struct DaskTests {
    static let python = LocalServers.root.appendingPathComponent(".venv/bin/python").path

    func dask(_ cluster: LocalServers.DaskCluster) -> DaskExecutor { DaskExecutor(scheduler: cluster.address, python: Self.python) }

    @Test("on two Dask workers: the bytes of computing here, in memory and written; the Python entry point; gyre eval --scheduler")
    func cluster() async throws {
        let cluster = try LocalServers.DaskCluster(workers: 2)
        defer { cluster.stop() }
        let cube = try await Fixtures.cube()
        let dir = cube.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        for expression in Fixtures.expressions {
            let p = ProgramReference(sources: [cube.path], expression: expression, taskBytes: 20_000)
            let want = try await Fixtures.direct(p)
            let c = try await DistributedComputation.plan(p)
            let progress = ComputeProgress()
            let got = try #require(try await c.run(on: dask(cluster), progress: progress))
            #expect(progress.snapshot.tasksDone == c.graph.tasks.count && progress.snapshot.tasksTotal == c.graph.tasks.count,
                    "\(expression): progress \(progress.snapshot.tasksDone)/\(progress.snapshot.tasksTotal) of \(c.graph.tasks.count)")
            for (name, v) in want.variables where !want.coordNames.contains(name) {
                let g = try #require(got.variables[name])
                #expect(try Fixtures.same(try g.data, try v.data), "\(expression): \(name) on Dask differs from computing here")
            }
        }
        // An anomaly written by the workers straight to the store: the files writing here makes.
        let anomaly = "sst.groupby('time.month') - sst.groupby('time.month').mean()"
        let here = dir.appendingPathComponent("here.zarr"), there = dir.appendingPathComponent("dask.zarr")
        guard case .array(let a) = try await Evaluator(dataset: try await Dataset.open(cube.path)).evaluate(anomaly) else { return }
        try await ComputeOptions.$current.withValue(ComputeOptions(taskBytes: 60_000)) { try await a.toDataset(name: "sst").write(to: here.path) }
        let written = try await DistributedComputation.plan(ProgramReference(sources: [cube.path], expression: anomaly, output: there.path, taskBytes: 60_000))
        #expect(try await written.run(on: dask(cluster)) == nil)
        #expect(try GraphTests.files(here) == GraphTests.files(there), "the store the workers wrote differs")

        // The Python entry point, with a distributed.Client of the user's.
        let out = try LocalServers.python("""
            import os, sys, numpy as np, warnings
            warnings.simplefilter("ignore")
            sys.path.insert(0, sys.argv[3])
            os.environ["GYRE_LIBRARY"] = sys.argv[6]
            import gyre_dask, xarray as xr
            from distributed import Client
            client = Client(sys.argv[1])
            seen = []
            r = gyre_dask.compute(client, [sys.argv[2]], "sst.groupby('time.month').mean()", task_bytes=60000, on_progress=lambda d, t: seen.append((d, t)))
            np.save(sys.argv[4], r["sst"])
            ref = xr.open_zarr(sys.argv[2]).sst.groupby("time.month").mean().values
            print(float(np.nanmax(np.abs(r["sst"] - ref))), seen[-1][0] == seen[-1][1], len(seen))
            gyre_dask.compute(client, [sys.argv[2]], "sst.mean('time')", output=sys.argv[5])
            print(float(np.nanmax(np.abs(xr.open_zarr(sys.argv[5]).sst.values - xr.open_zarr(sys.argv[2]).sst.mean("time").values))))
            """, [cluster.address, cube.path, DaskExecutor.bundledPackage, dir.appendingPathComponent("clim.npy").path,
                  dir.appendingPathComponent("py-mean.zarr").path, LocalServers.workerLibrary])
        let lines = out.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(lines.count == 2 && Double(lines[0][0])! < 1e-5 && lines[0][1] == "True", "\(out)")
        #expect(lines.count == 2 && Double(lines[1][0])! < 1e-5, "\(out)")
        let clim = try AnyNDArray.readNPY(dir.appendingPathComponent("clim.npy"))
        let want = try await Fixtures.direct(ProgramReference(sources: [cube.path], expression: "sst.groupby('time.month').mean()", taskBytes: 60_000))
        #expect(try Fixtures.same(clim, try want.variables["sst"]!.data), "the Python entry point's climatology differs from computing here")

        // The CLI: the same store as writing here.
        let cli = dir.appendingPathComponent("cli.zarr")
        let (status, err, _) = try Self.gyre(["eval", cube.path, anomaly, "-o", cli.path, "--scheduler", cluster.address])
        #expect(status == 0, "\(err)")
        let local = dir.appendingPathComponent("cli-local.zarr")
        let (localStatus, localErr, _) = try Self.gyre(["eval", cube.path, anomaly, "-o", local.path], environment: ["DASK_SCHEDULER_ADDRESS": ""])
        #expect(localStatus == 0, "\(localErr)")
        #expect(try GraphTests.files(cli) == GraphTests.files(local), "gyre eval --scheduler wrote another store than gyre eval")
        // DASK_SCHEDULER_ADDRESS stands for --scheduler, as in Dask's own tools.
        let (dry, dryErr, dryOut) = try Self.gyre(["eval", cube.path, "sst.mean('time')", "--dry-run"], environment: ["DASK_SCHEDULER_ADDRESS": cluster.address])
        #expect(dry == 0 && dryOut.contains("dask tasks:") && dryOut.contains(cluster.address), "\(dryOut) \(dryErr)")
        let (viaEnv, envErr, envOut) = try Self.gyre(["eval", cube.path, "sst.mean('time').isel(lat=0, lon=0)", "--json"], environment: ["DASK_SCHEDULER_ADDRESS": cluster.address])
        let (_, _, localOut) = try Self.gyre(["eval", cube.path, "sst.mean('time').isel(lat=0, lon=0)", "--json"], environment: ["DASK_SCHEDULER_ADDRESS": ""])
        #expect(viaEnv == 0 && envOut == localOut && envOut.contains("\"data\""), "\(envOut) \(envErr)")
    }

    @Test("sources and output in S3 (moto): the workers read the cube and write the anomaly there themselves")
    func objectStorage() async throws {
        let s3 = try LocalServers.moto()
        defer { s3.stop() }
        let options = ["endpoint_url": s3.url, "key": "testing", "secret": "testing", "region": "us-east-1"]
        var s3Options = S3Options(endpoint: s3.url, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"))
        s3Options.network.attempts = 2
        try await S3Store(bucket: "gyre", options: s3Options).createBucket()
        let local = try await Fixtures.cube(days: 60)
        let dir = local.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Dataset.open(local.path).write(to: "s3://gyre/cube.zarr", storageOptions: options)
        let cluster = try LocalServers.DaskCluster(workers: 2)
        defer { cluster.stop() }
        let anomaly = "sst.groupby('time.month') - sst.groupby('time.month').mean()"
        let p = ProgramReference(sources: ["s3://gyre/cube.zarr"], expression: anomaly, storageOptions: options,
                                 output: "s3://gyre/anomaly.zarr", taskBytes: 20_000)
        let c = try await DistributedComputation.plan(p)
        #expect((c.graph.counts["write"] ?? 0) > 1)
        #expect(try await c.run(on: dask(cluster)) == nil)
        // The same values as the anomaly computed here from the local files.
        let want = try await Fixtures.direct(ProgramReference(sources: [local.path], expression: anomaly, taskBytes: 20_000))
        let got = try await Dataset.open("s3://gyre/anomaly.zarr", storageOptions: options)
        #expect(try Fixtures.same(try await got.variables["sst"]!.load().data, try want.variables["sst"]!.data))
    }

    @Test("a worker killed in the middle of a run: Dask runs its tasks again; the store is complete and identical")
    func killedWorker() async throws {
        let cube = try await Fixtures.cube(days: 720, chunkDays: 2)
        let dir = cube.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let anomaly = "sst.groupby('time.month') - sst.groupby('time.month').mean()"
        let here = dir.appendingPathComponent("here.zarr")
        let graph = try await DistributedComputation.plan(ProgramReference(sources: [cube.path], expression: anomaly, output: here.path, taskBytes: 8_000))
        _ = try await graph.run(on: LocalGraphExecutor.gyre(threads: 2))
        // The kill must land while tasks remain: on a loaded machine the whole run can finish
        // between two looks at the progress, so a run that did is tried again (three times).
        var killedMidRun = false
        for attempt in 0..<3 where !killedMidRun {
            let cluster = try LocalServers.DaskCluster(workers: 2)
            defer { cluster.stop() }
            let there = dir.appendingPathComponent("dask-\(attempt).zarr")
            let c = try await DistributedComputation.plan(ProgramReference(sources: [cube.path], expression: anomaly, output: there.path, taskBytes: 8_000))
            let total = c.graph.tasks.count
            #expect(total > 400, "\(c.graph.counts)")
            let progress = ComputeProgress()
            let executor = dask(cluster)
            let run = Task { try await c.run(on: executor, progress: progress) }
            let deadline = Date().addingTimeInterval(120)
            while progress.snapshot.tasksDone < 1 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
            cluster.kill(worker: 0)
            let doneAtKill = progress.snapshot.tasksDone
            _ = try await run.value
            killedMidRun = doneAtKill < total
            #expect(progress.snapshot.tasksDone == total)
            #expect(try GraphTests.files(here) == GraphTests.files(there), "the store written through a worker's death differs (killed after \(doneAtKill) of \(total) tasks)")
        }
        #expect(killedMidRun, "every run ended before the worker was killed")
    }

    @Test("an unreachable scheduler, workers without Gyre and a task on corrupt data each give an error naming the cause")
    func errors() async throws {
        let cube = try await Fixtures.cube(days: 40)
        let dir = cube.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = ProgramReference(sources: [cube.path], expression: "sst.mean('time')", taskBytes: 20_000)
        let c = try await DistributedComputation.plan(p)
        var nowhere = DaskExecutor(scheduler: "tcp://127.0.0.1:\(try LocalServers.freePort())", python: Self.python)
        nowhere.connectTimeout = 2
        await #expect { try await c.run(on: nowhere) } throws: { "\($0)".contains("cannot reach the Dask scheduler at tcp://127.0.0.1:") }

        do {
            let bare = try LocalServers.DaskCluster(workers: 1, library: "")
            defer { bare.stop() }
            await #expect { try await c.run(on: dask(bare)) } throws: {
                "\($0)".contains("cannot run Gyre's tasks") && "\($0)".contains("GYRE_LIBRARY") && "\($0)".contains(bare.workers[0].url.replacingOccurrences(of: "http://", with: "tcp://"))
            }
        }

        let cluster = try LocalServers.DaskCluster(workers: 1)
        defer { cluster.stop() }
        let chunk = cube.appendingPathComponent("sst/c/2/0/0")
        #expect(FileManager.default.fileExists(atPath: chunk.path))
        try Data("not a chunk".utf8).write(to: chunk)
        await #expect { try await c.run(on: dask(cluster)) } throws: { e in
            let s = "\(e)"
            return s.contains("failed on the cluster") && s.contains("c/2/0/0")
        }
    }

    /// Runs the gyre binary the tests built, with the test venv's Python for Dask.
    static func gyre(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = LocalServers.root.appendingPathComponent(".build/debug/gyre")
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(["GYRE_PYTHON": python]) { $1 }.merging(environment) { $1 }
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self), String(decoding: o, as: UTF8.self))
    }
}
