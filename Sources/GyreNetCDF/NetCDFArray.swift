import GyreCore
import CNetCDF
import Foundation
import GyreArrays
import GyreChunks
import GyreStorage

/// One numeric variable of a netCDF file as a chunked source: reading a region reads only that
/// hyperslab. Chunks of netCDF-4 variables filtered by shuffle and deflate (or nothing) are read
/// and decoded directly, in parallel (`HDF5ChunkIndex`); everything else goes through
/// `nc_get_vars` on the library's serial queue.
public struct NetCDFArray: ChunkedArraySource {
    public let path: String
    public let variable: NetCDFVariable
    package let direct: HDF5ChunkIndex?
    /// For a file opened through a store (a URL): reads by byte range instead of netcdf-c.
    let stored: StoredVariableReader?
    /// How many chunks are read and decoded at once (default: the number of cores).
    public var maxConcurrency = NetCDFArray.cores
    static let cores = ProcessInfo.processInfo.activeProcessorCount
    /// Regions smaller than this are read through netcdf-c: for them, locating chunks through
    /// HDF5 costs more than it saves. (Task-local so tests can send every read one way.)
    @TaskLocal package static var directReadMinBytes = 1 << 20
    /// Whether chunks may be read directly at all (false: every read goes through netcdf-c).
    @TaskLocal package static var directReads = true

    /// Whether this variable's chunks can be read directly (see `HDF5ChunkIndex`).
    package func readsChunksDirectly() async throws -> Bool {
        guard let direct else { return false }
        return try await direct.locate([]) != nil
    }
    /// The largest region read at once: 1 TiB (larger requests are errors before any allocation).
    public static let maxReadBytes = 1 << 40

    public init(path: String, variable: NetCDFVariable) throws {
        guard variable.dtype != nil else {
            throw GyreNetCDFError(.unsupported, "\(path): variable '\(variable.name)' is text (char or string); read it with readText()")
        }
        self.init(path: path, variable: variable, direct: variable.chunkShape == nil ? nil : HDF5ChunkIndex(path: path, variable: variable), stored: nil)
    }

    init(path: String, variable: NetCDFVariable, direct: HDF5ChunkIndex?, stored: StoredVariableReader?) {
        self.path = path
        self.variable = variable
        self.direct = direct
        self.stored = stored
    }

    /// A variable of `file`: read by byte range through its store when the file was opened
    /// through one, else as `init(path:variable:)`.
    public init(file: NetCDFFile, variable: NetCDFVariable) throws {
        guard let remote = file.stored else { try self.init(path: file.path, variable: variable); return }
        guard let dtype = variable.dtype else {
            throw GyreNetCDFError(.unsupported, "\(file.path): variable '\(variable.name)' is text (char or string); read it with readText()")
        }
        self.init(path: file.path, variable: variable, direct: nil, stored: try Self.reader(file, remote, variable, itemSize: dtype.itemSize))
    }

    static func reader(_ file: NetCDFFile, _ remote: StoredNetCDF, _ v: NetCDFVariable, itemSize: Int) throws -> StoredVariableReader {
        let key = (v.group == "/" ? "" : v.group) + "/" + v.name
        guard let storage = file.storage[key] else {
            throw GyreNetCDFError(.unsupported, "\(file.path): variable '\(v.name)' has no storage description")
        }
        return StoredVariableReader(file: remote, variable: v, storage: storage, itemSize: itemSize,
                                    fill: StoredVariableReader.fillBytes(v, itemSize: itemSize), maxConcurrency: cores)
    }

    public var sourceName: String { "\(path):\(variable.group == "/" ? "" : variable.group + "/")\(variable.name)" }
    public var shape: [Int] { variable.shape }
    public var dtype: DType { variable.dtype! }

    /// The stored chunks of chunked netCDF-4 variables. Contiguous and netCDF-3 variables have
    /// none; they are split along their leading dimensions into blocks of about 32 MiB, so that
    /// streaming reads stay bounded.
    public var chunks: [[Int]] {
        if let c = variable.chunkShape { return zip(shape, c).map { Self.regularChunks(extent: $0, chunk: $1) } }
        var block = shape
        var bytes = shape.reduce(Swift.max(dtype.itemSize, 1), *)
        var d = 0
        while bytes > 32 << 20 && d < block.count {
            let inner = bytes / Swift.max(block[d], 1)
            let fit = Swift.max(1, (32 << 20) / Swift.max(inner, 1))
            if fit < block[d] { block[d] = fit; bytes = inner * fit; break }
            d += 1
        }
        if bytes > 32 << 20 {
            // Even one row of the leading dims is large: split the following dims too.
            for i in block.indices where bytes > 32 << 20 {
                let inner = bytes / Swift.max(block[i], 1)
                block[i] = Swift.max(1, Swift.min(block[i], (32 << 20) / Swift.max(inner, 1)))
                bytes = inner * block[i]
            }
        }
        return zip(shape, block).map { Self.regularChunks(extent: $0, chunk: $1) }
    }

    func resolve(_ region: [Slice]) throws -> [(start: Int, count: Int, step: Int)] {
        guard region.count == shape.count else {
            throw GyreNetCDFError(.invalidArgument, "\(sourceName): \(region.count) slices for a variable of \(shape.count) dimensions")
        }
        var out: [(start: Int, count: Int, step: Int)] = []
        for (d, s) in region.enumerated() {
            let r: (start: Int, count: Int, step: Int)
            do { r = try s.resolve(extent: shape[d]) } catch { throw GyreNetCDFError(.invalidArgument, "\(sourceName): dimension \(variable.dims[d]): \(error)") }
            out.append(r)
        }
        return out
    }

    /// The region's byte count, refusing absurd sizes before any allocation.
    func checkSize(_ shape: [Int]) throws {
        var bytes = dtype.itemSize
        for n in shape {
            let (p, o) = bytes.multipliedReportingOverflow(by: n)
            guard !o, p <= Self.maxReadBytes || shape.contains(0) else {
                throw GyreNetCDFError(.invalidArgument, "\(sourceName): a region of shape \(shape) is too large to read at once")
            }
            bytes = p
        }
    }

    /// Reads a region (one slice per dimension, any step).
    public func read(region: [Slice]) async throws -> AnyNDArray {
        var r = try resolve(region)
        let shape = r.map(\.count)
        try checkSize(shape)
        // Read forward with positive steps, then flip the reversed axes (a view).
        let (forward, flip) = ChunkEngine.forward(r)
        r = forward
        let out = try AnyNDArray.uninitialized(shape, dtype: dtype)
        if shape.contains(0) { return out }
        let dst = ReadDestination(base: out.unsafeRawBase, shape: shape, strides: NDArray<UInt8>.contiguousStrides(shape), dtype: dtype)
        try await read(resolved: r, into: dst)
        withExtendedLifetime(out) {}
        return flip.allSatisfy({ $0 == .slice(.all) }) ? out : try out.index(flip)
    }

    public func read(region: [Slice], into destination: ReadDestination) async throws {
        let r = try resolve(region)
        guard destination.shape == r.map(\.count), destination.dtype == dtype else {
            throw GyreNetCDFError(.invalidArgument, "\(sourceName): a destination of shape \(destination.shape) (\(destination.dtype)) does not fit the region")
        }
        if destination.shape.contains(0) { return }
        if r.contains(where: { $0.step < 0 }) {
            try destination.copy(from: try await read(region: region))
            return
        }
        try await read(resolved: r, into: destination)
    }

    /// Reads a resolved region with positive steps into a destination of its shape.
    func read(resolved r: [(start: Int, count: Int, step: Int)], into destination: ReadDestination) async throws {
        if let stored {
            var reader = stored
            reader.maxConcurrency = maxConcurrency
            try await reader.read(r, into: destination)
            return
        }
        if r.reduce(dtype.itemSize, { $0 * $1.count }) >= Self.directReadMinBytes, let locator = try await directLocator() {
            // The chunk engine over the chunk locations HDF5 gives: pread, inflate and
            // unshuffle on every core, straight into the destination.
            try await ChunkEngine.read(locator, region: r, into: destination)
            return
        }
        try await readThroughLibrary(r, into: destination)
    }

    /// The chunk engine's view of a local chunked variable whose chunks can be read
    /// directly (nil: it goes through netcdf-c).
    func directLocator() async throws -> NetCDFChunkLocator? {
        guard let direct, Self.directReads, let (layout, _) = try await direct.locate([]) else { return nil }
        let url = URL(fileURLWithPath: path), name = sourceName
        return NetCDFChunkLocator(name: name, shape: shape, chunkShape: layout.chunkShape, itemSize: dtype.itemSize,
                                  fillElement: StoredVariableReader.fillBytes(variable, itemSize: dtype.itemSize),
                                  concurrency: Swift.max(1, maxConcurrency), store: FileStore(root: url.deletingLastPathComponent()),
                                  key: url.lastPathComponent, filters: layout.filters, bigEndian: false) { chunks in
            guard let (_, locations) = try await direct.locate(chunks) else {
                throw GyreNetCDFError(.read, "\(name): the chunk index could not be read")
            }
            return locations
        }
    }

    /// Reads a hyperslab with `nc_get_vars` on the library's queue (straight into the
    /// destination when it is one span).
    func readThroughLibrary(_ r: [(start: Int, count: Int, step: Int)], into destination: ReadDestination) async throws {
        let start = r.map(\.start), count = r.map(\.count), stride = r.map(\.step)
        let path = self.path, v = self.variable, name = sourceName
        let span = destination.contiguousBytes
        let temp = span == nil ? UnsafeMutableRawBufferPointer.allocate(byteCount: count.reduce(dtype.itemSize, *), alignment: 64) : nil
        defer { temp?.deallocate() }
        let base = UnsafeAddress((span ?? temp!).baseAddress!)
        try await NetCDFLibrary.run {
            let ncid = try NetCDFLibrary.handle(path)
            let gid = try NetCDFLibrary.group(ncid, v.group, file: path)
            var varid: Int32 = 0
            try NetCDFLibrary.check(nc_inq_varid(gid, v.name, &varid), .read, name)
            let status = nc_get_vars(gid, varid, start, count, stride, base.pointer)
            try NetCDFLibrary.check(status, .read, "\(name): reading \(zip(start, count).map { "\($0)+\($1)" })")
        }
        if let temp { destination.copy(from: UnsafeRawPointer(temp.baseAddress!), strides: NDArray<UInt8>.contiguousStrides(count)) }
    }

    /// Reads a text variable whole: NC_STRING values as strings; NC_CHAR arrays as fixed-width
    /// byte strings joined along their last dimension (xarray's `|S n`), one dimension fewer.
    /// Reads a text variable of `file` whole (by byte range when the file was opened through
    /// a store; fixed-width characters only there).
    public static func readText(file: NetCDFFile, variable v: NetCDFVariable) async throws -> AnyNDArray {
        guard let remote = file.stored else { return try await readText(path: file.path, variable: v) }
        // Variable-length strings are HDF5 references into global heaps: (length, collection
        // address, index) per element, 4 + offset size + 4 bytes.
        let offsetSize = v.isString ? try await remote.parse { try HDF5Format(bytes: $0).offsetSize } : 0
        let width = v.isString ? 8 + offsetSize : 1
        let reader = try Self.reader(file, remote, v, itemSize: width)
        let total = v.shape.reduce(1, *)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(total * width, 1), alignment: 16)
        defer { buffer.deallocate() }
        if total > 0 {
            // Elements of `width` bytes, placed as byte strings of that width.
            let dst = ReadDestination(base: buffer.baseAddress!, shape: v.shape, strides: NDArray<UInt8>.contiguousStrides(v.shape),
                                      dtype: width == 1 ? .uint8 : .string(.bytes(width)))
            try await reader.read(v.shape.map { (0, $0, 1) }, into: dst)
        }
        let raw = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<(total * width)]))
        guard v.isString else { return try text(raw, v) }
        let strings = try await remote.parse { try HDF5Format(bytes: $0).vlenStrings(raw, count: total, what: "'\(v.name)'") }
        return .string(try NDArray(shape: v.shape, strings), .variable)
    }

    public static func readText(path: String, variable v: NetCDFVariable) async throws -> AnyNDArray {
        let name = "\(path):\(v.name)"
        let total = v.shape.reduce(1, *)
        if v.isString {
            let strings = try await NetCDFLibrary.run { () -> [String] in
                let ncid = try NetCDFLibrary.handle(path)
                let gid = try NetCDFLibrary.group(ncid, v.group, file: path)
                var varid: Int32 = 0
                try NetCDFLibrary.check(nc_inq_varid(gid, v.name, &varid), .read, name)
                var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: total)
                if total > 0 { try NetCDFLibrary.check(nc_get_var_string(gid, varid, &ptrs), .read, name) }
                defer { if total > 0 { nc_free_string(total, &ptrs) } }
                return ptrs.map { $0.map { String(cString: $0) } ?? "" }
            }
            return .string(try NDArray(shape: v.shape, strings), .variable)
        }
        guard v.isChar else { throw GyreNetCDFError(.invalidArgument, "\(name) is not a text variable") }
        let bytes = try await NetCDFLibrary.run { () -> [UInt8] in
            let ncid = try NetCDFLibrary.handle(path)
            let gid = try NetCDFLibrary.group(ncid, v.group, file: path)
            var varid: Int32 = 0
            try NetCDFLibrary.check(nc_inq_varid(gid, v.name, &varid), .read, name)
            var buf = [CChar](repeating: 0, count: total)
            if total > 0 { try NetCDFLibrary.check(nc_get_var_text(gid, varid, &buf), .read, name) }
            return buf.map { UInt8(bitPattern: $0) }
        }
        return try text(bytes, v)
    }

    /// Fixed-width byte strings from a char array's bytes, joined along its last dimension.
    static func text(_ bytes: [UInt8], _ v: NetCDFVariable) throws -> AnyNDArray {
        let width = v.shape.last ?? 1
        let outer = Array(v.shape.dropLast())
        let n = outer.reduce(1, *)
        var strings: [String] = []
        strings.reserveCapacity(n)
        for i in 0..<n {
            let row = bytes[(i * width)..<((i + 1) * width)]
            let trimmed = row.prefix { $0 != 0 }
            strings.append(String(decoding: trimmed, as: UTF8.self))
        }
        return .string(try NDArray(shape: outer, strings), .bytes(width))
    }
}
