import GyreCore
import Foundation
import GyreSTAC

/// Items made ready for one catalog's write by its `prepare`: checked, repeats removed (the
/// last wins), each one's stored values computed, and where they came from kept for messages.
public struct ItemBatch: Sendable {
    package var rows: [ItemRow]
    /// Each distinct (collection, property, JSON type) of the batch, for the queryables.
    package var queryables: [(collection: String, name: String, type: String)]
    /// PostgreSQL's `COPY ... FROM STDIN` text of the rows (nil for SQLite).
    package var copyText: [UInt8]?
    /// The file the items came from, if any.
    package var path: String?
    /// The longest time span among the rows.
    package var longestSpan: Int64

    public var count: Int { rows.count }

    /// Where row `k` came from: "items.ndjson line 17 (item 'x')", or "item 'x'".
    package func label(_ row: ItemRow) -> String { Self.label(path: path, line: row.line, id: row.id) }

    static func label(path: String?, line: Int?, id: String) -> String {
        if let path, let line { return "\(path) line \(line) (item '\(id)')" }
        return "item '\(id)'"
    }

    /// How a catalog takes its rows: SQLite's with the geometry as GeoJSON text, PostgreSQL's as
    /// COPY text with the geometry as EWKB.
    package enum Format: Sendable { case sqlite, postgresCopy }

    /// One item as the rows are made from it: its checked fields, its line in the file it came
    /// from, and either the item (written out as JSON) or where its text and its properties'
    /// and geometry's texts lie in the file's bytes (stored as written).
    struct Entry {
        var fields: ItemFields
        var line: Int?
        var item: Item?
        var text: Range<Int> = 0..<0, properties: Range<Int>? = nil, geometry: Range<Int>? = nil
    }

    /// Items built in code or sent to the server.
    package init(_ items: [Item], format: Format) throws {
        var entries: [Entry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            let origin = { ItemBatch.label(path: nil, line: nil, id: item.id) }
            guard item.collection != nil else {
                throw GyreCatalogError(.badRequest, "\(origin()) names no collection; a catalog keeps items in collections")
            }
            let span: (start: Timestamp, end: Timestamp)
            do { span = try item.timeRange(path: origin()) } catch let e as GyreSTACError { throw GyreCatalogError(.badRequest, e.message, cause: e) }
            let fields = ItemFields(id: item.id, collection: item.collection, geometry: item.geometry, properties: item.properties, start: span.start, end: span.end)
            entries.append(Entry(fields: fields, line: nil, item: item))
        }
        try self.init(entries, bytes: [], path: nil, format: format)
    }

    /// Lines `range` of an NDJSON file, each parsed and checked by `ItemFields` (no `Item` is
    /// built) and stored as written: the line, and its properties and geometry as they stand
    /// in it. A bad line throws, naming the file and line.
    package init(lines: NDJSONLines, range: Range<Int>, format: Format) throws {
        var entries: [Entry] = []
        entries.reserveCapacity(range.count)
        var spans: [(key: String, range: Range<Int>)] = []
        let path = lines.path
        try lines.bytes.withUnsafeBufferPointer { all in
            for k in range {
                let l = lines.lines[k]
                let text = ItemBatch.trimmed(all, l.start..<l.end)
                let buffer = UnsafeBufferPointer(rebasing: all[text])
                let json: JSON
                do {
                    json = try JSON.parse(buffer: buffer, source: "", spans: &spans)
                } catch {
                    // Parsed again only to name the line in the error.
                    _ = try JSON.parse(buffer: buffer, source: "\(path) line \(l.number)")
                    throw error
                }
                let fields = try ItemFields(json: json, source: { "\(path) line \(l.number)" })
                guard fields.collection != nil else {
                    throw GyreCatalogError(.badRequest, "\(ItemBatch.label(path: path, line: l.number, id: fields.id)) names no collection; a catalog keeps items in collections")
                }
                var e = Entry(fields: fields, line: l.number, item: nil, text: text)
                // A repeated key's last value is the one parsed.
                for s in spans {
                    if s.key == "properties" { e.properties = (text.lowerBound + s.range.lowerBound)..<(text.lowerBound + s.range.upperBound) }
                    else if s.key == "geometry" { e.geometry = (text.lowerBound + s.range.lowerBound)..<(text.lowerBound + s.range.upperBound) }
                }
                entries.append(e)
            }
        }
        try self.init(entries, bytes: lines.bytes, path: path, format: format)
    }

    /// The rows of `entries` (texts in `bytes`): the last of repeated items wins, since one
    /// statement cannot update a row twice, and a later line of a file is the newer version.
    init(_ entries: [Entry], bytes: [UInt8], path: String?, format: Format) throws {
        self.path = path
        var latest: [ItemKey: Int] = [:]
        latest.reserveCapacity(entries.count)
        for (n, e) in entries.enumerated() { latest[ItemKey(collection: e.fields.collection ?? "", id: e.fields.id)] = n }
        var rows: [ItemRow] = []
        rows.reserveCapacity(latest.count)
        var seen = Set<QueryableKey>(), qs: [(collection: String, name: String, type: String)] = []
        var previousCollection = "", previous: [(name: String, type: String)] = []
        var longest: Int64 = 0
        let copy = format == .postgresCopy
        var copyText: [UInt8] = []
        if copy { copyText.reserveCapacity(bytes.isEmpty ? entries.count * 2048 : entries.reduce(0) { $0 + $1.text.count } * 5 / 4 + 4096) }
        var scratch: [UInt8] = []
        bytes.withUnsafeBufferPointer { all in
            func text(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: all[r]) }
            for (n, e) in entries.enumerated() where latest[ItemKey(collection: e.fields.collection ?? "", id: e.fields.id)] == n {
                let f = e.fields, collection = f.collection!
                var row = ItemRow(collection: collection, id: f.id, start: f.start.microseconds, end: f.end.microseconds,
                                  geometry: nil, bbox: f.geometry?.bbox, properties: "", content: "", line: e.line)
                longest = max(longest, row.span)
                // Items of a collection mostly carry the same properties in the same order: a
                // property the item before had in the same place, of the same type, is known.
                let sameCollection = collection == previousCollection
                var p = 0
                for (k, v) in f.properties {
                    let t = ItemRow.jsonType(v)
                    defer { p += 1 }
                    if sameCollection, p < previous.count, previous[p].type == t, previous[p].name == k { continue }
                    if p < previous.count { previous[p] = (k, t) } else { previous.append((k, t)) }
                    if t != "null", seen.insert(QueryableKey(collection: collection, name: k, type: t)).inserted { qs.append((collection, k, t)) }
                }
                if !sameCollection || p < previous.count { previous.removeSubrange(p...) ; previousCollection = collection }
                if copy {
                    // collection, id, datetime, end_datetime, geometry, properties, content
                    let rowStart = copyText.count
                    CopyText.field(collection, into: &copyText); copyText.append(0x09)
                    CopyText.field(f.id, into: &copyText); copyText.append(0x09)
                    copyText += String(row.start).utf8; copyText.append(0x09)
                    copyText += String(row.end).utf8; copyText.append(0x09)
                    if let g = f.geometry { copyText += WKB.hexEWKB(g) } else { copyText += CopyText.null }
                    copyText.append(0x09)
                    if let r = e.properties {
                        CopyText.field(text(r), into: &copyText)
                    } else {
                        scratch.removeAll(keepingCapacity: true)
                        JSON.object(f.properties).write(into: &scratch)
                        CopyText.field(scratch, into: &copyText)
                    }
                    copyText.append(0x09)
                    if let item = e.item {
                        scratch.removeAll(keepingCapacity: true)
                        item.json.write(into: &scratch)
                        CopyText.field(scratch, into: &copyText)
                    } else {
                        CopyText.field(text(e.text), into: &copyText)
                    }
                    copyText.append(0x0A)
                    row.copyRange = rowStart..<copyText.count
                } else {
                    if f.geometry != nil {
                        row.geometry = e.geometry.map { String(decoding: text($0), as: UTF8.self) } ?? e.item?.geometryJSON.text
                    }
                    row.properties = e.properties.map { String(decoding: text($0), as: UTF8.self) } ?? JSON.object(f.properties).text
                    row.content = e.item?.json.text ?? String(decoding: text(e.text), as: UTF8.self)
                }
                rows.append(row)
            }
        }
        self.rows = rows
        queryables = qs
        longestSpan = longest
        self.copyText = copy ? copyText : nil
    }
}

extension ItemBatch {
    /// A line's range without the spaces, tabs and carriage return around it.
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var from = range.lowerBound, to = range.upperBound
        func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        while from < to, space(b[from]) { from += 1 }
        while to > from, space(b[to - 1]) { to -= 1 }
        return from..<to
    }

    /// Batches prepared from consecutive parts of one file as one batch, for one transaction;
    /// an item repeated in a later part replaces the earlier one.
    package init(merging parts: [ItemBatch]) {
        guard parts.count > 1 else { self = parts.first ?? ItemBatch(rows: [], path: nil); return }
        var last: [ItemKey: (Int, Int)] = [:]
        for (p, part) in parts.enumerated() {
            for (r, row) in part.rows.enumerated() { last[ItemKey(collection: row.collection, id: row.id)] = (p, r) }
        }
        self.init(rows: [], path: parts[0].path)
        let copy = parts.allSatisfy { $0.copyText != nil }
        var text: [UInt8] = []
        if copy { text.reserveCapacity(parts.reduce(0) { $0 + $1.copyText!.count }) }
        var seen = Set<QueryableKey>()
        for (p, part) in parts.enumerated() {
            for (r, var row) in part.rows.enumerated() where last[ItemKey(collection: row.collection, id: row.id)]! == (p, r) {
                if copy, let range = row.copyRange {
                    let start = text.count
                    text += part.copyText![range]
                    row.copyRange = start..<text.count
                }
                rows.append(row)
            }
            for q in part.queryables where seen.insert(QueryableKey(collection: q.collection, name: q.name, type: q.type)).inserted { queryables.append(q) }
            longestSpan = max(longestSpan, part.longestSpan)
        }
        copyText = copy ? text : nil
    }

    package init(rows: [ItemRow], path: String?) {
        self.rows = rows; self.path = path; queryables = []; copyText = nil; longestSpan = 0
    }
}

struct ItemKey: Hashable { var collection: String, id: String }
struct QueryableKey: Hashable { var collection: String, name: String, type: String }

/// An item as the catalogs write it: everything computed before the write transaction starts.
package struct ItemRow: Sendable {
    var collection: String, id: String, start: Int64, end: Int64
    var geometry: String?, bbox: BBox?, properties: String, content: String
    /// Its line in the file it came from, if any.
    var line: Int?
    /// Its bytes in the batch's `copyText`.
    var copyRange: Range<Int>?
    /// How long the item lasts: the longest of these bounds every search's start times.
    var span: Int64 { end - start }

    static func jsonType(_ j: JSON) -> String {
        switch j {
        case .string: return "string"
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
    }
}

/// PostgreSQL's COPY text format: fields split by tabs, rows by newlines, `\N` for NULL, and a
/// backslash before each backslash and escapes for the tab, newline and carriage return a
/// value holds.
package enum CopyText {
    static let null: [UInt8] = [0x5C, 0x4E]

    static func field(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { field($0, into: &out) }
    }

    package static func field(_ bytes: [UInt8], into out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { field($0, into: &out) }
    }

    static func field(_ b: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let base = b.baseAddress else { return }
        let n = b.count, raw = UnsafeRawPointer(base)
        var from = 0, k = 0
        while k < n {
            // Eight bytes at a time while none is a backslash or a control byte (a byte below
            // 0x20, or one equal to 0x5C once xored with it to zero, sets its top bit here;
            // bytes of 0x80 and up never do).
            if k + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                let x = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let below = (w &- 0x2020_2020_2020_2020) & ~w, zero = (x &- 0x0101_0101_0101_0101) & ~x
                if (below | zero) & 0x8080_8080_8080_8080 == 0 { k += 8; continue }
            }
            let end = Swift.min(k + 8, n)
            while k < end {
                let c = base[k]
                if c == 0x5C || c < 0x20 {
                    if from < k { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[from..<k])) }
                    switch c {
                    case 0x5C: out += [0x5C, 0x5C]
                    case 0x09: out += [0x5C, 0x74]
                    case 0x0A: out += [0x5C, 0x6E]
                    case 0x0D: out += [0x5C, 0x72]
                    default: out.append(c)  // other control bytes stand for themselves
                    }
                    from = k + 1
                }
                k += 1
            }
        }
        if from < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[from..<n])) }
    }
}

/// Bulk loads of newline-delimited items: each file read `batch` lines at a time, every batch
/// parsed, checked and prepared on all cores while the one before is written in its own
/// transaction, with the catalog's deferred index maintenance around the whole load.
public enum CatalogIngest {
    /// One parsing thread per core but one.
    public static var defaultParallelism: Int { max(1, ProcessInfo.processInfo.activeProcessorCount - 1) }

    /// Loads the files into `catalog` in order and returns how many items it wrote (repeats
    /// within a batch count once). A bad item throws, naming the file and line; the batches
    /// before its batch stay written, its batch is not, and the catalog's indexes are rebuilt
    /// either way. Re-running a load writes the same catalog (items are upserted).
    /// `parallelism` threads parse (by default one per core but one, which the database's
    /// writer needs: on 2 cores, two parsing threads beside the writer were slower than one,
    /// 15 s against 11 s for 100,000 items into PostgreSQL, their allocations contending).
    /// Loads of `deferIndexesFrom` items or more (estimated from the files' sizes) ask the
    /// catalog to defer its index maintenance (`CatalogBackend.beginBulkLoad`).
    public static func ndjson(_ paths: [String], into catalog: any CatalogBackend, batch: Int = 10_000,
                              parallelism: Int = CatalogIngest.defaultParallelism,
                              deferIndexesFrom: Int = 100_000) async throws -> Int {
        guard batch > 0 else { throw GyreCatalogError(.badRequest, "the batch size must be positive, not \(batch)") }
        // About how many items: the files' bytes over a typical item's.
        let bytes = paths.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1))?[.size] as? Int ?? 0) }
        let estimate = bytes / 1200
        if estimate >= deferIndexesFrom { _ = try await catalog.beginBulkLoad(items: max(estimate, 1)) }
        var count = 0
        do {
            for path in paths {
                var writing: Task<Void, any Error>?
                do {
                    try await StaticCatalog.streamLines(path, batch: batch) { lines in
                        let parts = try await lines.parts(parallelism: parallelism) { lines, range in
                            try catalog.prepare(lines: lines, range: range)
                        }
                        // The batch before must be written before this one starts (and its
                        // error, if any, is the one to report).
                        try await writing?.value
                        let prepared = ItemBatch(merging: parts)
                        writing = Task { try await catalog.putItems(prepared) }
                        count += prepared.count
                    }
                    try await writing?.value
                } catch {
                    // Wait for the batch in flight, so the catalog is as it was before the bad
                    // batch when this returns.
                    _ = try? await writing?.value
                    throw error
                }
            }
        } catch {
            try? await catalog.finishBulkLoad(written: count)
            throw error
        }
        try await catalog.finishBulkLoad(written: count)
        return count
    }
}
