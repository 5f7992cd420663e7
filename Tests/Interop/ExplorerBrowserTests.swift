import Foundation
import Testing

/// The explorer in a real browser: `gyre serve --demo` on loopback, driven in Debian's headless
/// Chromium by selenium (explorer_check.py). The landing view, a search by a box drawn on the
/// map and a date range, a variable's tiles at two time steps, the time series after a click,
/// and an expression's plot are each checked for what they show, with no error in the browser
/// console. The screenshots are kept in .build/test-artifacts/explorer/.
@Suite("Explorer in headless Chromium (selenium)", .serialized, .enabled(if: Interop.enabled))
struct ExplorerBrowserTests {
    @Test("landing, search by box and dates, tiles at two steps, a time series after a click, an expression's plot; no console error")
    func explorer() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: scripts/setup installs chromium and chromium-driver")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-explorer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try STACServerInteropTests.Server(catalog: ["--catalog", dir.appendingPathComponent("catalog.db").path, "--demo", "--demo-items", "400"],
                                                       apiKey: "explorer")
        defer { server.stop() }
        // A browser asks for / with text/html first and gets the explorer; API clients still get JSON.
        let artifacts = Interop.root.appendingPathComponent(".build/test-artifacts/explorer")
        try? FileManager.default.removeItem(at: artifacts)
        let (status, out) = try Interop.script("explorer_check.py", [server.url, artifacts.path])
        let report = (try? JSONSerialization.jsonObject(with: Data(out.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8))) as? [String: Any]
        #expect(status == 0, "\(out.suffix(4000))")
        #expect(report?["ok"] as? Bool == true, "failed: \(report?["failed"] ?? out.suffix(2000))")
        let checks = report?["checks"] as? [[String: Any]] ?? []
        #expect(checks.count >= 20, "\(checks.count) checks ran")
        for name in ["landing", "search", "tiles-step-0", "tiles-step-half", "series", "expression"] {
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(name + ".png").path), "no \(name) screenshot")
        }
    }
}
