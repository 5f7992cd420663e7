import Foundation
import Testing
import Gyre

/// `gyre eval --memory` in a child process: a reduction over a cube larger than the budget
/// succeeds with the child's peak RSS under the budget, and a plan that cannot fit is refused
/// before anything is read. The peak is the child's own VmHWM (`--peak-memory`): wait4's
/// ru_maxrss would include this test process's peak, which a vfork-and-exec child inherits.
@Suite("gyre eval --memory: peak RSS under the budget")
struct MemoryBudgetTests {
    /// Runs the gyre binary and returns its exit status, stderr and the peak RSS it reports.
    static func run(_ args: [String]) throws -> (status: Int32, err: String, peakRSS: Int?) {
        let r = try CLITests.gyre(args)
        let peak = r.err.split(separator: "\n").first { $0.hasPrefix("peak resident memory: ") }
            .flatMap { Int($0.dropFirst("peak resident memory: ".count).prefix { $0.isNumber }) }
        return (r.status, r.err, peak)
    }

    @Test("a 120 MB cube reduced under an 80 MiB budget; a plan over budget is refused")
    func budget() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-mem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // (600, 200, 250) float32 = 120 MB in chunks of 2 MB, uncompressed: x = t mod 7 + y / 100.
        let (nt, ny, nx) = (600, 200, 250)
        let values = NDArray<Float>(shape: [nt, ny, nx]) { i in Float(i[0] % 7) + Float(i[1]) / 100 }
        let ds = try Dataset(dataVars: ["x": try Variable(["time", "y", "x"], .float32(values))])
        let store = dir.appendingPathComponent("cube.zarr").path
        try await ds.writeZarr(to: FileStore(path: store), options: ZarrWriteOptions(format: .v2, chunks: ["time": 10], compressors: []))
        // The debug binary holds about 46 MiB before it computes (the runtime, the linked
        // libraries' pages, the opened metadata), all counted against the budget; with a 64 MiB
        // budget the 48 MiB outside the block cache left 1.5-3 MiB for the plan, too close to
        // the 2.1 MiB one task needs once async-http-client and swift-crypto were linked in.
        let budget = 80 << 20
        let out = dir.appendingPathComponent("mean.zarr").path
        let ok = try Self.run(["eval", store, "x.mean(\"time\")", "--memory", "80MiB", "-o", out, "--peak-memory"])
        #expect(ok.status == 0, "\(ok.err)")
        let peak = try #require(ok.peakRSS, "no peak reported: \(ok.err)")
        #expect(peak < budget, "peak RSS \(peak) bytes, budget \(budget)")
        #expect(peak > 8 << 20, "a peak of \(peak) bytes is not a real measurement")
        // The values are right: the mean of t mod 7 over 600 steps, plus y / 100.
        let tMean = Double((0..<nt).map { $0 % 7 }.reduce(0, +)) / Double(nt)
        let mean = try await Dataset.open(out).dataArray("x").load()
        #expect(mean.shape == [ny, nx])
        let got = try mean.astype(.float64).doubles()
        #expect(got.enumerated().allSatisfy { i, v in abs(v - (tMean + Double(i / nx) / 100)) < 1e-4 })
        // A budget smaller than one chunk's task: refused before any read, with the reason.
        let refused = try Self.run(["eval", store, "x.median(\"time\")", "--memory", "1MiB"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("memory budget") && refused.err.contains("nothing was read"), "\(refused.err)")
    }
}
