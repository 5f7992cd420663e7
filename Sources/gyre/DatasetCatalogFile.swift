import Foundation
import Yams

/// An intake-style YAML catalog of datasets to serve:
///
///     sources:
///       sst:
///         description: Daily SST
///         args:
///           urlpath: s3://bucket/sst/*.nc
///           concat_dim: time
///           storage_options: {endpoint_url: "http://127.0.0.1:9000", anon: true}
///         metadata: {title: Daily SST}
///       cube: /data/cube.zarr        # a source given by its path alone
///
/// `metadata` entries with plain values become attributes of the served dataset.
struct DatasetCatalogFile {
    struct Entry {
        var name: String
        var source: String
        var description = ""
        var concatDim: String?
        var storageOptions: [String: String] = [:]
        var metadata: [(String, String)] = []
    }

    static func read(_ path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("--datasets \(path): cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("--datasets \(path): not UTF-8 text") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw CLIError("--datasets \(path): not YAML: \(error)") }
        guard let top = root?.mapping, let sources = top["sources"]?.mapping else {
            throw CLIError("--datasets \(path): expected a mapping with 'sources:' (NAME: {args: {urlpath: ...}})")
        }
        var out: [Entry] = []
        for (key, value) in sources {
            guard let name = key.string else { throw CLIError("--datasets \(path): a source name that is not text") }
            func fail(_ why: String) -> CLIError { CLIError("--datasets \(path): source '\(name)': \(why)") }
            if let s = value.string, value.mapping == nil {
                out.append(Entry(name: name, source: s))
                continue
            }
            guard let m = value.mapping else { throw fail("expected a path or a mapping with args: {urlpath: ...}") }
            let args = m["args"]?.mapping
            guard let url = args?["urlpath"]?.string ?? m["urlpath"]?.string, !url.isEmpty else { throw fail("args.urlpath is missing") }
            var e = Entry(name: name, source: url)
            e.description = m["description"]?.string ?? ""
            e.concatDim = args?["concat_dim"]?.string
            if let so = args?["storage_options"] {
                guard let som = so.mapping else { throw fail("args.storage_options must be a mapping") }
                for (k, v) in som {
                    guard let k = k.string, let v = v.string else { throw fail("args.storage_options holds a value that is not a plain scalar") }
                    e.storageOptions[k] = v
                }
            }
            if let md = m["metadata"] {
                guard let mdm = md.mapping else { throw fail("metadata must be a mapping") }
                for (k, v) in mdm { if let k = k.string, let v = v.string { e.metadata.append((k, v)) } }
            }
            out.append(e)
        }
        return out
    }
}
