import Foundation
import GyreCore
import Synchronization
import Testing

@Suite("Bounded: at most N jobs in flight")
struct BoundedTests {
    final class Gauge: Sendable {
        let state = Mutex((now: 0, peak: 0, started: 0))
        func enter() { state.withLock { $0.now += 1; $0.started += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var started: Int { state.withLock { $0.started } }
    }

    @Test("map gives results in index order and never runs more than the limit at once", arguments: [1, 2, 3, 8])
    func mapOrdered(limit: Int) async throws {
        let gauge = Gauge()
        let out = try await Bounded.map(count: 40, limit: limit) { k in
            gauge.enter()
            defer { gauge.leave() }
            // Later jobs finish first, so arrival order differs from index order.
            try await Task.sleep(nanoseconds: UInt64((40 - k) % 7) * 200_000)
            return k * k
        }
        #expect(out.count == 40)
        #expect(out == (0..<40).map { $0 * $0 })
        #expect(gauge.peak <= limit && gauge.peak >= 1)
        if limit > 1 { #expect(gauge.peak > 1, "jobs never overlapped with limit \(limit)") }
    }

    @Test("forEach hands every result over once, as it comes")
    func forEachAll() async throws {
        var seen: [Int] = []
        try await Bounded.forEach(count: 25, limit: 4, { k in k + 100 }) { k, r in
            #expect(r == k + 100)
            seen.append(k)
        }
        #expect(seen.count == 25 && Set(seen) == Set(0..<25))
        try await Bounded.forEach(count: 0, limit: 4, { _ in Issue.record("a job of nothing ran") })
    }

    struct Boom: Error {}

    @Test("the first error stops the launching of new jobs and is rethrown")
    func errors() async throws {
        let gauge = Gauge()
        await #expect(throws: Boom.self) {
            try await Bounded.forEach(count: 1000, limit: 2) { k in
                gauge.enter()
                defer { gauge.leave() }
                if k == 3 { throw Boom() }
                try await Task.sleep(nanoseconds: 100_000)
            }
        }
        #expect(gauge.started < 20, "\(gauge.started) jobs started after the failure")
        // An error thrown by the consumer stops it too.
        await #expect(throws: Boom.self) {
            try await Bounded.forEach(count: 100, limit: 3, { $0 }) { _, r in if r == 5 { throw Boom() } }
        }
    }

    @Test("BlockingIO runs work off the caller and gives back its result or its error")
    func blocking() async throws {
        let v = try await BlockingIO.run { (1...100).reduce(0, +) }
        #expect(v == 5050)
        await #expect(throws: Boom.self) { try await BlockingIO.run { throw Boom() } }
        // Many blocking calls at once all finish (the queue is concurrent).
        let n = try await Bounded.map(count: 16, limit: 16) { k in try await BlockingIO.run { usleep(2000); return k } }
        #expect(n == Array(0..<16))
    }
}
