import Foundation
import GyreArrays

/// Columns read from a CSV or NDJSON file of points: numbers as float64 (an empty field or
/// `null` is NaN), anything else as strings (categories).
public struct PointTable: Sendable {
    public enum Column: Sendable {
        case numbers([Double])
        case strings([String?])
    }

    /// Column names in file order.
    public let names: [String]
    public let columns: [String: Column]
    public let rowCount: Int
    /// Where the table came from (for messages).
    public let source: String

    public init(names: [String], columns: [String: Column], rowCount: Int, source: String) {
        self.names = names
        self.columns = columns
        self.rowCount = rowCount
        self.source = source
    }

    /// A file by its extension: `.csv` / `.tsv` or `.ndjson` / `.jsonl`.
    public static func read(_ path: String) throws -> PointTable {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw GyreRenderError(.invalidData, "cannot read \(path): \(error.localizedDescription)")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") { return try ndjson(data, source: path) }
        return try csv(data, separator: lower.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","), source: path)
    }

    /// Whether a path names a file this reader takes.
    public static func handles(_ path: String) -> Bool {
        let lower = path.lowercased()
        return [".csv", ".tsv", ".ndjson", ".jsonl"].contains { lower.hasSuffix($0) }
    }

    /// CSV as RFC 4180 writes it: a header row, fields separated by `separator`, fields in
    /// double quotes may hold separators, newlines and doubled quotes.
    public static func csv(_ data: Data, separator: UInt8 = UInt8(ascii: ","), source: String = "<csv>") throws -> PointTable {
        var header: [String]? = nil
        var cells: [[String?]] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0, line = 1
            var row: [String] = []
            var field: [UInt8] = []
            var quoted = false, wasQuoted = false
            func endField() {
                row.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
            }
            func endRow() throws {
                defer { row.removeAll(keepingCapacity: true); line += 1 }
                if row.count == 1 && row[0].isEmpty { return }  // a blank line
                if header == nil {
                    header = row.map { $0.trimmingCharacters(in: .whitespaces) }
                    cells = header!.map { _ in [] }
                    return
                }
                guard row.count == header!.count else {
                    throw GyreRenderError(.invalidData, "\(source): line \(line) has \(row.count) fields, the header has \(header!.count)")
                }
                for (k, v) in row.enumerated() { cells[k].append(v) }
            }
            while i < b.count {
                let c = b[i]
                if quoted {
                    if c == UInt8(ascii: "\"") {
                        if i + 1 < b.count && b[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 2; continue }
                        quoted = false
                    } else {
                        field.append(c)
                    }
                    i += 1
                    continue
                }
                switch c {
                case UInt8(ascii: "\""):
                    if field.isEmpty && !wasQuoted { quoted = true; wasQuoted = true } else { field.append(c) }
                case separator: endField()
                case UInt8(ascii: "\n"):
                    endField()
                    try endRow()
                case UInt8(ascii: "\r"): break
                default: field.append(c)
                }
                i += 1
            }
            if quoted { throw GyreRenderError(.invalidData, "\(source): a quoted field is not closed at the end of the file") }
            if !field.isEmpty || !row.isEmpty {
                endField()
                try endRow()
            }
        }
        guard let names = header else { throw GyreRenderError(.invalidData, "\(source): no header row") }
        var columns: [String: Column] = [:]
        for (k, name) in names.enumerated() {
            columns[name] = column(cells[k])
        }
        return PointTable(names: names, columns: columns, rowCount: cells.first?.count ?? 0, source: source)
    }

    /// A column of numbers when every non-empty field is one, else of strings.
    static func column(_ values: [String?]) -> Column {
        var numbers = [Double]()
        numbers.reserveCapacity(values.count)
        for v in values {
            guard let s = v?.trimmingCharacters(in: .whitespaces), !s.isEmpty, s != "null", s != "NA" else {
                numbers.append(.nan)
                continue
            }
            guard let d = Double(s) else { return .strings(values) }
            numbers.append(d)
        }
        return .numbers(numbers)
    }

    /// One JSON object per line; each key a column (a key missing on a line is NaN / absent).
    public static func ndjson(_ data: Data, source: String = "<ndjson>") throws -> PointTable {
        var names: [String] = []
        var cells: [String: [String?]] = [:]
        var numeric: [String: Bool] = [:]
        var n = 0
        var lineNo = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let value: JSON
            do { value = try JSON.parse(line, source: "\(source) line \(lineNo)") } catch {
                throw GyreRenderError(.invalidData, "\(source): line \(lineNo) is not JSON", cause: error)
            }
            guard case .object(let o) = value else {
                throw GyreRenderError(.invalidData, "\(source): line \(lineNo) is not a JSON object")
            }
            for (k, v) in o {
                if cells[k] == nil {
                    names.append(k)
                    cells[k] = [String?](repeating: nil, count: n)
                    numeric[k] = true
                }
                switch v {
                case .int(let d): cells[k]!.append(String(d))
                case .double(let d): cells[k]!.append(String(d))
                case .null: cells[k]!.append(nil)
                case .string(let s): cells[k]!.append(s); numeric[k] = false
                case .bool(let b): cells[k]!.append(b ? "1" : "0")
                default:
                    throw GyreRenderError(.invalidData, "\(source): line \(lineNo): '\(k)' is neither a number nor a string")
                }
            }
            n += 1
            for k in names where cells[k]!.count < n { cells[k]!.append(nil) }
        }
        var columns: [String: Column] = [:]
        for k in names { columns[k] = numeric[k]! ? column(cells[k]!) : .strings(cells[k]!) }
        return PointTable(names: names, columns: columns, rowCount: n, source: source)
    }

    /// A numeric column as points' coordinates.
    public func numbers(_ name: String) throws -> [Double] {
        guard let c = columns[name] else {
            throw GyreRenderError(.invalidArgument, "\(source) has no column '\(name)' (columns: \(names.joined(separator: ", ")))")
        }
        guard case .numbers(let d) = c else { throw GyreRenderError(.invalidData, "\(source): column '\(name)' holds text, not numbers") }
        return d
    }

    /// A column as categories: codes in the order of the sorted distinct values (pandas'
    /// `Categorical`); a missing value gets code -1 and is not counted.
    public func categories(_ name: String) throws -> Points.Categories {
        guard let c = columns[name] else {
            throw GyreRenderError(.invalidArgument, "\(source) has no column '\(name)' (columns: \(names.joined(separator: ", ")))")
        }
        let texts: [String?]
        switch c {
        case .strings(let s): texts = s.map { $0.flatMap { $0.isEmpty ? nil : $0 } }
        case .numbers(let d):
            let distinct = Array(Set(d.filter { !$0.isNaN })).sorted()
            let code = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
            let labels = distinct.map { $0.rounded() == $0 && abs($0) < 1e15 ? String(Int64($0)) : String($0) }
            return Points.Categories(codes: NDArray(d.map { $0.isNaN ? -1 : code[$0]! }), names: labels)
        }
        let distinct = Array(Set(texts.compactMap { $0 })).sorted()
        let code = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
        return Points.Categories(codes: NDArray(texts.map { $0.map { code[$0]! } ?? -1 }), names: distinct)
    }
}
