import GyreCore
import ArgumentParser
import Foundation
import Gyre

/// `gyre eval SRC... EXPR`: evaluates an xarray-style expression over a dataset, lazily and in
/// bounded memory, and prints or writes the result.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate an xarray-style expression (sst.mean(\"time\"), sst.groupby(\"time.month\").mean(), ...) over a dataset.",
        discussion: """
        The dataset is bound to `ds` and each of its variables by name; `np.` functions and `slice(...)` are available.
        Results are computed in streaming tasks of whole chunks; with -o they are written (a .nc path writes netCDF-4,
        anything else a Zarr v3 store) without ever being whole in memory.
        """)

    @Argument(help: "Sources (a Zarr store, netCDF files or a quoted glob), then the expression.") var arguments: [String]
    @Option(name: .shortAndLong, help: "Write the result here (Zarr store, or netCDF-4 when it ends in .nc).") var output: String?
    @Flag(help: "Print the plan (chunks and bytes read, tasks, predicted peak memory) and read nothing.") var dryRun = false
    @Option(help: "Memory budget, such as 2GB or 512MiB: the plan must fit or nothing is read.") var memory: String?
    @Option(help: "Tasks at once (default: the number of cores).") var threads: Int?
    @Option(help: "Dimension to combine several netCDF files along (default: inferred).") var concatDim: String?
    @Flag(help: "Print the result (or the plan) as JSON.") var json = false
    @Option(help: "Zarr output: zarr2 or zarr3 (default zarr3).") var format: String?
    @Option(help: "Output compressor: zstd:LEVEL (default zstd:3) | blosc:CNAME:LEVEL[:shuffle|bitshuffle|noshuffle] | zlib:LEVEL | gzip:LEVEL | lz4 | none (netCDF output: zlib:LEVEL or none).") var codec: String?
    @Option(help: "Output chunk lengths, DIM=N,... (default: the result's blocks).") var chunks: String?
    @Flag(help: "Replace the output if it exists.") var overwrite = false
    @Flag(help: "At the end, print the process's peak resident memory to stderr.") var peakMemory = false
    @Option(help: "Run on this Dask scheduler (tcp://HOST:8786; default: DASK_SCHEDULER_ADDRESS when set). Workers need GYRE_LIBRARY; the Python that submits is GYRE_PYTHON or python3.") var scheduler: String?
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        guard arguments.count >= 2 else { throw ValidationError("give at least one source and an expression") }
        let expression = arguments.last!
        let sources = Array(arguments.dropLast())
        var options = ComputeOptions(threads: threads)
        if let memory {
            guard let bytes = parseBytes(memory) else { throw ValidationError("--memory \(memory): expected a size such as 2GB, 512MiB or 1000000") }
            // The budget is the whole process's: freed blocks kept for reuse get a quarter of
            // it, and what the process already holds (the runtime, the opened metadata) is
            // counted when the computation starts.
            options.memoryBudget = bytes - bytes / 4
            GyreRuntime.limitBlockCache(bytes / 4)
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        let storageOptions = try storage.options()
        if let output, FileManager.default.fileExists(atPath: output), !overwrite {
            throw CLIError("\(output) already exists; pass --overwrite to replace it")
        }
        let writeOptions = try outputOptions()
        if let address = scheduler ?? DaskExecutor.environmentScheduler {
            return try await runOnDask(address, expression: expression, sources: sources, storageOptions: storageOptions, writeOptions: writeOptions.zarr)
        }
        let value = try await Self.evaluate(expression, sources: sources, concatDim: concatDim, storageOptions: storageOptions)
        let result: Dataset?
        switch value {
        case .array(let a): result = try a.toDataset(name: a.name ?? "result")
        case .dataset(let d): result = d
        default: result = nil
        }
        guard var result else {
            print(describe(value))
            return
        }
        let resultName: String? = { if case .array(let a) = value { return a.name ?? "result" }; return nil }()
        if dryRun {
            try ComputeOptions.$current.withValue(options) { try printPlan(result) }
            return
        }
        if let budget = options.memoryBudget, let resident = GyreRuntime.residentBytes() {
            guard resident < budget else {
                throw CLIError("--memory \(memory ?? ""): the process already holds \(resident) bytes before computing, more than the memory budget leaves for it; nothing was read")
            }
            options.memoryBudget = budget - resident
        }
        let progress = ComputeProgress()
        options.progress = progress
        let display = ProgressDisplay(progress: progress, enabled: isatty(STDERR_FILENO) == 1)
        display.start()
        defer { display.stop() }
        do {
            try await ComputeOptions.$current.withValue(options) {
                if let output {
                    if output.hasSuffix(".nc") {
                        try await result.writeNetCDF(to: output, options: writeOptions.netCDF)
                    } else {
                        try await result.writeZarr(to: Dataset.writableStore(output, storageOptions: storageOptions), options: writeOptions.zarr)
                    }
                    return
                }
                result = try await result.load()
            }
        } catch { throw CLIError("\(error)") }
        display.stop()
        if peakMemory, let peak = GyreRuntime.peakResidentBytes() {
            FileHandle.standardError.write(Data("peak resident memory: \(peak) bytes\n".utf8))
        }
        guard output == nil else { return }
        printResult(result, name: resultName)
    }

    /// A computed result as JSON (`--json`), as its array's repr, or as the dataset's.
    func printResult(_ result: Dataset, name: String?) {
        if json {
            print(String(decoding: result.valuesJSON(arrayName: name).serialized(indent: 2, sortedKeys: true), as: UTF8.self))
        } else if let name, let a = result[name] {
            print(a.description)
        } else {
            print(result.description)
        }
    }

    /// The same computation as a task graph on a Dask cluster: the workers read the sources
    /// and write the output themselves; the result (without -o) comes back in blocks.
    func runOnDask(_ address: String, expression: String, sources: [String], storageOptions: [String: String],
                   writeOptions: ZarrWriteOptions) async throws {
        if memory != nil { throw ValidationError("--memory budgets a local run; on Dask each worker's memory is Dask's to manage") }
        if output?.hasSuffix(".nc") == true {
            throw ValidationError("on Dask the workers write the output in pieces: write Zarr (a path or an s3:// URL), not netCDF")
        }
        // Workers run elsewhere: local paths are given to them whole.
        func absolute(_ s: String) -> String {
            guard !s.contains("://"), !s.hasPrefix("/") else { return s }
            return FileManager.default.currentDirectoryPath + "/" + s
        }
        let program = ProgramReference(sources: sources.map(absolute), expression: expression, concatDim: concatDim,
                                       storageOptions: storageOptions, output: output.map(absolute))
        let computation: DistributedComputation
        do { computation = try await DistributedComputation.plan(program, writeOptions: writeOptions) } catch { throw CLIError("\(error)") }
        if dryRun {
            let counts = computation.graph.counts
            let kinds = counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", ")
            if json {
                var o: JSONObject = ["dask_tasks": .int(Int64(computation.graph.tasks.count)), "scheduler": .string(address)]
                for (k, n) in counts { o[k] = .int(Int64(n)) }
                print(String(decoding: JSON.object(o).serialized(indent: 2, sortedKeys: true), as: UTF8.self))
            } else {
                print("dask tasks: \(computation.graph.tasks.count) (\(kinds)) for \(address)")
            }
            return
        }
        let progress = ComputeProgress()
        let display = ProgressDisplay(progress: progress, enabled: isatty(STDERR_FILENO) == 1)
        display.start()
        let result: Dataset?
        do {
            defer { display.stop() }
            result = try await computation.run(on: DaskExecutor(scheduler: address), progress: progress)
        } catch { throw CLIError("\(error)") }
        guard let result else { return }
        printResult(result, name: computation.arrayName)
    }

    /// How `-o` writes: `--format`, `--codec` and `--chunks` checked before anything is read.
    func outputOptions() throws -> (zarr: ZarrWriteOptions, netCDF: NetCDFWriteOptions) {
        if output == nil, format != nil || codec != nil || chunks != nil {
            throw ValidationError("--format, --codec and --chunks describe the output: give -o DST")
        }
        let sizes = try chunks.map { c in
            do { return try Specs.sizes(c) } catch { throw ValidationError("--chunks: \(error)") }
        }
        if output?.hasSuffix(".nc") == true {
            if format != nil { throw ValidationError("--format applies to Zarr output, not .nc") }
            return (ZarrWriteOptions(), NetCDFWriteOptions(chunks: sizes, zlibLevel: try OutputFlags.netCDFZlibLevel(codec), overwrite: overwrite))
        }
        var z = ZarrWriteOptions(format: try OutputFlags.zarrFormat(format) ?? .v3, chunks: sizes ?? [:], overwrite: overwrite)
        if let codec {
            do { z.compressors = try Specs.compressors(codec) } catch { throw ValidationError("--codec: \(error)") }
        }
        return (z, NetCDFWriteOptions())
    }

    func describe(_ v: ExprValue) -> String { Self.describe(v) }

    /// Opens the sources (one dataset, or several files joined along `concatDim`) and evaluates
    /// the expression over them, lazily; errors as the CLI prints them.
    static func evaluate(_ expression: String, sources: [String], concatDim: String?, storageOptions: [String: String]) async throws -> ExprValue {
        let ds: Dataset
        do {
            ds = sources.count == 1 ? try await Dataset.open(sources[0], concatDim: concatDim, storageOptions: storageOptions)
                : try await Dataset.open(files: sources, concatDim: concatDim, storageOptions: storageOptions)
        } catch { throw CLIError("\(error)") }
        do { return try await Evaluator(dataset: ds).evaluate(expression) } catch let e as GyreExprError {
            throw CLIError(e.pointing(into: expression))
        }
    }

    /// A plain value as Python prints it.
    static func describe(_ v: ExprValue) -> String {
        switch v {
        case .number(let d, let i): return i ? String(Int(d)) : String(d)
        case .string(let s): return s
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let t): return "(" + t.map(describe).joined(separator: ", ") + (t.count == 1 ? ",)" : ")")
        case .list(let t): return "[" + t.map(describe).joined(separator: ", ") + "]"
        default: return "<\(v)>"
        }
    }

    func printPlan(_ ds: Dataset) throws {
        var plans: [(String, ComputePlan)] = []
        for (k, v) in ds.variables {
            guard let l = v.lazyData else { continue }
            do { plans.append((k, try l.plan())) } catch { throw CLIError("\(k): \(error)") }
        }
        if json {
            var o: JSONObject = [:]
            for (k, p) in plans {
                o[k] = .object(["chunks_read": .int(Int64(p.chunksRead)), "bytes_read": .int(Int64(p.bytesRead)), "tasks": .int(Int64(p.tasks)),
                                "peak_memory": .int(Int64(p.peakMemory)), "result_bytes": .int(Int64(p.resultBytes)),
                                "steps": .array(p.steps.map { .string($0) })])
            }
            print(String(decoding: JSON.object(o).serialized(indent: 2, sortedKeys: true), as: UTF8.self))
            return
        }
        if plans.isEmpty { print("nothing to compute: every value is in memory") }
        for (k, p) in plans { print("\(k):\n\(p)") }
    }

}

/// "2GB", "512MiB", "1.5G", "1000000".
func parseBytes(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces).lowercased()
    let ki = 1024.0, mi = ki * ki, gi = mi * ki, ti = gi * ki
    let units: [(String, Double)] = [("tib", ti), ("gib", gi), ("mib", mi), ("kib", ki), ("tb", 1e12), ("gb", 1e9),
                                     ("mb", 1e6), ("kb", 1e3), ("t", ti), ("g", gi), ("m", mi), ("k", ki), ("b", 1)]
    for (u, f) in units where t.hasSuffix(u) {
        guard let v = Double(t.dropLast(u.count).trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
        return Int(v * f)
    }
    guard let v = Int(t), v > 0 else { return nil }
    return v
}

/// Tasks, bytes read, rate, ETA and memory in use on one terminal line, refreshed while a
/// computation runs. Silent when stderr is not a terminal.
final class ProgressDisplay: @unchecked Sendable {
    let progress: ComputeProgress
    let enabled: Bool
    private var task: Task<Void, Never>?
    private let lock = NSLock()

    init(progress: ComputeProgress, enabled: Bool) {
        self.progress = progress
        self.enabled = enabled
    }

    func start() {
        guard enabled else { return }
        task = Task { [progress] in
            while !Task.isCancelled {
                let s = progress.snapshot
                let eta = s.eta.map { String(format: "%.0fs", $0) } ?? "?"
                let line = String(format: "\r%d/%d tasks  %.1f MB read  %.1f MB/s  ETA %@  memory %.0f MB (rss %.0f MB)   ",
                                  s.tasksDone, s.tasksTotal, Double(s.bytesRead) / 1e6, s.rate / 1e6, eta,
                                  Double(s.memoryInUse) / 1e6, Double(residentBytes()) / 1e6)
                FileHandle.standardError.write(Data(line.utf8))
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
    }

    func stop() {
        lock.lock(); defer { lock.unlock() }
        guard let t = task else { return }
        t.cancel()
        task = nil
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// The process's resident memory in bytes (Linux /proc; 0 elsewhere).
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let f = s.split(separator: " ")
    guard f.count > 1, let pages = Int(f[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
