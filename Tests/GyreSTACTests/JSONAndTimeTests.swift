import Foundation
import GyreSTAC
import Testing

@Suite("JSON and RFC 3339 times")
struct JSONAndTimeTests {
    @Test("JSON round-trips: key order, integers apart from doubles, escapes, astral characters")
    func roundTrip() throws {
        let text = #"{"z":1,"a":[1.0,-0.5,1e-07,12345678901234,true,false,null],"é\n\"q\"":"tab\there \u0001 😀 \\ /","nested":{"b":{},"a":[]}}"#
        let v = try JSON.parse(text)
        #expect(v.object?.keys.elements == ["z", "a", "é\n\"q\"", "nested"])
        #expect(v["z"] == .int(1) && v["a"]?.array?[0] == .double(1.0))
        #expect(v["é\n\"q\""]?.string == "tab\there \u{01} 😀 \\ /")
        #expect(try JSON.parse(v.serialized) == v)
        // A surrogate pair decodes to one scalar.
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test("JSON written by Gyre reads back identically in Foundation's parser")
    func againstFoundation() throws {
        var rng = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> JSON {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &rng))
            case 3: return .double(Double.random(in: -1e6...1e6, using: &rng))
            case 4: return .string(String((0..<Int.random(in: 0..<8, using: &rng)).map { _ in "aé\"\\\n\u{7}😀z ".randomElement(using: &rng)! }))
            case 5: return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in random(depth + 1) })
            default:
                var o = JSONObject()
                for k in 0..<Int.random(in: 0..<4, using: &rng) { o["k\(k)"] = random(depth + 1) }
                return .object(o)
            }
        }
        func same(_ a: JSON, _ b: Any) -> Bool {
            switch a {
            case .null: return b is NSNull
            case .bool(let v): return (b as? NSNumber)?.boolValue == v
            case .int(let v): return (b as? NSNumber)?.int64Value == v
            // Foundation's parser on Linux can be an ulp or two off; Gyre's own read-back below is exact.
            case .double(let v): return (b as? NSNumber).map { abs($0.doubleValue - v) <= 4 * v.ulp } ?? false
            case .string(let v): return (b as? String) == v
            case .array(let v): guard let x = b as? [Any], x.count == v.count else { return false }; return zip(v, x).allSatisfy { same($0, $1) }
            case .object(let v): guard let x = b as? [String: Any], x.count == v.count else { return false }; return v.allSatisfy { k, e in x[k].map { same(e, $0) } ?? false }
            }
        }
        for _ in 0..<300 {
            let v = random(0)
            let theirs = try JSONSerialization.jsonObject(with: Data(v.serialized), options: [.fragmentsAllowed])
            #expect(same(v, theirs), "\(v.text)")
            #expect(try JSON.parse(v.serialized) == v)
        }
    }

    @Test("malformed JSON: an error with the line and column, never a crash", arguments: [
        ("{\"a\": 1,\n \"b\" 2}", "line 2, column 6"), ("[1, 2", "unterminated array"), ("{\"a\":}", "expected a value"),
        ("\"abc", "unterminated string"), ("[01]", "expected ',' or ']'"), ("[1.]", "digit after the decimal point"),
        ("tru", "expected a value"), ("{} x", "after the document"), ("\"\\x\"", "invalid escape"), ("\"\\ud800\"", "unpaired surrogate"),
        ("[1e999]", "out of range"), ("\"a\u{01}\"", "control character"), ("", "end of input"),
    ])
    func malformed(text: String, expected: String) {
        do {
            _ = try JSON.parse(text, source: "body")
            Issue.record("\(text) parsed")
        } catch let e as GyreSTACError {
            #expect(e.code == .invalidJSON && e.message.hasPrefix("body: line ") && e.message.contains(expected), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test("nesting deeper than the limit is refused, and invalid UTF-8 too")
    func limits() {
        #expect(throws: GyreSTACError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
        #expect(throws: GyreSTACError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22]) }
        #expect((try? JSON.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))) != nil)
    }

    @Test("RFC 3339 times against Foundation's ISO 8601 formatter")
    func times() throws {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        for _ in 0..<500 {
            let seconds = Int64.random(in: -5_000_000_000...5_000_000_000)
            let text = f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let t = try Timestamp(rfc3339: text)
            #expect(t.microseconds == seconds * 1_000_000, "\(text)")
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
