import GyreCore
import Foundation
import GyreArrays
import GyreCompute
import GyreNetCDF
import GyreReferences
import GyreStorage
import OrderedCollections

/// How `Dataset.open(files:)` combines files that do not match.
public struct CombineOptions: Sendable {
    /// What to do with a variable that some files lack.
    public enum MissingVariable: String, Sendable {
        /// Refuse, naming a file that has it and one that does not (the default).
        case error
        /// Leave the variable out of the result.
        case skip
        /// Fill the missing stretches with NaN (NaT for times), like an outer join.
        case fill
    }
    public var missingVariables: MissingVariable = .error
    /// For everything that is not concatenated (coordinates along other dimensions, variables
    /// without the concatenation dimension, units and calendars): `.equals` requires the files to
    /// agree (dimension coordinates compared by value); `.override` takes the first file's, as
    /// xarray's `compat="override"` does.
    public var compat: Compat = .equals
    /// How many files have their metadata read at once.
    public var maxConcurrency = 8

    public init(missingVariables: MissingVariable = .error, compat: Compat = .equals) {
        self.missingVariables = missingVariables
        self.compat = compat
    }
}

extension Dataset {
    /// Opens a path: a Zarr store (a directory with zarr.json, .zgroup or .zmetadata), a netCDF
    /// file (netCDF-3 or HDF5 signature), a GeoTIFF (`openGeoTIFF`), or a glob pattern (`*`, `?`, `[...]`) matching netCDF
    /// files or Zarr stores, which are combined along `concatDim` (inferred when nil).
    ///
    /// `path` may also be a URL (`s3://bucket/cube.zarr`, `https://host/cube.zarr?token`,
    /// `file:///data/sst.nc`), with fsspec's storage options (`StoreResolver`): a Zarr store
    /// there opens lazily, each chunk read by byte range.
    public static func open(_ path: String, group: String = "/", concatDim: String? = nil, combine: CombineOptions = CombineOptions(),
                            decode options: CFDecodeOptions = CFDecodeOptions(), storageOptions: [String: String] = [:]) async throws -> Dataset {
        if let refs = try referencesLocation(path, storageOptions) {
            let store: ReferenceStore
            do { store = try await ReferenceStore.open(refs.location, options: refs.options) } catch let e as GyreReferencesError {
                throw GyreDataError(e.code == .notFound ? .fileNotFound : .invalidArgument, e.message, cause: e)
            }
            return try await openZarr(store, path: group == "/" ? "" : group.trimmingCharacters(in: CharacterSet(charactersIn: "/")), decode: options)
        }
        if let scheme = StoreResolver.scheme(path) {
            let store = try StoreResolver.store(for: path, options: storageOptions)
            if scheme == "file", let local = store as? FileStore {
                return try await open(local.root.path, group: group, concatDim: concatDim, combine: combine, decode: options)
            }
            if path.contains(where: { "*?[".contains($0) }) {
                let matched = try await StoreResolver.glob(path, options: storageOptions)
                return try await open(files: matched, concatDim: concatDim, group: group, combine: combine, decode: options, storageOptions: storageOptions)
            }
            if hasTIFFName(path) { return try await openGeoTIFF(path, decode: options, storageOptions: storageOptions) }
            let named = hasNetCDFName(path)
            if !named {
                for marker in ["zarr.json", ".zmetadata", ".zgroup"] where try await store.get(marker, range: .range(offset: 0, length: 1)) != nil {
                    return try await openZarr(store, path: group == "/" ? "" : group.trimmingCharacters(in: CharacterSet(charactersIn: "/")), decode: options)
                }
            }
            let (parent, key) = try StoreResolver.file(path, options: storageOptions)
            let file: NetCDFFile
            do { file = try await NetCDFFile.open(store: parent, key: key, name: HTTPTransport.shown(path)) } catch let e as GyreNetCDFError {
                if e.code == .open, !named {
                    throw GyreDataError(.fileNotFound, "\(store.name): neither a Zarr store (no zarr.json, .zmetadata or .zgroup) nor a netCDF file (\(e.message))", cause: e)
                }
                throw GyreDataError(.read, e.message, cause: e)
            }
            return try await openNetCDF(file, group: group, decode: options)
        }
        if path.contains(where: { "*?[".contains($0) }) {
            let files = try glob(path)
            return try await open(files: files, concatDim: concatDim, group: group, combine: combine, decode: options)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw GyreDataError(.fileNotFound, "\(path): no such file or directory")
        }
        if isDir.boolValue {
            let markers = ["zarr.json", ".zgroup", ".zmetadata"]
            if markers.contains(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }) {
                return try await openZarr(FileStore(path: path), path: group == "/" ? "" : group.trimmingCharacters(in: CharacterSet(charactersIn: "/")), decode: options)
            }
            throw GyreDataError(.invalidArgument, "\(path): a directory that is not a Zarr store (no zarr.json, .zgroup or .zmetadata)")
        }
        if sniffTIFF(path) { return try await openGeoTIFF(path, decode: options) }
        guard NetCDFFile.sniff(path) else {
            throw GyreDataError(.invalidArgument, "\(path): not a netCDF file, GeoTIFF or Zarr store (no netCDF-3, HDF5 or TIFF signature)")
        }
        return try await openNetCDF(path, group: group, decode: options)
    }

    /// Where a kerchunk references file is, when `path` names one: a `reference://` URL
    /// (`reference://refs.json`, `reference://s3://bucket/refs.json`, or `reference://` with
    /// the storage option `fo`, as fsspec takes it), or a path or URL ending in `.json`. The
    /// options left are those of the referenced files (fsspec's `remote_options` are the
    /// same options here).
    static func referencesLocation(_ path: String, _ options: [String: String]) throws -> (location: String, options: [String: String])? {
        var rest = options
        let fo = rest.removeValue(forKey: "fo")
        rest.removeValue(forKey: "remote_protocol")
        rest.removeValue(forKey: "target_protocol")
        if StoreResolver.scheme(path) == "reference" {
            let after = String(path.dropFirst("reference://".count))
            guard let location = after.isEmpty ? fo : after, !location.isEmpty else {
                throw GyreDataError(.invalidArgument, "\(path): a reference:// URL needs the references file after it (reference://refs.json) or the storage option fo=FILE")
            }
            return (location, rest)
        }
        let bare = String(path.prefix { $0 != "?" && $0 != "#" }).lowercased()
        guard bare.hasSuffix(".json") else { return nil }
        return (path, rest)
    }

    /// Whether a path or URL's name (before any query) ends as netCDF and HDF5 files do (`.nc`,
    /// `.nc4`, `.nc3`, `.cdf`, `.netcdf`, `.h5`, `.hdf5`, `.he5`): such a URL is opened as a
    /// netCDF file without first looking for Zarr metadata under it.
    public static func hasNetCDFName(_ location: String) -> Bool { NetCDFFile.hasNetCDFName(location) }

    /// The files a glob pattern matches, sorted by name. A pattern that matches nothing is an
    /// error naming it.
    public static func glob(_ pattern: String) throws -> [String] {
        let expanded = (pattern as NSString).expandingTildeInPath
        var g = glob_t()
        defer { globfree(&g) }
        let status = Glibc.glob(expanded, 0, nil, &g)
        guard status == 0 else {
            if status == GLOB_NOMATCH { throw GyreDataError(.fileNotFound, "'\(pattern)' matches no files") }
            throw GyreDataError(.invalidArgument, "'\(pattern)': cannot expand the pattern (glob error \(status))")
        }
        var out: [String] = []
        for i in 0..<Int(g.gl_pathc) { if let p = g.gl_pathv[i] { out.append(String(cString: p)) } }
        return out.sorted()
    }

    /// Opens many files as one lazy dataset, combined along `concatDim` in coordinate order (not
    /// name order). Without `concatDim` it is inferred as xarray's `combine_by_coords` does: the
    /// one dimension whose coordinate differs between files. Metadata is read concurrently;
    /// reads of the result touch only the files they need. Mismatches are errors naming the two
    /// files and the difference, unless `combine` says to skip, fill or override.
    public static func open(files: [String], concatDim: String? = nil, group: String = "/", combine: CombineOptions = CombineOptions(),
                            decode options: CFDecodeOptions = CFDecodeOptions(), storageOptions: [String: String] = [:]) async throws -> Dataset {
        guard !files.isEmpty else { throw GyreDataError(.invalidArgument, "no files to open") }
        // Open every file, a bounded number at a time.
        let opened = try await Bounded.map(count: files.count, limit: Swift.max(1, combine.maxConcurrency)) { i in
            try await open(files[i], group: group, decode: options, storageOptions: storageOptions)
        }
        let parts = zip(files, opened).map { (file: $0, ds: $1) }
        if parts.count == 1 { return parts[0].ds }
        return try combineFiles(parts, concatDim: concatDim, combine: combine)
    }

    /// Combines datasets already opened (each named by its file, for messages) as
    /// `open(files:)` combines files: along `concatDim` (inferred when nil), in coordinate order.
    public static func combine(_ parts: [(file: String, ds: Dataset)], concatDim: String? = nil, combine: CombineOptions = CombineOptions()) throws -> Dataset {
        guard let first = parts.first else { throw GyreDataError(.invalidArgument, "no datasets to combine") }
        return parts.count == 1 ? first.ds : try combineFiles(parts, concatDim: concatDim, combine: combine)
    }

    static func combineFiles(_ unsorted: [(file: String, ds: Dataset)], concatDim: String?, combine: CombineOptions) throws -> Dataset {
        let dim = try concatDim ?? inferConcatDim(unsorted)
        for p in unsorted where p.ds.sizes[dim] == nil {
            throw GyreDataError(.missingDimension, "\(p.file) has no dimension '\(dim)' to concatenate along; its dimensions are \(p.ds.dims)")
        }
        // The concatenation coordinate must mean the same in every file (units, calendar).
        if let ref = unsorted[0].ds.variables[dim] {
            for p in unsorted.dropFirst() {
                guard let v = p.ds.variables[dim] else { continue }
                try checkSameMeaning(dim, ref, unsorted[0].file, v, p.file, combine: combine)
            }
        }
        // Coordinate order: by the first value of the concatenation coordinate.
        var parts = unsorted
        if unsorted[0].ds.indexes[dim] != nil {
            var keyed: [(keys: [Double], part: (file: String, ds: Dataset))] = []
            for p in unsorted {
                guard let c = p.ds.variables[dim], !c.isLazy, let keys = orderKeys(try c.data), !keys.isEmpty else {
                    throw GyreDataError(.missingIndex, "\(p.file): no orderable '\(dim)' coordinate values, but \(unsorted[0].file) has them")
                }
                for i in keys.indices.dropFirst() where !(keys[i - 1] < keys[i]) {
                    throw GyreDataError(.alignment, "\(p.file): '\(dim)' is not strictly increasing (at positions \(i - 1) and \(i))")
                }
                keyed.append((keys, p))
            }
            keyed.sort { $0.keys[0] < $1.keys[0] }
            parts = keyed.map(\.part)
            // Each file ending before the next begins.
            for i in keyed.indices.dropFirst() where !(keyed[i - 1].keys.last! < keyed[i].keys[0]) {
                let a = keyed[i - 1].part, b = keyed[i].part
                let last = try a.ds.variables[dim]!.data.scalars.last!, first = try b.ds.variables[dim]!.data.scalars.first!
                throw GyreDataError(.alignment, "\(a.file) and \(b.file) overlap along '\(dim)': the first ends at \(last), the second starts at \(first)")
            }
        }
        let first = parts[0]
        // Every variable name, in first-seen order.
        var names = OrderedSet<String>()
        for p in parts { names.formUnion(p.ds.variables.keys) }
        var dataVars: OrderedDictionary<String, Variable> = [:], coords: OrderedDictionary<String, Variable> = [:]
        for name in names {
            let holders = parts.filter { $0.ds.variables[name] != nil }
            let template = holders[0].ds.variables[name]!
            let isCoord = holders[0].ds.coordNames.contains(name)
            if holders.count < parts.count {
                let lacking = parts.first { $0.ds.variables[name] == nil }!
                switch combine.missingVariables {
                case .error:
                    throw GyreDataError(.missingVariable, "'\(name)' is in \(holders[0].file) but not in \(lacking.file); pass missingVariables .skip or .fill")
                case .skip: continue
                case .fill:
                    guard template.dims.contains(dim) else { break }  // taken from the first file that has it
                }
            }
            var combined: Variable
            if template.dims.contains(dim) {
                combined = try concatenate(name, parts: parts, template: template, dim: dim, combine: combine)
            } else {
                // Not concatenated: the first file's, checked against the others unless overriding.
                combined = template
                if combine.compat != .override {
                    for p in holders.dropFirst() {
                        let v = p.ds.variables[name]!
                        if v.dims != template.dims || v.shape != template.shape {
                            throw GyreDataError(.dimensionMismatch, "'\(name)' has dimensions \(zip(template.dims, template.shape).map { "\($0)=\($1)" }) in \(holders[0].file) but \(zip(v.dims, v.shape).map { "\($0)=\($1)" }) in \(p.file)")
                        }
                        if try !template.isLazy && !v.isLazy && !template.equals(v) {
                            throw GyreDataError(.conflict, "'\(name)' differs between \(holders[0].file) and \(p.file); pass compat .override to take the first file's")
                        }
                    }
                }
            }
            if isCoord { coords[name] = combined } else { dataVars[name] = combined }
        }
        var ds = try Dataset(dataVars: dataVars, coords: coords, attrs: first.ds.attrs)
        ds.encoding = first.ds.encoding
        ds.encoding["source_files"] = .strings(parts.map(\.file))
        return ds
    }

    /// One variable joined along `dim` across the files, lazily unless every part is in memory.
    static func concatenate(_ name: String, parts: [(file: String, ds: Dataset)], template: Variable, dim: String, combine: CombineOptions) throws -> Variable {
        let axis = template.dims.firstIndex(of: dim)!
        var pieces: [Variable] = []
        let ref = parts.first { $0.ds.variables[name] != nil }!
        for p in parts {
            guard var v = p.ds.variables[name] else {
                // Only with .fill: NaN (or NaT) of the file's length along dim.
                var shape = template.shape
                shape[axis] = p.ds.sizes[dim] ?? 0
                let fillType = template.dtype.isInteger || template.dtype.isBool ? template.dtype.nanPromoted : template.dtype
                let fill: Scalar = {
                    switch fillType {
                    case .datetime64(let u): return .datetime(Int64.min, u)
                    case .timedelta64(let u): return .timedelta(Int64.min, u)
                    default: return .double(.nan)
                    }
                }()
                let source = FillSource(shape: shape, dtype: fillType, value: fill, name: "\(p.file): missing '\(name)'")
                pieces.append(try Variable(template.dims, lazy: LazyArray(source), attrs: template.attrs, encoding: template.encoding))
                continue
            }
            if v.dims != template.dims { v = try v.transposed(template.dims) }
            for (d, n) in zip(v.dims, v.shape) where d != dim {
                if let m = ref.ds.variables[name]!.sizes[d], m != n {
                    throw GyreDataError(.dimensionMismatch, "'\(name)': dimension '\(d)' has size \(m) in \(ref.file) but \(n) in \(p.file)")
                }
            }
            try checkSameMeaning(name, ref.ds.variables[name]!, ref.file, v, p.file, combine: combine)
            pieces.append(v)
        }
        // All in memory (coordinates, times): an eager concatenation.
        if pieces.allSatisfy({ !$0.isLazy }) {
            return try Variable.concat(pieces, dim: dim)
        }
        // Otherwise lazy: in-memory pieces become memory sources.
        let dtypes = Set(pieces.map(\.dtype))
        let target: DType = dtypes.count == 1 ? dtypes.first! : try dtypes.dropFirst().reduce(dtypes.first!) { a, b in
            guard let t = DType.promote(a, b) else {
                throw GyreDataError(.conflict, "'\(name)': dtypes \(dtypes.map(\.description).sorted()) across the files have no common type")
            }
            return t
        }
        let sources: [any ChunkedArraySource] = try zip(parts, pieces).map { p, v in
            var lazy: LazyArray
            switch v.storage {
            case .eager(let a): lazy = LazyArray(MemorySource(a, name: "\(p.file):\(name)"))
            case .lazy(let l): lazy = l
            }
            if lazy.dtype != target {
                lazy = lazy.map(LazyArray.Map(name: "astype \(target)", dtype: target) { try $0.astype(target) })
            }
            return lazy
        }
        let source: ConcatenatedSource
        do { source = try ConcatenatedSource(sources, axis: axis) } catch let e as GyreComputeError {
            throw GyreDataError(.dimensionMismatch, "'\(name)': \(e.message)", cause: e)
        }
        return try Variable(template.dims, lazy: LazyArray(source), attrs: template.attrs, encoding: template.encoding)
    }

    /// Two files' versions of a variable must mean the same: decoded times the same calendar
    /// (their reference dates may differ: the values are absolute), anything else the same
    /// `units` and `calendar` attributes, unless `compat` is `.override`.
    static func checkSameMeaning(_ name: String, _ a: Variable, _ fileA: String, _ b: Variable, _ fileB: String, combine: CombineOptions) throws {
        if a.dtype.isDatetime || b.dtype.isDatetime {
            if a.dtype != b.dtype {
                let ca = a.encoding["calendar"]?.stringValue ?? "standard", cb = b.encoding["calendar"]?.stringValue ?? "standard"
                throw GyreDataError(.conflict, "'\(name)': times in \(fileA) are \(a.dtype) (calendar \(ca)) but \(b.dtype) (calendar \(cb)) in \(fileB); they cannot be combined")
            }
            return
        }
        guard combine.compat != .override else { return }
        for key in ["units", "calendar"] {
            let x = a.attrs[key] ?? a.encoding[key], y = b.attrs[key] ?? b.encoding[key]
            if x?.description != y?.description {
                throw GyreDataError(.conflict, "'\(name)': \(key) is \(x?.description ?? "absent") in \(fileA) but \(y?.description ?? "absent") in \(fileB); pass compat .override to use the first file's")
            }
        }
    }

    /// Coordinate values as numbers that order like them (times as their integer counts).
    static func orderKeys(_ a: AnyNDArray) -> [Double]? {
        var out: [Double] = []
        for s in a.scalars {
            switch s {
            case .int(let i): out.append(Double(i))
            case .uint(let u): out.append(Double(u))
            case .float32(let f): out.append(Double(f))
            case .double(let d): out.append(d)
            case .datetime(let t, let u): out.append(Double(t) * Double(u.nanoseconds))
            case .cftime(let t, _): out.append(Double(t))
            default: return nil
            }
        }
        return out
    }

    /// combine_by_coords: the one dimension whose coordinate values differ between files.
    package static func inferConcatDim(_ parts: [(file: String, ds: Dataset)]) throws -> String {
        let first = parts[0]
        var candidates: [String] = []
        for (d, _) in first.ds.indexes {
            let a = try first.ds.variables[d]!.data
            for p in parts.dropFirst() {
                guard let v = p.ds.variables[d] else { continue }
                let b = try v.data
                if a.shape != b.shape || a.scalars.map(\.description) != b.scalars.map(\.description) { candidates.append(d); break }
            }
        }
        guard candidates.count == 1 else {
            if candidates.isEmpty {
                throw GyreDataError(.invalidArgument, "cannot infer the dimension to combine \(first.file) and the other \(parts.count - 1) files along: no dimension coordinate differs between them; pass concatDim")
            }
            throw GyreDataError(.invalidArgument, "cannot infer the dimension to combine along: the coordinates \(candidates) all differ between files; pass concatDim")
        }
        return candidates[0]
    }
}
