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

    /// Nested brackets over `shape`, one element text per index.
    static func format(shape: [Int], summarize: Bool, element: ([Int]) -> String) -> String {
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
            let sep = "," + String(repeating: "\n", count: shape.count - d - 1) + String(repeating: " ", count: indent + 1)
            let items = positions(shape[d]).map { p -> String in
                guard let p else { return "..." }
                return render(prefix + [p], indent: indent + 1)
            }
            return "[" + items.joined(separator: sep) + "]"
        }
        return render([], indent: 0)
    }
}

extension AnyNDArray: CustomStringConvertible {
    /// NumPy-like text: nested brackets, then the dtype.
    public var description: String {
        let summarize = count > ArrayFormatter.threshold
        let body = ArrayFormatter.format(shape: shape, summarize: summarize) { idx in
            let s = try! scalar(at: idx)
            switch s {
            case .string(let t): return "'\(t)'"
            case .datetime(let t, let u): return "'\(formatDatetime64(t, unit: u))'"
            case .cftime(let t, let c): return CFDate(ticks: t, calendar: c).isoformat()
            default: return s.description
            }
        }
        return "array(\(body), dtype=\(dtype))"
    }
}
