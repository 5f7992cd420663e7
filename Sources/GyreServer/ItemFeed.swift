import Foundation
import GyreCatalog
import GyreSTAC

/// Fans the catalog's new and updated items out to `/search/stream` subscribers. While anyone
/// listens it asks the backend for changes every `interval` seconds, so it sees every writer
/// (this server's transactions, `gyre stac ingest`, another server on the same catalog). Each
/// subscriber has a bounded buffer: a client that reads too slowly loses the oldest items,
/// never the server's memory.
actor ItemFeed {
    let backend: any CatalogBackend
    let interval: Double
    private var subscribers: [UInt64: AsyncStream<Item>.Continuation] = [:]
    private var nextID: UInt64 = 0
    private var cursor: Int64?
    private var poller: Task<Void, Never>?

    /// Items a slow subscriber may fall behind by.
    static let buffer = 10_000
    /// Changes read per request to the backend.
    static let batch = 1000

    init(backend: any CatalogBackend, interval: Double) {
        self.backend = backend
        self.interval = interval
    }

    /// A stream of everything written from now on.
    func subscribe() async throws -> (UInt64, AsyncStream<Item>) {
        if cursor == nil {
            let now = try await backend.changes(after: nil, limit: 0).cursor
            if cursor == nil { cursor = now }
        }
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        nextID += 1
        subscribers[nextID] = continuation
        if poller == nil {
            let interval = self.interval
            poller = Task { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    await self.poll()
                    try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                }
            }
        }
        return (nextID, stream)
    }

    func unsubscribe(_ id: UInt64) {
        subscribers.removeValue(forKey: id)?.finish()
        if subscribers.isEmpty {
            poller?.cancel()
            poller = nil
            cursor = nil
        }
    }

    /// Reads what changed since the last poll and hands it to every subscriber. A failing
    /// read is tried again at the next poll.
    func poll() async {
        while let from = cursor, !subscribers.isEmpty {
            guard let changes = try? await backend.changes(after: from, limit: Self.batch) else { return }
            // The feed may have been reset while the read was in flight.
            guard cursor == from else { return }
            cursor = changes.cursor
            for c in subscribers.values { for i in changes.items { c.yield(i) } }
            if changes.items.count < Self.batch { return }
        }
    }

    var count: Int { subscribers.count }
}
