import Foundation
import GyreSTAC

/// Fans items written through the API out to `/search/stream` subscribers. Each subscriber
/// has a bounded buffer: a client that reads too slowly loses the oldest items, never the
/// server's memory.
actor ItemFeed {
    private var subscribers: [UInt64: AsyncStream<Item>.Continuation] = [:]
    private var nextID: UInt64 = 0

    /// Items a slow subscriber may fall behind by.
    static let buffer = 10_000

    func subscribe() -> (UInt64, AsyncStream<Item>) {
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        nextID += 1
        subscribers[nextID] = continuation
        return (nextID, stream)
    }

    func unsubscribe(_ id: UInt64) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    func publish(_ items: [Item]) {
        for c in subscribers.values { for i in items { c.yield(i) } }
    }

    var count: Int { subscribers.count }
}
