import GyreCore
import Foundation
import Testing
import Gyre

/// Gyre's codecs against numcodecs, both directions: numcodecs encodes, Gyre decodes; Gyre
/// encodes, numcodecs decodes.
@Suite("Interop: codecs vs numcodecs", .enabled(if: Interop.enabled))
struct CodecInteropTests {
    struct Case: Codable { let config: JSON; let dtype: String; let shape: [Int]; let input: String; let encoded: String }

    @Test("every codec and dtype of the matrix, both directions")
    func matrix() throws {
        let dir = try Interop.generate("codec_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(cases.count >= 100)
        var failures: [String] = []
        var written: [Case] = []
        for (i, c) in cases.enumerated() {
            let input = try AnyNDArray.readNPY(dir.appendingPathComponent(c.input))
            let encoded = try [UInt8](Data(contentsOf: dir.appendingPathComponent(c.encoded)))
            let codec = try CodecRegistry.numcodecs(c.config, dtype: input.dtype)
            let pipeline: CodecPipeline
            switch codec {
            case .bytesToBytes(let b): pipeline = CodecPipeline(bytesToBytes: [b])
            case .arrayToArray(let a): pipeline = CodecPipeline(arrayToArray: [a])
            case .arrayToBytes(let a): pipeline = CodecPipeline(arrayToBytes: a)
            }
            do {
                let decoded = try pipeline.decode(encoded, shape: c.shape, dtype: input.dtype)
                if !decoded.scalars.elementsEqual(input.scalars, by: { $0 == $1 || ($0.isMissing && $1.isMissing) }) {
                    failures.append("decode \(c.config) \(c.dtype): values differ from numcodecs' input")
                }
                // Gyre encodes the same input for numcodecs to decode.
                let mine = try pipeline.encode(input)
                let name = "gyre\(i).bin"
                try Data(mine).write(to: dir.appendingPathComponent(name))
                written.append(Case(config: c.config, dtype: c.dtype, shape: c.shape, input: c.input, encoded: name))
            } catch {
                failures.append("\(c.config) \(c.dtype): \(error)")
            }
        }
        // Strings.
        let vlen = try [UInt8](Data(contentsOf: dir.appendingPathComponent("vlen.bin")))
        let want = try JSONDecoder().decode([String].self, from: Data(contentsOf: dir.appendingPathComponent("vlen.json")))
        let strings = try VLenUTF8Codec().decode(vlen, shape: [want.count], dtype: .string(.variable))
        #expect(strings.scalars.map(\.description) == want)
        #expect(try VLenUTF8Codec().encode(strings) == vlen)
        // numcodecs decodes what Gyre wrote.
        try JSONEncoder().encode(written).write(to: dir.appendingPathComponent("gyre_manifest.json"))
        if let report = try Interop.verify("codec_cases.py", dir) { failures.append("numcodecs could not read Gyre's encodings:\n\(report)") }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(30).joined(separator: "\n"))")
    }
}
