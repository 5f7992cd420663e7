import Foundation
import GyreCore
import GyreNetCDF
import GyreStorage

/// Making references: `gyre refs create` and the library's entry point.
public enum References {
    /// What a source is.
    enum Kind { case netCDF, zarr, references }

    static func kind(_ source: String, options: [String: String]) async throws -> Kind {
        let bare = String(source.prefix { $0 != "?" && $0 != "#" }).lowercased()
        if bare.hasSuffix(".json") { return .references }
        if StoreResolver.scheme(source) == nil {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir) else {
                throw GyreReferencesError(.notFound, "\(source): no such file or directory")
            }
            return isDir.boolValue ? .zarr : .netCDF
        }
        if NetCDFFile.hasNetCDFName(source) { return .netCDF }
        let store = try StoreResolver.store(for: source, options: options)
        for marker in ["zarr.json", ".zmetadata", ".zgroup", ".zarray"] where (try? await store.get(marker, range: .range(offset: 0, length: 1))) != nil {
            return .zarr
        }
        return .netCDF
    }

    /// References for one source: a netCDF file, a Zarr store, or a references file (read).
    public static func make(_ source: String, options: ReferenceOptions = ReferenceOptions()) async throws -> ReferenceSet {
        switch try await kind(source, options: options.storageOptions) {
        case .netCDF: return try await NetCDFReferences.make(source, options: options)
        case .zarr: return try await ZarrReferences.make(source, options: options)
        case .references:
            let store = try await ReferenceStore.open(source, options: options.storageOptions)
            return store.references
        }
    }

    /// References for the sources, combined along `concatDim` when there are several
    /// (inferred when nil). Sources are read `options.maxConcurrency` at a time.
    public static func create(_ sources: [String], concatDim: String? = nil, options: ReferenceOptions = ReferenceOptions(),
                              progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> ReferenceSet {
        guard !sources.isEmpty else { throw GyreReferencesError(.invalidArgument, "no sources to make references for") }
        let opts = options
        let done = Counter()
        let made = try await Bounded.map(count: sources.count, limit: Swift.max(1, options.maxConcurrency)) { i -> ReferenceSet in
            let r = try await make(sources[i], options: opts)
            progress?(done.increment(), sources.count)
            return r
        }
        if made.count == 1 { return made[0] }
        return try await ReferenceCombiner.combine(zip(sources, made).map { (HTTPTransport.shown($0), $1) }, concatDim: concatDim)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.withLock { n += 1; return n } }
}
