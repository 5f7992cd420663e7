import Foundation
import Testing
import GyreArrays
import GyreData
import GyreReferences
import GyreStorage

@Suite("References: the kerchunk JSON format")
struct ReferenceSetTests {
    static func parse(_ text: String) throws -> ReferenceSet { try ReferenceSet.parse(Array(text.utf8), source: "refs.json") }

    @Test("version 1: templates, gen with arithmetic, base64 and text values, ranges and whole files")
    func version1() throws {
        let refs = try Self.parse("""
        {"version": 1, "templates": {"u": "s3://bucket/data.nc"},
         "gen": [{"key": "x/{{i}}", "url": "{{u}}", "offset": "{{(i + 1) * 1000}}", "length": "1000", "dimensions": {"i": {"stop": 5}}},
                 {"key": "y/{{i}}.{{j}}", "url": "http://h/f_{{i}}.bin", "dimensions": {"i": [3, 7], "j": {"start": 10, "stop": 4, "step": -3}}}],
         "refs": {".zgroup": "{\\"zarr_format\\": 2}", "a/0": "base64:AAEC/w==", "b/0": ["{{u}}", 16, 8], "c/0": ["/abs/file.bin"],
                  "d/.zattrs": {"k": 1}}}
        """)
        #expect(refs[".zgroup"] == .inline(Array(#"{"zarr_format": 2}"#.utf8)))
        #expect(refs["a/0"] == .inline([0, 1, 2, 255]))
        #expect(refs.urls.contains("s3://bucket/data.nc") && refs.urls.contains("/abs/file.bin"))
        let u = refs.urls.firstIndex(of: "s3://bucket/data.nc")!
        #expect(refs["b/0"] == .range(url: u, offset: 16, length: 8))
        for i in 0..<5 { #expect(refs["x/\(i)"] == .range(url: u, offset: (i + 1) * 1000, length: 1000)) }
        #expect(refs["x/5"] == nil)
        for (i, j) in [(3, 10), (3, 7), (7, 10), (7, 7)] {
            let e = refs["y/\(i).\(j)"]
            guard case .whole(let w)? = e else { Issue.record("y/\(i).\(j): \(String(describing: e))"); continue }
            #expect(refs.urls[w] == "http://h/f_\(i).bin")
        }
        #expect(refs["y/3.1"] == nil && refs["y/3.4"] == nil)  // range(10, 4, -3) stops before 4
        #expect(try refs.json("d/.zattrs", source: "t")?["k"] == 1)
    }

    @Test("version 0 and the document Gyre writes parse back to the same references")
    func roundTrip() throws {
        var refs = try Self.parse(#"{".zgroup": "{\"zarr_format\":2}", "v/0.0": ["data.nc", 100, 50], "v/0.1": ["data.nc", 150, 50], "w/0": ["other.nc"]}"#)
        refs["bin/0"] = .inline([0, 159, 146, 150])
        refs["txt/0"] = .inline(Array("base64:looks encoded".utf8))
        let doc = refs.document()
        let back = try ReferenceSet.parse(doc, source: "doc")
        #expect(back.entries.count == refs.entries.count)
        for (k, e) in refs.entries {
            switch (e, back[k]) {
            case (.inline(let a), .inline(let b)?): #expect(a == b, "\(k)")
            case (.range(let u, let o, let n), .range(let u2, let o2, let n2)?): #expect(refs.urls[u] == back.urls[u2] && o == o2 && n == n2, "\(k)")
            case (.whole(let u), .whole(let u2)?): #expect(refs.urls[u] == back.urls[u2], "\(k)")
            default: Issue.record("\(k): \(e) became \(String(describing: back[k]))")
            }
        }
        // A URL used twice is written once, as a template.
        let j = try JSON.parse(doc, source: "doc")
        #expect(j["templates"]?.object?.values.contains("data.nc") == true)
        #expect(j["refs"]?["w/0"] == ["other.nc"])
    }

    @Test("malformed references are errors that name the file and the key")
    func malformed() throws {
        let cases: [(String, String)] = [
            ("{not json", "not a JSON document"),
            ("[1, 2]", "must be a JSON object"),
            (#"{"title": "not references"}"#, "not a netCDF file, Zarr store or kerchunk references"),
            (#"{"version": 2, "refs": {}}"#, "version 2"),
            (#"{"version": 1, "refs": {}, "extra": 1}"#, "unknown top-level key 'extra'"),
            (#"{".zgroup": "{}", "a/0": ["f.nc", 1]}"#, "key 'a/0'"),
            (#"{".zgroup": "{}", "a/0": ["f.nc", -1, 5]}"#, "non-negative"),
            (#"{".zgroup": "{}", "a/0": [3]}"#, "url"),
            (#"{".zgroup": "{}", "a/0": "base64:***"}"#, "base64"),
            (#"{".zgroup": "{}", "a/0": null}"#, "null"),
            (#"{"version": 1, "gen": [{"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": 2}}, "bad": 1}], "refs": {}}"#, "unknown key 'bad'"),
            (#"{"version": 1, "gen": [{"key": "k{{j}}", "url": "u", "dimensions": {"i": {"stop": 2}}}], "refs": {}}"#, "unknown name 'j'"),
            (#"{"version": 1, "gen": [{"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": 100000, "step": 1}, "j": {"stop": 100000}}}], "refs": {}}"#, "more than"),
            (#"{"version": 1, "gen": [{"key": "k{{i // 0}}", "url": "u", "dimensions": {"i": {"stop": 2}}}], "refs": {}}"#, "division by zero"),
        ]
        for (text, expected) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("\(text): parsed")
            } catch let e as GyreReferencesError {
                #expect(e.message.contains("refs.json") && e.message.contains(expected), "\(text): \(e.message)")
            }
        }
    }
}
