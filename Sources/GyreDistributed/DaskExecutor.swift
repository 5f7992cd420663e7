import Foundation
import GyreCompute

/// Runs task graphs on a running Dask `distributed` scheduler: the graph goes to Dask's own
/// Python client (the module `gyre_dask`, run by the Python that has `distributed`), which
/// submits it as one Dask graph; each Dask task calls Gyre's native library on the worker.
/// Dask places, retries and balances the tasks; a worker that dies has its tasks run again
/// elsewhere.
public struct DaskExecutor: TaskGraphExecutor {
    /// The scheduler's address (`tcp://host:8786`).
    public var scheduler: String
    /// The Python with `distributed` that submits the graph (`GYRE_PYTHON`, else `python3`).
    public var python: String
    /// The folder holding the `gyre_dask` package (shipped with Gyre).
    public var packageDirectory: String
    /// Seconds to wait for the scheduler to answer.
    public var connectTimeout: Double = 10

    public init(scheduler: String, python: String? = nil, packageDirectory: String? = nil) {
        self.scheduler = scheduler
        let env = ProcessInfo.processInfo.environment
        self.python = python ?? env["GYRE_PYTHON"] ?? "python3"
        self.packageDirectory = packageDirectory ?? Self.bundledPackage
    }

    /// Where the `gyre_dask` package is: `GYRE_PYTHON_PACKAGE`, else the copy built beside
    /// the binary (the package's resources).
    public static var bundledPackage: String {
        if let p = ProcessInfo.processInfo.environment["GYRE_PYTHON_PACKAGE"] { return p }
        return Bundle.module.resourceURL?.appendingPathComponent("Python").path ?? "Python"
    }

    /// The scheduler from `DASK_SCHEDULER_ADDRESS` (Dask's own variable), if set.
    public static var environmentScheduler: String? {
        ProcessInfo.processInfo.environment["DASK_SCHEDULER_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func run(_ graph: TaskGraph, progress: ComputeProgress?) async throws -> [Int: [UInt8]] {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("gyre-dask-\(UUID().uuidString)")
        let resultsDir = dir.appendingPathComponent("results")
        try fm.createDirectory(at: resultsDir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let graphFile = dir.appendingPathComponent("graph.json")
        try Data(graph.json.serialized(indent: 0)).write(to: graphFile)
        guard fm.fileExists(atPath: packageDirectory + "/gyre_dask/driver.py") else {
            throw GyreDistributedError(.cluster, "Gyre's Python module is not at \(packageDirectory)/gyre_dask; set GYRE_PYTHON_PACKAGE to the folder that holds it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "gyre_dask.driver", "--scheduler", scheduler, "--graph", graphFile.path,
                             "--results", resultsDir.path, "--timeout", String(connectTimeout)]
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = [packageDirectory, env["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw GyreDistributedError(.cluster, "cannot start \(python) to talk to the Dask scheduler: \(error); set GYRE_PYTHON to a Python with distributed", cause: error)
        }
        let python = self.python, scheduler = self.scheduler
        // Progress and the outcome from the driver's lines; its stderr kept for errors.
        let stderrText = Task.detached { String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let outcome: (error: String?, finished: Bool) = try await BlockingIO.run {
            var buffer = Data(), error: String?, finished = false, lastDone = 0
            let h = out.fileHandleForReading
            while true {
                let chunk = h.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    guard line.hasPrefix("gyre: ") else { continue }
                    let rest = line.dropFirst(6)
                    if rest.hasPrefix("tasks "), let n = Int(rest.dropFirst(6)) { progress?.addTasks(n) }
                    else if rest.hasPrefix("done "), let n = Int(rest.dropFirst(5)) {
                        for _ in lastDone..<max(lastDone, n) { progress?.taskDone(bytesRead: 0) }
                        lastDone = max(lastDone, n)
                    } else if rest.hasPrefix("error ") { error = String(rest.dropFirst(6)) }
                    else if rest == "finished" { finished = true }
                }
            }
            return (error, finished)
        }
        try await BlockingIO.run { process.waitUntilExit() }
        let stderr = await stderrText.value
        if let e = outcome.error { throw GyreDistributedError(.cluster, e) }
        guard process.terminationStatus == 0, outcome.finished else {
            let tail = stderr.split(separator: "\n").suffix(8).joined(separator: "\n")
            throw GyreDistributedError(.cluster, "\(python) running the graph on \(scheduler) stopped with status \(process.terminationStatus): \(tail)")
        }
        var results: [Int: [UInt8]] = [:]
        for id in graph.results {
            let f = resultsDir.appendingPathComponent("\(id).bin")
            guard let d = fm.contents(atPath: f.path) else { throw GyreDistributedError(.task, "task \(id) gave no result on \(scheduler)") }
            results[id] = [UInt8](d)
        }
        return results
    }
}
