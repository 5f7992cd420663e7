import Foundation
import GyreArrays
import GyreCodecs
import GyreCore
import GyreStorage

/// Progress of a conversion, for progress bars.
public struct ConvertProgress: Sendable {
    /// Uncompressed bytes copied so far, and in total.
    public var bytesDone: Int
    public var bytesTotal: Int
    /// The array being copied.
    public var array: String
    public init(bytesDone: Int, bytesTotal: Int, array: String) {
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.array = array
    }
}

/// Options for `ZarrConverter`.
public struct ConvertOptions: Sendable {
    public var format: ZarrArrayMetadata.Format? = nil  // nil: keep the source's
    public var chunks: [String: Int] = [:]
    public var shards: [String: Int] = [:]
    /// Compressors for every array (nil: keep each array's own).
    public var compressors: [any BytesToBytesCodec]? = nil
    public var overwrite = false
    public init(format: ZarrArrayMetadata.Format? = nil, chunks: [String: Int] = [:], shards: [String: Int] = [:],
                compressors: [any BytesToBytesCodec]? = nil, overwrite: Bool = false) {
        self.format = format
        self.chunks = chunks
        self.shards = shards
        self.compressors = compressors
        self.overwrite = overwrite
    }
}

/// Copies a Zarr store (v2 or v3) into a new one with other chunks, shards, codecs or format,
/// chunk block by chunk block in bounded memory. Blosc's typesize follows each array's dtype.
/// The destination's root metadata is written last: an interrupted conversion leaves a store
/// that does not open as complete.
public enum ZarrConverter {
    public static func convert(from src: any ReadableStore, to dst: any WritableStore & ListableStore, options: ConvertOptions = ConvertOptions(),
                               progress: (@Sendable (ConvertProgress) -> Void)? = nil) async throws {
        let group: ZarrGroup
        group = try await ZarrGroup.open(src)
        // Never let overwrite delete the source: refuse when one directory contains the other.
        if let a = src as? FileStore, let b = dst as? FileStore {
            let pa = a.root.resolvingSymlinksInPath().path, pb = b.root.resolvingSymlinksInPath().path
            if pa == pb || pb.hasPrefix(pa + "/") || pa.hasPrefix(pb + "/") {
                throw GyreZarrError(.conflict, "the destination \(pb) is the source \(pa), or one lies inside the other; choose another path")
            }
        }
        let existing = try await dst.list(prefix: "")
        if !existing.isEmpty {
            guard options.overwrite else {
                throw GyreZarrError(.exists, "\(dst.name) already exists (\(existing.count) keys); set overwrite to replace it")
            }
            try await dst.delete(keys: existing)
        }
        let format = options.format ?? group.format
        let names = group.arrays.keys.filter { !$0.contains("/") }.sorted()
        let total = names.reduce(0) { $0 + group.arrays[$1]!.shape.reduce(1, *) * group.arrays[$1]!.dtype.itemSize }
        var done = 0
        for name in names {
            let source = try group.array(name)
            let m = source.metadata
            let dims = m.dimensionNames?.map { $0 ?? "" } ?? m.shape.indices.map { "dim_\($0)" }
            let chunks = zip(dims, zip(m.shape, m.sharding?.chunkShape ?? m.chunkShape)).map { d, p in
                Swift.max(1, Swift.min(options.chunks[d] ?? p.1, Swift.max(p.0, 1)))
            }
            let layout = try ZarrLayout.storage(dims: dims, shape: m.shape, chunks: chunks, shards: options.shards,
                                                compressors: options.compressors ?? (m.sharding?.codecs.bytesToBytes ?? m.pipeline.bytesToBytes),
                                                dtype: m.dtype, format: format)
            let chunk = layout.chunkShape
            // xarray reads a v2 fill_value as _FillValue but a v3 fill_value not: keep the meaning.
            var attrs = m.attributes
            attrs.removeValue(forKey: "_ARRAY_DIMENSIONS")
            var fill = m.fillValue
            if m.format == .v2 && format == .v3, let f = m.fillValue, m.dtype.isNumeric, attrs["_FillValue"] == nil, let d = f.doubleValue {
                attrs["_FillValue"] = ZarrLayout.xarrayFillAttribute(d, dtype: m.dtype)
            }
            if m.format == .v3 && format == .v2 {
                if let fv = attrs.removeValue(forKey: "_FillValue"), let d = ZarrLayout.xarrayFill(fv, dtype: m.dtype) {
                    fill = m.dtype.isNumeric ? try AnyNDArray(scalar: .double(d)).astype(m.dtype).scalarValue : .double(d)
                } else if m.dtype.isNumeric { fill = nil }
            }
            if format == .v3 && fill == nil { fill = ZarrLayout.defaultFill(m.dtype) }
            let meta = try ZarrArrayMetadata(format: format, shape: m.shape, chunkShape: chunk, dtype: m.dtype, fillValue: fill, pipeline: layout.pipeline,
                                             attributes: attrs, dimensionNames: dims)
            let target = try await ZarrArray.create(dst, path: name, metadata: meta, overwrite: true)
            do {
                try await BlockCopy.run(shape: m.shape, sourceChunks: m.chunkShape, targetChunks: chunk,
                                        read: { [source] in try await source.read($0) },
                                        write: { origin, data in try await target.write(data, at: origin) },
                                        written: { bytes in
                                            done += bytes
                                            progress?(ConvertProgress(bytesDone: done, bytesTotal: total, array: name))
                                        })
            } catch let e as GyreZarrError {
                throw e.context("converting '\(name)'")
            }
        }
        try await ZarrGroup.create(dst, format: format, attributes: group.attributes)
        try await ZarrGroup.consolidate(dst)
    }
}
