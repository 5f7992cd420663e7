import Foundation
import Testing
import Gyre

/// Gyre prints arrays as NumPy does (summaries, padding, rows wrapped at 75 columns, the dtype on
/// its own line when it does not fit) and a DataArray's values as xarray does (at most 40 lines).
@Suite("Interop: array printing vs NumPy and xarray", .enabled(if: Interop.enabled))
struct ReprInteropTests {
    struct Case: Codable { let name: String; let file: String; let numpy: String; let xarray: String }

    @Test("repr of arrays of several dtypes, shapes and sizes equals NumPy's; DataArray values equal xarray's")
    func reprs() throws {
        let dir = try Interop.generate("repr_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(cases.count == 13)
        for c in cases {
            let a = try AnyNDArray.readNPY(dir.appendingPathComponent(c.file))
            #expect(a.description == c.numpy, "\(c.name): Gyre\n\(a.description)\nNumPy\n\(c.numpy)")
            let da = try DataArray(a, dims: a.shape.indices.map { "d\($0)" })
            let lines = da.description.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            let data = lines.prefix { !$0.hasPrefix("Coordinates:") && !$0.hasPrefix("Dimensions without coordinates:") && !$0.hasPrefix("Attributes:") }
            #expect(data.joined(separator: "\n") == c.xarray, "\(c.name): Gyre\n\(data.joined(separator: "\n"))\nxarray\n\(c.xarray)")
        }
        // Nothing printed is wider than NumPy's 75 columns.
        let wide = try DataArray(.float32(NDArray((0..<365).map { Float($0) / 7 })), dims: ["t"])
        #expect(wide.description.split(separator: "\n").allSatisfy { $0.count <= 75 })
        #expect(wide.description.split(separator: "\n").count < 50)
    }
}
