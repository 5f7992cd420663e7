import GyreCore
import Foundation
import GyreSTAC
import Testing

@Suite("RFC 3339 times and intervals")
struct TimeTests {
    @Test("RFC 3339 times against Foundation's ISO 8601 formatter", arguments: [1, 2, 3] as [UInt64])
    func times(seed: UInt64) throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var rng = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let seconds = Int64.random(in: -5_000_000_000...5_000_000_000, using: &rng)
            let text = f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let t = try Timestamp(rfc3339: text)
            #expect(t.microseconds == seconds * 1_000_000, "\(text) (seed \(seed))")
            #expect(t.rfc3339 == text)
        }
        #expect(try Timestamp(rfc3339: "2020-02-29T23:59:59.5+01:30").rfc3339 == "2020-02-29T22:29:59.5Z")
        #expect(try Timestamp(rfc3339: "2020-01-01").rfc3339 == "2020-01-01T00:00:00Z")
        for bad in ["2021-02-29T00:00:00Z", "2020-13-01T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T00:00:00", "20200101", "2020-01-01T00:00:00Zjunk", "2020-01-01T00:00:00.Z"] {
            #expect(throws: GyreSTACError.self, "\(bad)") { try Timestamp(rfc3339: bad) }
        }
    }

    @Test("datetime parameters: instants, closed and open intervals, whole days")
    func intervals() throws {
        let i = try TemporalInterval(parameter: "2020-01-01T00:00:00Z/..")
        #expect(i.start?.rfc3339 == "2020-01-01T00:00:00Z" && i.end == nil)
        let d = try TemporalInterval(parameter: "2020-01-01")
        #expect(d.end?.rfc3339 == "2020-01-01T23:59:59.999999Z")
        let c = try TemporalInterval(parameter: "../2020-03-01")
        #expect(c.start == nil && c.end?.rfc3339 == "2020-03-01T23:59:59.999999Z")
        #expect(try TemporalInterval(parameter: "2020-01-01T00:00:00Z/").end == nil)
        for bad in ["../..", "", "2020-02-01/2020-01-01", "a/b", "2020-01-01/2020-01-02/2020-01-03"] {
            #expect(throws: GyreSTACError.self, "\(bad)") { try TemporalInterval(parameter: bad) }
        }
    }
}
