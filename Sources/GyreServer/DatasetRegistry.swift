import Foundation
import GyreCatalog
import GyreCore
import GyreData
import GyreSTAC
import GyreStorage
import Hummingbird

/// A dataset as a registered user gives it (`POST /datasets`), kept in the catalog database:
/// intake's fields, as `--datasets FILE.yaml` has them.
public struct DatasetRegistration: Sendable {
    public var name: String
    /// A path or URL `Dataset.open` takes (a glob too).
    public var source: String
    public var description: String
    public var concatDim: String?
    public var storageOptions: [String: String]
    /// Attributes set on the opened dataset.
    public var metadata: [String: String]

    /// Reads a registration: `{"name" (or "id"), "source" (or "urlpath"), "description",
    /// "concat_dim", "storage_options": {...}, "metadata": {...}}`; errors name the field.
    public init(json: JSON) throws {
        guard case .object(let o) = json else { throw GyreServerError(.badRequest, "a dataset registration is a JSON object, not \(json.kind)") }
        let known: Set<String> = ["name", "id", "source", "urlpath", "description", "concat_dim", "storage_options", "metadata"]
        if let extra = o.keys.first(where: { !known.contains($0) }) {
            throw GyreServerError(.badRequest, "unknown field '\(extra.prefix(60))' in the dataset registration; the fields are name, source, description, concat_dim, storage_options and metadata")
        }
        func string(_ keys: String...) throws -> String? {
            for k in keys {
                guard let v = o[k] else { continue }
                guard let s = v.string else { throw GyreServerError(.badRequest, "'\(k)' must be a string, not \(v.kind)") }
                return s
            }
            return nil
        }
        func strings(_ k: String) throws -> [String: String] {
            guard let v = o[k] else { return [:] }
            guard case .object(let m) = v else { throw GyreServerError(.badRequest, "'\(k)' must be an object of strings, not \(v.kind)") }
            var out: [String: String] = [:]
            for (key, value) in m {
                switch value {
                case .string(let s): out[key] = s
                case .int, .double, .bool: out[key] = value.text
                default: throw GyreServerError(.badRequest, "'\(k).\(key)' must be a string, a number or a boolean, not \(value.kind)")
                }
            }
            return out
        }
        guard let name = try string("name", "id") else { throw GyreServerError(.badRequest, "the dataset registration needs a 'name'") }
        try ServedDataset.checkName(name)
        guard let source = try string("source", "urlpath"), !source.isEmpty, source.utf8.count <= 4096 else {
            throw GyreServerError(.badRequest, "the dataset registration needs a 'source' (a path or URL, at most 4096 bytes)")
        }
        self.name = name
        self.source = source
        description = try string("description") ?? ""
        concatDim = try string("concat_dim")
        storageOptions = try strings("storage_options")
        metadata = try strings("metadata")
    }

    public var json: JSON {
        var o: JSONObject = ["name": .string(name), "source": .string(source), "description": .string(description)]
        if let concatDim { o["concat_dim"] = .string(concatDim) }
        if !storageOptions.isEmpty { o["storage_options"] = .object(JSONObject(uniqueKeysWithValues: storageOptions.sorted { $0.key < $1.key }.map { ($0, .string($1)) })) }
        if !metadata.isEmpty { o["metadata"] = .object(JSONObject(uniqueKeysWithValues: metadata.sorted { $0.key < $1.key }.map { ($0, .string($1)) })) }
        return .object(o)
    }

    /// Opens the source and prepares it for serving, marked as registered.
    public func open() async throws -> ServedDataset {
        var ds: Dataset
        do { ds = try await Dataset.open(source, concatDim: concatDim, storageOptions: storageOptions) } catch {
            throw GyreServerError(.badRequest, "dataset '\(name)': cannot open '\(source.prefix(300))': \(error)")
        }
        for (k, v) in metadata { ds.attrs[k] = .string(v) }
        return try await ServedDataset(name: name, source: source, description: description, dataset: ds, registered: true)
    }
}

extension STACService {
    /// `POST /datasets` and `DELETE /datasets/{name}`, with the API key: a registered dataset is
    /// kept in the catalog database (served again after a restart) and gets a STAC collection of
    /// its own (`gyre:dataset`), with its extent and its Zarr view as an asset, so it is found
    /// as the catalog's other collections are.
    func addDatasetRegistration(to router: Router<GyreRequestContext>) {
        router.post("/datasets") { request, _ in
            try self.authorize(request)
            let reg = try DatasetRegistration(json: try await self.readJSON(request, what: "the dataset registration"))
            try self.checkRegistrable(reg.source)
            guard self.datasets[reg.name] == nil else { throw GyreServerError(.conflict, "a dataset named '\(reg.name)' is already served") }
            guard try await self.backend.collection(reg.name) == nil else {
                throw GyreServerError(.conflict, "the catalog has a collection '\(reg.name)' already; register the dataset under another name")
            }
            let served = try await reg.open()
            guard try await self.backend.registerDataset(name: reg.name, registration: reg.json) else {
                throw GyreServerError(.conflict, "a dataset named '\(reg.name)' is already registered")
            }
            do {
                try self.datasets.add(served)
                try await self.backend.putCollection(try self.datasetCollection(served))
            } catch {
                _ = self.datasets.remove(reg.name)
                _ = try? await self.backend.unregisterDataset(reg.name)
                throw error
            }
            var r = Self.respond(self.datasetListing(served), status: .created)
            r.headers[.location] = self.baseURL + "/datasets/\(served.name)"
            return r
        }
        router.delete("/datasets/{name}") { request, context in
            try self.authorize(request)
            let d = try self.requireDataset(context)
            guard d.registered else {
                throw GyreServerError(.conflict, "dataset '\(d.name)' was given when the server started (--dataset, --datasets, --demo); only datasets registered with POST /datasets can be removed")
            }
            _ = try await self.backend.unregisterDataset(d.name)
            _ = self.datasets.remove(d.name)
            if let c = try await self.backend.collection(d.name), c.extra["gyre:dataset"]?.string == d.name {
                _ = try await self.backend.deleteCollection(d.name)
            }
            return Self.noContent()
        }
    }

    /// Local sources only under the roots the server allows (`--register-root`); URLs always.
    func checkRegistrable(_ source: String) throws {
        if let scheme = StoreResolver.scheme(source), scheme != "file" { return }
        var path = source.hasPrefix("file://") ? String(source.dropFirst("file://".count)) : source
        path = URL(fileURLWithPath: path).standardizedFileURL.path
        let roots = configuration.registerRoots.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        guard !path.split(separator: "/").contains(".."), roots.contains(where: { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw GyreServerError(.forbidden, "'\(source.prefix(200))' is a local path outside the directories this server registers from "
                                  + (roots.isEmpty ? "(none: start it with --register-root DIR, or register a URL)" : "(\(roots.joined(separator: ", ")))"))
        }
        // No symbolic link out of the roots either.
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard roots.contains(where: { r in let rr = URL(fileURLWithPath: r).resolvingSymlinksInPath().path; return real == rr || real.hasPrefix(rr + "/") })
                || path.contains(where: { "*?[".contains($0) }) else {
            throw GyreServerError(.forbidden, "'\(source.prefix(200))' leads outside the directories this server registers from")
        }
    }

    /// One entry of `/datasets`.
    func datasetListing(_ d: ServedDataset) -> JSON {
        .object(["id": .string(d.name), "description": .string(d.description), "source": .string(d.source), "registered": .bool(d.registered),
                 "links": .array([link("self", "/datasets/\(d.name)"),
                                  link("data", "/datasets/\(d.name)/zarr/", "application/vnd+zarr", title: "Zarr store (v2 and v3)")])])
    }

    /// The STAC collection of a registered dataset: its extent (from its longitude, latitude
    /// and time axes when it has them) and its Zarr view as a data asset.
    func datasetCollection(_ d: ServedDataset) throws -> STACCollection {
        var bbox: [JSON] = [-180, -90, 180, 90]
        var interval: JSON = [.null, .null]
        if let grid = try? d.edrGrid.get() {
            bbox = grid.bbox.map { .double($0) }
            if let t = grid.t, let v = try? EDRGrid.axisValues(d.dataset.variables[t]!), let a = v.first, let b = v.last { interval = [a, b] }
        }
        let json: JSON = [
            "type": "Collection", "stac_version": .string(GyreSTAC.stacVersion), "id": .string(d.name),
            "title": .string(d.dataset.attrs["title"]?.stringValue ?? d.name),
            "description": .string(d.description.isEmpty ? "Dataset '\(d.name)' (\(d.source)), served by Gyre" : d.description),
            "license": "other", "keywords": .array(d.dataset.dataVars.keys.map { .string($0) }),
            "extent": ["spatial": ["bbox": .array([.array(bbox)])], "temporal": ["interval": .array([interval])]],
            "links": [],
            "assets": ["zarr": ["href": .string(baseURL + "/datasets/\(d.name)/zarr/"), "type": "application/vnd+zarr", "roles": ["data"],
                                "title": "The dataset as a Zarr store (v2 and v3)", "xarray:open_kwargs": ["consolidated": true]]],
            "gyre:dataset": .string(d.name),
        ]
        return try STACCollection(json: json, path: "the collection of dataset '\(d.name)'")
    }

    /// Serves the datasets kept in the catalog database again (at start); a source that no
    /// longer opens is left out, and named in what is returned.
    public func restoreRegisteredDatasets() async throws -> [String] {
        var skipped: [String] = []
        for (name, json) in try await backend.registeredDatasets() where datasets[name] == nil {
            do { try datasets.add(try await DatasetRegistration(json: json).open()) } catch {
                skipped.append("\(name): \(GyreServerError(mapping: error).message)")
            }
        }
        return skipped
    }
}
