import GyreCore
import CNetCDF
import Foundation
import GyreArrays

/// Writes a netCDF-4 file. The file is built under a temporary name beside the target and
/// renamed into place by `close()`, so an interrupted write never leaves a file at `path` that
/// looks complete. Every call runs on the library's serial queue.
public final class NetCDFWriter: Sendable {
    public let path: String
    let temporary: String
    let ncid: Int32

    /// How a variable is stored.
    public struct Storage: Sendable {
        /// Chunk shape (nil: netCDF's default chunking).
        public var chunks: [Int]?
        /// zlib level 1...9 (nil: uncompressed).
        public var zlibLevel: Int?
        public var shuffle: Bool
        public init(chunks: [Int]? = nil, zlibLevel: Int? = nil, shuffle: Bool = true) {
            self.chunks = chunks
            self.zlibLevel = zlibLevel
            self.shuffle = shuffle
        }
    }

    init(path: String, temporary: String, ncid: Int32) {
        self.path = path
        self.temporary = temporary
        self.ncid = ncid
    }

    /// Starts a new netCDF-4 file that will replace `path` on `close()`.
    public static func create(_ path: String) async throws -> NetCDFWriter {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(UUID().uuidString.prefix(8))"
        let id = try await NetCDFLibrary.run { () -> Int32 in
            var id: Int32 = 0
            try NetCDFLibrary.check(nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, &id), .write, "\(path): creating")
            NetCDFLibrary.silenceHDF5()
            return id
        }
        return NetCDFWriter(path: path, temporary: tmp, ncid: id)
    }

    func fail(_ what: String) -> String { "\(path): \(what)" }

    /// Defines a dimension; length 0 with `unlimited` makes it unlimited.
    public func defineDimension(_ name: String, length: Int, unlimited: Bool = false) async throws {
        let id = ncid, label = fail("dimension '\(name)'")
        try await NetCDFLibrary.run {
            var dimid: Int32 = 0
            try NetCDFLibrary.check(nc_def_dim(id, name, unlimited ? 0 : length, &dimid), .write, label)
        }
    }

    /// Defines a variable of `dtype` over named dimensions (already defined).
    public func defineVariable(_ name: String, dtype: DType, dims: [String], storage: Storage = Storage(), fill: Scalar? = nil) async throws {
        guard let t = NetCDFLibrary.ncType(dtype) else {
            throw GyreNetCDFError(.unsupported, fail("variable '\(name)': dtype \(dtype) has no netCDF type"))
        }
        let id = ncid, label = fail("variable '\(name)'")
        try await NetCDFLibrary.run {
            var dimids: [Int32] = []
            for d in dims {
                var did: Int32 = 0
                try NetCDFLibrary.check(nc_inq_dimid(id, d, &did), .write, "\(label): dimension '\(d)'")
                dimids.append(did)
            }
            var varid: Int32 = 0
            try NetCDFLibrary.check(nc_def_var(id, name, t, Int32(dimids.count), dimids, &varid), .write, label)
            if let c = storage.chunks, !dims.isEmpty {
                try NetCDFLibrary.check(nc_def_var_chunking(id, varid, NC_CHUNKED, c), .write, "\(label): chunks \(c)")
            }
            if let level = storage.zlibLevel, level > 0, t != NC_STRING {
                try NetCDFLibrary.check(nc_def_var_deflate(id, varid, storage.shuffle ? 1 : 0, 1, Int32(level)), .write, "\(label): zlib level \(level)")
            }
            if let fill, t != NC_STRING {
                let f = try AnyNDArray(scalar: fill).astype(dtype == .bool ? .int8 : dtype)
                try NetCDFLibrary.check(nc_def_var_fill(id, varid, 0, f.unsafeRawBase), .write, "\(label): fill value")
            }
        }
    }

    /// Writes an attribute of a variable (nil: a global attribute).
    public func putAttribute(_ name: String, _ value: NetCDFAttribute, variable: String? = nil) async throws {
        let id = ncid, label = fail("attribute \(variable ?? "")\(variable == nil ? "" : ":")\(name)")
        try await NetCDFLibrary.run {
            var varid = NC_GLOBAL
            if let variable { try NetCDFLibrary.check(nc_inq_varid(id, variable, &varid), .write, label) }
            switch value {
            case .text(let s):
                let bytes = Array(s.utf8)
                try NetCDFLibrary.check(bytes.withUnsafeBytes { nc_put_att_text(id, varid, name, bytes.count, $0.baseAddress?.assumingMemoryBound(to: CChar.self)) }, .write, label)
            case .strings(let ss):
                try NetCDFWriter.withCStrings(ss) { try NetCDFLibrary.check(nc_put_att_string(id, varid, name, ss.count, $0), .write, label) }
            case .values(let a):
                let flat = a.dtype == .bool ? try a.astype(.int8) : a.contiguous()
                guard let t = NetCDFLibrary.ncType(flat.dtype), t != NC_STRING else {
                    throw GyreNetCDFError(.unsupported, "\(label): dtype \(a.dtype) has no netCDF attribute type")
                }
                try NetCDFLibrary.check(nc_put_att(id, varid, name, t, flat.count, flat.unsafeRawBase), .write, label)
            }
        }
    }

    /// Ends the definitions; data can be written after this.
    public func endDefinitions() async throws {
        let id = ncid, label = fail("ending definitions")
        try await NetCDFLibrary.run { try NetCDFLibrary.check(nc_enddef(id), .write, label) }
    }

    /// Writes `data` into variable `name` at `origin` (all zeros when nil).
    public func write(_ name: String, _ data: AnyNDArray, at origin: [Int]? = nil) async throws {
        let id = ncid, label = fail("writing '\(name)'")
        let start = origin ?? Array(repeating: 0, count: data.ndim)
        guard start.count == data.ndim else { throw GyreNetCDFError(.invalidArgument, "\(label): origin \(start) for \(data.ndim) dimensions") }
        if data.shape.contains(0) { return }
        let count = data.shape
        if case .string(let s, _) = data {
            let strings = s.contiguous().elements
            try await NetCDFLibrary.run {
                var varid: Int32 = 0
                try NetCDFLibrary.check(nc_inq_varid(id, name, &varid), .write, label)
                try NetCDFWriter.withCStrings(strings) { try NetCDFLibrary.check(nc_put_vara_string(id, varid, start, count, $0), .write, label) }
            }
            return
        }
        let flat = data.dtype == .bool ? try data.astype(.int8) : data.contiguous()
        let base = UnsafeAddress(flat.unsafeRawBase)
        try await NetCDFLibrary.run {
            var varid: Int32 = 0
            try NetCDFLibrary.check(nc_inq_varid(id, name, &varid), .write, label)
            try NetCDFLibrary.check(nc_put_vara(id, varid, start, count, base.pointer), .write, label)
        }
        withExtendedLifetime(flat) {}
    }

    /// Calls `body` with C copies of `strings`, freed afterwards.
    static func withCStrings(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) throws -> Void) rethrows {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) }
        try body(&pointers)
    }

    /// Closes the file and moves it into place (replacing an older file at `path`).
    public func close() async throws {
        let id = ncid, tmp = temporary, path = self.path
        try await NetCDFLibrary.run {
            try NetCDFLibrary.check(nc_close(id), .write, "\(path): closing")
            NetCDFLibrary.evict(path)
            guard rename(tmp, path) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(tmp)
                throw GyreNetCDFError(.write, "\(path): moving the finished file into place: \(why)")
            }
        }
    }

    /// Abandons the file: closes and deletes the temporary, leaving `path` as it was.
    public func abort() async {
        let id = ncid, tmp = temporary
        _ = try? await NetCDFLibrary.run {
            nc_close(id)
            unlink(tmp)
        }
    }
}
