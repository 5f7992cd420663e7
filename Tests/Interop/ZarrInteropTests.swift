import Foundation
import Testing
import Gyre

/// Gyre's Zarr support against zarr-python 3, both directions, over a matrix of formats, codecs,
/// dtypes, orders, separators, sharding, big-endian data, partial edge chunks and missing chunks.
@Suite("Interop: Zarr vs zarr-python", .enabled(if: Interop.enabled))
struct ZarrInteropTests {
    struct Case: Codable { let store: String; let path: String; let expected: String; let format: Int }

    static func expected(_ dir: URL, _ file: String) throws -> [String] {
        if file.hasSuffix(".json") {
            return try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent(file)))
        }
        return try AnyNDArray.readNPY(dir.appendingPathComponent(file)).scalars.map { $0.isMissing ? "nan" : "\($0)" }
    }

    static func texts(_ a: AnyNDArray) -> [String] { a.scalars.map { $0.isMissing ? "nan" : "\($0)" } }

    @Test("Gyre reads every array zarr-python wrote, and zarr-python reads Gyre's copies")
    func matrix() async throws {
        let dir = try Interop.generate("zarr_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(cases.count >= 250)
        var failures: [String] = []
        var groups: [String: ZarrGroup] = [:]
        for name in Set(cases.map(\.store)) {
            let g = try await ZarrGroup.open(FileStore(root: dir.appendingPathComponent(name)))
            #expect(g.consolidated, "\(name) should open from consolidated metadata")
            groups[name] = g
        }
        var written: [Case] = []
        for c in cases {
            let label = "\(c.store)/\(c.path)"
            do {
                let arr = try groups[c.store]!.array(c.path)
                let got = try await arr.read()
                let want = try Self.expected(dir, c.expected)
                if Self.texts(got) != want {
                    failures.append("\(label) (\(arr.metadata.dtype)): values differ from zarr-python's")
                    continue
                }
                // The same array written by Gyre, for zarr-python to read back.
                let outName = c.format == 2 ? "gyre2.zarr" : "gyre3.zarr"
                let out = FileStore(root: dir.appendingPathComponent(outName))
                let copy = try await ZarrArray.create(out, path: c.path, metadata: arr.metadata)
                try await copy.write(got)
                written.append(Case(store: outName, path: c.path, expected: c.expected, format: c.format))
            } catch {
                failures.append("\(label): \(error)")
            }
        }
        // gyre convert's engine on the time types (no fill value, and one set), every direction
        // between the formats, with new chunks; zarr-python reads the copies below, Gyre here.
        let conversions: [(String, String, ZarrArrayMetadata.Format)] = [
            ("pytime2.zarr", "conv-time-2to3.zarr", .v3), ("pytime2.zarr", "conv-time-2to2.zarr", .v2),
            ("pytime3.zarr", "conv-time-3to2.zarr", .v2), ("pytime3.zarr", "conv-time-3to3.zarr", .v3),
        ]
        var converted = 0
        for (src, dst, format) in conversions {
            do {
                try await ZarrConverter.convert(from: FileStore(root: dir.appendingPathComponent(src)), to: FileStore(root: dir.appendingPathComponent(dst)),
                                                options: ConvertOptions(format: format, chunks: ["dim_0": 2, "dim_1": 5]))
                let g = try await ZarrGroup.open(FileStore(root: dir.appendingPathComponent(dst)))
                for c in cases where c.store == src {
                    converted += 1
                    written.append(Case(store: dst, path: c.path, expected: c.expected, format: format == .v2 ? 2 : 3))
                    let got = try await g.array(c.path).read()
                    if Self.texts(got) != (try Self.expected(dir, c.expected)) { failures.append("\(dst)/\(c.path) (\(got.dtype)): Gyre reads back other values") }
                }
            } catch {
                failures.append("converting \(src) to \(dst): \(error)")
            }
        }
        #expect(converted == 4 * 18, "every time array of both stores is converted both ways")
        for (name, format) in [("gyre2.zarr", ZarrArrayMetadata.Format.v2), ("gyre3.zarr", .v3)] {
            let store = FileStore(root: dir.appendingPathComponent(name))
            try await ZarrGroup.create(store, format: format)
            try await ZarrGroup.consolidate(store)
        }
        try JSONEncoder().encode(written).write(to: dir.appendingPathComponent("gyre_manifest.json"))
        let p = Process()
        p.executableURL = Interop.python
        p.arguments = [Interop.root.appendingPathComponent("Tests/Interop/zarr_cases.py").path, "--verify", dir.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 { failures.append("zarr-python could not read Gyre's stores:\n\(report.prefix(4000))") }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
