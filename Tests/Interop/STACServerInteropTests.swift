import Dispatch
import Foundation
import Testing
import Gyre

/// The `gyre` binary end to end: `stac sample`, `stac ingest`, `serve` on loopback, and the
/// real peers against it: stac-api-validator over every conformance class the server
/// advertises, and pystac-client searches compared with a brute-force filter over the same
/// NDJSON; then `gyre stac search` against the same server.
@Suite("STAC API server (SQLite and PostgreSQL) against stac-api-validator and pystac-client", .serialized)
struct STACServerInteropTests {
    /// A running `gyre serve`, stopped with SIGINT when done.
    final class Server: @unchecked Sendable {
        let process = Process()
        let url: String
        let first = FirstLine()
        /// - Parameter stderr: a file the server's standard error goes to (else the test's).
        init(catalog: [String], apiKey: String, stderr: URL? = nil) throws {
            process.executableURL = CLITests.binary
            process.arguments = ["serve"] + catalog + ["--port", "0", "--api-key", apiKey]
            let out = Pipe()
            process.standardOutput = out
            if let stderr {
                FileManager.default.createFile(atPath: stderr.path, contents: nil)
                process.standardError = try FileHandle(forWritingTo: stderr)
            } else {
                process.standardError = FileHandle.standardError
            }
            try process.run()
            // The first line names the address. Read as it arrives (a blocking read would outlast
            // any deadline) and wait for a newline or the end of output, at most 60 s; the rest of
            // stdout is drained so that the server never blocks on a full pipe.
            let first = self.first
            out.fileHandleForReading.readabilityHandler = { handle in
                let chunk = handle.availableData
                if chunk.isEmpty { handle.readabilityHandler = nil }  // end of output
                first.received(chunk)
            }
            guard first.ready.wait(timeout: .now() + 60) == .success else {
                process.terminate()
                throw InteropError("gyre serve wrote no line to stdout within 60 s: \(first.text)")
            }
            let text = first.text
            guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
                process.terminate()
                throw InteropError("gyre serve did not say where it listens: \(text)")
            }
            url = String(text[range])
        }

        /// Stdout up to the end of the first line with a URL, kept under a lock; `ready` is
        /// signalled once, at that line's newline or at the end of output. `all` keeps everything written.
        final class FirstLine: @unchecked Sendable {
            private let lock = NSLock()
            private var data = Data()
            private var everything = Data()
            private var complete = false
            let ready = DispatchSemaphore(value: 0)

            func received(_ chunk: Data) {
                lock.lock()
                var signal = false
                everything.append(chunk)
                if !complete {
                    data.append(chunk)
                    // The line that names the address (--demo prints a line before it).
                    let text = String(decoding: data, as: UTF8.self)
                    complete = chunk.isEmpty || (text.range(of: "http://").map { text[$0.upperBound...].contains("\n") } ?? false)
                    signal = complete
                }
                lock.unlock()
                if signal { ready.signal() }
            }

            var text: String {
                lock.lock()
                defer { lock.unlock() }
                return String(decoding: data, as: UTF8.self)
            }

            var all: String {
                lock.lock()
                defer { lock.unlock() }
                return String(decoding: everything, as: UTF8.self)
            }
        }

        /// Stops the server (once) and returns its exit status.
        @discardableResult func stop() -> Int32 {
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
            return process.terminationStatus
        }
        deinit { if process.isRunning { process.terminate() } }
    }

    /// `psql` against the test cluster's admin database (scripts/setup starts it).
    static func psql(_ sql: String) throws {
        let admin = ProcessInfo.processInfo.environment["GYRE_TEST_POSTGRES"] ?? "postgresql://gyre:gyre@127.0.0.1:5432/postgres"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = [admin, "-qc", sql]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw InteropError("psql \(sql): \(String(decoding: e, as: UTF8.self))") }
    }

    @Test("stac-api-validator (all classes, 0 errors) and pystac-client (exactly the brute-force items)",
          .enabled(if: Interop.enabled), arguments: ["sqlite", "postgres"])
    func peers(_ backend: String) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-stac-api-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = dir.appendingPathComponent("sample").path
        let catalog: [String]
        var dropDatabase: String?
        if backend == "postgres" {
            let name = "gyre_interop_\(UInt32.random(in: 0..<UInt32.max))"
            try Self.psql("CREATE DATABASE \(name)")
            dropDatabase = name
            let admin = ProcessInfo.processInfo.environment["GYRE_TEST_POSTGRES"] ?? "postgresql://gyre:gyre@127.0.0.1:5432/postgres"
            catalog = ["--postgres", admin.replacingOccurrences(of: #"/[^/]*$"#, with: "/\(name)", options: .regularExpression)]
        } else {
            catalog = ["--catalog", dir.appendingPathComponent("catalog.db").path]
        }
        defer { if let d = dropDatabase { try? Self.psql("DROP DATABASE \(d) WITH (FORCE)") } }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let made = try CLITests.gyre(["stac", "sample", sample, "--items", "1500", "--seed", "3"])
        #expect(made.status == 0, "\(made.err)")
        let ingested = try CLITests.gyre(["stac", "ingest", "\(sample)/sentinel-2-l2a.json", "\(sample)/landsat-c2-l2.json",
                                          "\(sample)/items.ndjson"] + catalog)
        #expect(ingested.status == 0, "\(ingested.err)")
        #expect(ingested.out.contains("1500 items"))

        let server = try Server(catalog: catalog, apiKey: "interop-key")
        defer { server.stop() }
        let client = try Interop.script("stac_client_check.py", [server.url, "\(sample)/items.ndjson"])
        #expect(client.0 == 0, "\(client.1)")
        #expect(client.1.contains("5 searches, 0 failures"), "\(client.1)")

        // gyre stac search against the same server, compared with a brute-force pass in Swift.
        let items = SampleCatalog.items(count: 1500, seed: 3)
        let request = SearchRequest(bbox: BBox(west: -10, south: 35, east: 30, north: 60),
                                    datetime: try TemporalInterval(parameter: "2016-01-01T00:00:00Z/2020-12-31T23:59:59Z"),
                                    filter: try CQL2.parse(text: "eo:cloud_cover < 25"))
        let expected = Set(items.filter { request.asFilter.matches($0) }.map(\.id))
        #expect(!expected.isEmpty)
        let searched = try CLITests.gyre(["stac", "search", server.url, "--bbox=-10,35,30,60", "--datetime",
                                          "2016-01-01T00:00:00Z/2020-12-31T23:59:59Z", "--filter", "eo:cloud_cover < 25", "--limit", "4", "--json"])
        #expect(searched.status == 0, "\(searched.err)")
        let fc = try JSON.parse(searched.out)
        #expect(Set(fc["features"]?.array?.compactMap { $0["id"]?.string } ?? []) == expected)
        #expect(fc["features"]?.array?.count == expected.count, "no item twice across pages")
        let bad = try CLITests.gyre(["stac", "search", server.url, "--filter", "nosuch = 1"])
        #expect(bad.status != 0 && bad.err.contains("400") && bad.err.contains("nosuch"), "\(bad.err)")

        let validator = try Interop.script("stac_api_check.py", [server.url, "sentinel-2-l2a", "interop-key"])
        #expect(validator.0 == 0, "\(validator.1)")
        #expect(validator.1.contains("stac-api-validator: 0 errors"), "\(validator.1.suffix(3000))")
        let status = server.stop()
        #expect(status == 0, "gyre serve exits cleanly on SIGINT")
    }
}
