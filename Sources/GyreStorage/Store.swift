import GyreCore
import CGyreSupport

/// Which bytes of a value to read.
public enum ByteRange: Sendable, Hashable {
    /// The whole value.
    case full
    /// `length` bytes starting at `offset`.
    case range(offset: Int, length: Int)
    /// Everything from `offset` to the end.
    case from(offset: Int)
    /// The last `length` bytes.
    case suffix(length: Int)

    /// The concrete start and end (exclusive) within a value of `size` bytes, or an error naming
    /// the key when the range does not fit.
    public func resolve(size: Int, key: String, store: String) throws -> Range<Int> {
        switch self {
        case .full: return 0..<size
        case .range(let o, let n):
            guard o >= 0, n >= 0, o + n <= size else {
                throw GyreStorageError(.invalidRange, "\(store): bytes \(o)..<\(o + n) of '\(key)' are outside its \(size) bytes")
            }
            return o..<(o + n)
        case .from(let o):
            guard o >= 0, o <= size else {
                throw GyreStorageError(.invalidRange, "\(store): offset \(o) of '\(key)' is outside its \(size) bytes")
            }
            return o..<size
        case .suffix(let n):
            guard n >= 0 else { throw GyreStorageError(.invalidRange, "\(store): negative suffix length \(n) for '\(key)'") }
            return Swift.max(0, size - n)..<size
        }
    }
}

extension ByteRange {
    /// Whether the range holds no bytes by construction (a zero length or suffix).
    package var isEmpty: Bool {
        switch self {
        case .range(_, let n), .suffix(let n): return n == 0
        default: return false
        }
    }

    /// The HTTP Range header value for the range (nil for the whole value and for empty
    /// ranges, which HTTP cannot ask for); negative offsets and lengths are errors naming the key.
    package func httpHeader(key: String, store: String) throws -> String? {
        switch self {
        case .full: return nil
        case .range(let o, let n):
            guard o >= 0, n >= 0 else { throw GyreStorageError(.invalidRange, "\(store): bytes \(o)..<\(o + n) of '\(key)' are not a range") }
            return n == 0 ? nil : "bytes=\(o)-\(o + n - 1)"
        case .from(let o):
            guard o >= 0 else { throw GyreStorageError(.invalidRange, "\(store): offset \(o) of '\(key)' is negative") }
            return "bytes=\(o)-"
        case .suffix(let n):
            guard n >= 0 else { throw GyreStorageError(.invalidRange, "\(store): negative suffix length \(n) for '\(key)'") }
            return n == 0 ? nil : "bytes=-\(n)"
        }
    }
}

/// A store that reads byte ranges of a value straight into a caller's buffer, each at its own
/// offset there, all through one handle (a local file: one open, a pread per range).
package protocol RangesIntoBuffer: ReadableStore {
    /// Reads each range of `key` into `buffer` at the range's offset; false when the value is
    /// missing; an error when it ends before a range does.
    func read(_ key: String, ranges: [Range<Int>], into buffer: StoredBytes) async throws -> Bool
}

/// A store values can be read from, whole or by byte range. Stores are async (they may be
/// remote); a missing key reads as `nil`, not as an error.
public protocol ReadableStore: Sendable {
    /// A short name for messages ("file:///data/sst.zarr", "memory").
    var name: String { get }
    func get(_ key: String, range: ByteRange) async throws -> [UInt8]?
    /// A value, or a byte range of it, in a `StoredBytes` buffer (by default, `get` copied
    /// into one). Stores that can read straight into one do, so that chunk-sized values read
    /// one after another reuse the same memory instead of faulting in fresh pages.
    func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes?
}

extension ReadableStore {
    public func get(_ key: String) async throws -> [UInt8]? { try await get(key, range: .full) }

    /// Several byte ranges of one value, in the order asked; nil when the value is missing.
    /// Network stores merge ranges that lie close together into one request
    /// (`ByteRanges.merged`); others read them one by one.
    public func get(_ key: String, ranges: [Range<Int>]) async throws -> [[UInt8]]? {
        if let network = self as? any MergingRangeReads { return try await network.mergedGet(key, ranges: ranges) }
        var out: [[UInt8]] = []
        for r in ranges {
            guard let b = try await get(key, range: .range(offset: r.lowerBound, length: r.count)) else { return nil }
            out.append(b)
        }
        return out
    }

    public func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        try await get(key, range: range).map { StoredBytes(copying: $0) }
    }

    /// A whole value in a `StoredBytes` buffer.
    public func getStored(_ key: String) async throws -> StoredBytes? { try await getStored(key, range: .full) }
}

/// A value's bytes in a buffer from Gyre's large-block allocator: a block at least 8 MiB is
/// returned, when the value is released, to a small cache of freed blocks in size classes, and
/// the next value of about the same size reuses it (no fresh pages to fault in and zero, no
/// holes left in the heap by values of slightly different sizes).
public final class StoredBytes: @unchecked Sendable {
    public let count: Int
    private let base: UnsafeMutableRawPointer
    /// The bytes asked of the allocator (at least 1), which freeing must repeat.
    private let allocated: Int

    /// A buffer of `count` bytes whose contents `fill` writes; it returns how many it wrote,
    /// which becomes `count` (at most the capacity).
    package init(capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows {
        guard let p = gyre_large_alloc(Swift.max(capacity, 1)) else { fatalError("out of memory allocating a \(capacity)-byte buffer") }
        do {
            let n = try fill(UnsafeMutableRawBufferPointer(start: p, count: capacity))
            precondition(n >= 0 && n <= capacity, "StoredBytes: filled \(n) of \(capacity) bytes")
            base = p
            count = n
            allocated = Swift.max(capacity, 1)
        } catch {
            gyre_large_free(p, Swift.max(capacity, 1))
            throw error
        }
    }

    /// A buffer of `capacity` bytes whose contents arrive later, in pieces (`write(_:at:)`), as a
    /// network body does; nobody may read it before they have all been written.
    package init(uninitialized capacity: Int) {
        guard let p = gyre_large_alloc(Swift.max(capacity, 1)) else { fatalError("out of memory allocating a \(capacity)-byte buffer") }
        base = p
        count = capacity
        allocated = Swift.max(capacity, 1)
    }

    /// Copies `bytes` in at `offset` (which with the bytes must lie within the buffer).
    package func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        precondition(offset >= 0 && offset + bytes.count <= count, "StoredBytes: \(bytes.count) bytes at \(offset) of \(count)")
        if let b = bytes.baseAddress { (base + offset).copyMemory(from: b, byteCount: bytes.count) }
    }

    public convenience init(copying bytes: [UInt8]) {
        self.init(capacity: bytes.count) { dst in
            bytes.withUnsafeBytes { if let b = $0.baseAddress { dst.baseAddress!.copyMemory(from: b, byteCount: bytes.count) } }
            return bytes.count
        }
    }

    deinit { gyre_large_free(base, allocated) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes as an array (a copy).
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The buffer to fill (for stores that read straight into it).
    package func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }
}

/// A store values can be written to and deleted from.
public protocol WritableStore: ReadableStore {
    /// Writes a value; a reader sees either the old value or the whole new one, never a part.
    func set(_ key: String, _ value: [UInt8]) async throws
    /// Deletes a value; deleting a missing key is not an error.
    func delete(_ key: String) async throws
    /// Deletes many values (by default one by one; `S3Store` sends up to 1,000 to a request).
    func delete(keys: [String]) async throws
}

extension WritableStore {
    public func delete(keys: [String]) async throws {
        for k in keys { try await delete(k) }
    }
}

/// A store whose keys can be listed.
public protocol ListableStore: ReadableStore {
    /// All keys that start with `prefix`, sorted.
    func list(prefix: String) async throws -> [String]
}

/// Checks a store key: "/"-separated, relative, no empty, "." or ".." parts.
public func validateKey(_ key: String, store: String) throws {
    guard !key.isEmpty, !key.hasPrefix("/") else {
        throw GyreStorageError(.invalidKey, "\(store): key '\(key)' must be a non-empty relative path")
    }
    for part in key.split(separator: "/", omittingEmptySubsequences: false) where part.isEmpty || part == "." || part == ".." {
        throw GyreStorageError(.invalidKey, "\(store): key '\(key)' has an empty, '.' or '..' component")
    }
}

/// A store whose requests cost a round trip each, which `get(_:ranges:)` therefore merges.
package protocol MergingRangeReads: ReadableStore {
    /// Ranges closer than this many bytes are read in one request (the bytes between included).
    var rangeGap: Int { get }
}

extension MergingRangeReads {
    package func mergedGet(_ key: String, ranges: [Range<Int>]) async throws -> [[UInt8]]? {
        for r in ranges where r.lowerBound < 0 {
            throw GyreStorageError(.invalidRange, "\(name): bytes \(r.lowerBound)..<\(r.upperBound) of '\(key)' are not a range")
        }
        let spans = ByteRanges.merged(ranges, gap: rangeGap)
        let fetched = try await Bounded.map(count: spans.count, limit: 16) { i -> [UInt8]? in
            let s = spans[i].span
            return try await self.get(key, range: .range(offset: s.lowerBound, length: s.count))
        }
        var out = [[UInt8]](repeating: [], count: ranges.count)
        for (span, bytes) in zip(spans, fetched) {
            guard let bytes else { return nil }
            for m in span.members {
                let r = ranges[m]
                out[m] = Array(bytes[(r.lowerBound - span.span.lowerBound)..<(r.upperBound - span.span.lowerBound)])
            }
        }
        return out
    }
}

/// Byte ranges planned into requests.
package enum ByteRanges {
    /// The spans to request for `ranges`: sorted by start, a range joining the span before it
    /// when it starts at most `gap` bytes after that span's end (overlaps included), spans at
    /// most `maxSpan` bytes long; each span with the indices of the ranges it holds. Empty
    /// ranges are served from a span of their own only when no other holds them.
    package static func merged(_ ranges: [Range<Int>], gap: Int, maxSpan: Int = 64 << 20) -> [(span: Range<Int>, members: [Int])] {
        let order = ranges.indices.sorted { ranges[$0].lowerBound != ranges[$1].lowerBound ? ranges[$0].lowerBound < ranges[$1].lowerBound : ranges[$0].upperBound < ranges[$1].upperBound }
        var out: [(span: Range<Int>, members: [Int])] = []
        for i in order {
            let r = ranges[i]
            if var last = out.last, r.lowerBound <= last.span.upperBound + gap,
               Swift.max(last.span.upperBound, r.upperBound) - last.span.lowerBound <= maxSpan {
                last.span = last.span.lowerBound..<Swift.max(last.span.upperBound, r.upperBound)
                last.members.append(i)
                out[out.count - 1] = last
            } else {
                out.append((r, [i]))
            }
        }
        return out
    }
}

/// Where a value of a `ReferencingStore` really lies.
package enum StoredReference: Sendable {
    /// The value's bytes, held in the reference itself.
    case bytes(StoredBytes)
    /// A whole value of another store.
    case object(any ReadableStore, key: String)
    /// A byte range of a value of another store.
    case range(any ReadableStore, key: String, Range<Int>)
}

/// A store whose values stand for byte ranges of values elsewhere (kerchunk references: each
/// key a range of some file). The chunk engine asks it where a chunk lies and reads that range
/// itself, so ranges of one file that lie close together are fetched in one request.
package protocol ReferencingStore: ReadableStore {
    /// Where the value of `key` lies; nil when the store has no such key.
    func reference(_ key: String) throws -> StoredReference?
}
