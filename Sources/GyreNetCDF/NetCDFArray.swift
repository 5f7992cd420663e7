import CNetCDF
import GyreArrays

/// One numeric variable of a netCDF file as a chunked source: reading a region reads only that
/// hyperslab (`nc_get_vars`), on the library's serial queue.
public struct NetCDFArray: ChunkedArraySource {
    public let path: String
    public let variable: NetCDFVariable
    /// The largest region read at once: 1 TiB (larger requests are errors before any allocation).
    public static let maxReadBytes = 1 << 40

    public init(path: String, variable: NetCDFVariable) throws {
        guard variable.dtype != nil else {
            throw GyreNetCDFError(.unsupported, "\(path): variable '\(variable.name)' is text (char or string); read it with readText()")
        }
        self.path = path
        self.variable = variable
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

    /// Reads a region (one slice per dimension, any step).
    public func read(region: [Slice]) async throws -> AnyNDArray {
        var r = try resolve(region)
        let shape = r.map(\.count)
        var bytes = dtype.itemSize
        for n in shape {
            let (p, o) = bytes.multipliedReportingOverflow(by: n)
            guard !o, p <= Self.maxReadBytes || shape.contains(0) else {
                throw GyreNetCDFError(.invalidArgument, "\(sourceName): a region of shape \(shape) is too large to read at once")
            }
            bytes = p
        }
        // netCDF reads with positive strides: read forward, then flip the reversed axes (a view).
        var flip: [AxisIndex] = []
        for i in r.indices {
            if r[i].step < 0 && r[i].count > 0 {
                r[i] = (r[i].start + (r[i].count - 1) * r[i].step, r[i].count, -r[i].step)
                flip.append(.slice(Slice(nil, nil, step: -1)))
            } else { flip.append(.slice(.all)) }
        }
        let out = try AnyNDArray.uninitialized(shape, dtype: dtype)
        if shape.contains(0) { return out }
        let start = r.map(\.start), count = r.map(\.count), stride = r.map(\.step)
        let base = UnsafeAddress(out.unsafeRawBase)
        let path = self.path, v = self.variable, name = sourceName
        try await NetCDFLibrary.run {
            let ncid = try NetCDFLibrary.handle(path)
            let gid = try NetCDFLibrary.group(ncid, v.group, file: path)
            var varid: Int32 = 0
            try NetCDFLibrary.check(nc_inq_varid(gid, v.name, &varid), .read, name)
            let status = nc_get_vars(gid, varid, start, count, stride, base.pointer)
            try NetCDFLibrary.check(status, .read, "\(name): reading \(zip(start, count).map { "\($0)+\($1)" })")
        }
        return flip.allSatisfy({ $0 == .slice(.all) }) ? out : try out.index(flip)
    }

    /// Reads a text variable whole: NC_STRING values as strings; NC_CHAR arrays as fixed-width
    /// byte strings joined along their last dimension (xarray's `|S n`), one dimension fewer.
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
