import Foundation
import GyreArrays
import OrderedCollections

/// Text reprs in the layout xarray users know.
package enum Repr {
    /// At most `limit` lines: the first and last halves with "..." between (xarray's
    /// `limit_lines` on a DataArray's values).
    package static func limitLines(_ text: String, limit: Int) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > limit else { return text }
        return (lines.prefix(limit / 2) + ["..."] + lines.suffix(limit / 2)).joined(separator: "\n")
    }

    package static func humanSize(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        if i == 0 { return "\(bytes)B" }
        // xarray (render_human_readable_nbytes) prints no decimals: 1460 bytes is "1kB".
        return String(format: "%.0f", v) + units[i]
    }

    /// One value as xarray prints it in summaries.
    package static func valueText(_ s: Scalar) -> String {
        switch s {
        case .datetime(let t, let u): return formatDatetimeCompact(t, unit: u)
        case .cftime(let t, let c): return CFDate.isoformat(ticks: t, calendar: c)
        case .float32(let f): return shortFloat(Double(f))
        case .double(let d): return shortFloat(d)
        case .string(let s): return "'\(s)'"
        default: return s.description
        }
    }

    package static func shortFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded() && Swift.abs(d) < 1e16 { return String(Int64(d)) + "." }
        let a = Swift.abs(d)
        if a >= 1e-4 && a < 1e16 {
            var s = String(format: "%.4g", d)
            if s.contains("e") { s = String(d) }
            return s
        }
        return String(format: "%.3e", d)
    }

    /// First and last values of an array, summarized to fit `width` characters.
    package static func summary(_ a: AnyNDArray, width: Int) -> String {
        let n = a.count
        if n == 0 { return "" }
        let flat = (try? a.contiguous().reshaped([n])) ?? a
        func at(_ i: Int) -> String { (try? flat.scalar(at: [i])).map(valueText) ?? "?" }
        var all: [String] = []
        if n <= 64 { all = (0..<n).map(at) }
        if !all.isEmpty {
            let joined = all.joined(separator: " ")
            if joined.count <= width { return joined }
        }
        var head: [String] = [], tail: [String] = []
        var used = 4
        var i = 0, j = n - 1
        while i <= j {
            let h = at(i)
            if used + h.count + 1 > width { break }
            head.append(h); used += h.count + 1; i += 1
            if i > j { break }
            let t = at(j)
            if used + t.count + 1 > width { break }
            tail.insert(t, at: 0); used += t.count + 1; j -= 1
        }
        if i > j { return (head + tail).joined(separator: " ") }
        return (head + ["..."] + tail).joined(separator: " ")
    }

    package static func variableLine(_ name: String, _ v: Variable, marker: String, nameWidth: Int, lineWidth: Int = 80) -> String {
        let dimsText = "(" + v.dims.joined(separator: ", ") + ")"
        let prefix = "  \(marker) \(name.padding(toLength: Swift.max(nameWidth, name.count), withPad: " ", startingAt: 0)) \(dimsText) \(v.dtype) \(humanSize(v.nbytes)) "
        // Lazy values are not read for a repr (xarray prints "..." for them too).
        guard case .eager(let data) = v.storage else { return prefix + "..." }
        return prefix + summary(data, width: Swift.max(lineWidth - prefix.count, 10))
    }

    package static func attrsSection(_ attrs: Attributes) -> [String] {
        guard !attrs.isEmpty else { return [] }
        return ["Attributes:"] + attrs.map { k, v in
            let text = v.description.replacingOccurrences(of: "\n", with: " ")
            let line = "    \(k): \(text)"
            return line.count > 80 ? String(line.prefix(77)) + "..." : line
        }
    }

    package static func coordsSection(_ coords: OrderedDictionary<String, Variable>, indexes: Set<String>, nameWidth: Int) -> [String] {
        guard !coords.isEmpty else { return [] }
        // Dimension coordinates first, as xarray orders them.
        let ordered = coords.filter { indexes.contains($0.key) } .map { $0 } + coords.filter { !indexes.contains($0.key) }.map { $0 }
        return ["Coordinates:"] + ordered.map { k, v in variableLine(k, v, marker: indexes.contains(k) ? "*" : " ", nameWidth: nameWidth) }
    }
}

extension Dataset: CustomStringConvertible {
    public var description: String {
        let total = variables.values.reduce(0) { $0 + $1.nbytes }
        var lines = ["<xarray.Dataset> Size: \(Repr.humanSize(total))"]
        let nameWidth = Swift.max(variables.keys.map(\.count).max() ?? 0, 7) + 1
        let dimText = sizes.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        lines.append("Dimensions:  (\(dimText))")
        lines += Repr.coordsSection(coords, indexes: Set(indexes.keys), nameWidth: nameWidth)
        let withoutCoords = dims.filter { !indexes.keys.contains($0) }
        if !withoutCoords.isEmpty { lines.append("Dimensions without coordinates: " + withoutCoords.joined(separator: ", ")) }
        lines.append("Data variables:")
        if dataVars.isEmpty { lines.append("    *empty*") }
        for (k, v) in dataVars { lines.append(Repr.variableLine(k, v, marker: " ", nameWidth: nameWidth)) }
        lines += Repr.attrsSection(attrs)
        return lines.joined(separator: "\n")
    }
}

extension DataArray: CustomStringConvertible {
    public var description: String {
        let dimText = zip(dims, shape).map { "\($0): \($1)" }.joined(separator: ", ")
        let nameText = name.map { " '\($0)'" } ?? ""
        var lines = ["<xarray.DataArray\(nameText) (\(dimText))> Size: \(Repr.humanSize(variable.nbytes))"]
        switch variable.storage {
        case .eager(let data): lines.append(Repr.limitLines(data.description, limit: 40))
        case .lazy(let l): lines.append("[\(l.count) values with dtype=\(l.dtype)] (lazy, from \(l.sourceName))")
        }
        let nameWidth = Swift.max(coords.keys.map(\.count).max() ?? 0, 7) + 1
        lines += Repr.coordsSection(coords, indexes: Set(indexes.keys), nameWidth: nameWidth)
        let withoutCoords = dims.filter { !indexes.keys.contains($0) }
        if !withoutCoords.isEmpty { lines.append("Dimensions without coordinates: " + withoutCoords.joined(separator: ", ")) }
        lines += Repr.attrsSection(attrs)
        return lines.joined(separator: "\n")
    }
}
