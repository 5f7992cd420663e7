import Foundation

// The low level of the HDF5 file format (version 3.0 of the format specification): the
// superblock, object headers and their messages, groups (link messages, symbol tables), the
// global heap and version-1 B-trees. Enough to read what netcdf-c writes without the HDF5
// library; `HDF5Metadata` turns it into netCDF metadata. Anything this does not cover throws
// `HDF5Unsupported`, and the caller goes through netcdf-c instead.

/// Why a file is left to netcdf-c: a structure this reader does not cover, or bytes that do not
/// parse. Never shown to users (netcdf-c then reads the file and reports its own errors).
struct HDF5Unsupported: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Bytes of one file, read with `pread` in pages of 64 KiB and kept.
final class HDF5Bytes {
    let reader: FileReader
    let size: UInt64
    private var pages: [UInt64: [UInt8]] = [:]
    static let pageSize: UInt64 = 1 << 16

    init(_ path: String) throws {
        reader = try FileReader(path)
        var st = stat()
        guard fstat(reader.fd, &st) == 0 else { reader.close(); throw HDF5Unsupported("fstat failed") }
        size = UInt64(st.st_size)
    }

    deinit { reader.close() }

    func bytes(_ address: UInt64, _ count: Int) throws -> [UInt8] {
        guard count >= 0, address <= size, UInt64(count) <= size - address else {
            throw HDF5Unsupported("\(count) bytes at \(address) lie past the end of the file (\(size) bytes)")
        }
        var out = [UInt8]()
        out.reserveCapacity(count)
        var at = address
        let end = address + UInt64(count)
        while at < end {
            let pageStart = at / Self.pageSize * Self.pageSize
            let page = try self.page(pageStart)
            let from = Int(at - pageStart)
            let to = Int(Swift.min(end - pageStart, UInt64(page.count)))
            out.append(contentsOf: page[from..<to])
            at = pageStart + UInt64(to)
        }
        return out
    }

    private func page(_ start: UInt64) throws -> [UInt8] {
        if let p = pages[start] { return p }
        let n = Int(Swift.min(Self.pageSize, size - start))
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

    init(_ path: String) throws {
        bytes = try HDF5Bytes(path)
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
        if let table = messages.first(where: { $0.type == 0x11 }) {
            var c = cursor(table.data)
            guard let tree = try c.address(), let heap = try c.address() else { throw HDF5Unsupported("undefined symbol table") }
            let names = try localHeap(heap)
            var out: [Link] = []
            try symbolTable(tree, names: names, into: &out, depth: 0)
            return out.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        }
        var tracked = false
        if let info = messages.first(where: { $0.type == 0x02 }) {
            var c = cursor(info.data)
            guard try c.u8() == 0 else { throw HDF5Unsupported("link info version") }
            let flags = try c.u8()
            tracked = flags & 1 != 0
            if tracked { try c.skip(8) }
            if try c.address() != nil { throw HDF5Unsupported("dense link storage (fractal heap)") }
        }
        var out: [Link] = []
        for m in messages where m.type == 0x06 {
            var c = cursor(m.data)
            guard try c.u8() == 1 else { throw HDF5Unsupported("link message version") }
            let flags = try c.u8()
            let type = flags & 0x08 != 0 ? try c.u8() : 0
            let order = flags & 0x04 != 0 ? Int(truncatingIfNeeded: try c.u64()) : nil
            if flags & 0x10 != 0 { try c.skip(1) }
            let nameLength = Int(try c.uint(1 << Int(flags & 3)))
            let name = String(decoding: try c.take(nameLength), as: UTF8.self)
            guard type == 0 else { throw HDF5Unsupported("soft or external link '\(name)'") }
            guard let address = try c.address() else { throw HDF5Unsupported("undefined link address") }
            out.append(Link(name: name, address: address, order: order))
        }
        if tracked, out.allSatisfy({ $0.order != nil }) { return out.sorted { $0.order! < $1.order! } }
        return out.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    private func localHeap(_ address: UInt64) throws -> [UInt8] {
        var c = cursor(try read(address, 8 + 2 * lengthSize + offsetSize))
        try c.expect("HEAP")
        try c.skip(4)
        let size = try c.length()
        _ = try c.length()
        guard let data = try c.address(), size < 1 << 30 else { throw HDF5Unsupported("local heap") }
        return try read(data, Int(size))
    }

    private func symbolTable(_ node: UInt64, names: [UInt8], into out: inout [Link], depth: Int) throws {
        guard depth < 32 else { throw HDF5Unsupported("B-tree too deep") }
        let head = try read(node, 8 + 2 * offsetSize)
        var c = cursor(head)
        try c.expect("TREE")
        guard try c.u8() == 0 else { throw HDF5Unsupported("B-tree node type") }
        let level = try c.u8()
        let entries = try c.u16()
        let body = try read(node + UInt64(head.count), (entries + 1) * lengthSize + entries * offsetSize)
        var b = cursor(body)
        var children: [UInt64] = []
        _ = try b.length()
        for _ in 0..<entries {
            guard let child = try b.address() else { throw HDF5Unsupported("undefined B-tree child") }
            children.append(child)
            _ = try b.length()
        }
        for child in children {
            if level > 0 { try symbolTable(child, names: names, into: &out, depth: depth + 1); continue }
            var s = cursor(try read(child, 8))
            try s.expect("SNOD")
            try s.skip(2)
            let count = try s.u16()
            let entrySize = 2 * offsetSize + 24
            var e = cursor(try read(child + 8, count * entrySize))
            for _ in 0..<count {
                let nameOffset = Int(try e.uint(offsetSize))
                guard let header = try e.address() else { throw HDF5Unsupported("undefined symbol address") }
                try e.skip(24)
                guard nameOffset < names.count else { throw HDF5Unsupported("symbol name offset") }
                let name = String(decoding: names[nameOffset...].prefix { $0 != 0 }, as: UTF8.self)
                out.append(Link(name: name, address: header, order: nil))
            }
        }
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
        for _ in 0..<entries {
            let size = try b.u32()
            let mask = UInt32(try b.u32())
            let offset = try (0...rank).map { _ in Int(truncatingIfNeeded: try b.u64()) }
            guard let child = try b.address() else { throw HDF5Unsupported("undefined B-tree child") }
            if level > 0 {
                try chunkNode(child, rank: rank, into: &out, depth: depth + 1)
            } else {
                out.append((Array(offset.prefix(rank)), size, mask, child))
            }
        }
    }
}
