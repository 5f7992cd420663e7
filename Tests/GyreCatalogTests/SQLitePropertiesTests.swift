import Foundation
import GRDB
import GyreCore
import Testing
@testable import GyreCatalog

@Suite("Property reads in place (gyre_number, gyre_string, ...) against SQLite's json_type/json_extract")
struct SQLitePropertiesTests {
    /// What the filter compiler wrote before these functions: the reference.
    static func reference(_ kind: String) -> String {
        let types = ["gyre_number": "'integer','real'", "gyre_string": "'text'", "gyre_boolean": "'true','false'",
                     "gyre_array_value": "'array'", "gyre_json": "'integer','real','text','true','false','array','object'"][kind]!
        return "CASE WHEN json_type(?1, ?2) IN (\(types)) THEN json_extract(?1, ?2) END"
    }

    static let functions = ["gyre_number", "gyre_string", "gyre_boolean", "gyre_array_value", "gyre_json"]

    func check(_ db: Database, _ text: String, _ key: String) throws {
        for f in Self.functions {
            let got = try DatabaseValue.fetchOne(db, sql: "SELECT \(f)(?1, ?2)", arguments: [text, key]) ?? .null
            let want = try DatabaseValue.fetchOne(db, sql: "SELECT " + Self.reference(f), arguments: [text, "$.\"\(key)\""]) ?? .null
            if f == "gyre_json" {
                // Read only for isNull: the raw JSON of any value but null.
                #expect(got.isNull == want.isNull, "\(f)(\(text), \(key)): \(got) vs \(want)")
                continue
            }
            switch (got.storage, want.storage) {
            case (.string(let g), .string(let w)) where f == "gyre_array_value":
                // json_extract gives arrays and objects minified; the same JSON either way.
                if w.hasPrefix("[") || w.hasPrefix("{") {
                    #expect(try JSON.parse(g) == JSON.parse(w), "\(f)(\(text), \(key))")
                } else {
                    #expect(g == w, "\(f)(\(text), \(key))")
                }
            case (.null, .null), (.int64, .int64), (.double, .double), (.string, .string):
                #expect(got == want, "\(f)(\(text), \(key)): \(got) vs \(want)")
            case (.int64(let g), .double(let w)), (.double(let w), .int64(let g)):
                #expect(Double(g) == w, "\(f)(\(text), \(key)): \(got) vs \(want)")
            default:
                Issue.record("\(f)(\(text), \(key)): \(got) vs \(want)")
            }
        }
    }

    @Test("written by hand: escapes, nesting, spacing, every JSON type, missing keys, not an object")
    func byHand() throws {
        let queue = try DatabaseQueue()
        try queue.inDatabase { db in
            try SQLiteProperties.register(db)
            let texts = [
                #"{"eo:cloud_cover":12.5,"platform":"sentinel-2a","gsd":10,"ok":true,"no":false,"n":null}"#,
                #" { "eo:cloud_cover" : -3e2 , "platform" : "sentinel-2b" , "instruments" : [ "msi", "a]}\"b" ] , "x" : { "y" : [1, {"z": "}"}] } } "#,
                #"{"a\"b":1,"platform":"esc\"aped\\ \u00e9 \ud83d\ude00","big":123456789012345678901,"neg":-0,"f":1.0}"#,
                #"{"nested":{"platform":"inner"},"list":[],"obj":{},"s":"","é":"accent"}"#,
                #"{}"#, #"[1,2]"#, #""string""#, #"12"#,
            ]
            let keys = ["eo:cloud_cover", "platform", "gsd", "ok", "no", "n", "instruments", "x", "a\"b".replacingOccurrences(of: "\"", with: "q"),
                        "big", "neg", "f", "nested", "list", "obj", "s", "é", "missing", "y", "z"]
            for t in texts { for k in keys { try check(db, t, k) } }
            // A key written with escapes is the key it decodes to, as in PostgreSQL's jsonb and
            // the in-memory evaluator (SQLite's json_extract compares the escaped text).
            #expect(try Int64.fetchOne(db, sql: "SELECT gyre_number(?, 'gsd')", arguments: [#"{"\u0067sd":30}"#]) == 30)
            #expect(try String.fetchOne(db, sql: "SELECT gyre_string(?, 'a\"b')", arguments: [#"{"a\"b":"x"}"#]) == "x")
        }
    }

    @Test("random properties as Gyre writes them", arguments: [1, 2, 3] as [UInt64])
    func random(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let names = ["a", "eo:cloud_cover", "platform", "view:sun_elevation", "x y", "ünï", "k.d"]
        func value(_ depth: Int) -> JSON {
            switch Int.random(in: 0..<(depth > 1 ? 6 : 8), using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int(Int64.random(in: -1_000_000...1_000_000, using: &rng))
            case 3: return .double(Double.random(in: -1e6...1e6, using: &rng))
            case 4: return .string(String((0..<Int.random(in: 0..<8, using: &rng)).map { _ in "ab\"\\/é\n\t}]".randomElement(using: &rng)! }))
            case 5: return .double(Double(Int.random(in: -5...5, using: &rng)) * 1e300)
            case 6: return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in value(depth + 1) })
            default:
                var o = JSONObject()
                for n in names.shuffled(using: &rng).prefix(Int.random(in: 0..<4, using: &rng)) { o[n] = value(depth + 1) }
                return .object(o)
            }
        }
        let queue = try DatabaseQueue()
        try queue.inDatabase { db in
            try SQLiteProperties.register(db)
            for _ in 0..<200 {
                var o = JSONObject()
                for n in names where Bool.random(using: &rng) { o[n] = value(0) }
                let text = JSON.object(o).text
                for k in names { try check(db, text, k) }
            }
        }
    }
}
