import Foundation
import GyreCodecs
import GyreCore
import GyreStorage
import GyreZarr
import Yams

/// An ETL recipe (Pangeo Forge's idea, as YAML): the inputs (a URL or path pattern over a
/// date or number range, or a list of files), how to open and combine them, transforms, and
/// the target Zarr store with its chunks and codecs.
///
///     source:
///       pattern: "https://host/sst/{time:%Y%m%d}.nc"
///       keys: {time: {start: 2020-01-01, end: 2020-12-31, freq: 1D}}
///       # or  files: [a.nc, b.nc]
///       concat_dim: time
///       storage_options: {anon: "true"}
///       open: {group: /, drop_variables: [mask]}
///     transforms:
///       rename: {analysed_sst: sst}
///       variables: {sst_c: "sst - 273.15"}
///       drop: [sst]
///       attrs: {title: Daily SST}
///     target:
///       url: s3://bucket/sst.zarr
///       format: zarr3
///       chunks: {time: 30}
///       codec: zstd:3
///       storage_options: {endpoint_url: "http://127.0.0.1:9000"}
///     run: {retries: 3, memory: 2GB, concurrency: 4}
///     catalog: {collection: daily-sst, title: Daily SST, description: ..., license: CC-BY-4.0}
public struct Recipe: Sendable {
    public enum Inputs: Sendable {
        /// A template over one key: `{time:%Y%m%d}`, `{n:03d}` or `{name}`.
        case pattern(String, key: String, values: [KeyValue])
        case files([String])
    }

    /// One value of a pattern's key.
    public enum KeyValue: Sendable, Equatable {
        case date(ParsedDateTime)
        case number(Int)
        case text(String)
    }

    /// A date and time of day (UTC), as a pattern's date keys hold them.
    public struct ParsedDateTime: Sendable, Equatable {
        public var year: Int, month: Int, day: Int, hour = 0, minute = 0, second = 0
    }

    public var name: String
    public var inputs: Inputs
    public var concatDim: String?
    public var sourceOptions: [String: String] = [:]
    public var group = "/"
    public var dropOnOpen: [String] = []
    public var rename: [String: String] = [:]
    /// New or replaced variables, each a GyreExpr expression over the combined dataset.
    public var variables: [(name: String, expression: String)] = []
    public var drop: [String] = []
    public var attrs: [(name: String, value: JSON)] = []
    public var target: String
    public var targetOptions: [String: String] = [:]
    public var format: ZarrArrayMetadata.Format = .v3
    public var chunks: [String: Int] = [:]
    public var codec: String?
    public var retries = 3
    public var memoryBudget = 2 << 30
    public var concurrency = 4
    /// What `gyre publish` writes into the catalog (collection id, title, description,
    /// license, keywords, providers as given).
    public var catalog: JSONObject = [:]
    /// The recipe as parsed (for its fingerprint).
    public var document: JSON

    /// Parses a recipe from YAML (or JSON, which is YAML). Unknown keys, wrong types and
    /// impossible values are errors naming `source` and the key. Relative paths in it are
    /// taken from `source`'s directory.
    public static func parse(yaml text: String, source: String) throws -> Recipe {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw GyreRecipesError(.recipe, "\(source): not YAML: \(error)")
        }
        guard let node else { throw GyreRecipesError(.recipe, "\(source): the recipe is empty") }
        var r = try parse(json: try json(node, at: "", source: source), source: source)
        // Relative paths are the recipe file's neighbours, wherever it is run from.
        let base = (source as NSString).deletingLastPathComponent
        if !base.isEmpty {
            func resolved(_ p: String) -> String { StoreResolver.scheme(p) != nil || p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p) }
            switch r.inputs {
            case .files(let f): r.inputs = .files(f.map(resolved))
            case .pattern(let p, let key, let values): r.inputs = .pattern(resolved(p), key: key, values: values)
            }
            r.target = resolved(r.target)
        }
        return r
    }

    /// YAML as JSON: mappings, sequences, and scalars by YAML's core schema.
    static func json(_ n: Node, at path: String, source: String) throws -> JSON {
        switch n {
        case .mapping(let m):
            var o = JSONObject()
            for (k, v) in m {
                guard let key = k.string else { throw GyreRecipesError(.recipe, "\(source): a key under '\(path)' is not text") }
                guard o[key] == nil else { throw GyreRecipesError(.recipe, "\(source): '\(path.isEmpty ? key : path + "." + key)' appears twice") }
                o[key] = try json(v, at: path.isEmpty ? key : path + "." + key, source: source)
            }
            return .object(o)
        case .sequence(let s):
            return .array(try s.enumerated().map { try json($0.element, at: "\(path)[\($0.offset)]", source: source) })
        case .scalar(let s):
            if s.style == .plain {
                if s.string == "null" || s.string == "~" || s.string.isEmpty { return .null }
                if s.string == "true" { return .bool(true) }
                if s.string == "false" { return .bool(false) }
                if let i = Int64(s.string) { return .int(i) }
                if let d = Double(s.string), s.string.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .double(d) }
            }
            return .string(s.string)
        }
    }

    /// Parses a recipe from its JSON form (the YAML's structure).
    public static func parse(json doc: JSON, source: String) throws -> Recipe {
        func fail(_ key: String, _ why: String) -> GyreRecipesError { GyreRecipesError(.recipe, "\(source): '\(key)': \(why)") }
        func object(_ j: JSON?, _ key: String, allowed: Set<String>) throws -> JSONObject {
            guard let j, !j.isNull else { return [:] }
            guard let o = j.object else { throw fail(key, "expected a mapping, not \(j.kind)") }
            for k in o.keys where !allowed.contains(k) {
                throw fail(key.isEmpty ? k : key + "." + k, "unknown key (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            return o
        }
        func string(_ j: JSON?, _ key: String) throws -> String? {
            guard let j, !j.isNull else { return nil }
            if let s = j.string { return s }
            if let i = j.integer { return String(i) }
            throw fail(key, "expected text, not \(j.kind)")
        }
        func strings(_ j: JSON?, _ key: String) throws -> [String] {
            guard let j, !j.isNull else { return [] }
            if let s = j.string { return [s] }
            guard let a = j.array else { throw fail(key, "expected a list of names") }
            return try a.enumerated().map { try string($0.element, "\(key)[\($0.offset)]") ?? "" }
        }
        func stringMap(_ j: JSON?, _ key: String) throws -> [String: String] {
            var out: [String: String] = [:]
            for (k, v) in try object(j, key, allowed: Set((j?.object ?? [:]).keys)) {
                if let b = v.bool { out[k] = b ? "true" : "false"; continue }
                if let d = v.number, v.integer == nil { out[k] = String(d); continue }
                guard let s = try string(v, "\(key).\(k)") else { throw fail("\(key).\(k)", "a null value") }
                out[k] = s
            }
            return out
        }
        func positive(_ j: JSON?, _ key: String, _ d: Int) throws -> Int {
            guard let j, !j.isNull else { return d }
            guard let i = j.integer, i > 0, i < 1 << 40 else { throw fail(key, "expected a positive integer, not \(j)") }
            return Int(i)
        }

        let top = try object(doc, "", allowed: ["name", "source", "transforms", "target", "run", "catalog"])
        let src = try object(top["source"], "source", allowed: ["pattern", "keys", "files", "concat_dim", "storage_options", "open"])
        let inputs: Inputs
        switch (src["pattern"], src["files"]) {
        case (let p?, nil):
            guard let pattern = try string(p, "source.pattern"), !pattern.isEmpty else { throw fail("source.pattern", "empty") }
            let keys = try object(src["keys"], "source.keys", allowed: Set((src["keys"]?.object ?? [:]).keys))
            let placeholders = InputPattern.placeholders(pattern)
            guard let first = placeholders.first else { throw fail("source.pattern", "has no {key} to fill (e.g. {time:%Y%m%d}); use source.files for a fixed list") }
            guard Set(placeholders.map(\.name)).count == 1 else {
                throw fail("source.pattern", "fills several keys (\(Set(placeholders.map(\.name)).sorted().joined(separator: ", "))); a recipe combines files along one key")
            }
            guard keys.count == 1, let spec = keys[first.name] else {
                throw fail("source.keys", "must give the values of '\(first.name)' (and nothing else)")
            }
            inputs = .pattern(pattern, key: first.name, values: try InputPattern.values(spec, key: "source.keys.\(first.name)", source: source))
        case (nil, let f?):
            let files = try strings(f, "source.files")
            guard !files.isEmpty else { throw fail("source.files", "an empty list") }
            if src["keys"] != nil { throw fail("source.keys", "only goes with source.pattern") }
            inputs = .files(files)
        case (nil, nil): throw fail("source", "needs a pattern (with keys) or files")
        default: throw fail("source", "takes a pattern or files, not both")
        }
        let open = try object(src["open"], "source.open", allowed: ["group", "drop_variables"])
        let transforms = try object(top["transforms"], "transforms", allowed: ["rename", "variables", "drop", "attrs"])
        let tgt = try object(top["target"], "target", allowed: ["url", "format", "chunks", "codec", "storage_options"])
        guard let url = try string(tgt["url"], "target.url"), !url.isEmpty else { throw fail("target.url", "missing: where the Zarr store goes") }
        let run = try object(top["run"], "run", allowed: ["retries", "memory", "concurrency"])

        var r = Recipe(name: try string(top["name"], "name") ?? (source as NSString).lastPathComponent, inputs: inputs, target: url, document: doc)
        if case .pattern(_, let key, _) = inputs { r.concatDim = key }
        if let d = try string(src["concat_dim"], "source.concat_dim") { r.concatDim = d }
        r.sourceOptions = try stringMap(src["storage_options"], "source.storage_options")
        r.group = try string(open["group"], "source.open.group") ?? "/"
        r.dropOnOpen = try strings(open["drop_variables"], "source.open.drop_variables")
        r.rename = try stringMap(transforms["rename"], "transforms.rename")
        for (k, v) in try object(transforms["variables"], "transforms.variables", allowed: Set((transforms["variables"]?.object ?? [:]).keys)) {
            guard let e = try string(v, "transforms.variables.\(k)"), !e.isEmpty else { throw fail("transforms.variables.\(k)", "an empty expression") }
            r.variables.append((k, e))
        }
        r.drop = try strings(transforms["drop"], "transforms.drop")
        for (k, v) in try object(transforms["attrs"], "transforms.attrs", allowed: Set((transforms["attrs"]?.object ?? [:]).keys)) { r.attrs.append((k, v)) }
        switch try string(tgt["format"], "target.format") {
        case nil, "zarr3"?: r.format = .v3
        case "zarr2"?: r.format = .v2
        case let f?: throw fail("target.format", "'\(f)' is not zarr2 or zarr3")
        }
        for (k, v) in try object(tgt["chunks"], "target.chunks", allowed: Set((tgt["chunks"]?.object ?? [:]).keys)) {
            r.chunks[k] = try positive(v, "target.chunks.\(k)", 1)
        }
        r.codec = try string(tgt["codec"], "target.codec")
        if let c = r.codec {
            do { _ = try CodecRegistry.compressors(spec: c) } catch let e as GyreCodecsError { throw fail("target.codec", e.message) }
        }
        r.targetOptions = try stringMap(tgt["storage_options"], "target.storage_options")
        if let rt = run["retries"] {
            guard let i = rt.integer, i >= 0, i <= 100 else { throw fail("run.retries", "expected 0 to 100") }
            r.retries = Int(i)
        }
        r.concurrency = try positive(run["concurrency"], "run.concurrency", 4)
        if let m = run["memory"] {
            guard let text = try string(m, "run.memory"), let b = Self.bytes(text), b >= 1 << 20 else {
                throw fail("run.memory", "expected a size such as 512MB or 2GB (at least 1MB)")
            }
            r.memoryBudget = b
        }
        r.catalog = try object(top["catalog"], "catalog", allowed: ["collection", "title", "description", "license", "keywords", "providers", "item_assets"])
        if r.catalog["collection"] != nil, try string(r.catalog["collection"], "catalog.collection")?.isEmpty != false {
            throw fail("catalog.collection", "an empty id")
        }
        return r
    }

    /// "2GB", "512MB", "1.5GiB", "1000000".
    static func bytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("G", 1e9), ("M", 1e6), ("K", 1e3), ("B", 1)]
        for (u, f) in units where t.hasSuffix(u) {
            guard let v = Double(t.dropLast(u.count).trimmingCharacters(in: .whitespaces)), v > 0, v < 1e18 else { return nil }
            return Int(v * f)
        }
        return Int(t)
    }

    /// The inputs' locations, in key order.
    public func locations() throws -> [String] {
        switch inputs {
        case .files(let f): return f
        case .pattern(let p, _, let values): return try values.map { try InputPattern.render(p, $0) }
        }
    }

    /// A digest of what the recipe reads and writes (not how fast): a resumed run must be the
    /// same recipe.
    public var fingerprint: String {
        var d = document.object ?? [:]
        d["run"] = nil
        d["catalog"] = nil
        // The inputs may grow (--append): the manifest keeps the list that was read.
        if var src = d["source"]?.object { src["keys"] = nil; src["files"] = nil; d["source"] = .object(src) }
        return JSON.object(d).serialized(indent: 0, sortedKeys: true).reduce(into: UInt64(0xcbf2_9ce4_8422_2325)) { h, b in h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            .description
    }
}
