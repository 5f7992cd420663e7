import GyreCatalog
import GyreSTAC
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
@testable import GyreServer

/// A log handler that keeps every message it is given.
final class KeptLog: LogHandler, @unchecked Sendable {
    let lines = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.withLock { $0.append((level, message.description, metadata ?? [:])) }
    }
    var messages: [String] { lines.withLock { $0.map(\.1) } }
}

@Suite("scan logging")
struct ScanLogTests {
    @Test("a search that only a scan answers is logged with its time and filter; indexed searches are not")
    func scansAreLogged() async throws {
        let db = try SQLiteCatalog(path: ":memory:")
        for c in SampleCatalog.collections() { try await db.putCollection(c) }
        try await db.putItems(SampleCatalog.items(count: 120, seed: 5))
        let kept = KeptLog()
        let service = STACService(backend: db, baseURL: "http://test.local", logger: Logger(label: "test") { _ in kept })
        let app = Application(router: service.router())
        try await app.test(.router) { client in
            // Indexed paths: an area, a filter's spatial term, a time interval, ids, collections, no filter.
            for uri in ["/search?bbox=0,0,20,20", "/search?filter=S_INTERSECTS(geometry,BBOX(0,0,20,20))%20AND%20eo:cloud_cover%3C50",
                        "/search?datetime=2020-01-01T00:00:00Z/2021-01-01T00:00:00Z&filter=eo:cloud_cover%3C50",
                        "/search?ids=a,b", "/search?collections=sentinel-2-l2a&filter=eo:cloud_cover%3C50", "/search"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .ok, "\(uri)")
            }
            #expect(kept.messages.isEmpty, "\(kept.messages)")
            // Property terms alone, and a sort no index orders.
            #expect(try await client.execute(uri: "/search?filter=eo:cloud_cover%3C3", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/search?sortby=-eo:cloud_cover&bbox=-180,-90,180,90", method: .get).status == .ok)
            let lines = kept.lines.withLock { $0 }
            try #require(lines.count == 2, "\(kept.messages)")
            #expect(lines.allSatisfy { $0.0 == .notice })
            #expect(lines[0].1.hasPrefix("search answered by a scan (filtered by properties alone") && lines[0].1.contains(" ms, "), "\(lines[0].1)")
            #expect(lines[0].2["filter"]?.description.contains("eo:cloud_cover") == true, "\(lines[0].2)")
            #expect(lines[0].2["path"]?.description == "/search")
            #expect(lines[1].1.contains("sorted by eo:cloud_cover"), "\(lines[1].1)")
            // The millisecond figure parses as a number.
            let ms = lines[0].1.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
            #expect(ms != nil && ms! >= 0, "\(lines[0].1)")
        }
    }
}
