import Foundation
import Testing
import Gyre

/// `gyre eval`'s expressions against xarray on the same stores: values, dims and the
/// coordinates along the result's dimensions, with lazy streaming under tiny task sizes (many
/// tasks per chunk) so every streaming path runs.
@Suite("Interop: gyre eval vs xarray", .enabled(if: Interop.enabled))
struct ComputeInteropTests {
    struct Case: Decodable {
        let store: String
        let expr: String
        /// The data variable a dataset result is checked by, and all its data variables.
        let variable: String?
        let variables: [String]?
        let dims: [String]
        let shape: [Int]
        let values: [Double?]
        let coords: [String: [Coord]]
    }
    enum Coord: Decodable, Equatable {
        case number(Double), text(String)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let x = try? c.decode(Double.self) { self = .number(x) } else { self = .text(try c.decode(String.self)) }
        }
    }

    @Test("every expression gives xarray's result")
    func expressions() async throws {
        let dir = try Interop.generate("compute_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        #expect(cases.count >= 100)
        var opened: [String: Dataset] = [:]
        // Tiny tasks and slabs: many tasks per chunk, and chunks decoded a few rows at a time.
        let options = ComputeOptions(threads: 2, taskBytes: 4096, slabBytes: 200)
        for c in cases {
            if opened[c.store] == nil { opened[c.store] = try await Dataset.open(dir.appendingPathComponent(c.store).path) }
            let value: ExprValue
            do { value = try await Evaluator(dataset: opened[c.store]!).evaluate(c.expr) } catch {
                Issue.record("\(c.store): \(c.expr): \(error)")
                continue
            }
            var array: DataArray
            switch value {
            case .array(let a): array = a
            case .dataset(let d):
                #expect(Set(d.dataVars.keys) == Set(c.variables ?? []), "\(c.store): \(c.expr): data variables \(Array(d.dataVars.keys)), xarray \(c.variables ?? [])")
                guard let v = c.variable, let a = d[v] else { Issue.record("\(c.store): \(c.expr): no data variable \(c.variable ?? "-")"); continue }
                array = a
            default: Issue.record("\(c.expr) gave \(value)"); continue
            }
            array = try await ComputeOptions.$current.withValue(options) { try await array.load() }
            #expect(array.dims == c.dims, "\(c.store): \(c.expr): dims \(array.dims), xarray \(c.dims)")
            #expect(array.shape == c.shape, "\(c.store): \(c.expr): shape \(array.shape), xarray \(c.shape)")
            guard array.shape == c.shape else { continue }
            let got = try array.astype(.float64).doubles()
            guard got.count == c.values.count else {
                Issue.record("\(c.store): \(c.expr): \(got.count) values, xarray \(c.values.count)")
                continue
            }
            // A reference of nothing but missing values checks only that Gyre gives NaN too: only
            // sst's skipna=False reductions (every series has a NaN) may be that.
            if !c.values.contains(where: { $0 != nil }) && !(c.expr.hasPrefix("sst.") && c.expr.contains("skipna=False")) {
                Issue.record("\(c.store): \(c.expr): xarray's result has no finite value, so nothing is compared")
            }
            var bad = 0, firstBad = ""
            for (i, (g, w)) in zip(got, c.values).enumerated() {
                let ok: Bool
                if let w { ok = !g.isNaN && abs(g - w) <= 2e-5 * max(1, abs(w)) } else { ok = g.isNaN }
                if !ok { bad += 1; if firstBad.isEmpty { firstBad = "at \(i): Gyre \(g), xarray \(String(describing: w))" } }
            }
            #expect(bad == 0, "\(c.store): \(c.expr): \(bad) of \(got.count) values differ, first \(firstBad)")
            for (d, want) in c.coords {
                guard let coord = array.coords[d] else { Issue.record("\(c.store): \(c.expr): no coordinate '\(d)'"); continue }
                let values = try coord.data
                if let times = Self.isoTimes(values) {
                    let have = times.map { Coord.text("t:" + $0) }
                    #expect(have == want, "\(c.store): \(c.expr): coordinate '\(d)' \(have.prefix(4)) vs xarray \(want.prefix(4))")
                    continue
                }
                let have: [Coord] = values.dtype.isNumeric ? (values.doubles() ?? []).map { .number($0) } : values.scalars.map { s in
                    if case .string(let t) = s { return .text(t) }
                    return .text("\(s)")
                }
                if values.dtype.isNumeric || values.dtype.isString {
                    #expect(have == want, "\(c.store): \(c.expr): coordinate '\(d)' \(have.prefix(4)) vs xarray \(want.prefix(4))")
                }
            }
        }
    }

    /// Times as "YYYY-MM-DDTHH:MM:SS", as the Python side writes them.
    static func isoTimes(_ a: AnyNDArray) -> [String]? {
        func f(_ y: Int64, _ m: Int64, _ d: Int64, _ h: Int64, _ mi: Int64, _ s: Int64) -> String {
            String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(y), Int(m), Int(d), Int(h), Int(mi), Int(s))
        }
        switch a {
        case .datetime64(let t, let u):
            return t.elements.map { let x = datetimeFields($0, unit: u); return f(x.year, x.month, x.day, x.hour, x.minute, x.second) }
        case .cftime(let t, let cal):
            return t.elements.map { let x = CFDate(ticks: $0, calendar: cal); return f(Int64(x.year), Int64(x.month), Int64(x.day), Int64(x.hour), Int64(x.minute), Int64(x.second)) }
        default: return nil
        }
    }

    @Test("a parse or type error points at the column")
    func errors() async throws {
        let ds = try Dataset(dataVars: ["sst": try Variable(["time"], .float32(NDArray([1, 2, 3])))])
        let ev = Evaluator(dataset: ds)
        let cases: [(String, Int, String)] = [
            ("sst.mean(\"time\"", 16, "close the call opened at column 9"),
            ("sst.mean(\"time\") +", 19, "expected a value"),
            ("sst.meen()", 4, "meen"),
            ("sstt.mean()", 1, "unknown name 'sstt'"),
            ("sst.mean(dim=3)", 9, "dimensions must be a name"),
            ("sst.rolling(time=\"x\").mean()", 12, "the window must be an integer"),
            ("__import__(\"os\")", 1, "unknown name"),
            ("lambda x: x", 1, "not allowed"),
            ("sst.mean(\"tim\")", 10, "dimension 'tim' not found"),
            ("sst + \"a\"", 5, "not defined"),
        ]
        for (src, col, text) in cases {
            do {
                _ = try await ev.evaluate(src)
                Issue.record("\(src) should fail")
            } catch let e as GyreExprError {
                #expect(e.column == col, "\(src): column \(e.column), expected \(col): \(e.message)")
                #expect(e.message.contains(text), "\(src): \(e.message)")
                #expect(e.pointing(into: src).contains("^"))
            }
        }
    }
}
