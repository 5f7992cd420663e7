import Foundation
import GyreCore
import GyreStorage

/// Kerchunk references for a Zarr store (v2 or v3): metadata inline, each chunk a whole file
/// of the store (`[url]`), so that a store read through references reads the same bytes.
public enum ZarrReferences {
    static let metadataNames: Set<String> = [".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]

    public static func make(_ url: String, options: ReferenceOptions = ReferenceOptions()) async throws -> ReferenceSet {
        let location = StoreResolver.scheme(url) == nil && !url.hasPrefix("/")
            ? FileManager.default.currentDirectoryPath + "/" + url : url
        let root = location.hasSuffix("/") ? String(location.dropLast()) : location
        let store = try StoreResolver.store(for: root, options: options.storageOptions)
        guard let lister = store as? any ListableStore else {
            throw GyreReferencesError(.unsupported, "\(HTTPTransport.shown(root)): references for a Zarr store need a listing of its keys, which HTTP does not give")
        }
        let keys: [String]
        do { keys = try await lister.list(prefix: "") } catch let e as GyreStorageError {
            throw GyreReferencesError(.notFound, "\(HTTPTransport.shown(root)): cannot list the store: \(e.message)", cause: e)
        }
        guard keys.contains(where: { metadataNames.contains(String($0.split(separator: "/").last ?? "")) }) else {
            throw GyreReferencesError(.notFound, "\(HTTPTransport.shown(root)): not a Zarr store (no zarr.json, .zgroup or .zarray)")
        }
        var refs = ReferenceSet()
        let (base, query) = splitQuery(root)
        for key in keys {
            let last = String(key.split(separator: "/").last ?? "")
            if metadataNames.contains(last) {
                guard let b = try await store.get(key) else { continue }
                refs[key] = .inline(b)
            } else {
                // Keys of URLs that are percent-decoded when read (http, file) are encoded.
                let encodes = ["http", "https", "file"].contains(StoreResolver.scheme(base) ?? "")
                let encoded = key.split(separator: "/", omittingEmptySubsequences: false).map { part in
                    encodes ? (part.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? String(part)) : String(part)
                }.joined(separator: "/")
                refs[key] = .whole(url: refs.url(base + "/" + encoded + query))
            }
        }
        return refs
    }

    static func splitQuery(_ url: String) -> (String, String) {
        guard let q = url.firstIndex(of: "?") else { return (url, "") }
        return (String(url[..<q]), String(url[q...]))
    }
}
