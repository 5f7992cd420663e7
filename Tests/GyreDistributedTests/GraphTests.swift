import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreDistributed
import GyreExpr
import GyreStorage
import GyreTestSupport
import Testing

/// Task graphs as plain values, run by the local graph executor: the same bytes as computing
/// in this process, whatever the expression.
@Suite struct GraphTests {
    @Test("a graph run task by task gives the bytes of computing here", arguments: Fixtures.expressions)
    func sameBytes(_ expression: String) async throws {
        let cube = try await Fixtures.cube()
        defer { try? FileManager.default.removeItem(at: cube.deletingLastPathComponent()) }
        let p = ProgramReference(sources: [cube.path], expression: expression, taskBytes: 20_000)
        let want = try await Fixtures.direct(p)
        let c = try await DistributedComputation.plan(p)
        #expect(c.graph.tasks.count > (expression.contains("median") ? 0 : 3), "\(expression): \(c.graph.counts)")
        // Through JSON, as the graph travels to Dask.
        let graph = try TaskGraph(json: try JSON.parse(c.graph.json.serialized(indent: 0)))
        #expect(graph.json.serialized(indent: 0, sortedKeys: true) == c.graph.json.serialized(indent: 0, sortedKeys: true))
        let results = try await LocalGraphExecutor.gyre(threads: 2).run(graph, progress: nil)
        let got = try #require(try await c.finish(results))
        for (name, v) in want.variables where !want.coordNames.contains(name) {
            let g = try #require(got.variables[name], "\(expression): no \(name)")
            #expect(try Fixtures.same(try g.data, try v.data), "\(expression): \(name) differs from computing here")
        }
    }

    @Test("an anomaly written by write tasks is the store writing here makes, file for file")
    func writtenStore() async throws {
        let cube = try await Fixtures.cube()
        let dir = cube.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let expression = "sst.groupby('time.month') - sst.groupby('time.month').mean()"
        let here = dir.appendingPathComponent("here.zarr"), there = dir.appendingPathComponent("graph.zarr")
        let ds = try await Dataset.open(cube.path)
        guard case .array(let a) = try await Evaluator(dataset: ds).evaluate(expression) else { Issue.record("not an array"); return }
        try await ComputeOptions.$current.withValue(ComputeOptions(taskBytes: 60_000)) {
            try await a.toDataset(name: a.name ?? "result").write(to: here.path)
        }
        let p = ProgramReference(sources: [cube.path], expression: expression, output: there.path, taskBytes: 60_000)
        let c = try await DistributedComputation.plan(p)
        #expect((c.graph.counts["write"] ?? 0) > 1, "\(c.graph.counts)")
        let progress = ComputeProgress()
        #expect(try await c.run(on: LocalGraphExecutor.gyre(threads: 2), progress: progress) == nil)
        #expect(progress.snapshot.tasksDone == c.graph.tasks.count && progress.snapshot.tasksTotal == c.graph.tasks.count)
        #expect(try Self.files(here) == Self.files(there), "the stores differ")
    }

    /// Every file of a store (relative path and bytes).
    static func files(_ root: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root.path) else { return out }
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = root.appendingPathComponent(rel).path
            if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { out[rel] = fm.contents(atPath: path) }
        }
        return out
    }

    @Test("bad programs and bad task inputs give errors that name them")
    func errors() async throws {
        let cube = try await Fixtures.cube(days: 20)
        defer { try? FileManager.default.removeItem(at: cube.deletingLastPathComponent()) }
        await #expect { try await DistributedComputation.plan(ProgramReference(sources: [cube.path], expression: "sst.mean('tiem')")) } throws: {
            "\($0)".contains("tiem")
        }
        await #expect { try await DistributedComputation.plan(ProgramReference(sources: [cube.path + "-missing"], expression: "sst")) } throws: {
            "\($0)".contains("sst.zarr-missing")
        }
        await #expect { try await DistributedComputation.plan(ProgramReference(sources: [cube.path], expression: "1 + 1")) } throws: {
            "\($0)".contains("plain value")
        }
        // A combine given bytes that are not a task's result.
        let p = ProgramReference(sources: [cube.path], expression: "sst.mean('time')", taskBytes: 4_000)
        let c = try await DistributedComputation.plan(p)
        let combine = try #require(c.graph.tasks.first { if case .combine = $0.op { return true }; return false })
        var broken = c.graph
        broken.tasks = Array(c.graph.tasks.prefix(combine.id + 1))
        broken.results = [combine.id]
        let executor = LocalGraphExecutor(threads: 1) { program, task, inputs in
            let given = task.id == combine.id ? inputs.map { Array($0.prefix(20)) } : inputs
            return try await TaskRunner.run(program, task, inputs: given, threads: 1)
        }
        await #expect { try await executor.run(broken, progress: nil) } throws: { "\($0)".contains("task \(combine.id)") && "\($0)".contains("truncated") }
        // Malformed graphs and tasks.
        #expect(throws: (any Error).self) { try TaskGraph(json: try JSON.parse("{\"program\": {\"sources\": []}, \"tasks\": []}")) }
        #expect { try GraphTask(json: try JSON.parse("{\"id\": 1, \"variable\": \"sst\", \"op\": \"explode\"}")) } throws: { "\($0)".contains("explode") }
        #expect { try GraphTask(json: try JSON.parse("{\"id\": 1, \"variable\": \"sst\", \"op\": \"compute\", \"box\": [[5, 2]]}")) } throws: { "\($0)".contains("box") }
    }
}
