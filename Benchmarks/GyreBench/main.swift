// gyre-bench: the Gyre side of the side-by-side benchmarks (driven by Benchmarks/run).
// Usage: gyre-bench reductions --data FILE.npy --peer PEER.json [--case "sum axis=1"] [--repeat N]
import Foundation
import Gyre

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

func nansum(_ a: AnyNDArray) -> Double {
    (a.doubles() ?? []).reduce(0) { $1.isNaN ? $0 : $0 + $1 }
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

switch CommandLine.arguments.dropFirst().first {
case "reductions": try reductions()
default: fail("usage: gyre-bench reductions --data FILE.npy --peer PEER.json")
}
