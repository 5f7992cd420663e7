import GyreCore
import Foundation

/// Reading STAC documents from files: one JSON object (Catalog, Collection, Item or
/// FeatureCollection), newline-delimited items (`.ndjson`, `.jsonl`), and static catalogs,
/// walked through their `child` and `item` links (relative hrefs resolve against the
/// linking file; absolute `file://` hrefs and paths work too).
public enum StaticCatalog {
    /// What a walk found, each object with the file it came from.
    public struct Contents: Sendable {
        public var catalogs: [(path: String, catalog: Catalog)] = []
        public var collections: [(path: String, collection: STACCollection)] = []
        public var items: [(path: String, item: Item)] = []
        /// Documents that could not be read or are not valid STAC, with why.
        public var problems: [String] = []
    }

    /// Reads every source, following links from catalogs and collections. With `stopAtFirst`
    /// the first problem throws; otherwise problems are collected and the walk goes on
    /// (what `gyre stac validate` reports). An item without a `collection` gets the id of
    /// the collection that links to it.
    public static func read(_ paths: [String], stopAtFirst: Bool = true) throws -> Contents {
        var out = Contents()
        var seen = Set<String>()
        func problem(_ e: Error, _ path: String) throws {
            if stopAtFirst { throw e }
            out.problems.append((e as? any GyreErrorProtocol)?.message ?? "\(path): \(e)")
        }
        func visit(_ rawPath: String, parentCollection: String?) throws {
            let path = URL(fileURLWithPath: rawPath).standardizedFileURL.path
            guard seen.insert(path).inserted else { return }
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch { try problem(error, path); return }
            if isNDJSON(path) {
                var line = 0
                for chunk in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                    line += 1
                    guard chunk.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
                    do {
                        let j = try JSON.parse(chunk, source: "\(path) line \(line)")
                        var item = try Item(json: j, path: "\(path) line \(line)")
                        if item.collection == nil { item.collection = parentCollection }
                        out.items.append((path, item))
                    } catch { try problem(error, path) }
                }
                return
            }
            let object: STACObject
            do { object = try STACObject(json: try JSON.parse(bytes, source: path), path: path) } catch {
                let code: GyreSTACError.Code = (error as? GyreSTACError)?.code ?? (error is GyreCoreError ? .invalidJSON : .invalidSTAC)
                try problem(GyreSTACError(code, prefixed(error, path)), path); return
            }
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
            func follow(_ links: [Link], collection: String?) throws {
                for l in links where l.rel == "child" || l.rel == "item" {
                    guard let target = resolve(l.href, against: dir) else {
                        try problem(GyreSTACError(.io, "\(path): link \(l.rel) → \(l.href) is not a local file; Gyre reads static catalogs from disk"), path)
                        continue
                    }
                    try visit(target, parentCollection: collection)
                }
            }
            switch object {
            case .catalog(let c):
                out.catalogs.append((path, c))
                try follow(c.links, collection: nil)
            case .collection(let c):
                out.collections.append((path, c))
                try follow(c.links, collection: c.id)
            case .item(var i):
                if i.collection == nil { i.collection = parentCollection }
                out.items.append((path, i))
            case .itemCollection(let ic):
                for var i in ic.features {
                    if i.collection == nil { i.collection = parentCollection }
                    out.items.append((path, i))
                }
            }
        }
        for p in paths { try visit(p, parentCollection: nil) }
        return out
    }

    /// Whether a path names newline-delimited items.
    public static func isNDJSON(_ path: String) -> Bool {
        path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl") || path.hasSuffix(".geojsonl")
    }

    /// Reads a newline-delimited file `batch` non-blank lines at a time, without parsing them,
    /// so a caller can parse each batch in parallel (`NDJSONLines.items`) while it writes the
    /// one before. Blank lines are skipped but counted, so line numbers match an editor's.
    public static func streamLines(_ path: String, batch: Int = 5000, _ body: (NDJSONLines) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDir: ObjCBool = false
            let why = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) ? (isDir.boolValue ? "is a directory" : "cannot be read") : "does not exist"
            throw GyreSTACError(.io, "\(path) \(why)")
        }
        defer { try? handle.close() }
        let batch = max(1, batch)
        // `pending` holds the bytes from the current batch's first line on; its lines are
        // found with memchr and the batch leaves as one copy of its bytes.
        var pending: [UInt8] = [], line = 0
        var scanned = 0  // bytes of `pending` already cut into lines
        var lines: [NDJSONLines.Line] = []
        lines.reserveCapacity(batch)
        func emit(upTo end: Int) -> NDJSONLines {
            var out = NDJSONLines(path: path)
            out.bytes = Array(pending[..<end])
            out.lines = lines
            lines.removeAll(keepingCapacity: true)
            pending.removeSubrange(..<end)
            scanned -= end
            return out
        }
        /// Cuts the lines of `pending[scanned..<to]` (which ends at a newline or the file's
        /// end) until the batch is full; true when it is.
        func cut(to: Int) -> Bool {
            pending.withUnsafeBufferPointer { b in
                while scanned < to {
                    let from = scanned
                    let found = memchr(b.baseAddress! + from, 0x0A, to - from)
                    let end = found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - b.baseAddress! } ?? to
                    line += 1
                    scanned = Swift.min(end + 1, to)
                    var k = from
                    while k < end, b[k] == 0x20 || b[k] == 0x0D || b[k] == 0x09 { k += 1 }
                    if k < end { lines.append(NDJSONLines.Line(start: from, end: end, number: line)) }
                    if lines.count >= batch { return true }
                }
                return false
            }
        }
        var atEnd = false
        while !atEnd {
            let data: Data
            do { data = try handle.read(upToCount: 8 << 20) ?? Data() } catch { throw GyreSTACError(.io, "\(path): \(error.localizedDescription)") }
            atEnd = data.isEmpty
            pending.append(contentsOf: data)
            // Whole lines only, until the file ends.
            var limit = atEnd ? pending.count : (pending.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            while scanned < limit {
                if cut(to: limit) {
                    let sent = scanned
                    try await body(emit(upTo: sent))
                    limit -= sent
                }
            }
        }
        if !lines.isEmpty { try await body(emit(upTo: scanned)) }
    }
    static func prefixed(_ e: Error, _ path: String) -> String {
        let m = (e as? any GyreErrorProtocol)?.message ?? "\(e)"
        return m.hasPrefix(path) ? m : "\(path): \(m)"
    }

    static func resolve(_ href: String, against dir: URL) -> String? {
        if href.hasPrefix("file://") { return URL(string: href)?.path }
        if href.contains("://") { return nil }
        if href.hasPrefix("/") { return href }
        return dir.appendingPathComponent(href).path
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let why = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) ? (isDir.boolValue ? "is a directory" : "cannot be read") : "does not exist"
            throw GyreSTACError(.io, "\(path) \(why)")
        }
        return Array(d)
    }
}

extension StaticCatalog {
    /// Writes a static catalog under `directory`, as pystac lays one out:
    /// `catalog.json`, `<collection>/collection.json`, `<collection>/<item>/<item>.json`.
    /// Structural links (`self`, `root`, `parent`, `child`, `item`, `collection`) are rebuilt,
    /// relative; with `baseURL` every object also gets an absolute `self` link. Other links are
    /// kept. Items go first and `catalog.json` last, so an interrupted write has no root and
    /// does not read as a complete catalog. Ids that would escape the directory are refused.
    public static func write(catalog: Catalog, collections: [STACCollection], items: [Item], to directory: String,
                             baseURL: String? = nil, overwrite: Bool = false) throws {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: directory)
        let rootFile = root.appendingPathComponent("catalog.json")
        if fm.fileExists(atPath: rootFile.path) && !overwrite {
            throw GyreSTACError(.io, "\(rootFile.path) already exists; pass overwrite to replace the catalog")
        }
        func safe(_ id: String, _ what: String) throws -> String {
            guard !id.isEmpty, id != ".", id != "..", !id.contains("/"), !id.contains("\\"), !id.contains("\u{0}") else {
                throw GyreSTACError(.invalidSTAC, "\(what) id '\(id)' cannot name a file (no '/', '\\', '.' or '..')")
            }
            return id
        }
        let known = Set(collections.map(\.id))
        for i in items where !known.contains(i.collection ?? "") {
            throw GyreSTACError(.invalidSTAC, "item '\(i.id)' names collection '\(i.collection ?? "(none)")', which is not among the collections written")
        }
        let structural: Set<String> = ["self", "root", "parent", "child", "item", "collection"]
        func links(_ old: [Link], _ new: [Link], selfPath: String) -> [Link] {
            var out = new
            if let base = baseURL {
                let b = base.hasSuffix("/") ? base : base + "/"
                out.insert(Link(rel: "self", href: b + selfPath, type: "application/json"), at: 0)
            }
            return out + old.filter { !structural.contains($0.rel) }
        }
        func put(_ json: JSON, _ relative: String) throws {
            let url = root.appendingPathComponent(relative)
            do {
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(json.serialized).write(to: url, options: .atomic)
            } catch {
                throw GyreSTACError(.io, "\(url.path): cannot write: \(error.localizedDescription)")
            }
        }
        let json = "application/json", geojson = "application/geo+json"
        var itemsBy: [String: [Item]] = [:]
        for i in items { itemsBy[i.collection!, default: []].append(i) }
        for c in collections {
            let cid = try safe(c.id, "collection")
            for var i in itemsBy[c.id] ?? [] {
                let iid = try safe(i.id, "item")
                i.links = links(i.links, [Link(rel: "root", href: "../../catalog.json", type: json),
                                          Link(rel: "parent", href: "../collection.json", type: json),
                                          Link(rel: "collection", href: "../collection.json", type: json)],
                                selfPath: "\(cid)/\(iid)/\(iid).json")
                try put(i.json, "\(cid)/\(iid)/\(iid).json")
            }
        }
        for var c in collections {
            let cid = c.id
            let itemLinks = (itemsBy[cid] ?? []).map { Link(rel: "item", href: "./\($0.id)/\($0.id).json", type: geojson) }
            c.links = links(c.links, [Link(rel: "root", href: "../catalog.json", type: json), Link(rel: "parent", href: "../catalog.json", type: json)] + itemLinks,
                            selfPath: "\(cid)/collection.json")
            try put(c.json, "\(cid)/collection.json")
        }
        var cat = catalog
        cat.links = links(cat.links, [Link(rel: "root", href: "./catalog.json", type: json)]
                          + collections.map { Link(rel: "child", href: "./\($0.id)/collection.json", type: json) }, selfPath: "catalog.json")
        try put(cat.json, "catalog.json")
    }
}

/// A batch of lines of a newline-delimited file, unparsed: their bytes, one after another, and
/// where each starts and ends and which line of the file it is.
public struct NDJSONLines: Sendable {
    public struct Line: Sendable {
        public var start: Int, end: Int, number: Int
    }
    public let path: String
    public var bytes: [UInt8] = []
    public var lines: [Line] = []

    public init(path: String) { self.path = path }

    public var count: Int { lines.count }
    /// The first and last line numbers, for messages ("items.ndjson lines 5001-10000").
    public var span: String {
        guard let a = lines.first?.number, let b = lines.last?.number else { return "\(path) (no lines)" }
        return a == b ? "\(path) line \(a)" : "\(path) lines \(a)-\(b)"
    }

    /// Parses and checks lines `range` as items, in order; the first bad one throws, naming the
    /// file and line.
    public func items(_ range: Range<Int>) throws -> [Item] {
        var out: [Item] = []
        out.reserveCapacity(range.count)
        try bytes.withUnsafeBufferPointer { all in
            for k in range {
                let l = lines[k]
                let source = "\(path) line \(l.number)"
                let j = try JSON.parse(buffer: UnsafeBufferPointer(rebasing: all[l.start..<l.end]), source: source)
                out.append(try Item(json: j, path: source))
            }
        }
        return out
    }

    /// Every line parsed as an item, `parallelism` parts at once.
    public func items(parallelism: Int) async throws -> [Item] {
        try await parts(parallelism: parallelism) { batch, range in try batch.items(range) }.flatMap { $0 }
    }

    /// `body` over the lines cut into about `parallelism` ranges, run at once; the results in
    /// order. The first error (the earliest line's, when several parts fail) is thrown.
    public func parts<T: Sendable>(parallelism: Int, _ body: @escaping @Sendable (NDJSONLines, Range<Int>) throws -> T) async throws -> [T] {
        let n = max(1, min(parallelism, lines.count / 64 + 1))
        let step = (lines.count + n - 1) / max(n, 1)
        let ranges = stride(from: 0, to: lines.count, by: max(step, 1)).map { $0..<min($0 + step, lines.count) }
        if ranges.count <= 1 { return try ranges.map { try body(self, $0) } }
        // Each part reports its own error, so the one of the earliest line is thrown.
        let results = try await Bounded.map(count: ranges.count, limit: ranges.count) { [self] k -> PartResult<T> in
            do { return .done(try body(self, ranges[k])) } catch { return .failed(PartFailure(error: error)) }
        }
        return try results.map { r in
            switch r {
            case .done(let v): return v
            case .failed(let f): throw f.error
            }
        }
    }

    enum PartResult<T: Sendable>: Sendable { case done(T), failed(PartFailure) }
    /// A part's error, carried back to the caller's task and thrown there unchanged (the
    /// errors parsing throws are Sendable; `any Error` does not say so).
    struct PartFailure: @unchecked Sendable { let error: any Error }
}
