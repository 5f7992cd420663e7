/// Shortest round-trip text of a float, as NumPy prints scalars ("nan", "inf", "1.0", "0.1").
public func formatFloat(_ d: Double, float32: Bool) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    let s = float32 ? Float(d).description : d.description
    return s
}

/// Formats arrays in NumPy's nested-bracket layout, summarizing large ones with "...".
enum ArrayFormatter {
    static let threshold = 1000
    static let edgeItems = 3

    static func format<T>(_ a: NDArray<T>) -> String {
        format(shape: a.shape, summarize: a.count > threshold) { idx in
            let v = a[index: idx]
            if let f = v as? Float { return formatFloat(Double(f), float32: true) }
            if let d = v as? Double { return formatFloat(d, float32: false) }
            if let b = v as? Bool { return b ? "True" : "False" }
            if let s = v as? String { return "'\(s)'" }
            return "\(v)"
        }
    }

    /// Nested brackets over `shape`, one element text per index; continuation lines are
    /// indented by `leading` extra columns (the width of "array(").
    static func format(shape: [Int], summarize: Bool, leading: Int = 0, element: ([Int]) -> String) -> String {
        if shape.isEmpty { return element([]) }
        if shape.contains(0) { return "[]" }
        // Collect texts first to pad them to one width.
        var texts: [[Int]: String] = [:]
        func positions(_ n: Int) -> [Int?] {
            if summarize && n > 2 * edgeItems {
                return Array(0..<edgeItems).map { Optional($0) } + [nil] + Array((n - edgeItems)..<n).map { Optional($0) }
            }
            return Array(0..<n).map { Optional($0) }
        }
        var width = 0
        func collect(_ prefix: [Int]) {
            if prefix.count == shape.count {
                let t = element(prefix)
                texts[prefix] = t
                width = max(width, t.count)
                return
            }
            for p in positions(shape[prefix.count]) { if let p { collect(prefix + [p]) } }
        }
        collect([])
        func render(_ prefix: [Int], indent: Int) -> String {
            let d = prefix.count
            if d == shape.count - 1 {
                let items = positions(shape[d]).map { p -> String in
                    guard let p else { return "..." }
                    let t = texts[prefix + [p]]!
                    return String(repeating: " ", count: width - t.count) + t
                }
                return "[" + items.joined(separator: ", ") + "]"
            }
            let newlines: String = String(repeating: "\n", count: shape.count - d - 1)
            let spaces: String = String(repeating: " ", count: leading + indent + 1)
            let sep: String = "," + newlines + spaces
            let items = positions(shape[d]).map { p -> String in
                guard let p else { return "..." }
                return render(prefix + [p], indent: indent + 1)
            }
            return "[" + items.joined(separator: sep) + "]"
        }
        return render([], indent: 0)
    }
}

/// NumPy's float formatting for arrays ("maxprec", precision 8): fixed notation with each value's
/// shortest digits (at most 8 after the point) padded to a common width, or scientific notation
/// for all values when the largest is >= 1e8 or the smallest non-zero is < 1e-4.
struct FloatArrayFormat {
    let scientific: Bool
    let digits: Int

    init(_ values: [Double], float32: Bool) {
        let finite = values.filter { $0.isFinite }
        let absValues = finite.map { Swift.abs($0) }
        let maxAbs = absValues.max() ?? 0
        let minNonzero = absValues.filter { $0 > 0 }.min() ?? 1
        scientific = maxAbs >= 1e8 || minNonzero < 1e-4
        var d = 0
        for v in finite { d = Swift.max(d, FloatArrayFormat.fractionDigits(v, float32: float32, scientific: scientific)) }
        digits = d
    }

    /// Digits after the point of the shortest round-trip text, capped at 8.
    static func fractionDigits(_ v: Double, float32: Bool, scientific: Bool) -> Int {
        if scientific {
            for d in 0...8 where Double(String(format: "%.\(d)e", v)).map({ float32 ? Float($0) == Float(v) : $0 == v }) == true { return d }
            return 8
        }
        for d in 0...8 where Double(String(format: "%.\(d)f", v)).map({ float32 ? Float($0) == Float(v) : $0 == v }) == true { return d }
        return 8
    }

    func text(_ v: Double, float32: Bool) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        let own = FloatArrayFormat.fractionDigits(v, float32: float32, scientific: scientific)
        if scientific {
            var t = String(format: "%.\(own)e", v)
            if own == 0, let e = t.firstIndex(of: "e") { t.insert(".", at: e) }
            if own < digits, let e = t.firstIndex(of: "e") { t.insert(contentsOf: String(repeating: "0", count: digits - own), at: e) }
            return t
        }
        var t = String(format: "%.\(own)f", v)
        if own == 0 { t += "." }
        return t + String(repeating: " ", count: digits - own)
    }
}

extension AnyNDArray: CustomStringConvertible {
    /// NumPy's repr: nested brackets, summarized past 1000 elements, floats formatted as NumPy
    /// does, and the dtype unless it is float64, int64 or bool.
    public var description: String {
        let summarize = count > ArrayFormatter.threshold
        var floatFormat: FloatArrayFormat?
        let isF32 = dtype == .float32
        if dtype.isFloatingPoint {
            // The values that will be shown decide the format.
            var shown: [Double] = []
            _ = ArrayFormatter.format(shape: shape, summarize: summarize) { idx in
                shown.append((try? scalar(at: idx))?.doubleValue ?? .nan)
                return ""
            }
            floatFormat = FloatArrayFormat(shown, float32: isF32)
        }
        let body = ArrayFormatter.format(shape: shape, summarize: summarize, leading: 6) { idx in
            let s = try! scalar(at: idx)
            switch s {
            case .string(let t): return "'\(t)'"
            case .datetime(let t, let u): return "'\(formatDatetime64(t, unit: u))'"
            case .timedelta(let t, _): return t == Int64.min ? "'NaT'" : "\(t)"
            case .cftime(let t, let c): return CFDate.isoformat(ticks: t, calendar: c)
            case .float32(let f): return floatFormat!.text(Double(f), float32: true)
            case .double(let d): return floatFormat!.text(d, float32: false)
            default: return s.description
            }
        }
        switch dtype {
        case .float64, .int64, .bool: return "array(\(body))"
        case .datetime64, .timedelta64, .string, .cftime: return "array(\(body), dtype='\(dtype)')"
        default: return "array(\(body), dtype=\(dtype))"
        }
    }
}
