/// Shortest round-trip text of a float, as NumPy prints scalars ("nan", "inf", "1.0", "0.1").
public func formatFloat(_ d: Double, float32: Bool) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    let s = float32 ? Float(d).description : d.description
    return s
}

/// Formats arrays in NumPy's nested-bracket layout: summarized with "..." past 1000 elements
/// (3 at each edge), rows wrapped at 75 columns, as NumPy's default print options do.
enum ArrayFormatter {
    static let threshold = 1000
    static let edgeItems = 3
    static let lineWidth = 75

    /// NumPy's str() of an array: brackets, no "array(".
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

    /// The positions shown along an axis of length `n`; nil stands for "...".
    static func positions(_ n: Int, summarize: Bool) -> [Int?] {
        if summarize && n > 2 * edgeItems {
            return Array(0..<edgeItems).map { Optional($0) } + [nil] + Array((n - edgeItems)..<n).map { Optional($0) }
        }
        return Array(0..<n).map { Optional($0) }
    }

    /// Nested brackets over `shape`, one element text per index (padded to one width), rows
    /// wrapped as NumPy's `_formatArray` wraps them: `prefix` is what stands before the first
    /// bracket ("array(" in a repr), `suffix` what follows the last (NumPy keeps room for it).
    static func format(shape: [Int], summarize: Bool, prefix: String = "", suffix: String = "", element: ([Int]) -> String) -> String {
        if shape.isEmpty { return element([]) }
        if shape.contains(0) { return "[]" }
        // Collect texts first to pad them to one width.
        var texts: [[Int]: String] = [:]
        var width = 0
        func collect(_ index: [Int]) {
            if index.count == shape.count {
                let t = element(index)
                texts[index] = t
                width = max(width, t.count)
                return
            }
            for p in positions(shape[index.count], summarize: summarize) { if let p { collect(index + [p]) } }
        }
        collect([])
        let lineWidth = Self.lineWidth - suffix.count
        /// Appends `word` to `line`, first moving to a new line when it would pass `limit`.
        func extend(_ s: inout String, _ line: inout String, _ word: String, _ limit: Int, _ indent: String) {
            if line.count + word.count > limit && line.count > indent.count {
                while line.last == " " { line.removeLast() }
                s += line + "\n"
                line = indent
            }
            line += word
        }
        func recurse(_ index: [Int], _ indent: String, _ currentWidth: Int) -> String {
            let axesLeft = shape.count - index.count
            if axesLeft == 0 {
                let t = texts[index]!
                return String(repeating: " ", count: width - t.count) + t
            }
            let nextIndent = indent + " ", nextWidth = currentWidth - 1
            let items = positions(shape[index.count], summarize: summarize)
            var s = ""
            if axesLeft == 1 {
                let limit = currentWidth - 1
                var line = indent
                for (k, p) in items.enumerated() {
                    let word = p.map { recurse(index + [$0], nextIndent, nextWidth) } ?? "..."
                    extend(&s, &line, word, limit, indent)
                    if k < items.count - 1 { line += ", " }
                }
                s += line
            } else {
                let separator = "," + String(repeating: "\n", count: axesLeft - 1)
                for (k, p) in items.enumerated() {
                    s += indent + (p.map { recurse(index + [$0], nextIndent, nextWidth) } ?? "...")
                    if k < items.count - 1 { s += separator }
                }
            }
            return "[" + s.dropFirst(indent.count) + "]"
        }
        return recurse([], " " + String(repeating: " ", count: prefix.count), lineWidth)
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

    /// Digits after the point of the shortest round-trip text; past 8, the value rounded to 8
    /// digits less its trailing zeros (NumPy's "maxprec": 2.9879999999999995 is 2.988).
    static func fractionDigits(_ v: Double, float32: Bool, scientific: Bool) -> Int {
        let style = scientific ? "e" : "f"
        for d in 0...8 where Double(String(format: "%.\(d)\(style)", v)).map({ float32 ? Float($0) == Float(v) : $0 == v }) == true { return d }
        var t = String(format: "%.8\(style)", v)
        if let e = t.firstIndex(of: "e") { t = String(t[..<e]) }
        var d = 8
        while d > 0 && t.last == "0" { t.removeLast(); d -= 1 }
        return d
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
        let dtypeText: String?
        switch dtype {
        case .float64, .int64, .bool: dtypeText = nil
        case .datetime64, .timedelta64, .string, .cftime: dtypeText = "'\(dtype)'"
        default: dtypeText = "\(dtype)"
        }
        let body = ArrayFormatter.format(shape: shape, summarize: summarize, prefix: "array(", suffix: ")") { idx in
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
        // NumPy 2.2 and later name the shape of a summarized array, and every dtype but the default ones.
        var extras: [String] = []
        if summarize { extras.append("shape=(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")) }
        if let dtypeText { extras.append("dtype=\(dtypeText)") }
        if extras.isEmpty { return "array(\(body))" }
        // The extras go on a line of their own when the last line has no room for them.
        let text = "array(\(body),"
        let extra = extras.joined(separator: ", ") + ")"
        let lastLine = text.count - (text.lastIndex(of: "\n").map { text.distance(from: text.startIndex, to: $0) + 1 } ?? 0)
        let spacer = lastLine + extra.count + 1 > ArrayFormatter.lineWidth ? "\n      " : " "
        return text + spacer + extra
    }
}
