import CHDF5
import CNetCDF
import Dispatch
import Foundation
import GyreArrays
import GyreCore

/// netcdf-c (and the HDF5 library under it) is not thread-safe, so every call into it runs on
/// one serial queue. Callers await the result: Swift's cooperative pool is never blocked, and
/// decoding and compute stay parallel around the library.
///
/// Open files are kept in a small least-recently-used cache of handles (touched only on the
/// queue), so reading many regions of a file does not reopen it each time.
enum NetCDFLibrary {
    static let queue = DispatchQueue(label: "gyre.netcdf", qos: .userInitiated)
    /// Path → ncid (and the file's stamp when opened), most recently used last. Only touched
    /// on `queue`.
    nonisolated(unsafe) static var handles: [(path: String, ncid: Int32, stamp: [Int])] = []
    static let maxOpenFiles = 64

    /// Runs `body` on the library's queue.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingIO.run(on: queue) {
            silenceHDF5()
            return try body()
        }
    }

    /// Turns off HDF5's printing of its error stack to stderr: netcdf-c probes for optional
    /// attributes, and each miss would print a page of diagnostics. Errors still come back as
    /// netCDF status codes. HDF5 keeps the setting per thread and resets it when the library
    /// is reinitialized, and the queue may run on any of several threads, so it is set again
    /// before every use of the library (a pointer store). On the queue only.
    static func silenceHDF5() { _ = gyre_hdf5_silence_errors() }

    /// The library's message for a status code.
    static func message(_ status: Int32) -> String { String(cString: nc_strerror(status)) }

    /// Throws unless `status` is NC_NOERR. On the queue only.
    static func check(_ status: Int32, _ code: GyreNetCDFError.Code, _ what: @autoclosure () -> String) throws {
        guard status == NC_NOERR else { throw GyreNetCDFError(code, "\(what()): \(message(status))") }
    }

    /// An open handle for reading `path`, from the cache or newly opened. A cached handle is
    /// reused only while the file is the one it opened (same inode, size and modification
    /// time): a file replaced since is opened afresh. On the queue only.
    static func handle(_ path: String) throws -> Int32 {
        let stamp = fileStamp(path)
        if let i = handles.firstIndex(where: { $0.path == path }) {
            let h = handles.remove(at: i)
            if h.stamp == stamp {
                handles.append(h)
                return h.ncid
            }
            nc_close(h.ncid)
        }
        var id: Int32 = 0
        let status = nc_open(path, NC_NOWRITE, &id)
        guard status == NC_NOERR else {
            throw GyreNetCDFError(.open, "\(path): \(message(status))")
        }
        silenceHDF5()
        handles.append((path, id, stamp))
        if handles.count > maxOpenFiles { nc_close(handles.removeFirst().ncid) }
        return id
    }

    /// Inode, size and modification time of a file (zeros when it cannot be read).
    static func fileStamp(_ path: String) -> [Int] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [0, 0, 0, 0] }
        return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
    }

    /// Closes a cached handle (before a file is replaced, or to reread it fresh). On the queue only.
    static func evict(_ path: String) {
        if let i = handles.firstIndex(where: { $0.path == path }) { nc_close(handles.remove(at: i).ncid) }
    }

    /// The ncid of a group given by its full path ("/" for the root). On the queue only.
    static func group(_ ncid: Int32, _ path: String, file: String) throws -> Int32 {
        guard path != "/" && !path.isEmpty else { return ncid }
        var gid: Int32 = 0
        let status = nc_inq_grp_full_ncid(ncid, path, &gid)
        guard status == NC_NOERR else { throw GyreNetCDFError(.notFound, "\(file): no group '\(path)'") }
        return gid
    }

    /// The Gyre dtype of a netCDF type (char and string data are handled apart).
    static func dtype(_ t: nc_type) -> DType? {
        switch t {
        case NC_BYTE: return .int8
        case NC_UBYTE: return .uint8
        case NC_SHORT: return .int16
        case NC_USHORT: return .uint16
        case NC_INT: return .int32
        case NC_UINT: return .uint32
        case NC_INT64: return .int64
        case NC_UINT64: return .uint64
        case NC_FLOAT: return .float32
        case NC_DOUBLE: return .float64
        default: return nil
        }
    }

    /// The netCDF type of a Gyre dtype (bool is stored as a byte, as xarray does).
    static func ncType(_ t: DType) -> nc_type? {
        switch t {
        case .int8, .bool: return NC_BYTE
        case .uint8: return NC_UBYTE
        case .int16: return NC_SHORT
        case .uint16: return NC_USHORT
        case .int32: return NC_INT
        case .uint32: return NC_UINT
        case .int64: return NC_INT64
        case .uint64: return NC_UINT64
        case .float32: return NC_FLOAT
        case .float64: return NC_DOUBLE
        case .string: return NC_STRING
        default: return nil
        }
    }
}
