import GyreCore
import CHDF5
import Foundation
import GyreArrays
import GyreCodecs

/// Reads the chunks of a netCDF-4 variable straight from its HDF5 file, the way kerchunk does:
/// HDF5 (on the library's serial queue) only says where each chunk lies; reading the bytes,
/// inflating and unshuffling run in the chunk engine (GyreChunks), straight into the caller's buffer.
///
/// Used for variables whose chunks are little-endian integers or floats of the variable's
/// dtype, filtered by nothing but shuffle and deflate. Anything else (other filters, Fletcher32,
/// big-endian data, a dataset whose extent differs from the variable's shape) goes through
/// netcdf-c as before. Chunks that were never written read as the variable's fill value.
package final class HDF5ChunkIndex: @unchecked Sendable {
    package enum Filter: Sendable, Equatable { case shuffle(elementSize: Int), deflate, fletcher32 }

    /// What HDF5 says about the dataset, read once.
    package struct Layout: Sendable {
        /// Filters in the order they were applied when writing.
        package let filters: [Filter]
        package let chunkShape: [Int]
    }

    /// Where a stored chunk lies in the file. `mask` bit i set: filter i was skipped for it.
    package struct Location: Sendable {
        package let address: UInt64
        package let size: Int
        package let mask: UInt32
    }

    let path: String
    let variable: NetCDFVariable
    private let lock = NSLock()
    /// nil before the first look; .some(nil) when the direct path does not apply.
    private var layout: Layout??
    /// Chunk grid position → location; nil: the chunk was never written.
    private var locations: [[Int]: Location?] = [:]

    init(path: String, variable: NetCDFVariable) {
        self.path = path
        self.variable = variable
    }

    /// The layout and the locations of `chunks` (grid positions), or nil when the variable
    /// must be read through netcdf-c.
    package func locate(_ chunks: [[Int]]) async throws -> (Layout, [Location?])? {
        let known: (Layout??, [Location??]) = lock.withLock { (layout, chunks.map { locations[$0] }) }
        if case .some(.none) = known.0 { return nil }
        if case .some(.some(let l)) = known.0, known.1.allSatisfy({ $0 != nil }) {
            return (l, known.1.map { $0! })
        }
        let path = self.path, v = variable
        let missing = chunks.enumerated().filter { known.1[$0.offset] == nil }.map(\.element)
        let needLayout = known.0 == nil
        let found = try await NetCDFLibrary.run { () -> (Layout?, [Location?]) in
            try Self.inspect(path: path, variable: v, needLayout: needLayout, chunks: missing)
        }
        return lock.withLock {
            if needLayout { layout = .some(found.0) }
            for (c, loc) in zip(missing, found.1) { locations[c] = .some(loc) }
            guard case .some(.some(let l)) = layout else { return nil }
            return (l, chunks.map { locations[$0]! })
        }
    }

    /// Opens the file with HDF5 (beside netcdf-c's handle), checks the dataset and looks up
    /// chunks. On the library's queue only. A nil layout means: use netcdf-c.
    static func inspect(path: String, variable v: NetCDFVariable, needLayout: Bool, chunks: [[Int]]) throws -> (Layout?, [Location?]) {
        let file = gyre_h5_open_readonly(path)
        guard file >= 0 else { return (nil, []) }
        defer { H5Fclose(file) }
        let name = (v.group == "/" ? "" : v.group) + "/" + v.name
        let dset = gyre_h5_open_dataset(file, name)
        guard dset >= 0 else { return (nil, []) }
        defer { H5Dclose(dset) }
        guard let chunkShape = v.chunkShape else { return (nil, []) }
        var layout: Layout?
        if needLayout {
            layout = describe(dset, variable: v, chunkShape: chunkShape)
            guard layout != nil else { return (nil, []) }
        }
        var out: [Location?] = []
        out.reserveCapacity(chunks.count)
        let undefined = gyre_h5_undefined_address()
        for c in chunks {
            var offset = zip(c, chunkShape).map { hsize_t($0 * $1) }
            var mask: UInt32 = 0
            var address: haddr_t = 0
            var size: hsize_t = 0
            guard H5Dget_chunk_info_by_coord(dset, &offset, &mask, &address, &size) >= 0 else {
                throw GyreNetCDFError(.read, "\(path): variable '\(v.name)': HDF5 cannot locate chunk \(c)")
            }
            out.append(address == undefined || size == 0 ? nil : Location(address: UInt64(address), size: Int(size), mask: mask))
        }
        return (layout, out)
    }

    /// The filters and chunking of a dataset, when its chunks can be decoded here.
    static func describe(_ dset: hid_t, variable v: NetCDFVariable, chunkShape: [Int]) -> Layout? {
        guard let dtype = v.dtype, dtype.hasFixedLayout else { return nil }
        // The stored type must be the variable's dtype, little-endian.
        let type = H5Dget_type(dset)
        guard type >= 0 else { return nil }
        defer { H5Tclose(type) }
        let cls = H5Tget_class(type)
        guard H5Tget_size(type) == dtype.itemSize, H5Tget_order(type) == H5T_ORDER_LE else { return nil }
        if dtype.isFloatingPoint {
            guard cls == H5T_FLOAT else { return nil }
        } else {
            guard cls == H5T_INTEGER, (H5Tget_sign(type) == H5T_SGN_NONE) == dtype.isUnsignedInteger else { return nil }
        }
        // The dataset's extent must be the variable's shape (not so for a variable shorter than
        // its unlimited dimension: netcdf-c fills the rest).
        let space = H5Dget_space(dset)
        guard space >= 0 else { return nil }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank == v.shape.count else { return nil }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        guard dims.map({ Int($0) }) == v.shape else { return nil }
        let plist = H5Dget_create_plist(dset)
        guard plist >= 0 else { return nil }
        defer { H5Pclose(plist) }
        guard H5Pget_layout(plist) == H5D_CHUNKED else { return nil }
        var chunkDims = [hsize_t](repeating: 0, count: rank)
        guard H5Pget_chunk(plist, Int32(rank), &chunkDims) == rank, chunkDims.map({ Int($0) }) == chunkShape else { return nil }
        var filters: [Filter] = []
        for i in 0..<Swift.max(0, Int(H5Pget_nfilters(plist))) {
            var flags: UInt32 = 0, config: UInt32 = 0
            var count = 8
            var values = [UInt32](repeating: 0, count: 8)
            var name = [CChar](repeating: 0, count: 64)
            let id = H5Pget_filter2(plist, UInt32(i), &flags, &count, &values, name.count, &name, &config)
            switch id {
            case 1: filters.append(.deflate)
            case 2: filters.append(.shuffle(elementSize: count > 0 && values[0] > 0 ? Int(values[0]) : dtype.itemSize))
            default: return nil  // Fletcher32, szip, nbit, scale-offset, plugins: netcdf-c reads these
            }
        }
        return Layout(filters: filters, chunkShape: chunkShape)
    }

    /// Decodes one stored chunk's bytes into `destination` (exactly one whole chunk of bytes).
    static func decode(_ bytes: UnsafeRawBufferPointer, filters: [Filter], mask: UInt32,
                       into destination: UnsafeMutableRawBufferPointer, what: @autoclosure () -> String) throws {
        let active = filters.enumerated().filter { mask & (1 << UInt32($0.offset)) == 0 }.map(\.element)
        do {
            func shuffleSize(_ f: Filter) -> Int? { if case .shuffle(let es) = f { return es }; return nil }
            if active.isEmpty {
                guard bytes.count == destination.count else {
                    throw GyreCodecsError(.corrupt, "\(bytes.count) bytes stored, the chunk needs \(destination.count)")
                }
                destination.copyMemory(from: bytes)
            } else if active == [.deflate] {
                try ZlibCodec(format: .zlib).decode(raw: bytes, into: destination)
            } else if active.count == 1, let es = shuffleSize(active[0]) {
                guard bytes.count == destination.count else {
                    throw GyreCodecsError(.corrupt, "\(bytes.count) bytes stored, the chunk needs \(destination.count)")
                }
                ShuffleCodec.unshuffle(bytes, into: destination, elementSize: es)
            } else if active.count == 2, let es = shuffleSize(active[0]), active[1] == .deflate {
                let tmp = allocateScratch(destination.count)
                defer { freeScratch(tmp) }
                try ZlibCodec(format: .zlib).decode(raw: bytes, into: tmp)
                ShuffleCodec.unshuffle(UnsafeRawBufferPointer(tmp), into: destination, elementSize: es)
            } else {
                // Fletcher32, or deflate before shuffle (or twice): decoded step by step.
                var current = Array(bytes)
                for f in active.reversed() {
                    switch f {
                    case .fletcher32:
                        current = try current.withUnsafeBytes { Array(try Fletcher32Codec.strip($0)) }
                    case .shuffle(let es):
                        var next = [UInt8](repeating: 0, count: destination.count)
                        guard current.count == next.count else {
                            throw GyreCodecsError(.corrupt, "\(current.count) bytes before unshuffling, the chunk needs \(next.count)")
                        }
                        next.withUnsafeMutableBytes { d in current.withUnsafeBytes { ShuffleCodec.unshuffle($0, into: d, elementSize: es) } }
                        current = next
                    case .deflate:
                        var next = [UInt8](repeating: 0, count: destination.count)
                        try next.withUnsafeMutableBytes { d in try current.withUnsafeBytes { try ZlibCodec(format: .zlib).decode(raw: $0, into: d) } }
                        current = next
                    }
                }
                guard current.count == destination.count else {
                    throw GyreCodecsError(.corrupt, "\(current.count) bytes decoded, the chunk needs \(destination.count)")
                }
                current.withUnsafeBytes { destination.copyMemory(from: $0) }
            }
        } catch let e as GyreCodecsError {
            throw GyreNetCDFError(.read, "\(what()): \(e.message)", cause: e)
        }
    }
}

/// Reads byte ranges of one file with `pread`, from any thread.
struct FileReader {
    let path: String
    let fd: Int32

    init(_ path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GyreNetCDFError(.open, "\(path): \(String(cString: strerror(errno)))") }
    }

    func close() { _ = Foundation.close(fd) }

    /// Reads exactly `count` bytes at `offset`.
    func read(offset: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < count {
            let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw GyreNetCDFError(.read, "\(path): reading \(count) bytes at \(offset): \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw GyreNetCDFError(.read, "\(path): file ends before the \(count) bytes at \(offset) (truncated?)") }
            done += n
        }
    }
}
