import GyreCore
import Foundation
import GyreArrays
import GyreCodecs
import GyreStorage

/// A Zarr group: attributes and member arrays, read from consolidated metadata when the store
/// has it (one read opens the whole hierarchy) or by listing otherwise.
public struct ZarrGroup: Sendable {
    public let store: any ReadableStore
    public let path: String
    public let format: ZarrArrayMetadata.Format
    public let attributes: JSONObject
    /// Member arrays by path relative to the group, with their metadata.
    public let arrays: [String: ZarrArrayMetadata]
    /// Whether the members came from consolidated metadata.
    public let consolidated: Bool

    /// Opens the group at `path`: v3 `zarr.json` (inline consolidated metadata when present) or v2
    /// `.zgroup` (`.zmetadata` when present).
    public static func open(_ store: any ReadableStore, path: String = "") async throws -> ZarrGroup {
        let prefix = path.isEmpty ? "" : path + "/"
        let label = "\(store.name)\(path.isEmpty ? "" : "/" + path)"
        if let bytes = try await store.get(prefix + "zarr.json") {
            let j = try ZarrArray.parse(bytes, "\(label)/zarr.json")
            guard j["node_type"]?.string == "group" else {
                throw GyreZarrError(.metadata, "\(label)/zarr.json is not a group (node_type \(j["node_type"] ?? "missing"))")
            }
            var arrays: [String: ZarrArrayMetadata] = [:]
            var consolidated = false
            if let meta = j["consolidated_metadata"]?["metadata"]?.object {
                consolidated = true
                for (name, node) in meta where node["node_type"]?.string == "array" {
                    arrays[name] = try .v3(node, source: "\(label)/zarr.json consolidated '\(name)'")
                }
            } else {
                arrays = try await listArrays(store, prefix: prefix, label: label, marker: "zarr.json")
            }
            return ZarrGroup(store: store, path: path, format: .v3, attributes: j["attributes"]?.object ?? [:], arrays: arrays, consolidated: consolidated)
        }
        if let zmeta = try await store.get(prefix + ".zmetadata") {
            let j = try ZarrArray.parse(zmeta, "\(label)/.zmetadata")
            guard let meta = j["metadata"]?.object else { throw GyreZarrError(.metadata, "\(label)/.zmetadata has no 'metadata'") }
            var arrays: [String: ZarrArrayMetadata] = [:]
            for (key, value) in meta where key.hasSuffix(".zarray") {
                let name = String(key.dropLast(".zarray".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                arrays[name] = try .v2(value, attributes: meta[name.isEmpty ? ".zattrs" : name + "/.zattrs"], source: "\(label)/.zmetadata '\(key)'")
            }
            return ZarrGroup(store: store, path: path, format: .v2, attributes: meta[".zattrs"]?.object ?? [:], arrays: arrays, consolidated: true)
        }
        if try await store.get(prefix + ".zgroup") != nil {
            let attrs = try await store.get(prefix + ".zattrs").map { try ZarrArray.parse($0, "\(label)/.zattrs") }
            let arrays = try await listArrays(store, prefix: prefix, label: label, marker: ".zarray")
            return ZarrGroup(store: store, path: path, format: .v2, attributes: attrs?.object ?? [:], arrays: arrays, consolidated: false)
        }
        throw GyreZarrError(.notFound, "\(label): no Zarr group (neither zarr.json, .zmetadata nor .zgroup)")
    }

    static func listArrays(_ store: any ReadableStore, prefix: String, label: String, marker: String) async throws -> [String: ZarrArrayMetadata] {
        guard let lister = store as? any ListableStore else {
            throw GyreZarrError(.unsupported, "\(label): the group has no consolidated metadata and the store cannot list its members")
        }
        var arrays: [String: ZarrArrayMetadata] = [:]
        for key in try await lister.list(prefix: prefix) where key.hasSuffix("/" + marker) {
            let name = String(key.dropFirst(prefix.count).dropLast(marker.count + 1))
            if let a = try? await ZarrArray.open(store, path: prefix + name) { arrays[name] = a.metadata }
        }
        return arrays
    }

    /// The member array `name` (relative to the group).
    public func array(_ name: String) throws -> ZarrArray {
        guard let m = arrays[name] else {
            throw GyreZarrError(.notFound, "\(store.name)/\(path): no array '\(name)'; arrays are \(arrays.keys.sorted())")
        }
        return ZarrArray(store: store, path: (path.isEmpty ? "" : path + "/") + name, metadata: m)
    }

    /// Writes a group node (no members yet).
    public static func create(_ store: any WritableStore, path: String = "", format: ZarrArrayMetadata.Format, attributes: JSONObject = [:]) async throws {
        let prefix = path.isEmpty ? "" : path + "/"
        switch format {
        case .v3: try await store.set(prefix + "zarr.json", JSON.object(["zarr_format": 3, "node_type": "group", "attributes": .object(attributes)]).serialized(indent: 2, sortedKeys: true))
        case .v2:
            try await store.set(prefix + ".zgroup", JSON.object(["zarr_format": 2]).serialized(indent: 2, sortedKeys: true))
            try await store.set(prefix + ".zattrs", JSON.object(attributes).serialized(indent: 2, sortedKeys: true))
        }
    }

    /// Writes consolidated metadata for the group and its member arrays (v2 `.zmetadata`, v3
    /// inline `consolidated_metadata`), so one read opens everything.
    public static func consolidate(_ store: any WritableStore & ListableStore, path: String = "") async throws {
        let prefix = path.isEmpty ? "" : path + "/"
        let label = "\(store.name)\(path.isEmpty ? "" : "/" + path)"
        if let root = try await store.get(prefix + "zarr.json") {
            guard case .object(var j) = try ZarrArray.parse(root, "\(label)/zarr.json") else { return }
            var meta: JSONObject = [:]
            for key in try await store.list(prefix: prefix) where key.hasSuffix("/zarr.json") {
                let name = String(key.dropFirst(prefix.count).dropLast("/zarr.json".count))
                if let b = try await store.get(key) { meta[name] = try ZarrArray.parse(b, key) }
            }
            j["consolidated_metadata"] = ["kind": "inline", "must_understand": false, "metadata": .object(meta)]
            try await store.set(prefix + "zarr.json", JSON.object(j).serialized(indent: 2, sortedKeys: true))
            return
        }
        var meta: JSONObject = [:]
        for key in try await store.list(prefix: prefix) {
            let rel = String(key.dropFirst(prefix.count))
            let base = rel.split(separator: "/").last.map(String.init) ?? ""
            guard [".zarray", ".zattrs", ".zgroup"].contains(base), let b = try await store.get(key) else { continue }
            meta[rel] = try ZarrArray.parse(b, key)
        }
        try await store.set(prefix + ".zmetadata", JSON.object(["zarr_consolidated_format": 1, "metadata": .object(meta)]).serialized(indent: 2, sortedKeys: true))
    }
}
