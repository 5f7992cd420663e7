import Foundation
import GyreArrays
import GyreCodecs
import GyreCore
import GyreStorage
import GyreZarr

/// Reference sets of many files combined into one along a dimension, as kerchunk's
/// `MultiZarrToZarr` does, but refusing what would read wrong: arrays along the dimension
/// have their chunk keys shifted by the files before them, the dimension's coordinate is
/// concatenated and inlined, everything else comes from the first file (dimension
/// coordinates checked equal). A file whose length along the dimension is not a multiple of
/// the chunk length (except the last), or whose chunks differ, is an error naming it.
public enum ReferenceCombiner {
    struct ArrayInfo {
        let zarray: JSONObject
        let zattrs: JSONObject
        let dims: [String]
        var shape: [Int] { zarray["shape"]?.array?.compactMap { $0.integer }.map { Int($0) } ?? [] }
        var chunks: [Int] { zarray["chunks"]?.array?.compactMap { $0.integer }.map { Int($0) } ?? [] }
        var separator: String { zarray["dimension_separator"]?.string ?? "." }
    }

    struct Part {
        let source: String
        let refs: ReferenceSet
        let arrays: [String: ArrayInfo]
        let order: [String]
    }

    static func describe(_ source: String, _ refs: ReferenceSet) throws -> Part {
        var arrays: [String: ArrayInfo] = [:]
        var order: [String] = []
        for key in refs.entries.keys.sorted() {
            if key.hasSuffix(".zgroup"), key != ".zgroup" {
                throw GyreReferencesError(.unsupported, "\(source): has groups ('\(key)'); combining files with groups is not supported, combine each group's variables as files of their own")
            }
            if key == "zarr.json" { throw GyreReferencesError(.unsupported, "\(source): Zarr v3 references cannot be combined (kerchunk references are Zarr v2)") }
            guard key.hasSuffix("/.zarray") else { continue }
            let name = String(key.dropLast("/.zarray".count))
            guard let z = try refs.json(key, source: source)?.object else { throw GyreReferencesError(.format, "\(source): '\(key)' is not a JSON object") }
            let a = try refs.json(name + "/.zattrs", source: source)?.object ?? [:]
            guard let dims = a["_ARRAY_DIMENSIONS"]?.array?.compactMap({ $0.string }), dims.count == (z["shape"]?.array?.count ?? -1) else {
                throw GyreReferencesError(.format, "\(source): array '\(name)' has no _ARRAY_DIMENSIONS matching its shape")
            }
            arrays[name] = ArrayInfo(zarray: z, zattrs: a, dims: dims)
            order.append(name)
        }
        return Part(source: source, refs: refs, arrays: arrays, order: order)
    }

    /// Reads an array of a part (its stored values, no CF decoding).
    static func values(_ part: Part, _ name: String) async throws -> AnyNDArray {
        let store = ReferenceStore(part.refs, name: part.source)
        do { return try await ZarrArray.open(store, path: name).read() } catch {
            throw GyreReferencesError(.unsupported, "\(part.source): reading '\(name)': \(error)")
        }
    }

    static func sameValues(_ a: AnyNDArray, _ b: AnyNDArray) -> Bool {
        guard a.dtype == b.dtype, a.shape == b.shape else { return false }
        if a.dtype.hasFixedLayout, let x = try? a.rawBytes(), let y = try? b.rawBytes() { return x == y }
        return a.scalars.map(\.description) == b.scalars.map(\.description)
    }

    /// Combines the parts (each the references of one file, in the order given) along
    /// `concatDim`; nil infers it as the one dimension coordinate whose values differ between
    /// the first two files. Parts are sorted by the first value of that coordinate.
    public static func combine(_ inputs: [(source: String, refs: ReferenceSet)], concatDim: String? = nil) async throws -> ReferenceSet {
        guard let firstInput = inputs.first else { throw GyreReferencesError(.invalidArgument, "no references to combine") }
        if inputs.count == 1 { return firstInput.refs }
        var parts = try inputs.map { try describe($0.source, $0.refs) }
        // The dimension.
        let dim: String
        if let concatDim { dim = concatDim } else {
            var differing: [String] = []
            for (name, a) in parts[0].arrays.sorted(by: { $0.key < $1.key }) where a.dims == [name] {
                guard parts[1].arrays[name] != nil else { continue }
                let x = try await values(parts[0], name), y = try await values(parts[1], name)
                if !sameValues(x, y) { differing.append(name) }
            }
            guard differing.count == 1 else {
                throw GyreReferencesError(.combine, differing.isEmpty
                    ? "\(parts[0].source) and \(parts[1].source): no dimension coordinate differs between them; name the dimension to combine along (--concat-dim)"
                    : "\(parts[0].source) and \(parts[1].source): coordinates \(differing.joined(separator: ", ")) all differ; name the dimension to combine along (--concat-dim)")
            }
            dim = differing[0]
        }
        // Uncompressed arrays along the dimension (netCDF contiguous variables, one chunk of
        // their whole shape; netCDF-3 records, one chunk a row) are cut or joined into chunks of
        // as many rows as the files' lengths allow (their greatest common divisor), each one
        // range of its file, so files of unequal lengths combine.
        for name in parts[0].order {
            guard parts.allSatisfy({ p in p.arrays[name].map { $0.dims.first == dim && isPlain($0) } ?? false }) else { continue }
            var k = 0
            for p in parts { k = gcd(k, p.arrays[name]!.shape[0]) }
            guard k > 0, parts.contains(where: { $0.arrays[name]!.chunks[0] != k }) else { continue }
            var rechunked: [Part] = []
            for p in parts {
                guard let r = rechunk(p, name, rows: k) else { break }
                rechunked.append(r)
            }
            if rechunked.count == parts.count { parts = rechunked }
        }
        for p in parts where !p.arrays.values.contains(where: { $0.dims.contains(dim) }) {
            throw GyreReferencesError(.combine, "\(p.source): no variable has the dimension '\(dim)'")
        }
        // The coordinate along the dimension, in file order (files sorted by its first value).
        var coordinate: [AnyNDArray]? = nil
        // The units its values are in (the first file's, given order).
        let coordinateAttrs = parts[0].arrays[dim]?.zattrs ?? [:]
        if parts[0].arrays[dim]?.dims == [dim] {
            var vals: [AnyNDArray] = []
            for p in parts {
                guard let a = p.arrays[dim], a.dims == [dim] else { throw GyreReferencesError(.combine, "\(p.source): has no coordinate '\(dim)'") }
                var v = try await values(p, dim)
                let first = parts[0].arrays[dim]!
                for attr in ["calendar", "units"] where a.zattrs[attr] != first.zattrs[attr] {
                    // Times in other units (each file's days since its own start, say) are
                    // converted to the first file's; anything else would mean something else.
                    if attr == "units", let converted = try rebased(v, from: a.zattrs, to: first.zattrs) { v = converted; continue }
                    throw GyreReferencesError(.combine, "\(p.source): '\(dim)' has \(attr) \(a.zattrs[attr]?.description ?? "none"), \(parts[0].source) has \(first.zattrs[attr]?.description ?? "none"); the stored values would mean different things")
                }
                vals.append(v)
            }
            if vals.allSatisfy({ $0.count > 0 && $0.dtype.isNumeric }) {
                let firsts = vals.map { $0.scalars[0].doubleValue ?? 0 }
                let order = firsts.indices.sorted { firsts[$0] < firsts[$1] }
                parts = order.map { parts[$0] }
                vals = order.map { vals[$0] }
                for i in 1..<vals.count {
                    let prevLast = vals[i - 1].scalars[vals[i - 1].count - 1].doubleValue ?? 0
                    guard firsts[order[i]] > prevLast else {
                        throw GyreReferencesError(.combine, "\(parts[i - 1].source) and \(parts[i].source): their '\(dim)' values overlap (\(prevLast) then \(firsts[order[i]]))")
                    }
                }
            }
            coordinate = vals
        }
        var out = ReferenceSet()
        // The root group and its attributes: the first file's.
        for key in [".zgroup", ".zattrs"] { if let e = parts[0].refs[key] { out[key] = e } }
        if out[".zgroup"] == nil { out.setJSON(".zgroup", ["zarr_format": 2]) }
        let names = parts[0].order
        for p in parts.dropFirst() {
            if let extra = p.order.first(where: { parts[0].arrays[$0] == nil }) {
                throw GyreReferencesError(.combine, "\(p.source): has variable '\(extra)', which \(parts[0].source) has not")
            }
            if let gone = names.first(where: { p.arrays[$0] == nil }) {
                throw GyreReferencesError(.combine, "\(p.source): lacks variable '\(gone)', which \(parts[0].source) has")
            }
        }
        for name in names {
            let first = parts[0].arrays[name]!
            if name == dim, let coordinate {
                // Concatenated and inlined, uncompressed (as float64 when times in other units
                // became fractions of the first file's).
                let storedDtype = coordinate[0].dtype
                var coordinate = coordinate
                if coordinate.contains(where: { $0.dtype != coordinate[0].dtype }) { coordinate = try coordinate.map { try $0.astype(.float64) } }
                let all = try AnyNDArray.concatenate(coordinate, axis: 0)
                var z = first.zarray
                if all.dtype != storedDtype {
                    z["dtype"] = .string(numpyName(all.dtype))
                    z["fill_value"] = .null
                }
                z["shape"] = [.int(Int64(all.count))]
                z["chunks"] = [.int(Int64(Swift.max(all.count, 1)))]
                z["compressor"] = .null
                z["filters"] = .null
                let dtypeName = z["dtype"]?.string ?? ""
                let raw = try all.rawBytes(bigEndian: dtypeName.hasPrefix(">"))
                out.setJSON(name + "/.zarray", .object(z))
                out.setJSON(name + "/.zattrs", .object(coordinateAttrs))
                out[name + "/0"] = .inline(raw)
                continue
            }
            try copyAttrs(name, first, parts, into: &out)
            guard let axis = first.dims.firstIndex(of: dim) else {
                // Not along the dimension: the first file's, dimension coordinates checked.
                for p in parts.dropFirst() where p.arrays[name]!.shape != first.shape {
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' has shape \(p.arrays[name]!.shape), \(parts[0].source) \(first.shape)")
                }
                if first.dims == [name] {
                    let x = try await values(parts[0], name)
                    for p in parts.dropFirst() where !sameValues(x, try await values(p, name)) {
                        throw GyreReferencesError(.combine, "\(p.source): coordinate '\(name)' differs from \(parts[0].source)'s")
                    }
                }
                out.setJSON(name + "/.zarray", .object(first.zarray))
                copyChunks(name, from: parts[0], axis: nil, shift: 0, into: &out)
                continue
            }
            let c = first.chunks[axis]
            var total = 0
            for (i, p) in parts.enumerated() {
                let a = p.arrays[name]!
                var mine = a.zarray, theirs = first.zarray
                for k in ["shape", "chunks"] { mine[k] = nil; theirs[k] = nil }
                guard mine == theirs else {
                    let diff = Set(a.zarray.keys).union(first.zarray.keys).filter { k in !["shape", "chunks"].contains(k) && a.zarray[k] != first.zarray[k] }.sorted()
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' is stored differently from \(parts[0].source) (\(diff.map { "\($0): \(a.zarray[$0]?.description ?? "none") vs \(first.zarray[$0]?.description ?? "none")" }.joined(separator: "; ")))")
                }
                guard a.dims == first.dims else { throw GyreReferencesError(.combine, "\(p.source): '\(name)' has dimensions \(a.dims), \(parts[0].source) \(first.dims)") }
                for d in a.shape.indices where d != axis && a.shape[d] != first.shape[d] {
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' has \(a.shape[d]) along '\(a.dims[d])', \(parts[0].source) \(first.shape[d])")
                }
                for d in a.chunks.indices where d != axis && a.chunks[d] != first.chunks[d] {
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' is chunked \(a.chunks), \(parts[0].source) \(first.chunks)")
                }
                let n = a.shape[axis]
                if a.chunks[axis] != c {
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' has chunks of \(a.chunks[axis]) along '\(dim)', \(parts[0].source) of \(c); references cannot mix chunk lengths (rewrite the files, or convert instead)")
                }
                if i < parts.count - 1, n % c != 0 {
                    throw GyreReferencesError(.combine, "\(p.source): '\(name)' has \(n) steps along '\(dim)', not a multiple of its chunk length \(c): the next file's chunks would start inside a chunk, which references cannot describe (only the last file may end with a partial chunk)")
                }
                copyChunks(name, from: p, axis: axis, shift: total / c, into: &out)
                total += n
            }
            var z = first.zarray
            var shape = first.shape
            shape[axis] = total
            z["shape"] = .array(shape.map { .int(Int64($0)) })
            out.setJSON(name + "/.zarray", .object(z))
        }
        return out
    }

    static func copyAttrs(_ name: String, _ first: ArrayInfo, _ parts: [Part], into out: inout ReferenceSet) throws {
        out.setJSON(name + "/.zattrs", .object(first.zattrs))
    }

    /// Copies an array's chunk references, shifting chunk indices along `axis` by `shift`.
    static func copyChunks(_ name: String, from p: Part, axis: Int?, shift: Int, into out: inout ReferenceSet) {
        let prefix = name + "/"
        let sep = p.arrays[name]!.separator
        let rank = p.arrays[name]!.dims.count
        let urlMap = p.refs.urls.map { out.url($0) }
        for (key, e) in p.refs.entries where key.hasPrefix(prefix) {
            let rest = key.dropFirst(prefix.count)
            guard !rest.hasPrefix(".") else { continue }
            var k = String(rest)
            if let axis, rank > 0 {
                var parts = rest.split(separator: Character(sep), omittingEmptySubsequences: false).map { Int($0) }
                guard parts.count == rank, parts.allSatisfy({ $0 != nil }) else { continue }
                parts[axis] = parts[axis]! + shift
                k = parts.map { String($0!) }.joined(separator: sep)
            }
            switch e {
            case .inline: out[prefix + k] = e
            case .whole(let u): out[prefix + k] = .whole(url: urlMap[u])
            case .range(let u, let o, let n): out[prefix + k] = .range(url: urlMap[u], offset: o, length: n)
            }
        }
    }

    /// Time values in the units of `attrs` as values in the units of `target` (both CF time
    /// units of one calendar); nil when they are not. Integers stay integers of the same
    /// type when every converted value is whole, else the values become float64.
    static func rebased(_ v: AnyNDArray, from attrs: JSONObject, to target: JSONObject) throws -> AnyNDArray? {
        guard let us = attrs["units"]?.string, let them = target["units"]?.string,
              let a = try? CFTimeUnits(us), let b = try? CFTimeUnits(them), v.dtype.isNumeric else { return nil }
        let calendar = CFCalendar(cfName: target["calendar"]?.string ?? "standard") ?? .standard
        let shift = try a.referenceMicroseconds(calendar: calendar) - b.referenceMicroseconds(calendar: calendar)
        let values = v.scalars.map { s -> Double in
            let x = s.doubleValue ?? .nan
            return (x * Double(a.microseconds) + Double(shift)) / Double(b.microseconds)
        }
        let converted = AnyNDArray.float64(NDArray(values))
        if v.dtype.isInteger, values.allSatisfy({ $0.rounded() == $0 && abs($0) < 9e15 }) { return try converted.astype(v.dtype) }
        return converted
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Whether an array is uncompressed, whole along all but its first dimension, in chunks of
    /// one row or of its whole length along that one.
    static func isPlain(_ a: ArrayInfo) -> Bool {
        let s = a.shape, c = a.chunks
        return !s.isEmpty && s[0] > 0 && (c.first == 1 || c.first == s[0]) && Array(c.dropFirst()) == Array(s.dropFirst())
            && (a.zarray["compressor"]?.isNull ?? true) && (a.zarray["filters"]?.isNull ?? true)
    }

    /// The part with one plain array in chunks of `k` rows: rows of one chunk are cut from its
    /// range (or inline bytes), rows of several joined when they are adjacent ranges of one
    /// file (or all inline); nil when they are not.
    static func rechunk(_ p: Part, _ name: String, rows k: Int) -> Part? {
        let a = p.arrays[name]!
        let n = a.shape[0], c = a.chunks[0]
        guard n % k == 0 else { return nil }
        if c == k { return p }
        let sep = a.separator
        let tail = String(repeating: sep + "0", count: a.shape.count - 1)
        guard let (dtype, _) = try? ZarrTypes.v2(a.zarray["dtype"]?.string ?? "", source: p.source), dtype.hasFixedLayout else { return nil }
        let rowBytes = a.shape.dropFirst().reduce(dtype.itemSize, *)
        // Every row's bytes, as a range or inline, from the chunks as they are.
        var rowsOf: [ReferenceSet.Entry?] = []
        for j in 0..<(n / c) {
            let e = p.refs["\(name)/\(j)\(tail)"]
            for r in 0..<c {
                switch e {
                case nil: rowsOf.append(nil)
                case .range(let u, let o, let len)?:
                    guard len == c * rowBytes else { return nil }
                    rowsOf.append(.range(url: u, offset: o + r * rowBytes, length: rowBytes))
                case .inline(let b)?:
                    guard b.count == c * rowBytes else { return nil }
                    rowsOf.append(.inline(Array(b[(r * rowBytes)..<((r + 1) * rowBytes)])))
                case .whole?: return nil
                }
            }
        }
        var refs = p.refs
        for j in 0..<(n / c) { refs["\(name)/\(j)\(tail)"] = nil }
        for j in 0..<(n / k) {
            let rows = rowsOf[(j * k)..<((j + 1) * k)]
            var joined: ReferenceSet.Entry?
            if rows.allSatisfy({ $0 == nil }) { joined = nil } else if case .range(let u, let o, _)?? = rows.first {
                var end = o
                for e in rows {
                    guard case .range(let u2, let o2, let l2)? = e, u2 == u, o2 == end else { return nil }
                    end += l2
                }
                joined = .range(url: u, offset: o, length: end - o)
            } else {
                var bytes: [UInt8] = []
                for e in rows {
                    guard case .inline(let b)? = e else { return nil }
                    bytes += b
                }
                joined = .inline(bytes)
            }
            refs["\(name)/\(j)\(tail)"] = joined
        }
        var z = a.zarray
        var chunks = a.chunks
        chunks[0] = k
        z["chunks"] = .array(chunks.map { .int(Int64($0)) })
        refs.setJSON(name + "/.zarray", .object(z))
        var arrays = p.arrays
        arrays[name] = ArrayInfo(zarray: z, zattrs: a.zattrs, dims: a.dims)
        return Part(source: p.source, refs: refs, arrays: arrays, order: p.order)
    }
}
