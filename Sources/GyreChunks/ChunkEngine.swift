import GyreArrays
import GyreCodecs
import GyreCore
import GyreStorage
import Synchronization

/// Where one chunk's stored bytes are.
package enum ChunkBytes: Sendable {
    /// A whole value of a store (a Zarr chunk key). A missing value is a missing chunk, read as
    /// the fill value.
    case object(any ReadableStore, key: String)
    /// Bytes of a value that must be there (an HDF5 chunk at the address its index gives, an
    /// inner chunk of a shard). Ranges of one value that lie close together are read in one
    /// request.
    case range(any ReadableStore, key: String, Range<Int>)
    /// Bytes already in memory (a shard read whole, compact data, an inline reference).
    case held(StoredBytes, Range<Int>)
}

/// Turns one chunk's stored bytes into its values: C order, native byte order, exactly
/// the chunk's bytes.
package protocol ChunkDecoder: Sendable {
    func decode(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws
    /// Whether `decode(_:range:chunkBytes:into:)` can decode parts of a chunk at all.
    var decodesRanges: Bool { get }
    /// Decodes only the bytes `range` of the decoded chunk (`chunkBytes` in all) into
    /// `destination` (exactly `range.count` bytes); false when this stream cannot.
    func decode(_ stored: UnsafeRawBufferPointer, range: Range<Int>, chunkBytes: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool
    /// The stored bytes a decode of the decoded byte `ranges` reads, told from the stored
    /// value's first bytes (see `BytesToBytesCodec.storedRanges`); nil when it cannot tell.
    func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], chunkBytes: Int) throws -> StoredRanges?
}

extension ChunkDecoder {
    package var decodesRanges: Bool { false }
    package func decode(_ stored: UnsafeRawBufferPointer, range: Range<Int>, chunkBytes: Int, into destination: UnsafeMutableRawBufferPointer) throws -> Bool { false }
    package func storedRanges(head: UnsafeRawBufferPointer, ranges: [Range<Int>], chunkBytes: Int) throws -> StoredRanges? { nil }
}

/// A stored chunk: its bytes and how to decode them.
package struct ChunkLocation: Sendable {
    package var bytes: ChunkBytes
    package var decoder: any ChunkDecoder
    package init(_ bytes: ChunkBytes, decoder: any ChunkDecoder) {
        self.bytes = bytes
        self.decoder = decoder
    }
}

/// What a format contributes to the chunk engine: the array's geometry and, for chunk grid
/// positions, where their bytes lie and how they decode. Nothing else of a format's reading is
/// its own.
package protocol ChunkLocator: Sendable {
    /// The array, for messages (a URL and a variable or array path).
    var name: String { get }
    var shape: [Int] { get }
    /// The grid the locator locates: chunks, or a shard's inner chunks.
    var chunkShape: [Int] { get }
    var itemSize: Int { get }
    /// One element of the fill value, in native byte order: what missing chunks read as.
    var fillElement: [UInt8] { get }
    /// Chunks located together, per dimension (a shard's inner chunks, located through its
    /// index); nil: every chunk of a read is located in one call (a file's chunk index).
    var groupShape: [Int]? { get }
    /// Chunks (or groups) fetched and decoded at once, at most.
    var concurrency: Int { get }
    /// Where each chunk lies, in the order asked; nil for a chunk that is not stored.
    func locate(_ chunks: [[Int]]) async throws -> [ChunkLocation?]
    /// The error for a chunk that could not be read or decoded (`cause` a storage or codec error).
    func failure(chunk: [Int], _ message: String, cause: (any Error & Sendable)?) -> any Error
}

/// One piece of a selection along one dimension: the part of chunk `chunk` it reads (from
/// `first`, every `step`-th element, in chunk coordinates) and where that lands in the output.
package struct DimPiece: Sendable, Equatable {
    package let chunk: Int
    package let first: Int
    package let step: Int
    package let out: Range<Int>
}

/// The one chunk engine: a region of any chunked array, read through a format's locator. The
/// region is split into the chunks it touches; the locator says where each lies; ranges of one
/// value that lie close together are merged into one request; requests run with bounded
/// concurrency; each chunk is decoded straight into the destination when it fills a span of it,
/// or only the part the region needs when the codec decodes parts, or whole into a pooled
/// buffer and copied; missing chunks are the fill value.
package enum ChunkEngine {
    /// Splits a resolved selection (start, count, positive step) of one dimension into
    /// per-chunk pieces.
    package static func pieces(start: Int, count: Int, step: Int, chunk: Int) -> [DimPiece] {
        var out: [DimPiece] = []
        var k = 0
        while k < count {
            let p = start + k * step
            let c = p / chunk
            // The last index of this piece: the last k with start + k*step < (c+1)*chunk.
            let k1 = Swift.min(count, ((c + 1) * chunk - start + step - 1) / step)
            out.append(DimPiece(chunk: c, first: p - c * chunk, step: step, out: k..<k1))
            k = k1
        }
        return out
    }

    /// A resolved region read forward: negative steps turned positive over the same
    /// elements, and the index that flips those axes of what was read back (a view).
    package static func forward(_ r: [(start: Int, count: Int, step: Int)]) -> (region: [(start: Int, count: Int, step: Int)], flip: [AxisIndex]) {
        var out = r, flip: [AxisIndex] = []
        for i in r.indices {
            if r[i].step < 0 && r[i].count > 0 {
                out[i] = (r[i].start + (r[i].count - 1) * r[i].step, r[i].count, -r[i].step)
                flip.append(.slice(Slice(nil, nil, step: -1)))
            } else { flip.append(.slice(.all)) }
        }
        return (out, flip)
    }

    /// Reads a resolved region (positive steps) into a destination of its shape.
    package static func read(_ locator: some ChunkLocator, region r: [(start: Int, count: Int, step: Int)], into destination: ReadDestination) async throws {
        let c = locator.chunkShape
        guard r.count == c.count, !r.contains(where: { $0.count == 0 }) else { return }
        precondition(r.allSatisfy { $0.step >= 1 }, "ChunkEngine.read: steps must be positive")
        let perDim = zip(r, c).map { pieces(start: $0.start, count: $0.count, step: $0.step, chunk: $1) }
        // Every combination of per-dimension pieces is one chunk to read.
        var tasks: [[DimPiece]] = [[]]
        for dimPieces in perDim { tasks = tasks.flatMap { t in dimPieces.map { t + [$0] } } }
        let groups = Self.groups(locator, tasks)
        let limit = Swift.max(1, locator.concurrency)
        try await Bounded.forEach(count: groups.count, limit: limit) { [groups] g in
            try await readGroup(locator, groups[g], into: destination, limit: groups.count == 1 ? limit : 1)
        }
    }

    /// The bytes of the chunks a slab read holds: stored bytes, by task.
    final class Held: @unchecked Sendable {
        let items: Mutex<[(StoredBytes, Range<Int>, sparse: Bool)?]>
        init(_ n: Int) { items = Mutex([(StoredBytes, Range<Int>, sparse: Bool)?](repeating: nil, count: n)) }
    }

    /// Reads a resolved region (positive steps) as consecutive slabs along its first
    /// dimension, in order, handing each and its offset along that dimension to `body`. The
    /// chunks of a batch of rows (about 16 MiB decoded, at least one chunk row) are fetched
    /// together as `read` fetches them and held as stored bytes (the next batch is fetched
    /// while one is decoded); each slab, about `maxBytes` decoded, is decoded from them, only
    /// its rows of each chunk where the codec decodes parts and a chunk row is over a slab and
    /// a quarter. Elsewhere a slab never ends inside a chunk row (a chunk is decoded once), so a slab
    /// is then at least one chunk row.
    package static func readSlabs(_ locator: some ChunkLocator, region r: [(start: Int, count: Int, step: Int)], dtype: DType, maxBytes: Int,
                                  _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        let c = locator.chunkShape
        precondition(r.count == c.count && !r.isEmpty && r.allSatisfy { $0.step >= 1 }, "ChunkEngine.readSlabs: a region of positive steps, one or more dimensions")
        let itemSize = locator.itemSize
        let rest = r.dropFirst().map(\.count)
        guard r[0].count > 0, !rest.contains(0) else {
            return try await body(try AnyNDArray.uninitialized(r.map(\.count), dtype: dtype), 0)
        }
        let rowBytes = rest.reduce(itemSize, *)
        let slabRows = Swift.max(1, maxBytes / rowBytes)
        if r[0].count <= slabRows {
            // One slab: the region read whole.
            let shape = r.map(\.count)
            let out = try AnyNDArray.uninitialized(shape, dtype: dtype)
            try await read(locator, region: r, into: ReadDestination(base: out.unsafeRawBase, shape: shape, strides: NDArray<UInt8>.contiguousStrides(shape), dtype: dtype))
            return try await body(out, 0)
        }
        let batchRows = Swift.max(slabRows, (16 << 20) / rowBytes)
        let rows0 = pieces(start: r[0].start, count: r[0].count, step: r[0].step, chunk: c[0])
        let others = zip(r.dropFirst(), c.dropFirst()).map { pieces(start: $0.start, count: $0.count, step: $0.step, chunk: $1) }
        let combos = others.reduce([[DimPiece]]([[]])) { acc, dimPieces in acc.flatMap { t in dimPieces.map { t + [$0] } } }
        let limit = Swift.max(1, locator.concurrency)
        // Batches of chunk rows, each fetched together; the next batch is fetched while the
        // current one is decoded.
        var batches: [Range<Int>] = []
        var b0 = 0
        while b0 < rows0.count {
            var q = b0 + 1
            while q < rows0.count && rows0[q].out.upperBound - rows0[b0].out.lowerBound <= batchRows { q += 1 }
            batches.append(b0..<q)
            b0 = q
        }
        @Sendable func fetchBatch(_ batch: Range<Int>) async throws -> (tasks: [[DimPiece]], locations: [ChunkLocation?], stored: [(StoredBytes, Range<Int>, sparse: Bool)?]) {
            let tasks = rows0[batch].flatMap { row in combos.map { [row] + $0 } }
            var locations = [ChunkLocation?](repeating: nil, count: tasks.count)
            var index: [[Int]: Int] = [:]
            for (i, t) in tasks.enumerated() { index[t.map(\.chunk)] = i }
            let groups = Self.groups(locator, tasks)
            let located = try await Bounded.map(count: groups.count, limit: limit) { [groups] g in
                try await locator.locate(groups[g].map { $0.map(\.chunk) })
            }
            for (g, ls) in zip(groups, located) {
                precondition(ls.count == g.count, "ChunkLocator.locate: \(ls.count) locations for \(g.count) chunks")
                for (t, l) in zip(g, ls) { locations[index[t.map(\.chunk)]!] = l }
            }
            let held = Held(tasks.count)
            try await fetchEach(locator, tasks, locations, limit: limit) { [held] m, bytes, range, sparse in
                if let bytes, let range { held.items.withLock { $0[m] = (bytes, range, sparse) } }
            }
            return (tasks, locations, held.items.withLock { $0 })
        }
        var next: Task<(tasks: [[DimPiece]], locations: [ChunkLocation?], stored: [(StoredBytes, Range<Int>, sparse: Bool)?]), any Error>? = Task { try await fetchBatch(batches[0]) }
        defer { next?.cancel() }
        for (n, batch) in batches.enumerated() {
            let (tasks, locations, stored) = try await next!.value
            next = n + 1 < batches.count ? Task { [batches] in try await fetchBatch(batches[n + 1]) } : nil
            let p = batch.lowerBound, q = batch.upperBound
            // Slab boundaries (output rows): about slabRows each, never inside a chunk row that
            // cannot be decoded in parts.
            var bounds: [Range<Int>] = []
            var open = rows0[p].out.lowerBound
            for k in p..<q {
                let row = rows0[k].out
                // Decoded by parts only where the row is well over a slab (a row of up to a
                // quarter more is one slab: decoding it once costs less than in two parts).
                let parts = row.count - slabRows > slabRows / 4
                    && (0..<combos.count).allSatisfy { j in locations[(k - p) * combos.count + j].map { $0.decoder.decodesRanges } ?? true }
                if parts {
                    while row.upperBound - open >= slabRows {
                        bounds.append(open..<(open + slabRows))
                        open += slabRows
                    }
                } else if row.upperBound - open > slabRows {
                    // A chunk row decoded whole: the slab so far ends before it, and it is a
                    // slab of its own when it is larger than one.
                    if open < row.lowerBound { bounds.append(open..<row.lowerBound); open = row.lowerBound }
                    if row.count > slabRows { bounds.append(row); open = row.upperBound }
                }
            }
            if open < rows0[q - 1].out.upperBound { bounds.append(open..<rows0[q - 1].out.upperBound) }
            for b in bounds {
                let slab = try AnyNDArray.uninitialized([b.count] + rest, dtype: dtype)
                let dst = ReadDestination(base: slab.unsafeRawBase, shape: [b.count] + rest, strides: NDArray<UInt8>.contiguousStrides([b.count] + rest), dtype: dtype)
                // The tasks this slab touches, their first piece cut to the slab's rows.
                var cut: [(task: [DimPiece], from: Int)] = []
                for (i, t) in tasks.enumerated() {
                    let lo = Swift.max(t[0].out.lowerBound, b.lowerBound), hi = Swift.min(t[0].out.upperBound, b.upperBound)
                    guard lo < hi else { continue }
                    var u = t
                    u[0] = DimPiece(chunk: t[0].chunk, first: t[0].first + (lo - t[0].out.lowerBound) * t[0].step, step: t[0].step,
                                    out: (lo - b.lowerBound)..<(hi - b.lowerBound))
                    cut.append((u, i))
                }
                try await Bounded.forEach(count: cut.count, limit: limit) { [cut, locations, stored] j in
                    let (u, i) = cut[j]
                    guard let l = locations[i], let (bytes, range, sparse) = stored[i] else { return fill(locator, u, into: dst) }
                    try decodeAndPlace(locator, u, l, bytes, range, sparse: sparse, into: dst)
                }
                withExtendedLifetime(slab) {}
                try await body(slab, b.lowerBound)
            }
        }
    }

    /// One request and the chunks it carries.
    enum Fetch {
        case object(any ReadableStore, key: String, member: Int)
        case span(any ReadableStore, key: String, Range<Int>, members: [Int])
        case held(StoredBytes, Range<Int>, member: Int)
    }

    /// Tasks grouped as the locator locates them (a shard's inner chunks together).
    static func groups(_ locator: some ChunkLocator, _ tasks: [[DimPiece]]) -> [[[DimPiece]]] {
        guard let gs = locator.groupShape else { return [tasks] }
        var groups: [[[DimPiece]]] = []
        var at: [[Int]: Int] = [:]
        for t in tasks {
            let g = zip(t, gs).map { $0.chunk / Swift.max($1, 1) }
            if let i = at[g] { groups[i].append(t) } else { at[g] = groups.count; groups.append([t]) }
        }
        return groups
    }

    static func readGroup(_ locator: some ChunkLocator, _ tasks: [[DimPiece]], into destination: ReadDestination, limit: Int) async throws {
        let locations = try await locator.locate(tasks.map { $0.map(\.chunk) })
        precondition(locations.count == tasks.count, "ChunkLocator.locate: \(locations.count) locations for \(tasks.count) chunks")
        for (i, l) in locations.enumerated() where l == nil { fill(locator, tasks[i], into: destination) }
        try await fetchEach(locator, tasks, locations, limit: limit) { m, bytes, range, sparse in
            try decodeAndPlace(locator, tasks[m], locations[m]!, bytes, range, sparse: sparse, into: destination)
        }
    }

    /// Fetches the stored bytes of every located chunk (ranges of one value that lie close
    /// together in one request), `limit` requests at once, handing each chunk's bytes to `got`
    /// as they arrive (nil: a whole value that turned out missing). `got` may run concurrently.
    /// A large chunk of which a small part is read, whose codec tells which stored bytes hold
    /// that part (blosc's blocks), is fetched by those bytes only, into a buffer of the value's
    /// size that holds nothing else (`sparse`: only a decode of that part may read it).
    static func fetchEach(_ locator: some ChunkLocator, _ tasks: [[DimPiece]], _ locations: [ChunkLocation?], limit: Int,
                          _ got: @escaping @Sendable (Int, StoredBytes?, Range<Int>?, _ sparse: Bool) throws -> Void) async throws {
        var fetches: [Fetch] = []
        // Ranges by value (store name and key), merged into spans.
        var ranged: [String: (store: any ReadableStore, key: String, members: [Int])] = [:]
        var rangedOrder: [String] = []
        for (i, l) in locations.enumerated() {
            guard let l else { continue }
            switch l.bytes {
            case .object(let store, let key): fetches.append(.object(store, key: key, member: i))
            case .held(let b, let range): fetches.append(.held(b, range, member: i))
            case .range(let store, let key, _):
                let id = store.name + "\u{0}" + key
                if ranged[id] == nil { ranged[id] = (store, key, []); rangedOrder.append(id) }
                ranged[id]!.members.append(i)
            }
        }
        for id in rangedOrder {
            let (store, key, members) = ranged[id]!
            let ranges = members.map { m -> Range<Int> in
                if case .range(_, _, let r) = locations[m]!.bytes { return r }
                preconditionFailure()
            }
            let gap = (store as? any MergingRangeReads)?.rangeGap ?? (64 << 10)
            for s in ByteRanges.merged(ranges, gap: gap, maxSpan: 32 << 20) {
                fetches.append(.span(store, key: key, s.span, members: s.members.map { members[$0] }))
            }
        }
        try await Bounded.forEach(count: fetches.count, limit: limit) { [fetches] f in
            switch fetches[f] {
            case .object(let store, let key, let m):
                if let wanted = partRanges(locator, tasks[m], decoder: locations[m]!.decoder), locator.chunkShape.reduce(locator.itemSize, *) >= Self.partialFetchBytes,
                   let (bytes, sparse) = try await fetchParts(locator, tasks[m], locations[m]!.decoder, store, key, wanted) {
                    return try got(m, bytes, bytes.map { 0..<$0.count }, sparse)
                }
                let bytes: StoredBytes?
                do { bytes = try await store.getStored(key) } catch let e as GyreStorageError {
                    throw locator.failure(chunk: tasks[m].map(\.chunk), e.message, cause: e)
                }
                try got(m, bytes, bytes.map { 0..<$0.count }, false)
            case .held(let bytes, let range, let m):
                try got(m, bytes, range, false)
            case .span(let store, let key, let span, let members):
                let bytes: StoredBytes
                do {
                    guard let b = try await store.getStored(key, range: .range(offset: span.lowerBound, length: span.count)) else {
                        throw locator.failure(chunk: tasks[members[0]].map(\.chunk), "'\(key)' is missing (it holds this chunk)", cause: nil)
                    }
                    bytes = b
                } catch let e as GyreStorageError {
                    let why = e.code == .invalidRange ? "'\(key)' ends before byte \(span.upperBound) (truncated?)" : e.message
                    throw locator.failure(chunk: tasks[members[0]].map(\.chunk), why, cause: e)
                }
                guard bytes.count == span.count else {
                    throw locator.failure(chunk: tasks[members[0]].map(\.chunk), "'\(key)' ends before byte \(span.upperBound) (truncated?)", cause: nil)
                }
                @Sendable func one(_ m: Int) throws {
                    guard case .range(_, _, let r) = locations[m]!.bytes else { return }
                    try got(m, bytes, (r.lowerBound - span.lowerBound)..<(r.upperBound - span.lowerBound), false)
                }
                if members.count == 1 || limit == 1 {
                    for m in members { try one(m) }
                } else {
                    try await Bounded.forEach(count: members.count, limit: limit) { j in try one(members[j]) }
                }
            }
        }
    }

    /// Chunks of at least this many decoded bytes are fetched by parts when a small part of
    /// them is read (below it, the extra requests cost more than the bytes they save).
    static let partialFetchBytes = 1 << 20

    /// The stored bytes of a chunk that a decode of the task's part reads (`partRanges`), in a
    /// buffer of the stored value's size: the head (what tells the layout), then those ranges,
    /// merged where close. Nil (with nothing lost) when the codec cannot tell, or the ranges
    /// are most of the value; the value missing is (nil, false) as a whole read would give it.
    static func fetchParts(_ locator: some ChunkLocator, _ t: [DimPiece], _ decoder: any ChunkDecoder, _ store: any ReadableStore, _ key: String,
                           _ wanted: [Range<Int>]) async throws -> (StoredBytes?, Bool)? {
        let chunkBytes = locator.chunkShape.reduce(locator.itemSize, *)
        @Sendable func fetch(_ r: Range<Int>) async throws -> StoredBytes? {
            do { return try await store.getStored(key, range: .range(offset: r.lowerBound, length: r.count)) } catch let e as GyreStorageError {
                if e.code == .invalidRange { throw locator.failure(chunk: t.map(\.chunk), "'\(key)' ends before byte \(r.upperBound) (truncated?)", cause: e) }
                throw locator.failure(chunk: t.map(\.chunk), e.message, cause: e)
            }
        }
        func ask(_ head: StoredBytes) throws -> StoredRanges? {
            do { return try head.withUnsafeBytes { try decoder.storedRanges(head: $0, ranges: wanted, chunkBytes: chunkBytes) } } catch let e as GyreCodecsError {
                throw locator.failure(chunk: t.map(\.chunk), e.message, cause: e)
            }
        }
        // A value shorter than a header is one a whole read reports on.
        guard let first = try? await fetch(0..<16) else { return nil }
        var head = first
        var answer = try ask(head)
        if case .head(let n)? = answer {
            guard let more = try await fetch(16..<n) else { return (nil, false) }
            let joined = StoredBytes(uninitialized: n)
            head.withUnsafeBytes { joined.write($0, at: 0) }
            more.withUnsafeBytes { joined.write($0, at: 16) }
            head = joined
            answer = try ask(head)
        }
        guard case .ranges(let total, let ranges)? = answer else { return nil }
        let rest = ranges.compactMap { r -> Range<Int>? in
            let lo = Swift.max(r.lowerBound, head.count)
            return lo < r.upperBound ? lo..<r.upperBound : nil
        }
        // A request costs about as much as the gap below which ranges are merged: worth it
        // only when the spans and their requests cost clearly less than the rest read at once.
        let gap = (store as? any MergingRangeReads)?.rangeGap ?? (64 << 10)
        let spans = ByteRanges.merged(rest, gap: gap, maxSpan: 32 << 20)
        guard (spans.reduce(0, { $0 + $1.span.count }) + spans.count * gap) * 4 <= (total - head.count) * 3 else { return nil }
        let out = StoredBytes(uninitialized: total)
        head.withUnsafeBytes { out.write(UnsafeRawBufferPointer(rebasing: $0[0..<Swift.min(head.count, total)]), at: 0) }
        if let direct = store as? any RangesIntoBuffer {
            // Read straight into place (a local file: one open, a pread per span).
            do {
                guard try await direct.read(key, ranges: spans.map(\.span), into: out) else { return (nil, false) }
            } catch let e as GyreStorageError {
                let why = e.code == .invalidRange ? "'\(key)' ends before byte \(spans.last!.span.upperBound) (truncated?)" : e.message
                throw locator.failure(chunk: t.map(\.chunk), why, cause: e)
            }
            return (out, true)
        }
        let pieces = try await Bounded.map(count: spans.count, limit: 4) { [spans] i in (spans[i].span, try await fetch(spans[i].span)) }
        for (span, piece) in pieces {
            guard let piece, piece.count == span.count else {
                throw locator.failure(chunk: t.map(\.chunk), "'\(key)' ends before byte \(span.upperBound) (truncated?)", cause: nil)
            }
            piece.withUnsafeBytes { out.write($0, at: span.lowerBound) }
        }
        return (out, true)
    }

    static func decodeAndPlace(_ locator: some ChunkLocator, _ t: [DimPiece], _ location: ChunkLocation, _ bytes: StoredBytes?, _ range: Range<Int>?,
                               sparse: Bool, into destination: ReadDestination) throws {
        guard let bytes, let range else { return fill(locator, t, into: destination) }
        do {
            try bytes.withUnsafeBytes { raw in
                let stored = UnsafeRawBufferPointer(rebasing: raw[range])
                try placeDecoded(locator, t, stored, location.decoder, sparse: sparse, into: destination)
            }
        } catch let e as GyreCodecsError {
            throw locator.failure(chunk: t.map(\.chunk), e.message, cause: e)
        }
    }

    /// Fills the task's part of the destination (a missing chunk).
    static func fill(_ locator: some ChunkLocator, _ t: [DimPiece], into destination: ReadDestination) {
        let target = destination.block(origin: t.map(\.out.lowerBound), shape: t.map(\.out.count))
        target.fill(with: locator.fillElement)
    }

    static func placeDecoded(_ locator: some ChunkLocator, _ t: [DimPiece], _ stored: UnsafeRawBufferPointer, _ decoder: any ChunkDecoder,
                             sparse: Bool = false, into destination: ReadDestination) throws {
        let c = locator.chunkShape, itemSize = locator.itemSize
        let chunkBytes = c.reduce(itemSize, *)
        let target = destination.block(origin: t.map(\.out.lowerBound), shape: t.map(\.out.count))
        if !sparse, isWhole(locator, t), let span = target.contiguousBytes {
            // The chunk fills one span of the destination: decoded straight into it.
            try decoder.decode(stored, into: span)
            return
        }
        let strides = NDArray<UInt8>.contiguousStrides(c)
        let stepped = zip(strides, t).map { $0 * $1.step }
        if let ranges = partRanges(locator, t, decoder: decoder), let spans = partSpans(t, chunk: c, itemSize: itemSize) {
            // A small part of the chunk (a point's series, a few rows): only the byte spans
            // that hold it are decoded.
            let rowBytes = strides[0] * itemSize
            let rowOffset = t.dropFirst().enumerated().reduce(0) { $0 + $1.element.first * strides[$1.offset + 1] } * itemSize
            if spans.together {
                let buffer = allocateScratch(spans.rows.count * rowBytes)
                defer { freeScratch(buffer) }
                let r = ranges[0]
                if try decoder.decode(stored, range: r, chunkBytes: chunkBytes,
                                      into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress! + spans.lo, count: r.count)) {
                    target.copy(from: UnsafeRawPointer(buffer.baseAddress! + rowOffset), strides: stepped)
                    return
                }
            } else {
                let row = allocateScratch(rowBytes)
                defer { freeScratch(row) }
                var done = true
                for (i, r) in ranges.enumerated() {
                    guard try decoder.decode(stored, range: r, chunkBytes: chunkBytes,
                                             into: UnsafeMutableRawBufferPointer(start: row.baseAddress! + spans.lo, count: r.count)) else {
                        done = false
                        break
                    }
                    target.slab(axis: 0, offset: i, count: 1).copy(from: UnsafeRawPointer(row.baseAddress! + rowOffset), strides: stepped)
                }
                if done { return }
            }
        }
        guard !sparse else {
            // Only the stored bytes of the part were fetched: nothing else may be decoded from them.
            throw GyreCodecsError(.corrupt, "a chunk fetched by parts could not be decoded by parts")
        }
        // Decoded whole into a pooled buffer (a large chunk decoded into fresh memory costs
        // more in page clearing than in decompression), then the part copied out.
        let chunk = allocateScratch(chunkBytes)
        defer { freeScratch(chunk) }
        try decoder.decode(stored, into: UnsafeMutableRawBufferPointer(start: chunk.baseAddress!, count: chunkBytes))
        let offset = t.indices.reduce(0) { $0 + t[$1].first * strides[$1] } * itemSize
        target.copy(from: UnsafeRawPointer(chunk.baseAddress! + offset), strides: stepped)
    }

    /// Whether a task reads its chunk whole (every element, in order, and the chunk is not cut
    /// by the array's edge).
    static func isWhole(_ locator: some ChunkLocator, _ t: [DimPiece]) -> Bool {
        let c = locator.chunkShape, shape = locator.shape
        return t.indices.allSatisfy { d in
            t[d].first == 0 && t[d].out.count == c[d] && (t[d].step == 1 || c[d] == 1) && (t[d].chunk + 1) * c[d] <= shape[d]
        }
    }

    /// The decoded byte ranges of its chunk a task's part is decoded from, when it is decoded
    /// by parts (one range for rows that lie together, else one per row); nil when the chunk
    /// is decoded whole. Fetching and decoding both follow it, so a chunk fetched by parts is
    /// always decoded by the same parts.
    static func partRanges(_ locator: some ChunkLocator, _ t: [DimPiece], decoder: (any ChunkDecoder)? = nil) -> [Range<Int>]? {
        let c = locator.chunkShape, itemSize = locator.itemSize
        guard !isWhole(locator, t), decoder?.decodesRanges ?? true, let spans = partSpans(t, chunk: c, itemSize: itemSize) else { return nil }
        let rowBytes = c.dropFirst().reduce(itemSize, *)
        if spans.together {
            return [(spans.rows.lowerBound * rowBytes + spans.lo)..<((spans.rows.upperBound - 1) * rowBytes + spans.hi)]
        }
        return spans.rows.map { ($0 * rowBytes + spans.lo)..<($0 * rowBytes + spans.hi) }
    }

    /// Where a part of a chunk lies within each row (the chunk's extent along its first axis
    /// is its rows): the first byte and one past the last byte of the part in a row, the rows,
    /// and whether the rows' spans are decoded together (they lie close) or one by one. Nil
    /// when decoding those spans would not be much less work than decoding the chunk whole
    /// (a range decode decompresses whole compressed blocks, assumed up to 256 KiB), or the
    /// part has steps.
    package static func partSpans(_ t: [DimPiece], chunk: [Int], itemSize: Int) -> (lo: Int, hi: Int, rows: Range<Int>, together: Bool)? {
        guard !chunk.isEmpty, t.count == chunk.count, itemSize > 0,
              t.allSatisfy({ $0.out.count > 0 && ($0.step == 1 || $0.out.count == 1) }) else { return nil }
        var step = itemSize, lo = 0, hi = 0
        for d in Swift.stride(from: chunk.count - 1, through: 1, by: -1) {
            lo += t[d].first * step
            hi += (t[d].first + t[d].out.count - 1) * step
            step *= chunk[d]
        }
        let rowBytes = step, chunkBytes = rowBytes * chunk[0]
        hi += itemSize
        let rows = t[0].first..<(t[0].first + t[0].out.count)
        let block = 256 << 10
        let together = rowBytes - (hi - lo) < block
        let work = together ? (rows.count - 1) * rowBytes + (hi - lo) + block : rows.count * Swift.max(hi - lo, block)
        guard work * 2 <= chunkBytes else { return nil }
        return (lo, hi, rows, together)
    }
}

extension ReadDestination {
    /// Sets every element to `element` (one element's bytes).
    package func fill(with element: [UInt8]) {
        let n = shape.reduce(1, *)
        guard n > 0 else { return }
        let temp = UnsafeMutableRawBufferPointer.allocate(byteCount: n * element.count, alignment: 64)
        defer { temp.deallocate() }
        element.withUnsafeBytes { e in
            for i in 0..<n { (temp.baseAddress! + i * element.count).copyMemory(from: e.baseAddress!, byteCount: element.count) }
        }
        copy(from: UnsafeRawPointer(temp.baseAddress!), strides: NDArray<UInt8>.contiguousStrides(shape))
    }
}
