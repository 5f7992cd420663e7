import GyreCore
import CNetCDF
import Foundation
import GyreArrays

/// An attribute value as netCDF stores it.
public enum NetCDFAttribute: Sendable, Equatable {
    /// NC_CHAR text.
    case text(String)
    /// NC_STRING values.
    case strings([String])
    /// Numbers, a 1-D array of the attribute's type.
    case values(AnyNDArray)

    public static func == (a: NetCDFAttribute, b: NetCDFAttribute) -> Bool {
        switch (a, b) {
        case (.text(let x), .text(let y)): return x == y
        case (.strings(let x), .strings(let y)): return x == y
        case (.values(let x), .values(let y)): return x.dtype == y.dtype && x.scalars.map(\.description) == y.scalars.map(\.description)
        default: return false
        }
    }
}

/// A dimension visible in a group.
public struct NetCDFDimension: Sendable, Hashable {
    public let name: String
    public let length: Int
    public let isUnlimited: Bool
}

/// A variable's metadata: dims, type, attributes and storage.
public struct NetCDFVariable: Sendable {
    public let name: String
    /// The group's full path ("/" for the root).
    public let group: String
    public let dims: [String]
    public let shape: [Int]
    /// The netCDF type code (NC_FLOAT, NC_CHAR, ...).
    public let ncType: Int32
    public let attributes: [(name: String, value: NetCDFAttribute)]
    /// Chunk shape for chunked netCDF-4 variables; nil for contiguous storage.
    public let chunkShape: [Int]?
    /// zlib level when deflated.
    public let deflateLevel: Int?
    public let shuffle: Bool

    public var isChar: Bool { ncType == NC_CHAR }
    public var isString: Bool { ncType == NC_STRING }
    /// The dtype values are read as (text variables: see `NetCDFArray.readText`).
    public var dtype: DType? { NetCDFLibrary.dtype(ncType) }
    public func attribute(_ name: String) -> NetCDFAttribute? { attributes.first { $0.name == name }?.value }
}

/// A group: its dimensions (its own and its ancestors'), variables, attributes and subgroups.
public struct NetCDFGroup: Sendable {
    /// Full path, "/" for the root.
    public let path: String
    public let dimensions: [NetCDFDimension]
    public let variables: [NetCDFVariable]
    public let attributes: [(name: String, value: NetCDFAttribute)]
    /// Full paths of the child groups.
    public let groups: [String]
}

/// An open netCDF file's metadata (netCDF-3 classic, 64-bit offset, CDF-5, netCDF-4/HDF5),
/// read once through netcdf-c. Values are read by `NetCDFArray`.
public struct NetCDFFile: Sendable {
    public let path: String
    /// NETCDF3_CLASSIC, NETCDF3_64BIT_OFFSET, NETCDF3_64BIT_DATA (CDF-5), NETCDF4 or
    /// NETCDF4_CLASSIC, as netCDF4-python names them.
    public let format: String
    /// Every group by full path, the root ("/") first.
    public let groups: [String: NetCDFGroup]
    /// Values of the dimension coordinates (numeric 1-D variables named after their dimension,
    /// up to `preloadLimit` elements), read with the metadata in one visit to the library, by
    /// the variable's full path ("/time", "/forecast/step"): opening thousands of files then
    /// costs one trip to the library's queue each.
    public let dimensionCoordinates: [String: AnyNDArray]
    static let preloadLimit = 1 << 20
    /// Where each variable's values lie, by full path ("/sst"), when Gyre's own readers read
    /// the metadata (netCDF-3 headers read by range, netCDF-4 files the native HDF5 reader
    /// covers); empty when netcdf-c did.
    package var storage: [String: NetCDFStorage] = [:]
    /// The file in its store, when it was opened through one (a URL): values are then read by
    /// byte range.
    package var stored: StoredNetCDF? = nil

    /// The preloaded values of a variable, when it is a dimension coordinate.
    public func preloadedValues(of v: NetCDFVariable) -> AnyNDArray? {
        dimensionCoordinates[(v.group == "/" ? "" : v.group) + "/" + v.name]
    }

    /// Whether the first bytes of a file are a netCDF-3 ("CDF\1", "CDF\2", "CDF\5") or HDF5
    /// signature.
    public static func sniff(_ path: String) -> Bool { signature(path) != nil }

    /// Whether a path or URL's name (before any query) ends as netCDF and HDF5 files do (`.nc`,
    /// `.nc4`, `.nc3`, `.cdf`, `.netcdf`, `.h5`, `.hdf5`, `.he5`).
    public static func hasNetCDFName(_ location: String) -> Bool {
        let bare = String(location.prefix { $0 != "?" && $0 != "#" }).lowercased()
        return [".nc", ".nc4", ".nc3", ".cdf", ".netcdf", ".h5", ".hdf5", ".he5"].contains { bare.hasSuffix($0) }
    }

    enum Signature { case classic, hdf5 }

    static func signature(_ path: String) -> Signature? {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var b = [UInt8](repeating: 0, count: 8)
        let n = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, 0) }
        b = Array(b.prefix(Swift.max(n, 0)))
        if b.count >= 4, b[0] == 0x43, b[1] == 0x44, b[2] == 0x46, [1, 2, 5].contains(b[3]) { return .classic }
        return b.count == 8 && b == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] ? .hdf5 : nil
    }

    /// Whether netCDF-4 files' metadata is read straight from their HDF5 structures (in
    /// parallel, without netcdf-c) when the reader covers them. Off: always through netcdf-c
    /// (tests compare the two).
    @TaskLocal package static var nativeMetadata = true

    /// Opens `path` and reads the metadata of every group.
    ///
    /// netCDF-4 files netcdf-c wrote are read by Gyre's own HDF5 metadata reader, on the
    /// calling task, so many files open at once; files it does not cover, netCDF-3 files and
    /// any file it cannot parse go through netcdf-c.
    public static func open(_ path: String) async throws -> NetCDFFile {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw GyreNetCDFError(.open, "\(path): no such file")
        }
        guard !isDir.boolValue else { throw GyreNetCDFError(.open, "\(path): is a directory, not a netCDF file") }
        guard let kind = signature(path) else { throw GyreNetCDFError(.open, "\(path): not a netCDF file (no netCDF-3 or HDF5 signature)") }
        if kind == .hdf5, nativeMetadata, let file = try? HDF5Metadata.read(path) { return file }
        return try await NetCDFLibrary.run {
            // A handle of its own, closed at once: HDF5 slows down with every file it holds
            // open, so opening thousands of files for their metadata keeps none of them.
            var ncid: Int32 = 0
            let status = nc_open(path, NC_NOWRITE, &ncid)
            guard status == NC_NOERR else { throw GyreNetCDFError(.open, "\(path): \(NetCDFLibrary.message(status))") }
            defer { nc_close(ncid) }
            return try readFile(ncid, path)
        }
    }

    /// The group at `path` ("/" or "" for the root; "a/b" or "/a/b" for nested ones).
    public func group(_ path: String) throws -> NetCDFGroup {
        let p = path.isEmpty || path == "/" ? "/" : (path.hasPrefix("/") ? path : "/" + path)
        guard let g = groups[p] else {
            throw GyreNetCDFError(.notFound, "\(self.path): no group '\(p)'; groups are \(groups.keys.sorted())")
        }
        return g
    }

    // MARK: Reading metadata (on the library's queue)

    static func readFile(_ ncid: Int32, _ path: String) throws -> NetCDFFile {
        var fmt: Int32 = 0
        try NetCDFLibrary.check(nc_inq_format(ncid, &fmt), .open, "\(path): format")
        let format: String
        switch fmt {
        case NC_FORMAT_CLASSIC: format = "NETCDF3_CLASSIC"
        case NC_FORMAT_64BIT_OFFSET: format = "NETCDF3_64BIT_OFFSET"
        case NC_FORMAT_64BIT_DATA: format = "NETCDF3_64BIT_DATA"
        case NC_FORMAT_NETCDF4_CLASSIC: format = "NETCDF4_CLASSIC"
        default: format = "NETCDF4"
        }
        var groups: [String: NetCDFGroup] = [:]
        func walk(_ gid: Int32, _ gpath: String) throws {
            let g = try readGroup(gid, gpath, file: path, netCDF4: fmt == NC_FORMAT_NETCDF4 || fmt == NC_FORMAT_NETCDF4_CLASSIC)
            groups[gpath] = g
            for child in g.groups { try walk(try NetCDFLibrary.group(ncid, child, file: path), child) }
        }
        try walk(ncid, "/")
        var coords: [String: AnyNDArray] = [:]
        for (gpath, g) in groups {
            for v in g.variables where v.dims == [v.name] && v.dtype != nil && v.shape[0] <= preloadLimit {
                let gid = try NetCDFLibrary.group(ncid, gpath, file: path)
                var varid: Int32 = 0
                let name = (gpath == "/" ? "" : gpath) + "/" + v.name
                try NetCDFLibrary.check(nc_inq_varid(gid, v.name, &varid), .read, "\(path):\(name)")
                let a = try AnyNDArray.uninitialized(v.shape, dtype: v.dtype!)
                if v.shape[0] > 0 {
                    try NetCDFLibrary.check(nc_get_var(gid, varid, a.unsafeRawBase), .read, "\(path):\(name): reading values")
                }
                coords[name] = a
            }
        }
        return NetCDFFile(path: path, format: format, groups: groups, dimensionCoordinates: coords)
    }

    static func readName(_ body: (UnsafeMutablePointer<CChar>) -> Int32) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        let status = buf.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        guard status == NC_NOERR else { throw GyreNetCDFError(.open, "reading a name: \(NetCDFLibrary.message(status))") }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readGroup(_ gid: Int32, _ gpath: String, file: String, netCDF4: Bool) throws -> NetCDFGroup {
        func check(_ s: Int32, _ what: @autoclosure () -> String) throws { try NetCDFLibrary.check(s, .open, "\(file): group \(gpath): \(what())") }
        // Dimensions visible here, this group's and its ancestors'.
        var ndims: Int32 = 0
        try check(nc_inq_dimids(gid, &ndims, nil, 1), "dimensions")
        var dimids = [Int32](repeating: 0, count: Int(ndims))
        if ndims > 0 { try check(nc_inq_dimids(gid, &ndims, &dimids, 1), "dimensions") }
        // Unlimited dimensions: this group's and its ancestors' (nc_inq_unlimdims names only
        // the group's own).
        var unlimited = Set<Int32>()
        var scope = gid
        while true {
            var nunlim: Int32 = 0
            try check(nc_inq_unlimdims(scope, &nunlim, nil), "unlimited dimensions")
            var unlim = [Int32](repeating: 0, count: Int(Swift.max(nunlim, 1)))
            if nunlim > 0 { try check(nc_inq_unlimdims(scope, &nunlim, &unlim), "unlimited dimensions") }
            unlimited.formUnion(unlim.prefix(Int(nunlim)))
            var parent: Int32 = 0
            guard netCDF4, nc_inq_grp_parent(scope, &parent) == NC_NOERR else { break }
            scope = parent
        }
        var dimNames: [Int32: String] = [:]
        var dims: [NetCDFDimension] = []
        for id in dimids {
            let name = try readName { nc_inq_dimname(gid, id, $0) }
            var len = 0
            try check(nc_inq_dimlen(gid, id, &len), "length of dimension \(name)")
            dimNames[id] = name
            dims.append(NetCDFDimension(name: name, length: len, isUnlimited: unlimited.contains(id)))
        }
        var nvars: Int32 = 0
        try check(nc_inq_nvars(gid, &nvars), "variables")
        var variables: [NetCDFVariable] = []
        for varid in 0..<nvars {
            let name = try readName { nc_inq_varname(gid, varid, $0) }
            var t: nc_type = 0, nd: Int32 = 0
            try check(nc_inq_vartype(gid, varid, &t), "type of \(name)")
            try check(nc_inq_varndims(gid, varid, &nd), "dimensions of \(name)")
            var vdims = [Int32](repeating: 0, count: Int(nd))
            if nd > 0 { try check(nc_inq_vardimid(gid, varid, &vdims), "dimensions of \(name)") }
            var names: [String] = [], shape: [Int] = []
            for d in vdims {
                let dn = try dimNames[d] ?? readName { nc_inq_dimname(gid, d, $0) }
                var len = 0
                try check(nc_inq_dimlen(gid, d, &len), "dimension \(dn) of \(name)")
                names.append(dn); shape.append(len)
            }
            var chunkShape: [Int]? = nil
            var deflate: Int? = nil
            var shuffle = false
            if netCDF4, nd > 0 {
                var storage: Int32 = 0
                var cs = [Int](repeating: 0, count: Int(nd))
                try check(nc_inq_var_chunking(gid, varid, &storage, &cs), "chunking of \(name)")
                if storage == NC_CHUNKED { chunkShape = cs }
                var sh: Int32 = 0, df: Int32 = 0, level: Int32 = 0
                try check(nc_inq_var_deflate(gid, varid, &sh, &df, &level), "compression of \(name)")
                shuffle = sh != 0
                if df != 0 { deflate = Int(level) }
            }
            let attrs = try readAttributes(gid, varid, file: file, owner: "\(gpath == "/" ? "" : gpath + "/")\(name)")
            variables.append(NetCDFVariable(name: name, group: gpath, dims: names, shape: shape, ncType: t, attributes: attrs,
                                            chunkShape: chunkShape, deflateLevel: deflate, shuffle: shuffle))
        }
        let attrs = try readAttributes(gid, NC_GLOBAL, file: file, owner: gpath)
        return NetCDFGroup(path: gpath, dimensions: dims, variables: variables, attributes: attrs,
                           groups: netCDF4 ? try childPaths(gid, gpath, file: file) : [])
    }

    static func childPaths(_ gid: Int32, _ gpath: String, file: String) throws -> [String] {
        var n: Int32 = 0
        try NetCDFLibrary.check(nc_inq_grps(gid, &n, nil), .open, "\(file): groups of \(gpath)")
        guard n > 0 else { return [] }
        var ids = [Int32](repeating: 0, count: Int(n))
        try NetCDFLibrary.check(nc_inq_grps(gid, &n, &ids), .open, "\(file): groups of \(gpath)")
        return try ids.map { id in
            let name = try readName { nc_inq_grpname(id, $0) }
            return gpath == "/" ? "/" + name : gpath + "/" + name
        }
    }

    static func readAttributes(_ gid: Int32, _ varid: Int32, file: String, owner: String) throws -> [(name: String, value: NetCDFAttribute)] {
        var natts: Int32 = 0
        if varid == NC_GLOBAL {
            try NetCDFLibrary.check(nc_inq_natts(gid, &natts), .open, "\(file): attributes of \(owner)")
        } else {
            try NetCDFLibrary.check(nc_inq_varnatts(gid, varid, &natts), .open, "\(file): attributes of \(owner)")
        }
        var out: [(name: String, value: NetCDFAttribute)] = []
        for i in 0..<natts {
            let name = try readName { nc_inq_attname(gid, varid, i, $0) }
            func check(_ s: Int32) throws { try NetCDFLibrary.check(s, .open, "\(file): attribute \(owner):\(name)") }
            var t: nc_type = 0, len = 0
            try check(nc_inq_att(gid, varid, name, &t, &len))
            switch t {
            case NC_CHAR:
                var buf = [CChar](repeating: 0, count: len + 1)
                if len > 0 { try check(nc_get_att_text(gid, varid, name, &buf)) }
                let bytes = buf.prefix(len).map { UInt8(bitPattern: $0) }
                // Trailing NULs are padding, not text.
                let trimmed = bytes.reversed().drop { $0 == 0 }.reversed()
                out.append((name, .text(String(decoding: Array(trimmed), as: UTF8.self))))
            case NC_STRING:
                var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: len)
                if len > 0 { try check(nc_get_att_string(gid, varid, name, &ptrs)) }
                let strings = ptrs.map { $0.map { String(cString: $0) } ?? "" }
                if len > 0 { nc_free_string(len, &ptrs) }
                out.append((name, .strings(strings)))
            default:
                guard let dt = NetCDFLibrary.dtype(t) else {
                    throw GyreNetCDFError(.unsupported, "\(file): attribute \(owner):\(name) has a user-defined type (\(t)), which Gyre cannot read")
                }
                let a = try AnyNDArray.uninitialized([len], dtype: dt)
                if len > 0 { try check(nc_get_att(gid, varid, name, a.unsafeRawBase)) }
                out.append((name, .values(a)))
            }
        }
        return out
    }
}
