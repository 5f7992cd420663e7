import Foundation
import GyreArrays
import GyreCodecs
import GyreCore
import GyreNetCDF
import GyreStorage
import GyreZarr

/// How references are made.
public struct ReferenceOptions: Sendable {
    /// Chunks (and other values) smaller than this many bytes are inlined (base64), as
    /// kerchunk's `inline_threshold`; 0 inlines nothing but metadata.
    public var inlineThreshold = 500
    /// Storage options for reading the sources (fsspec's names).
    public var storageOptions: [String: String] = [:]
    /// Sources whose metadata is read at once.
    public var maxConcurrency = 16
    public init(inlineThreshold: Int = 500, storageOptions: [String: String] = [:]) {
        self.inlineThreshold = inlineThreshold
        self.storageOptions = storageOptions
    }
}

/// Kerchunk references for one netCDF file (netCDF-3 classic, 64-bit offset and CDF-5; or
/// netCDF-4/HDF5 as netCDF writes it), from Gyre's own header and HDF5 readers: each
/// variable a Zarr v2 array whose chunks are byte ranges of the file (netCDF-3 records one
/// chunk each, contiguous data one chunk, HDF5 chunks as the chunk index lists them with
/// their filters as numcodecs codecs), groups as Zarr groups.
public enum NetCDFReferences {
    /// References for the file at `url` (a path or URL, written into the references as it is
    /// given, a relative path made absolute).
    public static func make(_ url: String, options: ReferenceOptions = ReferenceOptions()) async throws -> ReferenceSet {
        let location = StoreResolver.scheme(url) == nil && !url.hasPrefix("/")
            ? FileManager.default.currentDirectoryPath + "/" + url : url
        let (store, key) = try StoreResolver.file(location, options: options.storageOptions)
        let shown = HTTPTransport.shown(location)
        let file: NetCDFFile
        do { file = try await NetCDFFile.open(store: store, key: key, name: shown) } catch let e as GyreNetCDFError {
            throw GyreReferencesError(e.code == .open ? .notFound : .unsupported, e.message, cause: e)
        }
        var refs = ReferenceSet()
        let u = refs.url(location)
        for (path, group) in file.groups.sorted(by: { $0.key < $1.key }) {
            let prefix = path == "/" ? "" : String(path.dropFirst()) + "/"
            refs.setJSON(prefix + ".zgroup", ["zarr_format": 2])
            refs.setJSON(prefix + ".zattrs", .object(attributes(group.attributes)))
            for v in group.variables {
                try await variable(v, file: file, prefix: prefix, url: u, source: shown, store: store, key: key, options: options, into: &refs)
            }
        }
        return refs
    }

    static func variable(_ v: NetCDFVariable, file: NetCDFFile, prefix: String, url u: Int, source: String, store: any ReadableStore, key: String,
                         options: ReferenceOptions, into refs: inout ReferenceSet) async throws {
        let what = "\(source): variable '\(v.group == "/" ? "" : v.group + "/")\(v.name)'"
        let path = (v.group == "/" ? "" : v.group) + "/" + v.name
        let name = prefix + v.name
        var attrs = attributes(v.attributes.filter { $0.name != "_FillValue" })
        attrs["_ARRAY_DIMENSIONS"] = .array(v.dims.map { .string($0) })
        if v.isString {
            // Variable-length strings live in HDF5's global heaps: read and inlined, encoded
            // as numcodecs' vlen-utf8.
            let values = try await NetCDFArray.readText(file: file, variable: v)
            let bytes = try VLenUTF8Codec().encode(values)
            refs.setJSON(name + "/.zarray", zarray(shape: v.shape, chunks: v.shape, dtype: "|O", fill: .null, filters: [["id": "vlen-utf8"]], compressor: .null))
            refs.setJSON(name + "/.zattrs", .object(attrs))
            refs[name + "/" + chunkKey(v.shape.map { _ in 0 })] = .inline(bytes)
            return
        }
        guard let storage = file.storage[path] else { throw GyreReferencesError(.unsupported, "\(what): its storage is not known (the file was not read by Gyre's own readers)") }
        let dtype: DType
        let typeName: String
        if v.isChar {
            dtype = .uint8
            typeName = "|S1"
        } else {
            guard let d = v.dtype else { throw GyreReferencesError(.unsupported, "\(what): its type (netCDF type \(v.ncType)) has no Zarr dtype") }
            dtype = d
            typeName = numpyName(d, bigEndian: storage.bigEndian)
        }
        let item = dtype.itemSize
        var fill: JSON = .null
        if let f = v.attribute("_FillValue") {
            switch f {
            case .values(let a) where a.count >= 1: fill = ZarrTypes.fillJSON(a.scalars[0], dtype: a.dtype, v2: true)
            case .text(let t) where v.isChar: fill = .string(Data(t.utf8.prefix(1)).base64EncodedString())
            default: break
            }
        }
        refs.setJSON(name + "/.zattrs", .object(attrs))
        let shape = v.shape
        guard storage.extent.count == shape.count else {
            throw GyreReferencesError(.unsupported, "\(what): the stored dataset has rank \(storage.extent.count), the variable \(shape.count)")
        }
        // Small chunks are read in one go at the end and inlined.
        var small: [(key: String, range: Range<Int>)] = []
        func put(_ chunk: [Int], _ offset: UInt64, _ length: Int) {
            let k = name + "/" + chunkKey(chunk)
            if length < options.inlineThreshold { small.append((k, Int(offset)..<(Int(offset) + length))) }
            else { refs[k] = .range(url: u, offset: Int(offset), length: length) }
        }
        switch storage.layout {
        case .unsupported(let why):
            throw GyreReferencesError(.unsupported, "\(what): stored in a way references cannot describe (\(why))")
        case .compact(let bytes):
            refs.setJSON(name + "/.zarray", zarray(shape: shape, chunks: shape, dtype: typeName, fill: fill, filters: .null, compressor: .null))
            refs[name + "/" + chunkKey(shape.map { _ in 0 })] = .inline(Array(bytes.prefix(shape.reduce(item, *))))
        case .contiguous(let address):
            let n = shape.reduce(item, *)
            var chunks = shape.map { Swift.max($0, 1) }
            refs.setJSON(name + "/.zarray", zarray(shape: shape, chunks: chunks, dtype: typeName, fill: fill, filters: .null, compressor: .null))
            guard let address, n > 0 else { break }
            let rowBytes = shape.dropFirst().reduce(item, *)
            if shape.isEmpty { put([], address, item); break }
            for i in 0..<(shape[0] / chunks[0]) {
                put([i] + shape.dropFirst().map { _ in 0 }, address + UInt64(i * chunks[0] * rowBytes), chunks[0] * rowBytes)
            }
        case .records(let address, let recordSize):
            var chunks = shape
            chunks[0] = 1
            let slab = shape.dropFirst().reduce(item, *)
            refs.setJSON(name + "/.zarray", zarray(shape: shape, chunks: chunks.map { Swift.max($0, 1) }, dtype: typeName, fill: fill, filters: .null, compressor: .null))
            guard slab > 0 else { break }
            for i in 0..<shape[0] {
                put([i] + shape.dropFirst().map { _ in 0 }, address + UInt64(i) * UInt64(recordSize), slab)
            }
        case .chunked(let chunkShape, let tree, let filters):
            guard storage.extent == shape || zip(zip(storage.extent, shape), chunkShape).allSatisfy({ $0.0 == $0.1 || $0.0 % $1 == 0 }) else {
                throw GyreReferencesError(.unsupported, "\(what): stored with extent \(storage.extent) inside its shape \(shape), ending mid-chunk (chunks \(chunkShape))")
            }
            var codecs: [JSON] = []
            for f in filters {
                switch f {
                case .shuffle(let es): codecs.append(["id": "shuffle", "elementsize": .int(Int64(es))])
                case .deflate: codecs.append(["id": "zlib", "level": .int(Int64(v.deflateLevel ?? 1))])
                case .fletcher32: codecs.append(["id": "fletcher32"])
                }
            }
            // numcodecs decodes the compressor first, then the filters in reverse: HDF5's
            // last filter (deflate, as netCDF writes) is the compressor.
            var compressor: JSON = .null
            if let last = codecs.last, last["id"]?.string == "zlib" { compressor = last; codecs.removeLast() }
            refs.setJSON(name + "/.zarray", zarray(shape: shape, chunks: chunkShape, dtype: typeName, fill: fill,
                                                   filters: codecs.isEmpty ? .null : .array(codecs), compressor: compressor))
            guard let stored = file.stored else { throw GyreReferencesError(.unsupported, "\(what): the file was not read by range") }
            let map: [[Int]: HDF5ChunkIndex.Location]
            do { map = try await stored.chunkMap(path, tree: tree, chunkShape: chunkShape) } catch let e as GyreNetCDFError {
                throw GyreReferencesError(.unsupported, e.message, cause: e)
            }
            for (c, l) in map.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                guard l.mask == 0 else {
                    throw GyreReferencesError(.unsupported, "\(what): chunk \(c) was stored with some of its filters skipped (mask \(l.mask)), which Zarr codecs cannot describe")
                }
                put(c, l.address, l.size)
            }
        }
        guard !small.isEmpty else { return }
        let got: [[UInt8]]?
        do { got = try await store.get(key, ranges: small.map(\.range)) } catch let e as GyreStorageError {
            throw GyreReferencesError(.unsupported, "\(what): \(e.code == .invalidRange ? "the file ends before a chunk does (truncated?)" : e.message)", cause: e)
        }
        guard let got else { throw GyreReferencesError(.notFound, "\(source): the file went missing") }
        for (s, b) in zip(small, got) {
            guard b.count == s.range.count else { throw GyreReferencesError(.unsupported, "\(what): the file ends before byte \(s.range.upperBound) (truncated?)") }
            refs[s.key] = .inline(b)
        }
    }

    /// A Zarr v2 `.zarray` document.
    static func zarray(shape: [Int], chunks: [Int], dtype: String, fill: JSON, filters: JSON, compressor: JSON) -> JSON {
        ["chunks": .array(chunks.map { .int(Int64($0)) }), "compressor": compressor, "dtype": .string(dtype), "fill_value": fill,
         "filters": filters, "order": "C", "shape": .array(shape.map { .int(Int64($0)) }), "zarr_format": 2]
    }

    static func chunkKey(_ c: [Int]) -> String { c.isEmpty ? "0" : c.map(String.init).joined(separator: ".") }

    /// netCDF attributes as the JSON of Zarr attributes (netCDF-4's internal ones left out).
    static func attributes(_ list: [(name: String, value: NetCDFAttribute)]) -> JSONObject {
        var o = JSONObject()
        for (k, v) in list where !k.hasPrefix("_Netcdf4") && !["_nc3_strict", "_NCProperties", "_IsNetcdf4", "_SuperblockVersion"].contains(k) {
            switch v {
            case .text(let t): o[k] = .string(t)
            case .strings(let s): o[k] = s.count == 1 ? .string(s[0]) : .array(s.map { .string($0) })
            case .values(let a):
                let items = a.scalars.map { ZarrTypes.fillJSON($0, dtype: a.dtype, v2: true) }
                o[k] = items.count == 1 ? items[0] : .array(items)
            }
        }
        return o
    }
}
