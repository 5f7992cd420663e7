// gyre-bench: the Gyre side of the side-by-side benchmarks (driven by Benchmarks/run).
// Usage: gyre-bench reductions --data FILE.npy --peer PEER.json [--case "sum axis=1"] [--repeat N]
//        gyre-bench zarr --dir DIR --peer PEER.json
//        gyre-bench netcdf --dir DIR --peer PEER.json
//        gyre-bench render --dir DIR --width W --height H --x-range A,B --y-range C,D [--repeat N]
//        gyre-bench large-plan   (10^7-chunk sources: task graphs for Dask, and a local run)
import Foundation
import Gyre
import GyreCompute

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gyre-bench: \(message)\n".utf8))
    exit(2)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Sum of the non-NaN values (Gyre's own NaN-skipping sum, computed in float64).
func nansum(_ a: AnyNDArray) -> Double {
    ((try? a.astype(a.dtype == .float32 ? .float64 : a.dtype).sum(skipna: true))?.scalarValue?.doubleValue) ?? .nan
}

struct PeerCase: Decodable { let seconds: Double; let checksum: Double }

func reductions() throws {
    guard let dataPath = argument("--data"), let peerPath = argument("--peer") else {
        fail("reductions needs --data FILE.npy --peer PEER.json")
    }
    let peer = try JSONDecoder().decode([String: PeerCase].self, from: Data(contentsOf: URL(fileURLWithPath: peerPath)))
    let array = try AnyNDArray.readNPY(URL(fileURLWithPath: dataPath)).contiguous()
    print("  array \(array.shape) \(array.dtype), \(array.nbytes / 1_000_000) MB")
    let ops: [(String, (AnyNDArray, Int) throws -> AnyNDArray)] = [
        ("sum", { try $0.sum(axes: [$1], skipna: false) }),
        ("mean", { try $0.mean(axes: [$1], skipna: false) }),
        ("nanmean", { try $0.mean(axes: [$1], skipna: true) }),
        ("std", { try $0.std(axes: [$1], skipna: false) }),
    ]
    let only = argument("--case")                       // run one case, e.g. "sum axis=1"
    let repeats = Int(argument("--repeat") ?? "3") ?? 3  // best of N
    print("  case              numpy s    gyre s   speedup  results agree")
    var worst = Double.infinity
    for (name, op) in ops {
        for axis in 0..<array.ndim {
            let key = "\(name) axis=\(axis)"
            if let only, only != key { continue }
            var best = Double.infinity
            var result: AnyNDArray?
            for _ in 0..<max(repeats, 1) {
                best = min(best, try seconds { result = try op(array, axis) })
            }
            guard let p = peer[key] else { fail("peer results have no case '\(key)'") }
            let sum = nansum(result!)
            let agree = abs(sum - p.checksum) <= 1e-4 * max(abs(p.checksum), 1)
            let ratio = p.seconds / best
            worst = min(worst, ratio)
            print("  \(key.padding(toLength: 16, withPad: " ", startingAt: 0))  \(String(format: "%7.3f", p.seconds))  \(String(format: "%8.3f", best))  \(String(format: "%7.2fx", ratio))  \(agree ? "yes" : "NO (gyre \(sum), numpy \(p.checksum))")")
        }
    }
    print("  slowest case: Gyre is \(String(format: "%.2f", worst))x NumPy's speed")
}

struct ZarrPeer: Decodable {
    let write_zarr: Double, write_xarray: Double, read_zarr: Double, read_xarray: Double, convert_xarray: Double
    let nbytes: Int, checksum: Double
}

func zarrIO() async throws {
    guard let dir = argument("--dir"), let peerPath = argument("--peer") else { fail("zarr needs --dir DIR --peer PEER.json") }
    let peer = try JSONDecoder().decode([String: ZarrPeer].self, from: Data(contentsOf: URL(fileURLWithPath: peerPath)))
    let ops = Set((argument("--ops") ?? "read,write,convert").split(separator: ",").map(String.init))
    print("  store           op        zarr-python s  xarray s   gyre s   vs zarr-python  vs xarray   gyre MB/s  agree")
    func row(_ store: String, _ op: String, _ z: Double?, _ x: Double, _ g: Double, _ bytes: Int, _ agree: String) {
        let zs = z.map { String(format: "%10.2f", $0) } ?? "         -"
        let zr = z.map { String(format: "%12.2fx", $0 / g) } ?? "            -"
        print("  \(store.padding(toLength: 14, withPad: " ", startingAt: 0))  \(op.padding(toLength: 8, withPad: " ", startingAt: 0))  \(zs)  \(String(format: "%8.2f", x))  \(String(format: "%7.2f", g))  \(zr)  \(String(format: "%8.2fx", x / g))  \(String(format: "%9.0f", Double(bytes) / g / 1e6))  \(agree)")
    }
    for name in peer.keys.sorted() {
        let p = peer[name]!
        let src = try await ZarrArray.open(FileStore(path: "\(dir)/\(name).zarr"), path: "sst")
        var data: AnyNDArray?
        var readBest = Double.infinity
        for _ in 0..<2 {
            data = nil
            let t0 = DispatchTime.now().uptimeNanoseconds
            data = try await src.read()
            readBest = min(readBest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let sum = nansum(data!)
        let agree = abs(sum - p.checksum) <= 1e-6 * max(abs(p.checksum), 1) ? "yes" : "NO"
        row(name, "read", p.read_zarr, p.read_xarray, readBest, p.nbytes, agree)
        if !ops.contains("write") && !ops.contains("convert") { continue }
        let outPath = "\(dir)/\(name)-gyre.zarr"
        try? FileManager.default.removeItem(atPath: outPath)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let dst = try await ZarrArray.create(FileStore(path: outPath), path: "sst", metadata: src.metadata)
        try await dst.write(data!)
        let writeTime = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        row(name, "write", p.write_zarr, p.write_xarray, writeTime, p.nbytes, "")
        try? FileManager.default.removeItem(atPath: outPath)
        data = nil
        let convPath = "\(dir)/\(name)-gyre-conv.zarr"
        try? FileManager.default.removeItem(atPath: convPath)
        let t2 = DispatchTime.now().uptimeNanoseconds
        try await ZarrConverter.convert(from: FileStore(path: "\(dir)/\(name).zarr"), to: FileStore(path: convPath))
        let convTime = Double(DispatchTime.now().uptimeNanoseconds - t2) / 1e9
        row(name, "convert", nil, p.convert_xarray, convTime, p.nbytes, "")
        try? FileManager.default.removeItem(atPath: convPath)
    }
}

struct NetCDFPeer: Decodable {
    struct Read: Decodable { let seconds: Double; let checksum: Double; let nbytes: Int }
    struct Open: Decodable { let seconds: Double; let files: Int; let time: Int }
    struct Convert: Decodable { let seconds: Double }
    let read: Read, open_small: Open, convert: Convert
}

func netcdfIO() async throws {
    guard let dir = argument("--dir"), let peerPath = argument("--peer") else { fail("netcdf needs --dir DIR --peer PEER.json") }
    let p = try JSONDecoder().decode(NetCDFPeer.self, from: Data(contentsOf: URL(fileURLWithPath: peerPath)))
    print("  case                               xarray s   gyre s   vs xarray   agree")
    func row(_ name: String, _ x: Double, _ g: Double, _ agree: String) {
        print("  \(name.padding(toLength: 33, withPad: " ", startingAt: 0))  \(String(format: "%8.2f", x))  \(String(format: "%7.2f", g))  \(String(format: "%9.2fx", x / g))   \(agree)")
    }
    let cases = argument("--cases") ?? "abc"
    /// The median of three runs, as the peer's side reports.
    func median(_ body: () async throws -> Void) async rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<3 {
            let t = DispatchTime.now().uptimeNanoseconds
            try await body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        if ProcessInfo.processInfo.environment["GYRE_BENCH_VERBOSE"] != nil { print("    runs:", times.map { String(format: "%.2f", $0) }.joined(separator: " ")) }
        return times.sorted()[1]
    }
    // (a) open every file as one dataset and read every value.
    if cases.contains("a") {
        var sum = 0.0
        let ta = try await median {
            let ds = try await Dataset.open("\(dir)/big/*.nc", concatDim: "time")
            // The same lazy sum the peer computes: streamed file by file, float32 summed in float64.
            let total = try await ds.dataArray("sst").reduce(.sum, skipna: true).load()
            sum = try total.data.scalarValue?.doubleValue ?? .nan
        }
        let agree = abs(sum - p.read.checksum) <= 1e-6 * max(abs(p.read.checksum), 1) ? "yes" : "NO (gyre \(sum), xarray \(p.read.checksum))"
        row("(a) open + read all (\(p.read.nbytes / 1_000_000) MB)", p.read.seconds, ta, agree)
    }
    // (b) open thousands of small files as one dataset.
    if cases.contains("b") {
        var steps = -1
        let tb = try await median {
            let small = try await Dataset.open("\(dir)/small/*.nc", concatDim: "time")
            steps = small.sizes["time"] ?? -1
        }
        row("(b) open \(p.open_small.files) small files", p.open_small.seconds, tb, steps == p.open_small.time ? "yes" : "NO (time \(steps))")
    }
    // (c) the files of (a) to one Zarr v3 store, zstd 3, chunks of one file's length.
    if cases.contains("c") {
        let out = "\(dir)/gyre.zarr"
        let nt = (try? await NetCDFFile.open(Dataset.glob("\(dir)/big/*.nc")[0]).group("/").dimensions.first { $0.name == "time" }?.length) ?? 73
        let tc = try await median {
            try? FileManager.default.removeItem(atPath: out)
            let lazy = try await Dataset.open("\(dir)/big/*.nc", concatDim: "time")
            try await lazy.writeZarr(to: FileStore(path: out), options: ZarrWriteOptions(format: .v3, chunks: ["time": nt], compressors: [ZstdCodec(level: 3)]))
        }
        row("(c) convert to Zarr v3 zstd-3", p.convert.seconds, tc, "")
        try? FileManager.default.removeItem(atPath: out)
    }
}

/// Point rendering: x.npy, y.npy and v.npy of DIR aggregated onto a canvas (count and
/// mean) and the count shaded with eq_hist, first call and the median of `--repeat` warm
/// calls; the aggregates and the image go to DIR as gyre-*.npy for the driver to compare
/// with datashader's. One JSON line per case on stdout.
func render() async throws {
    guard let dir = argument("--dir"), let w = argument("--width").flatMap(Int.init), let h = argument("--height").flatMap(Int.init),
          let xr = argument("--x-range")?.split(separator: ",").compactMap({ Double($0) }), xr.count == 2,
          let yr = argument("--y-range")?.split(separator: ",").compactMap({ Double($0) }), yr.count == 2 else {
        fail("render needs --dir DIR --width W --height H --x-range A,B --y-range C,D")
    }
    let repeats = argument("--repeat").flatMap(Int.init) ?? 3
    func npy(_ name: String) throws -> AnyNDArray { try AnyNDArray.readNPY(URL(fileURLWithPath: dir + "/" + name)) }
    let points = try Points(x: .init(try npy("x.npy"), name: "x"), y: .init(try npy("y.npy"), name: "y"), values: .init(try npy("v.npy"), name: "v"))
    let canvas = try Canvas(width: w, height: h, xRange: xr[0]...xr[1], yRange: yr[0]...yr[1])
    func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    var count: Aggregate? = nil, mean: Aggregate? = nil, image: RGBAImage? = nil
    let cases: [(String, () async throws -> Void)] = [
        ("count", { count = try await canvas.points(points, reduction: .count) }),
        ("mean", { mean = try await canvas.points(points, reduction: .mean) }),
        ("eq_hist", { image = try shade(count!, ShadeOptions(cmap: try Colormap.named("fire"), how: .eqHist)) }),
    ]
    for (name, body) in cases {
        let first = try await time(body)
        var warm: [Double] = []
        for _ in 0..<repeats { warm.append(try await time(body)) }
        warm.sort()
        print("{\"case\": \"\(name)\", \"first\": \(first), \"warm\": \(warm[warm.count / 2])}")
    }
    try count!.data.npyData().write(to: URL(fileURLWithPath: dir + "/gyre-count.npy"))
    try mean!.data.npyData().write(to: URL(fileURLWithPath: dir + "/gyre-mean.npy"))
    try AnyNDArray.uint8(try NDArray(shape: [h, w, 4], image!.pixels)).npyData().write(to: URL(fileURLWithPath: dir + "/gyre-eq_hist.npy"))
}

/// A source of 10^7 chunks whose values come from their indices: v[t, y, x] = (t + 2y + 3x) mod 17.
struct IndexSource: ChunkedArraySource {
    let shape: [Int]
    let chunk: [Int]
    var sourceName: String { "synthetic \(shape) in chunks of \(chunk)" }
    var dtype: DType { .float32 }
    var chunks: [[Int]] { zip(shape, chunk).map { n, c in [Int](repeating: c, count: n / c) } }
    func read(region: [Slice]) async throws -> AnyNDArray {
        let r = try zip(region, shape).map { try $0.resolve(extent: $1) }
        let (nt, ny, nx) = (r[0].count, r[1].count, r[2].count)
        var values = [Float](repeating: 0, count: nt * ny * nx)
        values.withUnsafeMutableBufferPointer { p in
            var k = 0
            for t in 0..<nt {
                let tt = r[0].start + t * r[0].step
                for y in 0..<ny {
                    let base = tt + 2 * (r[1].start + y * r[1].step)
                    for x in 0..<nx { p[k] = Float((base + 3 * (r[2].start + x * r[2].step)) % 17); k += 1 }
                }
            }
        }
        return .float32(try NDArray(shape: [nt, ny, nx], values))
    }
}

/// Issue 26's petabyte-class plans: a mean and an anomaly over a (10000, 3600, 7200) source of
/// 10^7 chunks lowered to task graphs (tasks, seconds, memory), then a local mean over another
/// 10^7-chunk source run to the end (the executor streams; its tasks are never all made).
func largePlan() async throws {
    let big = LazyArray(IndexSource(shape: [10_000, 3_600, 7_200], chunk: [10, 36, 72]))
    let before = GyreRuntime.residentBytes() ?? 0
    var t0 = DispatchTime.now().uptimeNanoseconds
    let options = ComputeOptions(threads: 1)
    var mean = GraphBuilder()
    _ = try mean.lower("mean", LazyArray(try ReductionSource(big, axes: [0], reduction: .mean, skipna: nil)), result: .values, options: options)
    let m = LazyArray(try ReductionSource(big, axes: [0], reduction: .mean, skipna: nil))
    let anomaly = try ElementwiseSource("subtract", operands: [ElementwiseOperand(.lazy(big), axes: [0, 1, 2]), ElementwiseOperand(.lazy(m), axes: [1, 2])],
                                        shape: big.shape, dtype: .float32) { try $0[0].binary(.subtract, $0[1]) }
    var write = GraphBuilder()
    let writes = try write.lower("anomaly", LazyArray(anomaly), result: .write(chunkShape: [10, 360, 720]), options: options)
    let lowered = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let graph = TaskGraph(program: ProgramReference(sources: ["synthetic"], expression: "x - x.mean('time')", output: "anomaly.zarr"),
                          tasks: write.tasks, results: writes)
    let json = graph.json.serialized(indent: 0)
    let total = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let grown = (GyreRuntime.residentBytes() ?? 0) - before
    print("{\"case\": \"plan\", \"chunks\": 10000000, \"mean_tasks\": \(mean.tasks.count), \"anomaly_tasks\": \(write.tasks.count), \"lowered_seconds\": \(lowered), \"with_json_seconds\": \(total), \"json_bytes\": \(json.count), \"memory_growth_bytes\": \(grown)}")
    // A local mean over 10^7 chunks of (1, 10, 10): 4 GB generated and reduced, streamed.
    let source = IndexSource(shape: [1_000, 1_000, 1_000], chunk: [1, 10, 10])
    let progress = ComputeProgress()
    t0 = DispatchTime.now().uptimeNanoseconds
    let values = try await ComputeOptions.$current.withValue(ComputeOptions(progress: progress)) {
        try await LazyArray(try ReductionSource(LazyArray(source), axes: [0], reduction: .mean, skipna: nil)).compute()
    }
    let ran = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    guard case .float32(let got) = values else { fail("the mean is \(values.dtype)") }
    var worst = 0.0
    got.withUnsafeBufferPointer { p in
        for (y, x) in [(0, 0), (1, 2), (500, 999), (999, 999), (123, 456)] {
            var sum = 0.0
            for t in 0..<1_000 { sum += Double((t + 2 * y + 3 * x) % 17) }
            worst = Swift.max(worst, Swift.abs(Double(p[y * 1_000 + x]) - sum / 1_000))
        }
    }
    print("{\"case\": \"local-run\", \"chunks\": \(source.chunks.map(\.count).reduce(1, *)), \"tasks\": \(progress.snapshot.tasksTotal), \"seconds\": \(ran), \"peak_rss_bytes\": \(GyreRuntime.peakResidentBytes() ?? 0), \"max_error\": \(worst)}")
}

GyreRuntime.tuneAllocatorForLargeBuffers()
do {
    switch CommandLine.arguments.dropFirst().first {
    case "reductions": try reductions()
    case "zarr": try await zarrIO()
    case "netcdf": try await netcdfIO()
    case "render": try await render()
    case "large-plan": try await largePlan()
    default: fail("usage: gyre-bench reductions --data FILE.npy --peer PEER.json | zarr --dir DIR --peer PEER.json")
    }
} catch {
    fail("\(error)")
}
