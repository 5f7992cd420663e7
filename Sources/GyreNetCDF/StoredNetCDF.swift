import CNetCDF
import Foundation
import GyreArrays
import GyreChunks
import GyreCore
import GyreStorage

/// Where a variable's values lie in its file, as the file's own structures say (the netCDF-3
/// header's offsets, the HDF5 layout message): what reading by byte range needs, for files in
/// object storage or behind HTTP, where netcdf-c cannot go.
package struct NetCDFStorage: Sendable {
    package enum Layout: Sendable {
        /// One C-ordered span from `address`; nil: never written (all fill).
        case contiguous(address: UInt64?)
        /// A netCDF-3 record variable: record i's slab (the shape without its first dimension)
        /// at `address + i * recordSize`.
        case records(address: UInt64, recordSize: Int)
        /// HDF5 chunks indexed by a version-1 B-tree (nil: none written yet), with the filters
        /// in the order they were applied.
        case chunked(chunkShape: [Int], tree: UInt64?, filters: [HDF5ChunkIndex.Filter])
        /// The values inside the object header.
        case compact([UInt8])
        /// Stored in a way the byte-range reader does not cover (the reason).
        case unsupported(String)
    }
    package let layout: Layout
    package let bigEndian: Bool
    /// The stored extent (an HDF5 dataset may be shorter than its unlimited dimension).
    package let extent: [Int]
}

/// A netCDF file read through a store by byte range: pages of it fetched as the metadata
/// readers ask for them (the readers are synchronous; a page they lack stops them with
/// `HDF5NeedPages`, the pages are fetched in parallel and the reader runs again over what it
/// has), and values read by the ranges `NetCDFStorage` computes.
package final class StoredNetCDF: @unchecked Sendable {
    package let store: any ReadableStore
    package let key: String
    /// The URL, for messages.
    package let name: String
    /// Pages for the metadata: the headers lie together, and large pages take fewer requests.
    static let pageSize: UInt64 = 256 << 10
    /// Pages for walking chunk indexes, whose nodes (a few KiB) lie scattered through the file.
    static let nodePageSize: UInt64 = 16 << 10
    /// Pages kept between reads: past this, they are dropped once a read is done.
    static let keptPageBytes = 32 << 20
    private let lock = NSLock()
    /// Fetched pages by page size, then by start.
    private var pages: [UInt64: [UInt64: [UInt8]]] = [:]
    private var size: UInt64?
    /// Chunk maps of chunked variables, by variable path, read at their first use (once:
    /// reads that start together wait for the one load).
    private var chunkMaps: [String: Task<[[Int]: HDF5ChunkIndex.Location], any Error>] = [:]

    package init(store: any ReadableStore, key: String, name: String) {
        self.store = store
        self.key = key
        self.name = name
    }

    /// Runs a synchronous reader over the file's pages, fetching the pages it asks for until
    /// it has all it needs.
    func parse<T>(pageSize: UInt64 = StoredNetCDF.pageSize, _ body: (HDF5Bytes) throws -> T) async throws -> T {
        for _ in 0..<4096 {
            let (have, size) = lock.withLock { (pages[pageSize] ?? [:], self.size) }
            let bytes = HDF5Bytes(remote: name, pages: have, pageSize: pageSize, size: size)
            do {
                let result = try body(bytes)
                lock.withLock {
                    let kept = pages.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
                    if kept > Self.keptPageBytes { pages = [:] }
                }
                return result
            } catch let need as HDF5NeedPages {
                let wanted = need.pages.filter { have[$0] == nil }.sorted()
                guard !wanted.isEmpty else { throw GyreNetCDFError(.read, "\(name): the reader asked again for pages it has") }
                // Small pages inside a large page already fetched are cut from it.
                let rest = lock.withLock { () -> [UInt64] in
                    guard pageSize < Self.pageSize else { return wanted }
                    return wanted.filter { w in
                        let big = w / Self.pageSize * Self.pageSize
                        guard let b = pages[Self.pageSize]?[big] else { return true }
                        let from = Int(w - big)
                        pages[pageSize, default: [:]][w] = from < b.count ? Array(b[from..<Swift.min(b.count, from + Int(pageSize))]) : []
                        return false
                    }
                }
                if !rest.isEmpty { try await fetch(rest, pageSize: pageSize) }
            }
        }
        throw GyreNetCDFError(.read, "\(name): the file's metadata is spread over too many pages to read by range")
    }

    /// Fetches pages (runs of adjacent pages in one request each), noting where the file ends.
    func fetch(_ starts: [UInt64], pageSize: UInt64 = StoredNetCDF.pageSize, pagesPerRequest: Int = 1) async throws {
        var runs: [(start: UInt64, count: Int)] = []
        for s in starts {
            if let last = runs.last, last.start + UInt64(last.count) * pageSize == s, last.count < 16 {
                runs[runs.count - 1].count += 1
            } else { runs.append((s, pagesPerRequest)) }
        }
        let got = try await Bounded.map(count: runs.count, limit: 16) { [runs] i -> [UInt8] in
            try await self.read(at: runs[i].start, upTo: runs[i].count * Int(pageSize))
        }
        lock.withLock {
            for (run, bytes) in zip(runs, got) {
                for p in 0..<run.count {
                    let from = p * Int(pageSize)
                    let start = run.start + UInt64(from)
                    let page = from < bytes.count ? Array(bytes[from..<Swift.min(bytes.count, from + Int(pageSize))]) : []
                    pages[pageSize, default: [:]][start] = page
                    if page.count < Int(pageSize) { size = Swift.min(size ?? UInt64.max, start + UInt64(page.count)) }
                }
            }
        }
    }

    /// Up to `count` bytes at `offset` (fewer where the file ends first).
    package func read(at offset: UInt64, upTo count: Int) async throws -> [UInt8] {
        do {
            guard let b = try await store.get(key, range: .range(offset: Int(offset), length: count)) else { throw missing() }
            return b
        } catch let e as GyreStorageError where e.code == .invalidRange {
            // The file ends inside the range: read what there is.
            do {
                guard let b = try await store.get(key, range: .from(offset: Int(offset))) else { throw missing() }
                return Array(b.prefix(count))
            } catch let e as GyreStorageError where e.code == .invalidRange { return [] }
        }
    }

    func missing() -> GyreNetCDFError { GyreNetCDFError(.open, "\(name): no such file") }

    /// The stored chunks of a chunked variable by grid position, read from its B-tree once.
    package func chunkMap(_ variable: String, tree: UInt64?, chunkShape: [Int]) async throws -> [[Int]: HDF5ChunkIndex.Location] {
        let load = lock.withLock { () -> Task<[[Int]: HDF5ChunkIndex.Location], any Error> in
            if let t = chunkMaps[variable] { return t }
            let t = Task { try await self.loadChunkMap(variable, tree: tree, chunkShape: chunkShape) }
            chunkMaps[variable] = t
            return t
        }
        do { return try await load.value } catch {
            // A failed load (a network error, say) is tried again by the next read.
            lock.withLock { if chunkMaps[variable] == load { chunkMaps[variable] = nil } }
            throw error
        }
    }

    private func loadChunkMap(_ variable: String, tree: UInt64?, chunkShape: [Int]) async throws -> [[Int]: HDF5ChunkIndex.Location] {
        var map: [[Int]: HDF5ChunkIndex.Location] = [:]
        if let tree {
            let found: [(offset: [Int], size: Int, mask: UInt32, address: UInt64)]
            do {
                found = try await parse(pageSize: Self.nodePageSize) { bytes in try HDF5Format(bytes: bytes).chunks(tree: tree, rank: chunkShape.count) }
            } catch let e as HDF5Unsupported {
                throw GyreNetCDFError(.read, "\(name): variable '\(variable)': its chunk index does not parse (\(e.description))")
            }
            for c in found {
                guard zip(c.offset, chunkShape).allSatisfy({ $0 >= 0 && $1 > 0 && $0 % $1 == 0 }) else {
                    throw GyreNetCDFError(.read, "\(name): variable '\(variable)': a chunk at \(c.offset) is off the chunk grid \(chunkShape) (corrupt file?)")
                }
                map[zip(c.offset, chunkShape).map { $0 / $1 }] = HDF5ChunkIndex.Location(address: c.address, size: c.size, mask: c.mask)
            }
        }
        return map
    }
}

extension NetCDFFile {
    /// Opens a netCDF file in a store (`key` in it; `name` the URL, for messages), reading
    /// only its metadata by byte range: netCDF-3 classic, 64-bit offset and CDF-5 headers, and
    /// netCDF-4 files whose HDF5 structures Gyre's own reader covers (what netcdf-c writes).
    /// Values are then read by `NetCDFArray` by byte range too.
    public static func open(store: any ReadableStore, key: String, name: String) async throws -> NetCDFFile {
        let file = StoredNetCDF(store: store, key: key, name: name)
        // The first request reads the signature and, in the same round trip, the first pages,
        // where the superblock, the headers and usually the small coordinates lie.
        try await file.fetch([0], pagesPerRequest: 4)
        let head = (try? await file.parse { try $0.bytes(0, 8) }) ?? []
        if head.count >= 4, head[0] == 0x43, head[1] == 0x44, head[2] == 0x46, [1, 2, 5].contains(head[3]) {
            do {
                var f = try await file.parse { try NetCDF3Header.read($0, name: name) }
                f.stored = file
                return f
            } catch let e as HDF5Unsupported {
                throw GyreNetCDFError(.open, "\(name): not a readable netCDF-3 header: \(e.description)")
            }
        }
        guard head == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw GyreNetCDFError(.open, "\(name): not a netCDF file (no netCDF-3 or HDF5 signature)")
        }
        do {
            var f = try await file.parse { try HDF5Metadata.read(HDF5Format(bytes: $0), path: name) }
            f.stored = file
            return f
        } catch let e as HDF5Unsupported {
            throw GyreNetCDFError(.unsupported, "\(name): its netCDF-4/HDF5 metadata cannot be read by range (\(e.description)): the file is "
                                  + "truncated or corrupt, or uses a structure Gyre's own HDF5 reader does not cover, and netcdf-c reads "
                                  + "local files only; download it and open the copy")
        }
    }
}

// MARK: netCDF-3 headers

/// The header of a netCDF-3 file (classic, 64-bit offset, CDF-5), as the netCDF file format
/// specification lays it out: big-endian, names and values padded to 4 bytes, 64-bit counts
/// in CDF-5 and 64-bit offsets from version 2 on.
enum NetCDF3Header {
    struct Cursor {
        let bytes: HDF5Bytes
        var pos: UInt64 = 0
        let version: UInt8
        mutating func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, n < 1 << 30 else { throw HDF5Unsupported("a count of \(n) at byte \(pos)") }
            let b = try bytes.bytes(pos, n)
            pos += UInt64(n)
            return b
        }
        mutating func u32() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
        mutating func u64() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        /// NON_NEG: 32 bits, 64 in CDF-5.
        mutating func count() throws -> Int {
            let v = version == 5 ? try u64() : UInt64(try u32())
            guard v < 1 << 40 else { throw HDF5Unsupported("a count of \(v) at byte \(pos)") }
            return Int(v)
        }
        /// OFFSET: 32 bits in classic files, 64 from version 2 on.
        mutating func offset() throws -> UInt64 { version == 1 ? UInt64(try u32()) : try u64() }
        mutating func name() throws -> String {
            let n = try count()
            let b = try take(n)
            try skip(pad(n))
            guard let s = String(validating: b, as: UTF8.self) else { throw HDF5Unsupported("a name that is not UTF-8 at byte \(pos)") }
            return s
        }
        mutating func skip(_ n: Int) throws { _ = try take(n) }
        func pad(_ n: Int) -> Int { (4 - n % 4) % 4 }
    }

    static func size(_ type: Int32) -> Int? {
        switch type {
        case NC_BYTE, NC_CHAR, NC_UBYTE: return 1
        case NC_SHORT, NC_USHORT: return 2
        case NC_INT, NC_UINT, NC_FLOAT: return 4
        case NC_DOUBLE, NC_INT64, NC_UINT64: return 8
        default: return nil
        }
    }

    static func read(_ bytes: HDF5Bytes, name: String) throws -> NetCDFFile {
        let magic = try bytes.bytes(0, 4)
        var c = Cursor(bytes: bytes, pos: 4, version: magic[3])
        let rawRecords = c.version == 5 ? try c.u64() : UInt64(try c.u32())
        guard rawRecords != (c.version == 5 ? UInt64.max : UInt64(UInt32.max)) else {
            throw HDF5Unsupported("a streaming file (its record count was never written)")
        }
        let numrecs = Int(rawRecords)
        // Dimensions.
        var dims: [(name: String, length: Int)] = []
        var recordDim: Int? = nil
        let dimTag = try c.u32()
        let ndims = try c.count()
        guard dimTag == 0x0A || (dimTag == 0 && ndims == 0) else { throw HDF5Unsupported("no dimension list") }
        for i in 0..<ndims {
            let n = try c.name()
            let len = try c.count()
            if len == 0 {
                guard recordDim == nil else { throw HDF5Unsupported("two record dimensions") }
                recordDim = i
            }
            dims.append((n, len == 0 ? numrecs : len))
        }
        let globals = try attributes(&c, owner: "/")
        // Variables.
        struct Var { let name: String; let dimids: [Int]; let attrs: [(name: String, value: NetCDFAttribute)]; let type: Int32; let vsize: Int; let begin: UInt64 }
        var vars: [Var] = []
        let varTag = try c.u32()
        let nvars = try c.count()
        guard varTag == 0x0B || (varTag == 0 && nvars == 0) else { throw HDF5Unsupported("no variable list") }
        for _ in 0..<nvars {
            let n = try c.name()
            let rank = try c.count()
            let ids = try (0..<rank).map { _ in try c.count() }
            guard ids.allSatisfy({ $0 < dims.count }) else { throw HDF5Unsupported("variable '\(n)' names dimension ids \(ids) of \(dims.count)") }
            guard ids.dropFirst().allSatisfy({ $0 != recordDim }) else { throw HDF5Unsupported("variable '\(n)' has the record dimension after its first") }
            let attrs = try attributes(&c, owner: n)
            let type = Int32(bitPattern: try c.u32())
            guard size(type) != nil else { throw HDF5Unsupported("variable '\(n)' has type \(type)") }
            let vsize = try c.count()
            let begin = try c.offset()
            vars.append(Var(name: n, dimids: ids, attrs: attrs, type: type, vsize: vsize, begin: begin))
        }
        // The record size: the record variables' slabs, each padded to 4 bytes, unless there
        // is only one (then unpadded).
        let recordVars = vars.filter { $0.dimids.first != nil && $0.dimids.first == recordDim }
        func slabBytes(_ v: Var) -> Int { v.dimids.dropFirst().reduce(size(v.type)!) { $0 * dims[$1].length } }
        let recordSize = recordVars.count == 1 ? slabBytes(recordVars[0])
            : recordVars.reduce(0) { $0 + (slabBytes($1) + 3) / 4 * 4 }
        var variables: [NetCDFVariable] = []
        var storage: [String: NetCDFStorage] = [:]
        for v in vars {
            let shape = v.dimids.map { dims[$0].length }
            variables.append(NetCDFVariable(name: v.name, group: "/", dims: v.dimids.map { dims[$0].name }, shape: shape, ncType: v.type,
                                            attributes: v.attrs, chunkShape: nil, deflateLevel: nil, shuffle: false))
            let isRecord = v.dimids.first != nil && v.dimids.first == recordDim
            storage["/" + v.name] = NetCDFStorage(layout: isRecord ? .records(address: v.begin, recordSize: recordSize) : .contiguous(address: v.begin),
                                                  bigEndian: true, extent: shape)
        }
        let format = c.version == 1 ? "NETCDF3_CLASSIC" : c.version == 2 ? "NETCDF3_64BIT_OFFSET" : "NETCDF3_64BIT_DATA"
        let root = NetCDFGroup(path: "/", dimensions: dims.enumerated().map { NetCDFDimension(name: $0.element.name, length: $0.element.length, isUnlimited: $0.offset == recordDim) },
                               variables: variables, attributes: globals, groups: [])
        var file = NetCDFFile(path: name, format: format, groups: ["/": root], dimensionCoordinates: [:])
        file.storage = storage
        return file
    }

    static func attributes(_ c: inout Cursor, owner: String) throws -> [(name: String, value: NetCDFAttribute)] {
        let tag = try c.u32()
        let n = try c.count()
        guard tag == 0x0C || (tag == 0 && n == 0) else { throw HDF5Unsupported("no attribute list for \(owner)") }
        var out: [(name: String, value: NetCDFAttribute)] = []
        for _ in 0..<n {
            let name = try c.name()
            let type = Int32(bitPattern: try c.u32())
            let count = try c.count()
            guard let width = size(type) else { throw HDF5Unsupported("attribute \(owner):\(name) has type \(type)") }
            let raw = try c.take(count * width)
            try c.skip(c.pad(count * width))
            if type == NC_CHAR {
                out.append((name, .text(String(decoding: raw.reversed().drop { $0 == 0 }.reversed(), as: UTF8.self))))
            } else {
                let dt = NetCDFLibrary.dtype(type)!
                out.append((name, .values(try AnyNDArray.fromRawBytes(raw, shape: [count], dtype: dt, bigEndian: true))))
            }
        }
        return out
    }
}

// MARK: Reading values by byte range

/// Reads regions of one variable from a `StoredNetCDF` by the byte ranges its storage gives:
/// contiguous and record variables by computed offsets, chunked ones chunk by chunk through
/// the B-tree's map (inflated and unshuffled as the local direct path does), missing chunks
/// and unwritten variables as the fill value.
struct StoredVariableReader: Sendable {
    let file: StoredNetCDF
    let variable: NetCDFVariable
    let storage: NetCDFStorage
    let itemSize: Int
    /// One element of the fill value, in native byte order.
    let fill: [UInt8]
    var maxConcurrency: Int

    var what: String { "\(file.name):\(variable.group == "/" ? "" : variable.group + "/")\(variable.name)" }
    var path: String { (variable.group == "/" ? "" : variable.group) + "/" + variable.name }

    /// Reads a resolved region (positive steps) into a destination of its shape.
    func read(_ r: [(start: Int, count: Int, step: Int)], into destination: ReadDestination) async throws {
        if case .chunked(let chunkShape, let tree, let filters) = storage.layout, storage.extent == variable.shape {
            // The chunk engine reads with steps itself.
            return try await readChunks(r, chunkShape: chunkShape, tree: tree, filters: filters, into: destination)
        }
        if r.contains(where: { $0.step != 1 }) {
            // Read the bounding box, then take every step-th element.
            let box = r.map { (start: $0.start, count: ($0.count - 1) * $0.step + 1, step: 1) }
            let shape = box.map(\.count)
            let temp = UnsafeMutableRawBufferPointer.allocate(byteCount: shape.reduce(itemSize, *), alignment: 64)
            defer { temp.deallocate() }
            try await read(box, into: ReadDestination(base: temp.baseAddress!, shape: shape, strides: NDArray<UInt8>.contiguousStrides(shape), dtype: destination.dtype))
            let strides = zip(NDArray<UInt8>.contiguousStrides(shape), r).map { $0 * $1.step }
            destination.copy(from: UnsafeRawPointer(temp.baseAddress!), strides: strides)
            return
        }
        switch storage.layout {
        case .unsupported(let why):
            throw GyreNetCDFError(.unsupported, "\(what): stored in a way Gyre cannot read by byte range (\(why))")
        case .compact(let bytes):
            guard bytes.count >= variable.shape.reduce(itemSize, *) else { throw GyreNetCDFError(.read, "\(what): compact data shorter than the variable") }
            var swapped = bytes
            if storage.bigEndian { Self.swap(&swapped, itemSize) }
            swapped.withUnsafeBytes { raw in
                let strides = NDArray<UInt8>.contiguousStrides(variable.shape)
                let offset = zip(r, strides).reduce(0) { $0 + $1.0.start * $1.1 }
                destination.copy(from: raw.baseAddress! + offset * itemSize, strides: strides)
            }
        case .contiguous(nil):
            destination.fill(with: fill)
        case .contiguous(let address?):
            let strides = NDArray<UInt8>.contiguousStrides(variable.shape)
            try await readRuns(r, into: destination) { index in address + UInt64(zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 } * itemSize) }
        case .records(let address, let recordSize):
            let strides = NDArray<UInt8>.contiguousStrides(Array(variable.shape.dropFirst()))
            try await readRuns(r, into: destination, records: true) { index in
                address + UInt64(index[0]) * UInt64(recordSize) + UInt64(zip(index.dropFirst(), strides).reduce(0) { $0 + $1.0 * $1.1 } * itemSize)
            }
        case .chunked(let chunkShape, let tree, let filters):
            guard storage.extent.count == variable.shape.count else {
                throw GyreNetCDFError(.read, "\(what): the stored dataset has rank \(storage.extent.count), the variable \(variable.shape.count)")
            }
            if storage.extent == variable.shape {
                try await readChunks(r, chunkShape: chunkShape, tree: tree, filters: filters, into: destination)
                return
            }
            // A variable shorter than its unlimited dimension: past the stored extent, the
            // fill value (as netcdf-c reads it).
            destination.fill(with: fill)
            let clipped = zip(r, storage.extent).map { x, e in (start: x.start, count: Swift.max(0, Swift.min(x.start + x.count, e) - x.start), step: 1) }
            guard !clipped.contains(where: { $0.count == 0 }) else { return }
            try await readChunks(clipped, chunkShape: chunkShape, tree: tree, filters: filters,
                                 into: destination.block(origin: clipped.map { _ in 0 }, shape: clipped.map(\.count)))
        }
    }

    /// Contiguous storage: the region is split into runs of adjacent elements, the runs are
    /// merged into requests, and each request's bytes are placed where its runs go. `offset`
    /// is the file offset of an element by its index; with `records`, runs never cross the
    /// first dimension.
    func readRuns(_ r: [(start: Int, count: Int, step: Int)], into destination: ReadDestination, records: Bool = false,
                  offset: ([Int]) -> UInt64) async throws {
        let shape = variable.shape, n = shape.count
        let first = records ? 1 : 0
        // Dimensions k+1..<n are read whole, so a run spans dims k..<n.
        var k = n
        if n > first {
            k = n - 1
            while k > first && r[k].start == 0 && r[k].count == shape[k] { k -= 1 }
        }
        let runLength = (k < n ? r[k].count : 1) * (k + 1 < n ? shape[(k + 1)...].reduce(1, *) : 1)
        let outer = Array(r.prefix(k))
        var runs: [Range<Int>] = []
        var index = outer.map(\.start)
        let total = outer.reduce(1) { $0 * $1.count }
        runs.reserveCapacity(total)
        for _ in 0..<total {
            var full = index
            if k < n { full.append(r[k].start) }
            while full.count < n { full.append(0) }
            let at = offset(full)
            runs.append(Int(at)..<(Int(at) + runLength * itemSize))
            // The next outer index, last dimension fastest.
            var d = k - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < outer[d].start + outer[d].count { break }
                index[d] = outer[d].start
                d -= 1
            }
        }
        // The runs land one after another in a C-ordered buffer of the region.
        let span = destination.contiguousBytes
        let temp = span == nil ? UnsafeMutableRawBufferPointer.allocate(byteCount: runs.count * runLength * itemSize, alignment: 64) : nil
        defer { temp?.deallocate() }
        let buffer = UnsafeAddress((span ?? temp!).baseAddress!)
        let gap = (file.store as? any MergingRangeReads)?.rangeGap ?? (64 << 10)
        let spans = ByteRanges.merged(runs, gap: gap, maxSpan: 16 << 20)
        let runBytes = runLength * itemSize, size = itemSize, bigEndian = storage.bigEndian
        try await Bounded.forEach(count: spans.count, limit: Swift.max(1, Swift.min(16, maxConcurrency * 2))) { [runs] i in
            let s = spans[i]
            let bytes = try await file.read(at: UInt64(s.span.lowerBound), upTo: s.span.count)
            guard bytes.count == s.span.count else {
                throw GyreNetCDFError(.read, "\(what): the file ends before byte \(s.span.upperBound) (truncated?)")
            }
            bytes.withUnsafeBytes { raw in
                for m in s.members {
                    let dst = buffer.pointer + m * runBytes
                    dst.copyMemory(from: raw.baseAddress! + (runs[m].lowerBound - s.span.lowerBound), byteCount: runBytes)
                    if bigEndian { ByteOrder.swapInPlace(UnsafeMutableRawBufferPointer(start: dst, count: runBytes), itemSize: size) }
                }
            }
        }
        if let temp { destination.copy(from: UnsafeRawPointer(temp.baseAddress!), strides: NDArray<UInt8>.contiguousStrides(r.map(\.count))) }
    }

    /// Chunked storage: the chunk engine, over the chunk index read from the B-tree.
    func readChunks(_ r: [(start: Int, count: Int, step: Int)], chunkShape c: [Int], tree: UInt64?, filters: [HDF5ChunkIndex.Filter],
                    into destination: ReadDestination) async throws {
        try await ChunkEngine.read(try await locator(chunkShape: c, tree: tree, filters: filters), region: r, into: destination)
    }

    func locator(chunkShape c: [Int], tree: UInt64?, filters: [HDF5ChunkIndex.Filter]) async throws -> NetCDFChunkLocator {
        let map = try await file.chunkMap(path, tree: tree, chunkShape: c)
        return NetCDFChunkLocator(name: what, shape: storage.extent, chunkShape: c, itemSize: itemSize, fillElement: fill,
                                  concurrency: Swift.max(2, Swift.min(16, maxConcurrency * 2)), store: file.store, key: file.key,
                                  filters: filters, bigEndian: storage.bigEndian, index: { chunks in chunks.map { map[$0] } })
    }

    /// The chunk engine's view of the variable when it is chunked and read whole from its
    /// stored extent (nil otherwise).
    func chunkLocator() async throws -> NetCDFChunkLocator? {
        guard case .chunked(let chunkShape, let tree, let filters) = storage.layout, storage.extent == variable.shape else { return nil }
        return try await locator(chunkShape: chunkShape, tree: tree, filters: filters)
    }

    static func swap(_ b: inout [UInt8], _ size: Int) { b.withUnsafeMutableBytes { ByteOrder.swapInPlace($0, itemSize: size) } }

    /// One element of the variable's fill value: its `_FillValue`, or netCDF's default.
    static func fillBytes(_ v: NetCDFVariable, itemSize: Int) -> [UInt8] {
        if case .values(let a)? = v.attribute("_FillValue"), a.count >= 1, a.dtype.itemSize == itemSize,
           let raw = try? a.rawBytes(), raw.count >= itemSize {
            return Array(raw.prefix(itemSize))
        }
        func bytes<T>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x) { Array($0) } }
        switch v.ncType {
        case NC_BYTE: return bytes(Int8(-127))
        case NC_CHAR: return [0]
        case NC_SHORT: return bytes(Int16(-32767))
        case NC_INT: return bytes(Int32(-2147483647))
        case NC_FLOAT: return bytes(Float(9.9692099683868690e+36))
        case NC_DOUBLE: return bytes(Double(9.9692099683868690e+36))
        case NC_UBYTE: return bytes(UInt8(255))
        case NC_USHORT: return bytes(UInt16(65535))
        case NC_UINT: return bytes(UInt32(4294967295))
        case NC_INT64: return bytes(Int64(-9223372036854775806))
        case NC_UINT64: return bytes(UInt64(18446744073709551614))
        default: return [UInt8](repeating: 0, count: itemSize)
        }
    }
}
