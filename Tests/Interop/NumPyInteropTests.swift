import Foundation
import Testing
import Gyre

/// Gyre's kernels against NumPy on the same inputs: promotion, NaN reductions, order statistics,
/// scans, sorting and datetime arithmetic.
@Suite("Interop: NumPy", .enabled(if: Interop.enabled))
struct NumPyInteropTests {
    struct Case: Decodable {
        let op: String
        let inputs: [String]
        let args: [String: AnyArg]
        let expected: String?
        let raises: String?
    }

    enum AnyArg: Decodable {
        case int(Int), double(Double), ints([Int]), none
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .none } else if let i = try? c.decode(Int.self) { self = .int(i) }
            else if let d = try? c.decode(Double.self) { self = .double(d) } else { self = .ints(try c.decode([Int].self)) }
        }
        var axes: [Int]? {
            switch self { case .int(let i): return [i]; case .ints(let a): return a; default: return nil }
        }
        var double: Double? { switch self { case .double(let d): return d; case .int(let i): return Double(i); default: return nil } }
    }

    static func run(_ c: Case, _ x: [AnyNDArray]) throws -> AnyNDArray {
        let axes = c.args["axis"]?.axes
        let ddof = Int(c.args["ddof"]?.double ?? 0)
        let a = x[0]
        switch c.op {
        case "add": return try a.binary(.add, x[1])
        case "multiply": return try a.binary(.multiply, x[1])
        case "divide": return try a.binary(.divide, x[1])
        case "floor_divide": return try a.binary(.floorDivide, x[1])
        case "remainder": return try a.binary(.remainder, x[1])
        case "power": return try a.binary(.power, x[1])
        case "subtract": return try a.binary(.subtract, x[1])
        case "less": return try a.compare(.less, x[1])
        case "add_scalar_int": return try a.binary(.add, .int(Int64(c.args["value"]!.double!)))
        case "add_scalar_float": return try a.binary(.add, .double(c.args["value"]!.double!))
        case "multiply_scalar_int": return try a.binary(.multiply, .int(Int64(c.args["value"]!.double!)))
        case "nansum": return try a.sum(axes: axes, skipna: true)
        case "nanmean": return try a.mean(axes: axes, skipna: true)
        case "nanmin": return try a.min(axes: axes, skipna: true)
        case "nanmax": return try a.max(axes: axes, skipna: true)
        case "nanmedian": return try a.median(axes: axes, skipna: true)
        case "nanvar": return try a.variance(axes: axes, ddof: ddof, skipna: true)
        case "nanstd": return try a.std(axes: axes, ddof: ddof, skipna: true)
        case "nanquantile": return try a.quantile(c.args["q"]!.double!, axes: axes, skipna: true)
        case "sum": return try a.sum(axes: axes, skipna: false)
        case "mean": return try a.mean(axes: axes, skipna: false)
        case "max": return try a.max(axes: axes, skipna: false)
        case "median": return try a.median(axes: axes, skipna: false)
        case "std": return try a.std(axes: axes, ddof: ddof, skipna: false)
        case "prod": return try a.prod(axes: axes, skipna: false)
        case "nanargmin": return try a.argmin(axis: axes?.first, skipna: true)
        case "nanargmax": return try a.argmax(axis: axes?.first, skipna: true)
        case "nancumsum": return try a.cumsum(axis: axes![0], skipna: true)
        case "cumsum": return try a.cumsum(axis: axes![0], skipna: false)
        case "diff": return try a.diff(axis: axes![0])
        case "sort": return try a.sorted(axis: axes![0])
        case "argsort": return try a.argsort(axis: axes![0])
        case "unique": return try a.unique()
        case "searchsorted_left": return try a.searchsorted(x[1], side: .left)
        case "searchsorted_right": return try a.searchsorted(x[1], side: .right)
        case "astype_M8[D]": return try a.astype(.datetime64(.days))
        case "astype_M8[s]": return try a.astype(.datetime64(.seconds))
        default: throw InteropError("unknown op \(c.op)")
        }
    }

    /// Same dtype and same values: integers, bools and times exactly; floats to a few ulps
    /// (Gyre's sums are compensated where NumPy's are pairwise).
    static func same(_ got: AnyNDArray, _ want: AnyNDArray) -> String? {
        guard got.dtype == want.dtype else { return "dtype \(got.dtype), NumPy \(want.dtype)" }
        guard got.shape == want.shape else { return "shape \(got.shape), NumPy \(want.shape)" }
        if let g = got.doubles(), let w = want.doubles(), got.dtype.isFloatingPoint {
            let rtol = got.dtype == .float32 ? 2e-6 : 1e-12
            for (i, (a, b)) in zip(g, w).enumerated() {
                if a.isNaN || b.isNaN { if a.isNaN != b.isNaN { return "element \(i): \(a) vs NumPy \(b)" }; continue }
                if Swift.abs(a - b) > 1e-12 + rtol * Swift.max(Swift.abs(a), Swift.abs(b)) { return "element \(i): \(a) vs NumPy \(b)" }
            }
            return nil
        }
        let g = got.scalars, w = want.scalars
        for (i, (a, b)) in zip(g, w).enumerated() where a != b { return "element \(i): \(a) vs NumPy \(b)" }
        return nil
    }

    @Test("kernels agree with NumPy over the case matrix")
    func matrix() throws {
        let dir = try Interop.generate("numpy_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(cases.count > 1250)  // 1286: with the reductions on NaN-free copies
        var failures: [String] = []
        for (i, c) in cases.enumerated() {
            let inputs = try c.inputs.map { try AnyNDArray.readNPY(dir.appendingPathComponent($0)) }
            let label = "case \(i) \(c.op) \(inputs.map { "\($0.dtype)\($0.shape)" }) \(c.args.keys.sorted())"
            if let raises = c.raises {
                if let r = try? Self.run(c, inputs) {
                    failures.append("\(label): NumPy raises \(raises), Gyre returned \(r.dtype) \(r.shape)")
                }
                continue
            }
            let want = try AnyNDArray.readNPY(dir.appendingPathComponent(c.expected!))
            do {
                let got = try Self.run(c, inputs)
                if let why = Self.same(got, want) { failures.append("\(label): \(why)") }
            } catch {
                failures.append("\(label): Gyre raised \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) cases differ from NumPy:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
