import GyreCore
import GyreSTAC
import Testing

@Suite("CQL2: text and JSON to one tree, errors at the fault, evaluation")
struct CQL2Tests {
    /// The same filter in both encodings.
    static let pairs: [(String, String)] = [
        ("eo:cloud_cover < 25", #"{"op":"<","args":[{"property":"eo:cloud_cover"},25]}"#),
        ("\"eo:cloud_cover\" <= 12.5 AND platform = 'sentinel-2b'",
         #"{"op":"and","args":[{"op":"<=","args":[{"property":"eo:cloud_cover"},12.5]},{"op":"=","args":[{"property":"platform"},"sentinel-2b"]}]}"#),
        ("NOT (a = 1 OR b <> 'x')", #"{"op":"not","args":[{"op":"or","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"<>","args":[{"property":"b"},"x"]}]}]}"#),
        ("name LIKE 'S2%'", #"{"op":"like","args":[{"property":"name"},"S2%"]}"#),
        ("name NOT LIKE 'S2_'", #"{"op":"not","args":[{"op":"like","args":[{"property":"name"},"S2_"]}]}"#),
        ("cloud BETWEEN 0 AND 10.5", #"{"op":"between","args":[{"property":"cloud"},0,10.5]}"#),
        ("platform IN ('a', 'b')", #"{"op":"in","args":[{"property":"platform"},["a","b"]]}"#),
        ("platform NOT IN ('a')", #"{"op":"not","args":[{"op":"in","args":[{"property":"platform"},["a"]]}]}"#),
        ("x IS NULL", #"{"op":"isNull","args":[{"property":"x"}]}"#),
        ("x IS NOT NULL", #"{"op":"not","args":[{"op":"isNull","args":[{"property":"x"}]}]}"#),
        ("CASEI(platform) = casei('Sentinel-2B')", #"{"op":"=","args":[{"op":"casei","args":[{"property":"platform"}]},{"op":"casei","args":["Sentinel-2B"]}]}"#),
        ("ACCENTI(city) = 'Montreal'", #"{"op":"=","args":[{"op":"accenti","args":[{"property":"city"}]},"Montreal"]}"#),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 10 0, 10 10, 0 0)))",
         #"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}]}"#),
        ("s_within(geometry, BBOX(-10, -5, 10, 5))", #"{"op":"s_within","args":[{"property":"geometry"},{"bbox":[-10,-5,10,5]}]}"#),
        ("S_CONTAINS(geometry, POINT(1.5 -2))", #"{"op":"s_contains","args":[{"property":"geometry"},{"type":"Point","coordinates":[1.5,-2]}]}"#),
        ("T_INTERSECTS(datetime, INTERVAL('2020-01-01T00:00:00Z', '..'))",
         #"{"op":"t_intersects","args":[{"property":"datetime"},{"interval":["2020-01-01T00:00:00Z",".."]}]}"#),
        ("T_BEFORE(datetime, TIMESTAMP('2021-06-01T12:00:00Z'))", #"{"op":"t_before","args":[{"property":"datetime"},{"timestamp":"2021-06-01T12:00:00Z"}]}"#),
        ("T_DURING(INTERVAL(start_datetime, end_datetime), INTERVAL('2020-01-01', '2020-12-31'))",
         #"{"op":"t_during","args":[{"interval":[{"property":"start_datetime"},{"property":"end_datetime"}]},{"interval":["2020-01-01","2020-12-31"]}]}"#),
        ("t_after(datetime, DATE('2020-06-01'))", #"{"op":"t_after","args":[{"property":"datetime"},{"date":"2020-06-01"}]}"#),
        ("A_CONTAINS(instruments, ('msi'))", #"{"op":"a_contains","args":[{"property":"instruments"},["msi"]]}"#),
        ("A_OVERLAPS(instruments, ('msi', 'oli'))", #"{"op":"a_overlaps","args":[{"property":"instruments"},["msi","oli"]]}"#),
        ("gsd * 2 > view:off_nadir + 1", #"{"op":">","args":[{"op":"*","args":[{"property":"gsd"},2]},{"op":"+","args":[{"property":"view:off_nadir"},1]}]}"#),
        ("a = b", #"{"op":"=","args":[{"property":"a"},{"property":"b"}]}"#),
        ("flag = TRUE", #"{"op":"=","args":[{"property":"flag"},true]}"#),
        ("n = -3", #"{"op":"=","args":[{"property":"n"},-3]}"#),
        ("title = 'it''s'", #"{"op":"=","args":[{"property":"title"},"it's"]}"#),
    ]

    @Test("cql2-text and cql2-json give the same tree, and each writes back to it")
    func encodings() throws {
        for (text, json) in Self.pairs {
            let a = try CQL2.parse(text: text), b = try CQL2.parse(json: JSON.parse(json))
            #expect(a == b, "\(text)")
            #expect(try CQL2.parse(text: a.text) == a, "\(text) → \(a.text)")
            #expect(try CQL2.parse(json: a.json) == a, "\(text) → \(a.json.text)")
        }
    }

    @Test("precedence: NOT over AND over OR; arithmetic before comparison")
    func precedence() throws {
        let e = try CQL2.parse(text: "a = 1 OR b = 2 AND NOT c = 3")
        guard case .op("or", let terms) = e, case .op("and", let inner) = terms[1], case .op("not", _) = inner[1] else {
            Issue.record("\(e)"); return
        }
        let m = try CQL2.parse(text: "x + 2 * 3 = 7")
        guard case .op("=", let sides) = m, case .op("+", let sum) = sides[0], case .op("*", _) = sum[1] else { Issue.record("\(m)"); return }
    }

    @Test("syntax and type errors point at the column and say what was expected", arguments: [
        ("eo:cloud_cover < ", "column 18", "expected a value"),
        ("a = 1 AND", "column 10", "expected a value"),
        ("a = 'unterminated", "column 5", "unterminated string"),
        ("(a = 1", "column 7", "to close the parenthesis opened at column 1"),
        ("a BETWEEN 1 OR 2", "column 13", "expected AND in BETWEEN"),
        ("a IS 5", "column 6", "expected NULL"),
        ("S_INTERSECTS(geometry)", "column 1", "takes 2 arguments"),
        ("S_INTERSECTS(geometry, 5)", "column 1", "needs geometries"),
        ("S_TOUCHES(geometry, POINT(0 0))", "column 1", "not supported"),
        ("FOO(a) = 1", "column 1", "expected"),
        ("POLYGON((0 0, 1 0, 1 1)) = 1", "column 1", "at least 4 positions"),
        ("T_AFTER(datetime, TIMESTAMP('2020-13-01T00:00:00Z'))", "column 29", "not a calendar date"),
        ("a = 1 b = 2", "column 7", "expected AND, OR or the end"),
        ("a # 1", "column 3", "unexpected character '#'"),
        ("eo:cloud_cover", "column 1", "boolean expression"),
        ("a LIKE 5 AND TRUE", "", ""),
    ])
    func errors(text: String, column: String, want: String) {
        do {
            _ = try CQL2.parse(text: text)
            #expect(column.isEmpty, "\(text) parsed")
        } catch let e as GyreSTACError {
            #expect(e.code == .invalidFilter && e.message.contains(column) && e.message.contains(want), "\(text): \(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test("hostile nesting is an error, not a crash")
    func nesting() throws {
        for text in [String(repeating: "(", count: 50_000) + "a = 1", String(repeating: "NOT ", count: 50_000) + "a = 1",
                     "a = " + String(repeating: "-", count: 50_000) + "1", "A_CONTAINS(x, " + String(repeating: "(", count: 50_000)] {
            #expect { _ = try CQL2.parse(text: text) } throws: { ($0 as? GyreSTACError)?.message.contains("nested deeper") == true }
        }
        var j: JSON = ["op": "=", "args": [["property": "a"], 1]]
        for _ in 0..<200 { j = ["op": "not", "args": [j]] }
        #expect(throws: GyreSTACError.self) { try CQL2.parse(json: j) }
        #expect((try? CQL2.parse(text: String(repeating: "(", count: 20) + "a = 1" + String(repeating: ")", count: 20))) != nil)
    }

    @Test("cql2-json errors name the place in the document")
    func jsonErrors() throws {
        let cases: [(String, String)] = [
            (#"{"op":"and","args":[{"op":"=","args":[{"property":"a"}]}, true]}"#, "filter.args[0]: = takes 2 arguments"),
            (#"{"op":"<","args":[{"property":"a"},null]}"#, "filter.args[1]: null is not a CQL2 value"),
            (#"{"op":"t_after","args":[{"property":"datetime"},{"timestamp":"yesterday"}]}"#, "filter.args[1].timestamp"),
            (#"{"op":"in","args":[{"property":"a"},[]]}"#, "non-empty list"),
            (#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[0]}]}"#, "filter.args[1].coordinates"),
            (#"{"op":42}"#, "\"op\" must be a string"),
            (#"{"args":[]}"#, "must be an operation"),
            (#"5"#, "boolean expression"),
        ]
        for (text, want) in cases {
            #expect { _ = try CQL2.parse(json: JSON.parse(text)) } throws: { e in
                (e as? GyreSTACError).map { $0.code == .invalidFilter || $0.code == .invalidDatetime || $0.code == .invalidGeometry } == true
                    && "\(e)".contains(want)
            }
        }
    }

    static func item(_ id: String, cloud: JSON, platform: String, day: Int, lon: Double, instruments: [String] = ["msi"]) throws -> Item {
        let ts = "2020-01-\(day < 10 ? "0" : "")\(day)T10:00:00Z"
        return try Item(json: [
            "type": "Feature", "stac_version": "1.1.0", "id": .string(id), "collection": "s2",
            "geometry": ["type": "Point", "coordinates": [.double(lon), 0.5]], "bbox": [.double(lon), 0.5, .double(lon), 0.5],
            "properties": ["datetime": .string(ts), "eo:cloud_cover": cloud, "platform": .string(platform),
                           "instruments": .array(instruments.map { .string($0) }), "city": "Montréal"],
            "links": [], "assets": [:],
        ])
    }

    @Test("evaluation against items, with three-valued logic")
    func evaluate() throws {
        let items = [
            try Self.item("a", cloud: 10, platform: "sentinel-2a", day: 1, lon: 1),
            try Self.item("b", cloud: 30.5, platform: "Sentinel-2B", day: 5, lon: 20, instruments: ["msi", "oli"]),
            try Self.item("c", cloud: nil, platform: "landsat-8", day: 9, lon: -170),
            try Self.item("d", cloud: "cloudy", platform: "sentinel-2a", day: 20, lon: 179),
        ]
        func ids(_ f: String) throws -> [String] { let e = try CQL2.parse(text: f); return items.filter { e.matches($0) }.map(\.id) }
        #expect(try ids("eo:cloud_cover < 25") == ["a"])
        #expect(try ids("NOT eo:cloud_cover < 25") == ["b"], "null and strings are unknown, and NOT unknown is unknown")
        #expect(try ids("eo:cloud_cover IS NULL") == ["c"])
        #expect(try ids("eo:cloud_cover < 25 OR platform LIKE 'landsat%'") == ["a", "c"])
        #expect(try ids("CASEI(platform) = CASEI('SENTINEL-2B')") == ["b"])
        #expect(try ids("ACCENTI(city) = 'Montreal'") == ["a", "b", "c", "d"])
        #expect(try ids("platform IN ('landsat-8', 'sentinel-2a')") == ["a", "c", "d"])
        #expect(try ids("eo:cloud_cover BETWEEN 10 AND 30.5") == ["a", "b"])
        #expect(try ids("S_INTERSECTS(geometry, BBOX(170, -1, -160, 1))") == ["c", "d"])
        #expect(try ids("S_WITHIN(geometry, POLYGON((0 0, 30 0, 30 1, 0 1, 0 0)))") == ["a", "b"])
        #expect(try ids("T_INTERSECTS(datetime, INTERVAL('2020-01-04', '2020-01-09'))") == ["b", "c"])
        #expect(try ids("T_BEFORE(datetime, DATE('2020-01-05'))") == ["a"])
        #expect(try ids("T_AFTER(datetime, INTERVAL('..', '2020-01-09'))") == ["d"])
        #expect(try ids("datetime >= TIMESTAMP('2020-01-09T10:00:00Z')") == ["c", "d"])
        #expect(try ids("datetime < '2020-01-05T10:00:00Z'") == ["a"])
        #expect(try ids("A_CONTAINS(instruments, ('oli'))") == ["b"])
        #expect(try ids("A_CONTAINEDBY(instruments, ('msi'))") == ["a", "c", "d"])
        #expect(try ids("A_EQUALS(instruments, ('msi', 'oli'))") == ["b"])
        #expect(try ids("eo:cloud_cover * 2 > 50") == ["b"])
        #expect(try ids("id = 'a' OR collection <> 's2'") == ["a"])
        #expect(CQL2.like("50%_off", "50\\%\\_off") && !CQL2.like("50x_off", "50\\%\\_off") && CQL2.like("abc", "a%c") && !CQL2.like("abd", "a_c"))
    }
    @Test("the box a filter's spatial terms imply: the smallest of an and, the one around an or, none where a match may lie anywhere")
    func spatialBound() throws {
        let cases: [(String, [Double]?)] = [
            ("S_INTERSECTS(geometry, POLYGON((0 0, 10 0, 10 5, 0 0)))", [0, 0, 10, 5]),
            ("S_WITHIN(geometry, BBOX(-10, -5, 20, 15))", [-10, -5, 20, 15]),
            ("S_CONTAINS(POLYGON((1 1, 3 1, 3 2, 1 1)), geometry)", [1, 1, 3, 2]),
            ("S_EQUALS(geometry, POINT(4 5))", [4, 5, 4, 5]),
            ("eo:cloud_cover < 10 AND platform = 'x' AND S_INTERSECTS(geometry, BBOX(0, 0, 10, 10))", [0, 0, 10, 10]),
            ("S_INTERSECTS(geometry, BBOX(0, 0, 10, 10)) AND S_INTERSECTS(geometry, BBOX(5, -5, 20, 8))", [5, 0, 10, 8]),
            ("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) AND S_INTERSECTS(geometry, BBOX(5, 5, 6, 6))", [0, 0, 1, 1]),
            ("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR S_INTERSECTS(geometry, BBOX(5, -3, 6, 6))", [0, -3, 6, 6]),
            ("(S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR S_INTERSECTS(geometry, BBOX(5, 5, 6, 6))) AND gsd > 3", [0, 0, 6, 6]),
            ("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR gsd > 3", nil),
            ("NOT S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))", nil),
            ("S_DISJOINT(geometry, BBOX(0, 0, 1, 1))", nil),
            ("eo:cloud_cover < 10", nil),
        ]
        for (text, want) in cases {
            let b = try CQL2.parse(text: text).spatialBound
            #expect(b.map { [$0.west, $0.south, $0.east, $0.north] } == want, "\(text)")
        }
    }

    @Test("what a filter's shape pins: ids (=, in, under and, in every term of or) and times (comparisons and temporal predicates with a literal)")
    func pinsAndBounds() throws {
        let ids: [(String, Bool)] = [
            ("id = 'a'", true), ("id IN ('a', 'b')", true), ("eo:cloud_cover < 5 AND id = 'a'", true),
            ("id = 'a' OR id IN ('b', 'c')", true), ("id = 'a' OR gsd > 3", false), ("NOT id = 'a'", false),
            ("id <> 'a'", false), ("id LIKE 'a%'", false), ("collection = 'a'", false),
        ]
        for (text, want) in ids { #expect(try CQL2.parse(text: text).pinsIDs == want, "\(text)") }
        let times: [(String, Bool)] = [
            ("datetime >= TIMESTAMP('2020-01-01T00:00:00Z')", true),
            ("T_INTERSECTS(datetime, INTERVAL('2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z'))", true),
            ("end_datetime < '2020-02-15T00:00:00Z' AND gsd > 3", true),
            ("datetime <> TIMESTAMP('2020-01-01T00:00:00Z')", false),
            ("T_DISJOINT(datetime, INTERVAL('2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z'))", false),
            ("datetime > TIMESTAMP('2020-01-01T00:00:00Z') OR gsd > 3", false),
            ("NOT datetime > TIMESTAMP('2020-01-01T00:00:00Z')", false),
            ("eo:cloud_cover < 10", false),
        ]
        for (text, want) in times { #expect(try CQL2.parse(text: text).boundsTime == want, "\(text)") }
    }
}
