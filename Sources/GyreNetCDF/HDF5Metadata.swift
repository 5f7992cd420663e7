import GyreCore
import CNetCDF
import Foundation
import GyreArrays

/// A netCDF-4 file's metadata read straight from its HDF5 structures, without netcdf-c, so that
/// thousands of files open in parallel rather than one at a time on the library's queue.
///
/// It reads what netcdf-c writes: superblocks 0–3, object headers 1–2, links and attributes
/// compact or dense (fractal heap and version-2 B-tree), dimension scales with `_Netcdf4Dimid`,
/// variable dimensions from `_Netcdf4Coordinates` or `DIMENSION_LIST`, and dimension
/// coordinates stored compact, contiguous or chunked under a version-1 B-tree. Anything else
/// (symbol-table groups, user-defined types, soft links, version-4 chunk indexes, files netcdf-c
/// did not write) throws `HDF5Unsupported`; `NetCDFFile.open` then reads the file through
/// netcdf-c, as it always could. Tests compare the two readers on every file of the interop
/// matrix.
enum HDF5Metadata {
    /// Attributes netcdf-c keeps to itself (dimension scales and its own bookkeeping).
    static let hidden: Set<String> = [
        "CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST", "_Netcdf4Dimid", "_Netcdf4Coordinates",
        "_nc3_strict", "_NCProperties", "_IsNetcdf4", "_SuperblockVersion",
    ]
    static let dimensionOnly = "This is a netCDF dimension but not a netCDF variable"

    struct Attribute {
        let name: String
        let type: HDF5Type
        let space: HDF5Space
        let data: [UInt8]
    }

    enum Layout {
        case compact([UInt8])
        case contiguous(UInt64?)
        /// Chunk shape (without the element-size entry) and the version-1 B-tree, when the
        /// chunks are indexed by one (nil: a newer index, or none yet).
        case chunked([Int], tree: UInt64?)
    }

    struct Dataset {
        let name: String
        let group: String
        let address: UInt64
        let space: HDF5Space
        let type: HDF5Type
        let layout: Layout
        let filters: [(id: Int, values: [UInt32])]
        let attributes: [Attribute]
        func attribute(_ n: String) -> Attribute? { attributes.first { $0.name == n } }
    }

    struct Group {
        let path: String
        var datasets: [Dataset] = []
        var attributes: [Attribute] = []
        var children: [String] = []
    }

    /// Reads `path`'s metadata and dimension coordinates. Throws `HDF5Unsupported` when the
    /// file needs netcdf-c.
    static func read(_ path: String) throws -> NetCDFFile { try read(HDF5Format(path), path: path) }

    static func read(_ f: HDF5Format, path: String) throws -> NetCDFFile {
        var groups: [Group] = []
        try walk(f, f.root, "/", into: &groups, depth: 0)
        let format = groups[0].attributes.contains { $0.name == "_nc3_strict" } ? "NETCDF4_CLASSIC" : "NETCDF4"

        // Dimensions: dimension-scale datasets, by the id netcdf-c gave them.
        struct Dim { let name: String; let group: String; var length: Int; let unlimited: Bool; let address: UInt64 }
        var dims: [Int: Dim] = [:]
        var dimByAddress: [UInt64: Int] = [:]
        for g in groups {
            for d in g.datasets where isScale(d) {
                guard let idAttr = d.attribute("_Netcdf4Dimid"), let id = try intValues(idAttr, f).first, idAttr.space.count == 1 else {
                    throw HDF5Unsupported("dimension scale '\(d.name)' has no _Netcdf4Dimid")
                }
                guard !d.space.isNull, d.space.dims.count >= 1 else { throw HDF5Unsupported("dimension scale '\(d.name)' is scalar") }
                guard dims[id] == nil else { throw HDF5Unsupported("dimension id \(id) used twice") }
                let unlimited = d.space.maxDims?.first == HDF5Space.unlimited
                dims[id] = Dim(name: d.name, group: g.path, length: Int(d.space.dims[0]), unlimited: unlimited, address: d.address)
                dimByAddress[d.address] = id
            }
        }

        // Variables: every dataset but the dimension-only scales, with their dimension ids.
        struct Var { let dataset: Dataset; let dimids: [Int] }
        var vars: [String: [Var]] = [:]
        for g in groups {
            var list: [Var] = []
            for d in g.datasets {
                let scale = isScale(d)
                if scale, let n = d.attribute("NAME"), case .string = n.type, String(decoding: n.data, as: UTF8.self).hasPrefix(dimensionOnly) { continue }
                guard !d.name.hasPrefix("_nc4_non_coord_") else { throw HDF5Unsupported("non-coordinate variable named after a dimension") }
                guard !d.space.isNull else { throw HDF5Unsupported("variable '\(d.name)' has a null dataspace") }
                let rank = d.space.dims.count
                var ids: [Int]
                if rank == 0 {
                    ids = []
                } else if scale, rank == 1, let own = dimByAddress[d.address] {
                    ids = [own]
                } else if let c = d.attribute("_Netcdf4Coordinates") {
                    ids = try intValues(c, f)
                } else if let list = d.attribute("DIMENSION_LIST") {
                    ids = try dimensionList(list, f).map { a in
                        guard let id = dimByAddress[a] else { throw HDF5Unsupported("'\(d.name)': a dimension is not a netCDF dimension scale") }
                        return id
                    }
                } else {
                    throw HDF5Unsupported("variable '\(d.name)' has dimensions without scales")
                }
                guard ids.count == rank, ids.allSatisfy({ dims[$0] != nil }) else { throw HDF5Unsupported("variable '\(d.name)': dimension ids \(ids)") }
                list.append(Var(dataset: d, dimids: ids))
            }
            vars[g.path] = list
        }
        // An unlimited dimension is as long as the longest variable along it.
        for list in vars.values {
            for v in list {
                for (axis, id) in v.dimids.enumerated() where dims[id]!.unlimited {
                    dims[id]!.length = Swift.max(dims[id]!.length, Int(v.dataset.space.dims[axis]))
                }
            }
        }

        var out: [String: NetCDFGroup] = [:]
        var coords: [String: AnyNDArray] = [:]
        var storage: [String: NetCDFStorage] = [:]
        for g in groups {
            // Dimensions visible here: this group's and its ancestors'.
            let visible = dims.sorted { $0.key < $1.key }.filter { isAncestor($0.value.group, of: g.path) }
            var variables: [NetCDFVariable] = []
            for v in vars[g.path] ?? [] {
                let d = v.dataset
                let ncType = try netCDFType(d.type, what: d.name)
                var chunkShape: [Int]? = nil
                if case .chunked(let cs, _) = d.layout, !v.dimids.isEmpty {
                    guard cs.count == v.dimids.count else { throw HDF5Unsupported("'\(d.name)': chunk rank") }
                    chunkShape = cs
                }
                var deflate: Int? = nil
                var shuffle = false
                if !v.dimids.isEmpty {
                    for filter in d.filters {
                        if filter.id == 2 { shuffle = true }
                        if filter.id == 1 { deflate = Int(filter.values.first ?? 0) }
                    }
                }
                let variable = NetCDFVariable(
                    name: d.name, group: g.path, dims: v.dimids.map { dims[$0]!.name }, shape: v.dimids.map { dims[$0]!.length },
                    ncType: ncType, attributes: try decodeAttributes(d.attributes, f, owner: d.name),
                    chunkShape: chunkShape, deflateLevel: deflate, shuffle: shuffle)
                variables.append(variable)
                storage[(g.path == "/" ? "" : g.path) + "/" + d.name] = self.storage(d, variable)
                if variable.dims == [variable.name], let dt = variable.dtype, variable.shape[0] <= NetCDFFile.preloadLimit,
                   let values = try coordinateValues(d, count: variable.shape[0], dtype: dt, f) {
                    coords[(g.path == "/" ? "" : g.path) + "/" + d.name] = values
                }
            }
            out[g.path] = NetCDFGroup(
                path: g.path,
                dimensions: visible.map { NetCDFDimension(name: $0.value.name, length: $0.value.length, isUnlimited: $0.value.unlimited) },
                variables: variables, attributes: try decodeAttributes(g.attributes, f, owner: g.path), groups: g.children)
        }
        var file = NetCDFFile(path: path, format: format, groups: out, dimensionCoordinates: coords)
        file.storage = storage
        return file
    }

    /// Where a dataset's values lie, for reading them by byte range.
    static func storage(_ d: Dataset, _ v: NetCDFVariable) -> NetCDFStorage {
        var bigEndian = false
        var layout: NetCDFStorage.Layout
        switch d.type {
        case .integer(_, _, let be), .float(_, let be): bigEndian = be
        case .string, .vlenString: break
        default: return NetCDFStorage(layout: .unsupported("datatype \(d.type)"), bigEndian: false, extent: v.shape)
        }
        switch d.layout {
        case .compact(let b): layout = .compact(b)
        case .contiguous(let a): layout = .contiguous(address: a)
        case .chunked(let shape, let tree):
            var filters: [HDF5ChunkIndex.Filter] = []
            var unsupported: String? = nil
            for filter in d.filters {
                switch filter.id {
                case 1: filters.append(.deflate)
                case 2: filters.append(.shuffle(elementSize: filter.values.first.map { Int($0) } ?? d.type.size(offsetSize: 8)))
                case 3: filters.append(.fletcher32)
                default: unsupported = "HDF5 filter \(filter.id)\(filter.id == 4 ? " (szip)" : "")"
                }
            }
            layout = unsupported.map { .unsupported($0) } ?? .chunked(chunkShape: shape, tree: tree, filters: filters)
        }
        return NetCDFStorage(layout: layout, bigEndian: bigEndian, extent: d.space.dims.map { Int($0) })
    }

    static func isAncestor(_ a: String, of b: String) -> Bool {
        a == "/" || a == b || b.hasPrefix(a + "/")
    }

    // MARK: Walking the groups

    static func walk(_ f: HDF5Format, _ address: UInt64, _ path: String, into groups: inout [Group], depth: Int) throws {
        guard depth < 64 else { throw HDF5Unsupported("groups nested too deeply") }
        let header = try f.objectHeader(address)
        var group = Group(path: path)
        group.attributes = try attributes(header, f)
        let index = groups.count
        groups.append(group)
        var childGroups: [(String, UInt64)] = []
        for link in try f.links(of: header.messages) {
            let h = try f.objectHeader(link.address)
            let types = Set(h.messages.map(\.type))
            if types.contains(0x08) {
                groups[index].datasets.append(try dataset(link.name, path, link.address, h, f))
            } else if types.contains(0x02) || types.contains(0x11) || types.contains(0x0A) {
                let child = (path == "/" ? "" : path) + "/" + link.name
                groups[index].children.append(child)
                childGroups.append((child, link.address))
            } else {
                throw HDF5Unsupported("object '\(link.name)' is neither a group nor a dataset (a named type?)")
            }
        }
        for (child, addr) in childGroups { try walk(f, addr, child, into: &groups, depth: depth + 1) }
    }

    static func dataset(_ name: String, _ group: String, _ address: UInt64,
                        _ h: (messages: [HDF5Message], attributeOrderTracked: Bool), _ f: HDF5Format) throws -> Dataset {
        var space: HDF5Space?, type: HDF5Type?, layout: Layout?
        var filters: [(id: Int, values: [UInt32])] = []
        for m in h.messages {
            switch m.type {
            case 0x01:
                var c = f.cursor(m.data); space = try HDF5Space.decode(&c)
            case 0x03:
                guard m.flags & 0x02 == 0 else { throw HDF5Unsupported("'\(name)' has a committed (named) datatype") }
                var c = f.cursor(m.data); type = try HDF5Type.decode(&c)
            case 0x08:
                layout = try decodeLayout(m.data, f, name)
            case 0x0B:
                filters = try decodeFilters(m.data, f)
            default: break
            }
        }
        guard let space, let type, let layout else { throw HDF5Unsupported("dataset '\(name)' lacks a dataspace, datatype or layout") }
        return Dataset(name: name, group: group, address: address, space: space, type: type, layout: layout,
                       filters: filters, attributes: try attributes(h, f))
    }

    static func decodeLayout(_ data: [UInt8], _ f: HDF5Format, _ name: String) throws -> Layout {
        var c = f.cursor(data)
        let version = try c.u8()
        guard (3...5).contains(version) else { throw HDF5Unsupported("'\(name)': layout message version \(version)") }
        switch try c.u8() {
        case 0:
            let n = try c.u16()
            return .compact(try c.take(n))
        case 1:
            return .contiguous(try c.address())
        case 2:
            // Version 4 and 5 chunk indexes (fixed and extensible arrays, version-2 B-trees):
            // netcdf-c writes version 3, whose chunks a version-1 B-tree indexes.
            guard version == 3 else { throw HDF5Unsupported("'\(name)': layout message version \(version)") }
            let rank = Int(try c.u8())
            let tree = try c.address()
            let dims = try (0..<rank).map { _ in try c.u32() }
            guard rank >= 2 else { throw HDF5Unsupported("'\(name)': chunk rank") }
            return .chunked(Array(dims.dropLast()), tree: tree)
        default:
            throw HDF5Unsupported("'\(name)': virtual dataset")
        }
    }

    static func decodeFilters(_ data: [UInt8], _ f: HDF5Format) throws -> [(id: Int, values: [UInt32])] {
        var c = f.cursor(data)
        let version = try c.u8()
        let count = Int(try c.u8())
        guard version == 1 || version == 2 else { throw HDF5Unsupported("filter pipeline version \(version)") }
        if version == 1 { try c.skip(6) }
        var out: [(id: Int, values: [UInt32])] = []
        for _ in 0..<count {
            let id = try c.u16()
            let nameLength = version == 1 || id >= 256 ? try c.u16() : 0
            _ = try c.u16()  // flags
            let n = try c.u16()
            try c.skip(version == 1 ? (nameLength + 7) / 8 * 8 : nameLength)
            let values = try (0..<n).map { _ in UInt32(try c.u32()) }
            if version == 1, n % 2 == 1 { try c.skip(4) }
            out.append((id, values))
        }
        return out
    }

    // MARK: Attributes

    /// The attributes of an object, in creation order when it is tracked.
    static func attributes(_ h: (messages: [HDF5Message], attributeOrderTracked: Bool), _ f: HDF5Format) throws -> [Attribute] {
        if let info = h.messages.first(where: { $0.type == 0x15 }) {
            var c = f.cursor(info.data)
            guard try c.u8() == 0 else { throw HDF5Unsupported("attribute info version") }
            if try c.u8() & 1 != 0 { try c.skip(2) }
            if let heapAddress = try c.address() {
                // Dense storage: attribute messages in a fractal heap, found through the name
                // index (records: heap ID, message flags, creation order, name hash).
                guard let nameIndex = try c.address() else { throw HDF5Unsupported("dense attributes without a name index") }
                let heap = try f.fractalHeap(heapAddress)
                var list: [(Int, Attribute)] = []
                for record in try f.v2BTreeRecords(nameIndex) {
                    guard record.count == 17 else { throw HDF5Unsupported("attribute record size \(record.count)") }
                    guard record[8] & 0x02 == 0 else { throw HDF5Unsupported("shared attribute message") }
                    var r = f.cursor(record, at: 9)
                    let order = try r.u32()
                    let data = try f.heapObject(heap, id: Array(record[0..<8]))
                    list.append((order, try attribute(HDF5Message(type: 0x0C, flags: 0, creationOrder: order, data: data), f)))
                }
                return list.sorted { $0.0 < $1.0 }.map(\.1)
            }
        }
        var list: [(Int, Int, Attribute)] = []
        for (i, m) in h.messages.enumerated() where m.type == 0x0C {
            list.append((h.attributeOrderTracked ? m.creationOrder ?? i : i, i, try attribute(m, f)))
        }
        return list.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    static func attribute(_ m: HDF5Message, _ f: HDF5Format) throws -> Attribute {
        var c = f.cursor(m.data)
        let version = try c.u8()
        guard (1...3).contains(version) else { throw HDF5Unsupported("attribute message version \(version)") }
        let flags = try c.u8()
        let nameSize = try c.u16(), typeSize = try c.u16(), spaceSize = try c.u16()
        if version == 3 { try c.skip(1) }
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) / 8 * 8 : n }
        let nameBytes = try c.take(padded(nameSize))
        let name = String(decoding: nameBytes.prefix(nameSize).prefix { $0 != 0 }, as: UTF8.self)
        let typeStart = c.pos
        let shared = version >= 2 && flags & 0x03 != 0
        let type = shared ? HDF5Type.other(typeClass: -1, size: 0) : try HDF5Type.decode(&c)
        c.pos = typeStart + padded(typeSize)
        let spaceStart = c.pos
        let space = shared ? HDF5Space(dims: [], maxDims: nil, isNull: true) : try HDF5Space.decode(&c)
        c.pos = spaceStart + padded(spaceSize)
        guard c.pos <= m.data.count else { throw HDF5Unsupported("attribute '\(name)' ends early") }
        return Attribute(name: name, type: type, space: space, data: Array(m.data[c.pos...]))
    }

    static func decodeAttributes(_ attrs: [Attribute], _ f: HDF5Format, owner: String) throws -> [(name: String, value: NetCDFAttribute)] {
        try attrs.filter { !hidden.contains($0.name) }.map { ($0.name, try value($0, f, owner: owner)) }
    }

    /// An attribute's value as netcdf-c reports it.
    static func value(_ a: Attribute, _ f: HDF5Format, owner: String) throws -> NetCDFAttribute {
        let n = a.space.count
        let width = a.type.size(offsetSize: f.offsetSize)
        guard a.data.count >= n * width else { throw HDF5Unsupported("attribute \(owner):\(a.name) holds too few bytes") }
        switch a.type {
        case .string(let size):
            guard n <= 1 else { throw HDF5Unsupported("attribute \(owner):\(a.name) is an array of fixed strings") }
            let bytes = a.data.prefix(n * size)
            return .text(String(decoding: bytes.reversed().drop { $0 == 0 }.reversed(), as: UTF8.self))
        case .vlenString:
            return .strings(try f.vlenStrings(a.data, count: n, what: "attribute \(owner):\(a.name)"))
        case .integer, .float:
            let dtype = try numericDType(a.type, what: "attribute \(owner):\(a.name)")
            return .values(try values(Array(a.data.prefix(n * width)), count: n, dtype: dtype, type: a.type))
        default:
            throw HDF5Unsupported("attribute \(owner):\(a.name) has a user-defined type")
        }
    }

    static func intValues(_ a: Attribute, _ f: HDF5Format) throws -> [Int] {
        guard case .values(let v) = try value(a, f, owner: ""), v.dtype.isInteger else { throw HDF5Unsupported("'\(a.name)' is not integer") }
        return v.scalars.map { Int($0.doubleValue ?? -1) }
    }

    /// The dimension-scale addresses a DIMENSION_LIST attribute points at, one per dimension.
    static func dimensionList(_ a: Attribute, _ f: HDF5Format) throws -> [UInt64] {
        guard case .vlenSequence(.reference) = a.type else { throw HDF5Unsupported("DIMENSION_LIST type") }
        var c = f.cursor(a.data)
        return try (0..<a.space.count).map { _ in
            let length = try c.u32()
            guard length == 1, let collection = try c.address() else { throw HDF5Unsupported("a dimension with \(length) scales") }
            let object = try f.globalHeapObject(collection, try c.u32())
            var r = f.cursor(object)
            guard let address = try r.address() else { throw HDF5Unsupported("undefined dimension scale reference") }
            return address
        }
    }

    static func isScale(_ d: Dataset) -> Bool {
        guard let c = d.attribute("CLASS"), case .string = c.type else { return false }
        return c.data.starts(with: Array("DIMENSION_SCALE".utf8))
    }

    // MARK: Types and values

    static func netCDFType(_ t: HDF5Type, what: String) throws -> Int32 {
        switch t {
        case .string(1): return NC_CHAR
        case .vlenString: return NC_STRING
        case .integer, .float:
            let dt = try numericDType(t, what: what)
            return NetCDFLibrary.ncType(dt)!
        default: throw HDF5Unsupported("'\(what)' has a type netCDF-4 reads through netcdf-c")
        }
    }

    static func numericDType(_ t: HDF5Type, what: String) throws -> DType {
        switch t {
        case .integer(1, true, _): return .int8
        case .integer(1, false, _): return .uint8
        case .integer(2, true, _): return .int16
        case .integer(2, false, _): return .uint16
        case .integer(4, true, _): return .int32
        case .integer(4, false, _): return .uint32
        case .integer(8, true, _): return .int64
        case .integer(8, false, _): return .uint64
        case .float(4, _): return .float32
        case .float(8, _): return .float64
        default: throw HDF5Unsupported("\(what): type \(t)")
        }
    }

    /// `count` stored values of an integer or float type, in native order.
    static func values(_ bytes: [UInt8], count: Int, dtype: DType, type: HDF5Type) throws -> AnyNDArray {
        let bigEndian: Bool
        switch type {
        case .integer(_, _, let be), .float(_, let be): bigEndian = be
        default: throw HDF5Unsupported("type \(type) is not numeric")
        }
        return try AnyNDArray.fromRawBytes(bytes, shape: [count], dtype: dtype, bigEndian: bigEndian)
    }

    /// The values of a 1-D dimension coordinate, or nil when netcdf-c should read them (the
    /// dataset is shorter than its dimension, never written, or indexed by a newer chunk index).
    static func coordinateValues(_ d: Dataset, count: Int, dtype: DType, _ f: HDF5Format) throws -> AnyNDArray? {
        guard d.space.dims.count == 1, Int(d.space.dims[0]) == count, (try? numericDType(d.type, what: d.name)) == dtype else { return nil }
        let width = dtype.itemSize
        guard count > 0 else { return try values([], count: 0, dtype: dtype, type: d.type) }
        switch d.layout {
        case .compact(let bytes):
            guard bytes.count >= count * width else { return nil }
            return try values(Array(bytes.prefix(count * width)), count: count, dtype: dtype, type: d.type)
        case .contiguous(let address):
            guard let address else { return nil }
            return try values(try f.read(address, count * width), count: count, dtype: dtype, type: d.type)
        case .chunked(let shape, let tree):
            guard let tree, shape.count == 1, shape[0] > 0 else { return nil }
            var filters: [HDF5ChunkIndex.Filter] = []
            for filter in d.filters {
                switch filter.id {
                case 1: filters.append(.deflate)
                case 2: filters.append(.shuffle(elementSize: filter.values.first.map { Int($0) } ?? width))
                default: return nil
                }
            }
            let chunkBytes = shape[0] * width
            var raw = [UInt8](repeating: 0, count: count * width)
            var covered = 0
            var chunk = [UInt8](repeating: 0, count: chunkBytes)
            for c in try f.chunks(tree: tree, rank: 1) {
                let start = c.offset[0]
                guard start >= 0, start < count, start % shape[0] == 0, c.size > 0, c.size < 1 << 30 else { continue }
                let stored = try f.read(c.address, c.size)
                try stored.withUnsafeBytes { src in
                    try chunk.withUnsafeMutableBytes { dst in
                        try HDF5ChunkIndex.decode(src, filters: filters, mask: c.mask, into: dst, what: "\(f.bytes.name): '\(d.name)'")
                    }
                }
                let n = Swift.min(shape[0], count - start)
                raw.replaceSubrange(start * width..<(start + n) * width, with: chunk[0..<n * width])
                covered += n
            }
            guard covered == count else { return nil }
            return try values(raw, count: count, dtype: dtype, type: d.type)
        }
    }
}

extension NetCDFFile {
    /// Reads `path`'s metadata with Gyre's own HDF5 reader only; `.unsupported` says why a file
    /// needs netcdf-c. (`open` falls back by itself; this is for tests and diagnostics.)
    package static func readNativeMetadata(_ path: String) throws -> NetCDFFile {
        do { return try HDF5Metadata.read(path) } catch let e as HDF5Unsupported {
            throw GyreNetCDFError(.unsupported, "\(path): \(e.description)")
        }
    }

    /// How this file's metadata differs from `other`'s (empty when they agree): groups,
    /// dimensions, variables (dims, shape, type, attributes in order, chunking, filters) and
    /// the preloaded dimension coordinates this file has.
    package func metadataDifferences(from other: NetCDFFile) -> [String] {
        var out: [String] = []
        if format != other.format { out.append("format \(format) vs \(other.format)") }
        if Set(groups.keys) != Set(other.groups.keys) { out.append("groups \(groups.keys.sorted()) vs \(other.groups.keys.sorted())") }
        func attrs(_ a: [(name: String, value: NetCDFAttribute)]) -> [String] { a.map { "\($0.name)=\($0.value)" } }
        for (path, g) in groups.sorted(by: { $0.key < $1.key }) {
            guard let o = other.groups[path] else { continue }
            if g.dimensions != o.dimensions { out.append("\(path): dimensions \(g.dimensions) vs \(o.dimensions)") }
            if g.groups != o.groups { out.append("\(path): subgroups \(g.groups) vs \(o.groups)") }
            if attrs(g.attributes) != attrs(o.attributes) { out.append("\(path): attributes \(attrs(g.attributes)) vs \(attrs(o.attributes))") }
            if g.variables.map(\.name) != o.variables.map(\.name) {
                out.append("\(path): variables \(g.variables.map(\.name)) vs \(o.variables.map(\.name))")
            }
            for v in g.variables {
                guard let w = o.variables.first(where: { $0.name == v.name }) else { continue }
                let a = "\(v.dims) \(v.shape) type \(v.ncType) chunks \(v.chunkShape.map { "\($0)" } ?? "-") deflate \(v.deflateLevel.map { "\($0)" } ?? "-") shuffle \(v.shuffle)"
                let b = "\(w.dims) \(w.shape) type \(w.ncType) chunks \(w.chunkShape.map { "\($0)" } ?? "-") deflate \(w.deflateLevel.map { "\($0)" } ?? "-") shuffle \(w.shuffle)"
                if a != b { out.append("\(path) \(v.name): \(a) vs \(b)") }
                if attrs(v.attributes) != attrs(w.attributes) { out.append("\(path) \(v.name): attributes \(attrs(v.attributes)) vs \(attrs(w.attributes))") }
            }
        }
        for (name, values) in dimensionCoordinates.sorted(by: { $0.key < $1.key }) {
            guard let o = other.dimensionCoordinates[name] else { out.append("\(name): preloaded here, not there"); continue }
            if values.dtype != o.dtype || values.scalars.map(\.description) != o.scalars.map(\.description) {
                out.append("\(name): coordinate values \(values.scalars.prefix(5)) vs \(o.scalars.prefix(5))")
            }
        }
        return out
    }
}
