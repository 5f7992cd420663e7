import Foundation

// The low level of the HDF5 file format (version 3.0 of the format specification): the
// superblock, object headers and their messages, groups (link messages, symbol tables), the
// global heap, fractal heaps and version-1 and -2 B-trees. Enough to read what netcdf-c writes without the HDF5
// library; `HDF5Metadata` turns it into netCDF metadata. Anything this does not cover throws
// `HDF5Unsupported`, and the caller goes through netcdf-c instead.

/// Why a file is left to netcdf-c: a structure this reader does not cover, or bytes that do not
/// parse. Never shown to users (netcdf-c then reads the file and reports its own errors).
struct HDF5Unsupported: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A page of a remote file the reader needs and does not have yet: the caller fetches the
/// pages (in parallel) and parses again. Never shown to users.
struct HDF5NeedPages: Error {
    let pages: Set<UInt64>
}

/// Bytes of one file, in pages kept once read: a local file's read with `pread` as needed
/// (64 KiB), a remote file's fetched beforehand by the caller (`RemotePages`); a page the remote
/// reader lacks throws `HDF5NeedPages`.
final class HDF5Bytes {
    /// The path or URL, for messages.
    let name: String
    private let reader: FileReader?
    /// The file's size; for a remote file, `UInt64.max` until a page shorter than the page size
    /// shows where it ends.
    let size: UInt64
    private var pages: [UInt64: [UInt8]]
    let pageSize: UInt64
    static let pageSize: UInt64 = 1 << 16

    init(_ path: String) throws {
        let reader = try FileReader(path)
        var st = stat()
        guard fstat(reader.fd, &st) == 0 else { reader.close(); throw HDF5Unsupported("fstat failed") }
        self.reader = reader
        name = path
        size = UInt64(st.st_size)
        pages = [:]
        pageSize = Self.pageSize
    }

    /// A remote file's pages fetched so far.
    init(remote name: String, pages: [UInt64: [UInt8]], pageSize: UInt64, size: UInt64?) {
        reader = nil
        self.name = name
        self.pages = pages
        self.pageSize = pageSize
        self.size = size ?? UInt64.max
    }

    deinit { reader?.close() }

    func bytes(_ address: UInt64, _ count: Int) throws -> [UInt8] {
        guard count >= 0, address <= size, UInt64(count) <= size - address else {
            throw HDF5Unsupported("\(count) bytes at \(address) lie past the end of the file (\(size) bytes)")
        }
        var out = [UInt8]()
        out.reserveCapacity(count)
        var at = address
        let end = address + UInt64(count)
        while at < end {
            let pageStart = at / pageSize * pageSize
            let page = try self.page(pageStart)
            let from = Int(at - pageStart)
            let to = Int(Swift.min(end - pageStart, UInt64(page.count)))
            guard to > from else { throw HDF5Unsupported("\(count) bytes at \(address) lie past the end of the file") }
            out.append(contentsOf: page[from..<to])
            at = pageStart + UInt64(to)
        }
        return out
    }

    private func page(_ start: UInt64) throws -> [UInt8] {
        if let p = pages[start] { return p }
        guard let reader else { throw HDF5NeedPages(pages: [start]) }
        let n = Int(Swift.min(pageSize, size - start))
        var p = [UInt8](repeating: 0, count: n)
        try p.withUnsafeMutableBytes { try reader.read(offset: start, count: n, into: $0) }
        pages[start] = p
        return p
    }
}

/// A little-endian reader over bytes; running off the end throws.
struct HDF5Cursor {
    let bytes: [UInt8]
    var pos: Int
    let offsetSize: Int
    let lengthSize: Int

    init(_ bytes: [UInt8], at pos: Int = 0, offsetSize: Int, lengthSize: Int) {
        self.bytes = bytes; self.pos = pos; self.offsetSize = offsetSize; self.lengthSize = lengthSize
    }

    var remaining: Int { bytes.count - pos }

    mutating func u8() throws -> UInt8 {
        guard pos < bytes.count else { throw HDF5Unsupported("structure ends early") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func uint(_ size: Int) throws -> UInt64 {
        guard size >= 0, size <= 8, pos + size <= bytes.count else { throw HDF5Unsupported("structure ends early") }
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += size
        return v
    }

    mutating func u16() throws -> Int { Int(try uint(2)) }
    mutating func u32() throws -> Int { Int(try uint(4)) }
    mutating func u64() throws -> UInt64 { try uint(8) }
    /// A file address; nil when undefined (all bits set).
    mutating func address() throws -> UInt64? {
        let v = try uint(offsetSize)
        return v == (offsetSize == 8 ? UInt64.max : (UInt64(1) << UInt64(8 * offsetSize)) - 1) ? nil : v
    }
    mutating func length() throws -> UInt64 { try uint(lengthSize) }

    mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, pos + n <= bytes.count else { throw HDF5Unsupported("structure ends early") }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }

    mutating func skip(_ n: Int) throws {
        guard n >= 0, pos + n <= bytes.count else { throw HDF5Unsupported("structure ends early") }
        pos += n
    }

    mutating func expect(_ signature: String) throws {
        let s = Array(signature.utf8)
        guard try take(s.count) == s else { throw HDF5Unsupported("no '\(signature)' signature") }
    }
}

/// Bob Jenkins' lookup3 `hashlittle`, which HDF5 uses for its metadata checksums.
func hdf5Checksum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt32 {
    @inline(__always) func rot(_ x: UInt32, _ k: UInt32) -> UInt32 { (x << k) | (x >> (32 - k)) }
    var a = 0xdeadbeef &+ UInt32(truncatingIfNeeded: bytes.count) &+ initial
    var b = a, c = a
    var i = bytes.startIndex
    var length = bytes.count
    @inline(__always) func word(_ at: Int, _ n: Int) -> UInt32 {
        var v: UInt32 = 0
        for j in 0..<n { v |= UInt32(bytes[at + j]) << (8 * UInt32(j)) }
        return v
    }
    while length > 12 {
        a &+= word(i, 4); b &+= word(i + 4, 4); c &+= word(i + 8, 4)
        a &-= c; a ^= rot(c, 4); c &+= b
        b &-= a; b ^= rot(a, 6); a &+= c
        c &-= b; c ^= rot(b, 8); b &+= a
        a &-= c; a ^= rot(c, 16); c &+= b
        b &-= a; b ^= rot(a, 19); a &+= c
        c &-= b; c ^= rot(b, 4); b &+= a
        length -= 12; i += 12
    }
    if length == 0 { return c }
    a &+= word(i, Swift.min(length, 4))
    if length > 4 { b &+= word(i + 4, Swift.min(length - 4, 4)) }
    if length > 8 { c &+= word(i + 8, length - 8) }
    c ^= b; c &-= rot(b, 14)
    a ^= c; a &-= rot(c, 11)
    b ^= a; b &-= rot(a, 25)
    c ^= b; c &-= rot(b, 16)
    a ^= c; a &-= rot(c, 4)
    b ^= a; b &-= rot(a, 14)
    c ^= b; c &-= rot(b, 24)
    return c
}

/// An HDF5 datatype, as far as netCDF needs it.
indirect enum HDF5Type: Equatable {
    case integer(size: Int, signed: Bool, bigEndian: Bool)
    case float(size: Int, bigEndian: Bool)
    /// Fixed-length string of `size` bytes.
    case string(size: Int)
    case vlenString
    case vlenSequence(HDF5Type)
    case reference(size: Int)
    /// Compound, enum, array, opaque, bitfield, time: netCDF user types and the like.
    case other(typeClass: Int, size: Int)

    /// Bytes one element takes in an attribute's or dataset's data.
    func size(offsetSize: Int) -> Int {
        switch self {
        case .integer(let s, _, _), .float(let s, _), .string(let s), .reference(let s), .other(_, let s): return s
        case .vlenString, .vlenSequence: return 4 + offsetSize + 4
        }
    }

    /// Decodes a datatype message.
    static func decode(_ c: inout HDF5Cursor) throws -> HDF5Type {
        let classAndVersion = try c.u8()
        let cls = Int(classAndVersion & 0x0f)
        let bits = try c.uint(3)
        let size = try c.u32()
        switch cls {
        case 0:  // fixed-point
            try c.skip(4)  // bit offset, precision
            return .integer(size: size, signed: bits & 0x08 != 0, bigEndian: bits & 0x01 != 0)
        case 1:  // floating-point
            try c.skip(12)
            guard bits & 0x40 == 0 else { return .other(typeClass: cls, size: size) }  // VAX order
            return .float(size: size, bigEndian: bits & 0x01 != 0)
        case 3:
            return .string(size: size)
        case 7:
            guard bits & 0x0f == 0 else { return .other(typeClass: cls, size: size) }  // region references
            return .reference(size: size)
        case 9:
            let base = try decode(&c)
            return bits & 0x0f == 1 ? .vlenString : .vlenSequence(base)
        default:
            // Members and properties follow; nothing here reads past this type.
            return .other(typeClass: cls, size: size)
        }
    }
}

/// A dataspace: scalar (no dims), simple, or null (no elements).
struct HDF5Space {
    var dims: [UInt64]
    var maxDims: [UInt64]?
    var isNull: Bool
    var count: Int { isNull ? 0 : dims.reduce(1) { $0 * Int($1) } }
    static let unlimited = UInt64.max

    static func decode(_ c: inout HDF5Cursor) throws -> HDF5Space {
        let version = try c.u8()
        let rank = Int(try c.u8())
        let flags = try c.u8()
        var isNull = false
        switch version {
        case 1: try c.skip(5)
        case 2: isNull = try c.u8() == 2
        default: throw HDF5Unsupported("dataspace message version \(version)")
        }
        var dims: [UInt64] = []
        for _ in 0..<rank { dims.append(try c.length()) }
        var maxDims: [UInt64]? = nil
        if flags & 1 != 0 { maxDims = try (0..<rank).map { _ in try c.length() } }
        return HDF5Space(dims: dims, maxDims: maxDims, isNull: isNull)
    }
}

/// One message of an object header.
struct HDF5Message {
    let type: Int
    let flags: UInt8
    let creationOrder: Int?
    let data: [UInt8]
}

/// What the format layer reads: the superblock's sizes and the root, object headers, groups,
/// the global heap.
final class HDF5Format {
    let bytes: HDF5Bytes
    let offsetSize: Int
    let lengthSize: Int
    let base: UInt64
    let root: UInt64
    private var heaps: [UInt64: [Int: [UInt8]]] = [:]

    convenience init(_ path: String) throws { try self.init(bytes: HDF5Bytes(path)) }

    init(bytes: HDF5Bytes) throws {
        self.bytes = bytes
        let head = try bytes.bytes(0, Int(Swift.min(bytes.size, 96)))
        var c = HDF5Cursor(head, offsetSize: 8, lengthSize: 8)
        guard try c.take(8) == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] else { throw HDF5Unsupported("no HDF5 signature at 0") }
        let version = try c.u8()
        switch version {
        case 0, 1:
            try c.skip(4)  // free-space, root entry, reserved, shared header versions
            offsetSize = Int(try c.u8()); lengthSize = Int(try c.u8())
            try c.skip(1 + 4 + 4 + (version == 1 ? 4 : 0))  // reserved, group K values, flags, indexed K
        case 2, 3:
            offsetSize = Int(try c.u8()); lengthSize = Int(try c.u8())
            try c.skip(1)  // flags
        default:
            throw HDF5Unsupported("superblock version \(version)")
        }
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
            throw HDF5Unsupported("offset size \(offsetSize), length size \(lengthSize)")
        }
        var s = HDF5Cursor(head, at: c.pos, offsetSize: offsetSize, lengthSize: lengthSize)
        base = try s.address() ?? 0
        if version >= 2 {
            _ = try s.address()  // superblock extension
            _ = try s.address()  // end of file
            guard let r = try s.address() else { throw HDF5Unsupported("no root group") }
            root = r
            let end = s.pos
            let sum = UInt32(try s.u32())
            guard hdf5Checksum(head[0..<end]) == sum else { throw HDF5Unsupported("superblock checksum mismatch") }
        } else {
            _ = try s.address()  // free space
            _ = try s.address()  // end of file
            _ = try s.address()  // driver information
            _ = try s.address()  // root entry: link name offset
            guard let r = try s.address() else { throw HDF5Unsupported("no root group") }
            root = r
        }
    }

    func cursor(_ data: [UInt8], at pos: Int = 0) -> HDF5Cursor {
        HDF5Cursor(data, at: pos, offsetSize: offsetSize, lengthSize: lengthSize)
    }

    func read(_ address: UInt64, _ count: Int) throws -> [UInt8] { try bytes.bytes(base + address, count) }

    // MARK: Object headers

    /// The messages of the object header at `address` (continuations followed), and whether
    /// its attributes' creation order is tracked.
    func objectHeader(_ address: UInt64) throws -> (messages: [HDF5Message], attributeOrderTracked: Bool) {
        let first = try read(address, Int(Swift.min(UInt64(64), bytes.size - Swift.min(bytes.size, base + address))))
        var c = cursor(first)
        if first.count >= 4, Array(first[0..<4]) == Array("OHDR".utf8) {
            try c.skip(4)
            guard try c.u8() == 2 else { throw HDF5Unsupported("object header version") }
            let flags = try c.u8()
            if flags & 0x20 != 0 { try c.skip(16) }
            if flags & 0x10 != 0 { try c.skip(4) }
            let chunkSize = Int(try c.uint(1 << Int(flags & 3)))
            let prefix = c.pos
            let all = try read(address, prefix + chunkSize + 4)
            try verify(all, what: "object header")
            var messages: [HDF5Message] = []
            var pending: [(UInt64, UInt64)] = []
            try parseV2Messages(all, from: prefix, to: prefix + chunkSize, orderTracked: flags & 0x04 != 0, into: &messages, continuations: &pending)
            while let (addr, len) = pending.first {
                pending.removeFirst()
                guard len >= 8, len < 1 << 30 else { throw HDF5Unsupported("continuation length \(len)") }
                let block = try read(addr, Int(len))
                guard Array(block[0..<4]) == Array("OCHK".utf8) else { throw HDF5Unsupported("no OCHK signature") }
                try verify(block, what: "object header continuation")
                try parseV2Messages(block, from: 4, to: block.count - 4, orderTracked: flags & 0x04 != 0, into: &messages, continuations: &pending)
            }
            return (messages, flags & 0x04 != 0)
        }
        // Version 1: 16-byte prefix, then messages aligned to 8 bytes.
        guard try c.u8() == 1 else { throw HDF5Unsupported("object header version") }
        try c.skip(1)
        let count = try c.u16()
        try c.skip(4)  // reference count
        let size = try c.u32()
        guard size < 1 << 30 else { throw HDF5Unsupported("object header size \(size)") }
        var blocks: [(UInt64, Int)] = [(address + 16, size)]
        var messages: [HDF5Message] = []
        while !blocks.isEmpty, messages.count < count {
            let (addr, len) = blocks.removeFirst()
            var m = cursor(try read(addr, len))
            while m.remaining >= 8, messages.count < count {
                let type = try m.u16()
                let msize = try m.u16()
                let mflags = try m.u8()
                try m.skip(3)
                let data = try m.take(msize)
                if type == 0x10 {
                    var d = cursor(data)
                    guard let a = try d.address() else { throw HDF5Unsupported("undefined continuation") }
                    let l = try d.length()
                    guard l < 1 << 30 else { throw HDF5Unsupported("continuation length \(l)") }
                    blocks.append((a, Int(l)))
                }
                messages.append(HDF5Message(type: type, flags: mflags, creationOrder: nil, data: data))
            }
        }
        return (messages, false)
    }

    private func verify(_ block: [UInt8], what: String) throws {
        var c = cursor(block, at: block.count - 4)
        let sum = UInt32(try c.u32())
        guard hdf5Checksum(block[0..<block.count - 4]) == sum else { throw HDF5Unsupported("\(what) checksum mismatch") }
    }

    private func parseV2Messages(_ block: [UInt8], from: Int, to: Int, orderTracked: Bool,
                                 into messages: inout [HDF5Message], continuations: inout [(UInt64, UInt64)]) throws {
        var c = cursor(Array(block[0..<to]), at: from)
        let headerSize = orderTracked ? 6 : 4
        while c.remaining >= headerSize {
            let type = Int(try c.u8())
            let size = try c.u16()
            let flags = try c.u8()
            let order = orderTracked ? try c.u16() : nil
            let data = try c.take(size)
            if type == 0x10 {
                var d = cursor(data)
                guard let a = try d.address() else { throw HDF5Unsupported("undefined continuation") }
                continuations.append((a, try d.length()))
            }
            messages.append(HDF5Message(type: type, flags: flags, creationOrder: order, data: data))
        }
    }

    // MARK: Groups

    struct Link { let name: String; let address: UInt64; let order: Int? }

    /// The hard links of a group, in creation order when it is tracked, else by name (the
    /// order netcdf-c visits them in).
    func links(of messages: [HDF5Message]) throws -> [Link] {
        // Old-style groups (a symbol table, no creation order): netcdf-c never writes them.
        if messages.contains(where: { $0.type == 0x11 }) { throw HDF5Unsupported("symbol-table group") }
        var tracked = false
        if let info = messages.first(where: { $0.type == 0x02 }) {
            var c = cursor(info.data)
            guard try c.u8() == 0 else { throw HDF5Unsupported("link info version") }
            let flags = try c.u8()
            tracked = flags & 1 != 0
            if tracked { try c.skip(8) }
            if let heapAddress = try c.address() {
                guard let nameIndex = try c.address() else { throw HDF5Unsupported("dense links without a name index") }
                let heap = try fractalHeap(heapAddress)
                var out: [Link] = []
                for record in try v2BTreeRecords(nameIndex) {
                    guard record.count >= 4 + 1 else { throw HDF5Unsupported("link record size") }
                    out.append(try link(try heapObject(heap, id: Array(record[4...]))))
                }
                return ordered(out, tracked: tracked)
            }
        }
        return ordered(try messages.filter { $0.type == 0x06 }.map { try link($0.data) }, tracked: tracked)
    }

    private func ordered(_ links: [Link], tracked: Bool) -> [Link] {
        if tracked, links.allSatisfy({ $0.order != nil }) { return links.sorted { $0.order! < $1.order! } }
        return links.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// A link message (in an object header or a fractal heap).
    private func link(_ data: [UInt8]) throws -> Link {
        var c = cursor(data)
        guard try c.u8() == 1 else { throw HDF5Unsupported("link message version") }
        let flags = try c.u8()
        let type = flags & 0x08 != 0 ? try c.u8() : 0
        let order = flags & 0x04 != 0 ? Int(truncatingIfNeeded: try c.u64()) : nil
        if flags & 0x10 != 0 { try c.skip(1) }
        let nameLength = Int(try c.uint(1 << Int(flags & 3)))
        let name = String(decoding: try c.take(nameLength), as: UTF8.self)
        guard type == 0 else { throw HDF5Unsupported("soft or external link '\(name)'") }
        guard let address = try c.address() else { throw HDF5Unsupported("undefined link address") }
        return Link(name: name, address: address, order: order)
    }

    // MARK: Dense storage: fractal heaps and version-2 B-trees

    struct FractalHeap {
        let offsetBytes: Int
        let lengthBytes: Int
        let tableWidth: Int
        let startBlockSize: UInt64
        let maxDirectBlockSize: UInt64
        let root: UInt64?
        let rootRows: Int
    }

    func fractalHeap(_ address: UInt64) throws -> FractalHeap {
        let size = 4 + 1 + 2 + 2 + 1 + 4 + 12 * lengthSize + 3 * offsetSize + 2 + 2 + 2 + 2 + 4
        let block = try read(address, size)
        var c = cursor(block)
        try c.expect("FRHP")
        guard try c.u8() == 0 else { throw HDF5Unsupported("fractal heap version") }
        try c.skip(2)  // heap ID length
        let filterLength = try c.u16()
        try c.skip(1)  // flags
        let maxManaged = try c.u32()
        _ = try c.length(); _ = try c.address()  // huge objects
        _ = try c.length(); _ = try c.address()  // free space
        for _ in 0..<8 { _ = try c.length() }  // managed and huge and tiny statistics
        let width = try c.u16()
        let start = try c.length()
        let maxDirect = try c.length()
        let maxHeapBits = try c.u16()
        _ = try c.u16()  // starting rows in the root indirect block
        let root = try c.address()
        let rootRows = try c.u16()
        guard filterLength == 0 else { throw HDF5Unsupported("filtered fractal heap") }
        try verify(Array(block[0..<c.pos + 4]), what: "fractal heap header")
        guard width > 0, start > 0, start & (start - 1) == 0, maxDirect >= start, maxDirect & (maxDirect - 1) == 0 else {
            throw HDF5Unsupported("fractal heap geometry")
        }
        let directBits = UInt64.bitWidth - 1 - maxDirect.leadingZeroBitCount
        let managedBits = maxManaged > 0 ? Int.bitWidth - 1 - maxManaged.leadingZeroBitCount : 0
        return FractalHeap(offsetBytes: (maxHeapBits + 7) / 8,
                           lengthBytes: Swift.min((directBits + 7) / 8, managedBits / 8 + 1),
                           tableWidth: width, startBlockSize: start, maxDirectBlockSize: maxDirect,
                           root: root, rootRows: rootRows)
    }

    /// The bytes of the object a heap ID names (managed or tiny objects).
    func heapObject(_ heap: FractalHeap, id: [UInt8]) throws -> [UInt8] {
        guard let first = id.first else { throw HDF5Unsupported("empty heap ID") }
        switch (first >> 4) & 0x03 {
        case 0:
            var c = cursor(id, at: 1)
            let offset = try c.uint(heap.offsetBytes)
            let length = Int(try c.uint(heap.lengthBytes))
            guard let root = heap.root else { throw HDF5Unsupported("empty fractal heap") }
            if heap.rootRows == 0 {
                return try directBlockObject(heap, block: root, blockOffset: 0, blockSize: heap.startBlockSize, offset: offset, length: length)
            }
            return try indirectBlockObject(heap, block: root, rows: heap.rootRows, offset: offset, length: length, depth: 0)
        case 2:
            let length = Int(first & 0x0f) + 1
            guard id.count >= 1 + length else { throw HDF5Unsupported("tiny heap object") }
            return Array(id[1..<1 + length])
        default:
            throw HDF5Unsupported("huge fractal heap object")
        }
    }

    /// Size of the blocks in row `row` of the doubling table.
    private func rowBlockSize(_ heap: FractalHeap, _ row: Int) -> UInt64 {
        row == 0 ? heap.startBlockSize : heap.startBlockSize << UInt64(row - 1)
    }

    private func directBlockObject(_ heap: FractalHeap, block: UInt64, blockOffset: UInt64, blockSize: UInt64,
                                   offset: UInt64, length: Int) throws -> [UInt8] {
        guard offset >= blockOffset, offset - blockOffset + UInt64(length) <= blockSize else { throw HDF5Unsupported("heap object outside its block") }
        let head = try read(block, 5)
        guard Array(head[0..<4]) == Array("FHDB".utf8) else { throw HDF5Unsupported("no FHDB signature") }
        return try read(block + (offset - blockOffset), length)
    }

    private func indirectBlockObject(_ heap: FractalHeap, block: UInt64, rows: Int, offset: UInt64, length: Int, depth: Int) throws -> [UInt8] {
        guard depth < 16, rows > 0, rows < 64 else { throw HDF5Unsupported("fractal heap indirect block") }
        let directRows = Swift.min(rows, (UInt64.bitWidth - heap.maxDirectBlockSize.leadingZeroBitCount) - (UInt64.bitWidth - heap.startBlockSize.leadingZeroBitCount) + 2)
        let entries = rows * heap.tableWidth
        var c = cursor(try read(block, 5 + offsetSize + heap.offsetBytes + entries * offsetSize))
        try c.expect("FHIB")
        try c.skip(1 + offsetSize)
        let blockOffset = try c.uint(heap.offsetBytes)
        guard offset >= blockOffset else { throw HDF5Unsupported("heap offset before its block") }
        var at = blockOffset
        for row in 0..<rows {
            let size = rowBlockSize(heap, row)
            for _ in 0..<heap.tableWidth {
                let child = try c.address()
                if offset < at + size {
                    guard let child else { throw HDF5Unsupported("heap object in an unallocated block") }
                    if row < directRows {
                        return try directBlockObject(heap, block: child, blockOffset: at, blockSize: size, offset: offset, length: length)
                    }
                    let startBits = UInt64.bitWidth - 1 - heap.startBlockSize.leadingZeroBitCount
                    let widthBits = Int.bitWidth - 1 - heap.tableWidth.leadingZeroBitCount
                    let sizeBits = UInt64.bitWidth - 1 - size.leadingZeroBitCount
                    return try indirectBlockObject(heap, block: child, rows: sizeBits - (startBits + widthBits) + 1,
                                                   offset: offset, length: length, depth: depth + 1)
                }
                at += size
            }
        }
        throw HDF5Unsupported("heap offset past the heap")
    }

    /// Every record of the version-2 B-tree at `address`, in key order.
    func v2BTreeRecords(_ address: UInt64) throws -> [[UInt8]] {
        let head = try read(address, 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + offsetSize + 2 + lengthSize + 4)
        var c = cursor(head)
        try c.expect("BTHD")
        guard try c.u8() == 0 else { throw HDF5Unsupported("B-tree v2 version") }
        _ = try c.u8()
        let nodeSize = try c.u32()
        let recordSize = try c.u16()
        let depth = try c.u16()
        try c.skip(2)
        let root = try c.address()
        let rootRecords = try c.u16()
        _ = try c.length()
        try verify(head, what: "B-tree header")
        guard let root, rootRecords > 0 else { return [] }
        guard recordSize > 0, nodeSize > 10, depth < 16 else { throw HDF5Unsupported("B-tree v2 geometry") }
        // Field widths of child pointers, as the format derives them from the node size.
        func encodedSize(_ n: UInt64) -> Int { (UInt64.bitWidth - 1 - Swift.max(n, 1).leadingZeroBitCount) / 8 + 1 }
        var maxRecords: [UInt64] = [UInt64((nodeSize - 10) / recordSize)]
        var cumulative: [UInt64] = [maxRecords[0]]
        var cumulativeSize: [Int] = [0]
        let countSize = encodedSize(maxRecords[0])
        if depth > 0 {
            for d in 1...depth {
                let pointer = offsetSize + countSize + (d > 1 ? cumulativeSize[d - 1] : 0)
                let m = UInt64((nodeSize - 10 - pointer) / (recordSize + pointer))
                maxRecords.append(m)
                cumulative.append((m + 1) * cumulative[d - 1] + m)
                cumulativeSize.append(encodedSize(cumulative[d]))
            }
        }
        var out: [[UInt8]] = []
        func visit(_ node: UInt64, records: Int, depth d: Int, level: Int) throws {
            guard level < 32 else { throw HDF5Unsupported("B-tree too deep") }
            let pointer = d > 0 ? offsetSize + countSize + (d > 1 ? cumulativeSize[d - 1] : 0) : 0
            let size = 6 + records * recordSize + (d > 0 ? (records + 1) * pointer : 0) + 4
            let block = try read(node, size)
            try verify(block, what: "B-tree node")
            var n = cursor(block)
            try n.expect(d == 0 ? "BTLF" : "BTIN")
            try n.skip(2)
            let recs = try (0..<records).map { _ in try n.take(recordSize) }
            if d == 0 { out += recs; return }
            var children: [(UInt64, Int)] = []
            for _ in 0...records {
                guard let a = try n.address() else { throw HDF5Unsupported("undefined B-tree child") }
                let count = Int(try n.uint(countSize))
                if d > 1 { _ = try n.uint(cumulativeSize[d - 1]) }
                children.append((a, count))
            }
            for (i, child) in children.enumerated() {
                try visit(child.0, records: child.1, depth: d - 1, level: level + 1)
                if i < recs.count { out.append(recs[i]) }
            }
        }
        try visit(root, records: rootRecords, depth: depth, level: 0)
        return out
    }

    // MARK: Global heap

    /// Object `index` of the global heap collection at `collection`.
    func globalHeapObject(_ collection: UInt64, _ index: Int) throws -> [UInt8] {
        if let objects = heaps[collection] {
            guard let o = objects[index] else { throw HDF5Unsupported("global heap object \(index) missing") }
            return o
        }
        var h = cursor(try read(collection, 8 + lengthSize))
        try h.expect("GCOL")
        try h.skip(4)
        let size = Int(try h.length())
        guard size >= 8 + lengthSize, size < 1 << 30 else { throw HDF5Unsupported("global heap size \(size)") }
        var c = cursor(try read(collection, size), at: 8 + lengthSize)
        var objects: [Int: [UInt8]] = [:]
        while c.remaining >= 8 + lengthSize {
            let id = try c.u16()
            if id == 0 { break }
            try c.skip(6)
            let n = Int(try c.length())
            objects[id] = try c.take(n)
            try c.skip(Swift.min(c.remaining, (8 - n % 8) % 8))
        }
        heaps[collection] = objects
        guard let o = objects[index] else { throw HDF5Unsupported("global heap object \(index) missing") }
        return o
    }

    /// Variable-length strings from their stored references (length, global heap collection,
    /// index per element: 4 + offset size + 4 bytes each), cut at the first NUL as netcdf-c's
    /// C strings are.
    func vlenStrings(_ data: [UInt8], count: Int, what: @autoclosure () -> String) throws -> [String] {
        var c = cursor(data)
        var strings: [String] = []
        for _ in 0..<count {
            let length = try c.u32()
            let collection = try c.address()
            let index = try c.u32()
            guard let collection, length > 0 else { strings.append(""); continue }
            let object = try globalHeapObject(collection, index)
            guard object.count >= length else { throw HDF5Unsupported("\(what()): short string") }
            strings.append(String(decoding: object.prefix(length).prefix { $0 != 0 }, as: UTF8.self))
        }
        return strings
    }

    // MARK: Chunked data (version-1 B-tree)

    /// Every stored chunk of a dataset indexed by a version-1 B-tree: its offset (in elements,
    /// per dimension), stored size, filter mask and address.
    func chunks(tree: UInt64, rank: Int) throws -> [(offset: [Int], size: Int, mask: UInt32, address: UInt64)] {
        var out: [(offset: [Int], size: Int, mask: UInt32, address: UInt64)] = []
        try chunkNode(tree, rank: rank, into: &out, depth: 0)
        return out
    }

    private func chunkNode(_ node: UInt64, rank: Int, into out: inout [(offset: [Int], size: Int, mask: UInt32, address: UInt64)], depth: Int) throws {
        guard depth < 32 else { throw HDF5Unsupported("B-tree too deep") }
        let head = try read(node, 8 + 2 * offsetSize)
        var c = cursor(head)
        try c.expect("TREE")
        guard try c.u8() == 1 else { throw HDF5Unsupported("B-tree node type") }
        let level = try c.u8()
        let entries = try c.u16()
        let keySize = 8 + 8 * (rank + 1)
        var b = cursor(try read(node + UInt64(head.count), entries * (keySize + offsetSize) + keySize))
        var missing = Set<UInt64>()
        for _ in 0..<entries {
            let size = try b.u32()
            let mask = UInt32(try b.u32())
            let offset = try (0...rank).map { _ in Int(truncatingIfNeeded: try b.u64()) }
            guard let child = try b.address() else { throw HDF5Unsupported("undefined B-tree child") }
            if level > 0 {
                // A remote file's missing nodes are gathered, so that a level of the tree is
                // fetched at once rather than one node per round trip.
                do { try chunkNode(child, rank: rank, into: &out, depth: depth + 1) } catch let need as HDF5NeedPages {
                    missing.formUnion(need.pages)
                }
            } else {
                out.append((Array(offset.prefix(rank)), size, mask, child))
            }
        }
        if !missing.isEmpty { throw HDF5NeedPages(pages: missing) }
    }
}
