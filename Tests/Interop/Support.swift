import Foundation
import Testing

/// Where the package and its Python test venv live.
enum Interop {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var python: URL { root.appendingPathComponent(".venv/bin/python") }

    /// Interop checks run unless GYRE_SKIP_INTEROP is set; without the venv they fail loudly.
    static var enabled: Bool { ProcessInfo.processInfo.environment["GYRE_SKIP_INTEROP"] == nil }

    /// Runs a script of Tests/Interop with the venv's Python, writing into a fresh directory.
    static func generate(_ script: String) throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw InteropError("the Python test venv is missing at \(python.path): run scripts/setup first")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-interop-\(script)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = python
        p.arguments = [root.appendingPathComponent("Tests/Interop/\(script)").path, dir.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw InteropError("\(script) failed (\(p.terminationStatus)): \(String(decoding: errData, as: UTF8.self))")
        }
        return dir
    }
}

extension Interop {
    /// Runs `SCRIPT --verify DIR` with the venv's Python: the peer checks what Gyre wrote.
    /// Returns nil when it accepts everything, else its report.
    static func verify(_ script: String, _ dir: URL) throws -> String? {
        let p = Process()
        p.executableURL = python
        p.arguments = [root.appendingPathComponent("Tests/Interop/\(script)").path, "--verify", dir.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : report
    }
}

extension Interop {
    /// The second venv, with zarr-python 2 (and an xarray that still reads through it), when
    /// setup could install it.
    static var zarr2Python: URL? {
        let p = root.appendingPathComponent(".venv-zarr2/bin/python")
        return FileManager.default.isExecutableFile(atPath: p.path) ? p : nil
    }

    /// Runs a script of Tests/Interop with the venv's Python (or `python`) and gives its exit
    /// status and its stdout and stderr together.
    static func script(_ script: String, _ args: [String], python: URL? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = python ?? Self.python
        p.arguments = [root.appendingPathComponent("Tests/Interop/\(script)").path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct InteropError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
