import Foundation
import GyreCore
import Testing

@Suite("JSON: the one JSON type")
struct JSONTests {
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

    @Test("JSON written by Gyre reads back identically in Foundation's parser", arguments: [1, 2, 3] as [UInt64])
    func againstFoundation(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
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
            #expect(same(v, theirs), "\(v.text) (seed \(seed))")
            #expect(try JSON.parse(v.serialized) == v)
        }
    }

    @Test("decimal numbers read to the same double as the full parser, on the short path and off it", arguments: [1, 2] as [UInt64])
    func numbersAgainstStrtod(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var texts = ["0.0", "-0.0", "1e22", "1e23", "9007199254740993.0", "123456789012345.6", "0.1e-22", "4.9e-324",
                     "2.2250738585072014e-308", "1.7976931348623157e308", "-0.5e1", "1E+5", "1e-5",
                     "100000000000000000000000.0", "0.000000000000000000000001", "0.0000000000000000000000012"]
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) }) }
        for _ in 0..<20_000 {
            // An integer part without a leading zero, a fraction, maybe an exponent: 1 to 20 digits.
            let whole = Bool.random(using: &rng) ? "0" : String(Int.random(in: 1...9, using: &rng)) + digits(Int.random(in: 0...9, using: &rng))
            var t = (Bool.random(using: &rng) ? "-" : "") + whole + "." + digits(Int.random(in: 1...10, using: &rng))
            if Bool.random(using: &rng) { t += (Bool.random(using: &rng) ? "e" : "E") + String(Int.random(in: -30...30, using: &rng)) }
            texts.append(t)
        }
        for t in texts {
            guard let want = Double(t) else { continue }
            let got = try JSON.parse(t)
            #expect(got == .double(want) && got.number?.sign == want.sign, "\(t): \(got) against \(want)")
        }
    }

    @Test("a repeated key keeps its first place and its last value, in objects of every size")
    func repeatedKeys() throws {
        #expect(try JSON.parse(#"{"a":1,"b":2,"a":3}"#).object == ["a": .int(3), "b": .int(2)])
        #expect(try JSON.parse(#"{"a":1,"b":2,"a":3}"#).object?.keys.elements == ["a", "b"])
        // Keys alike in length and first bytes, and objects past the unhashed size.
        let keys = (0..<40).map { "key_\($0 % 20)_long" }
        let text = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        let o = try #require(try JSON.parse(text).object)
        #expect(o.keys.elements == (0..<20).map { "key_\($0)_long" })
        #expect(o.values.elements == (20..<40).map { .int(Int64($0)) })
        #expect(try JSON.parse(#"{"abcdefgh1":1,"abcdefgh2":2}"#).object?.count == 2)
        // A large object (hashed, not compared key by key) keeps every key, and its repeats.
        let many = "{" + (0..<50_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k7\":-1}"
        let big = try #require(try JSON.parse(many).object)
        #expect(big.count == 50_000 && big["k49999"] == .int(49_999) && big["k7"] == .int(-1) && big.keys[7] == "k7")
        #expect(try JSON.parse(#"{"x":{"a":[1,{"a":2,"a":3}],"b":[]},"x":[[],[{}]]}"#) == .object(["x": .array([.array([]), .array([.object([:])])])]))
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
        } catch let e as GyreCoreError {
            #expect(e.code == .invalidJSON && e.message.hasPrefix("body: line ") && e.message.contains(expected), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test("nesting deeper than the limit is refused, and invalid UTF-8 too")
    func limits() {
        #expect(throws: GyreCoreError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
        #expect(throws: GyreCoreError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22]) }
        #expect((try? JSON.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))) != nil)
    }

    @Test("indented text with sorted keys, as zarr-python writes metadata, reads back equal")
    func pretty() throws {
        let v: JSON = ["zarr_format": 3, "shape": [2, 3], "attributes": [:], "codecs": [["name": "bytes", "configuration": ["endian": "little"]]], "e": []]
        let text = String(decoding: v.serialized(indent: 2, sortedKeys: true), as: UTF8.self)
        #expect(text == """
        {
          "attributes": {},
          "codecs": [
            {
              "configuration": {
                "endian": "little"
              },
              "name": "bytes"
            }
          ],
          "e": [],
          "shape": [
            2,
            3
          ],
          "zarr_format": 3
        }
        """)
        let back = try JSON.parse(text)
        #expect(back.object?.keys.elements == ["attributes", "codecs", "e", "shape", "zarr_format"])
        #expect(String(decoding: back.serialized(indent: 2, sortedKeys: true), as: UTF8.self) == text)
        #expect(JSON(sorting: ["b": 1, "a": 2]).object?.keys.elements == ["a", "b"])
        // Unsorted, the document's order is kept.
        #expect(String(decoding: JSON.object(["b": 1, "a": 2]).serialized(indent: 1), as: UTF8.self) == "{\n \"b\": 1,\n \"a\": 2\n}")
    }

    @Test("integer and number accessors: exact integers, integral doubles, nothing else")
    func accessors() throws {
        #expect(JSON.int(5).integer == 5 && JSON.double(5).integer == 5 && JSON.double(5.5).integer == nil)
        #expect(JSON.double(1e19).integer == nil && JSON.string("5").integer == nil)
        #expect(JSON.int(-3).number == -3 && JSON.bool(true).number == nil)
        #expect(try JSON.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSON.parse("9223372036854775808") == .double(9223372036854775808))
    }
}
