import GyreCore
import GyreArrays

extension LazyArray: ChunkedArraySource {
    /// A lazy array is itself a source, so lazy arrays compose (for example concatenated).
    public func read(region: [Slice]) async throws -> AnyNDArray { try await read(region) }
    /// Straight into the destination when this array is a plain window of its source (no
    /// positions taken, no reversed or transposed axes, no maps); else read and copied.
    public func read(region: [Slice], into destination: ReadDestination) async throws {
        let plan = try sourcePlan(region)
        guard plan.takes.isEmpty, maps.isEmpty, order == Array(order.indices), destination.dtype == source.dtype else {
            return try destination.copy(from: try await read(region))
        }
        // The source's region shape: the destination's, with the points this array drops as
        // axes of length 1.
        var shape: [Int] = [], strides: [Int] = [], d = 0
        for a in plan.after {
            switch a {
            case .at(0): shape.append(1); strides.append(0)
            case .slice(.all):
                guard d < destination.shape.count else { return try destination.copy(from: try await read(region)) }
                shape.append(destination.shape[d]); strides.append(destination.strides[d]); d += 1
            default: return try destination.copy(from: try await read(region))
            }
        }
        guard d == destination.shape.count else { return try destination.copy(from: try await read(region)) }
        try await source.read(region: plan.slices, into: ReadDestination(base: destination.base, shape: shape, strides: strides, dtype: destination.dtype))
    }
    public func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        try await readSlabs(region, maxBytes: maxBytes, body)
    }
}

/// An array already in memory, seen as a chunked source (one chunk).
package struct MemorySource: ChunkedArraySource {
    package let array: AnyNDArray
    package let sourceName: String
    /// The chunk grid it reports (one chunk by default); reads are the same either way.
    package let chunks: [[Int]]
    package init(_ array: AnyNDArray, name: String = "memory", chunks: [Int]? = nil) {
        self.array = array
        self.sourceName = name
        self.chunks = chunks.map { c in zip(array.shape, c).map { Self.regularChunks(extent: $0, chunk: $1) } } ?? array.shape.map { [$0] }
    }
    package var shape: [Int] { array.shape }
    package var dtype: DType { array.dtype }
    package func read(region: [Slice]) async throws -> AnyNDArray {
        do { return try array.index(region.map { .slice($0) }) } catch {
            throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)", cause: error)
        }
    }
    /// Views of the region, `maxBytes` or less each along the first axis (as a chunked store
    /// would hand them out; this is what lets tests run the slab paths in memory).
    package func readSlabs(region: [Slice], maxBytes: Int, _ body: (AnyNDArray, Int) async throws -> Void) async throws {
        let whole = try await read(region: region)
        guard whole.ndim > 0, whole.shape[0] > 1 else { return try await body(whole, 0) }
        let rowBytes = Swift.max(whole.shape.dropFirst().reduce(Swift.max(whole.dtype.itemSize, 1), *), 1)
        let rows = Swift.max(1, maxBytes / rowBytes)
        var r = 0
        while r < whole.shape[0] {
            let e = Swift.min(r + rows, whole.shape[0])
            try await body(try whole.index([.slice(Slice(r, e))]), r)
            r = e
        }
    }
}

/// An array of one repeated value (for example the NaN that stands in for a file that lacks a
/// variable); reading allocates only what is read.
package struct FillSource: ChunkedArraySource {
    package let shape: [Int]
    package let dtype: DType
    package let value: Scalar
    package let sourceName: String
    package let chunks: [[Int]]
    package init(shape: [Int], dtype: DType, value: Scalar, chunks: [[Int]]? = nil, name: String = "fill") {
        self.shape = shape
        self.dtype = dtype
        self.value = value
        self.sourceName = name
        self.chunks = chunks ?? shape.map { [$0] }
    }
    package func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == shape.count else { throw GyreComputeError(.invalidArgument, "\(sourceName): \(region.count) slices for \(shape.count) dimensions") }
        do {
            let counts = try zip(region, shape).map { try $0.resolve(extent: $1).count }
            return try AnyNDArray.full(counts, value, dtype: dtype)
        } catch let e as GyreComputeError { throw e } catch {
            throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)", cause: error)
        }
    }
}

/// Sources joined end to end along one axis (the files of a multi-file dataset). A read touches
/// only the parts its region overlaps, reading them concurrently.
package struct ConcatenatedSource: ChunkedArraySource {
    package let parts: [any ChunkedArraySource]
    package let axis: Int
    /// Where each part starts along the axis.
    let offsets: [Int]
    package let shape: [Int]
    package let dtype: DType
    /// How many parts are read at once.
    package var maxConcurrency = 4

    package init(_ parts: [any ChunkedArraySource], axis: Int) throws {
        guard let first = parts.first else { throw GyreComputeError(.invalidArgument, "nothing to concatenate") }
        guard (0..<first.shape.count).contains(axis) else {
            throw GyreComputeError(.invalidArgument, "\(first.sourceName): axis \(axis) out of range for \(first.shape.count) dimensions")
        }
        var offsets: [Int] = []
        var total = 0
        for p in parts {
            guard p.dtype == first.dtype else {
                throw GyreComputeError(.invalidArgument, "\(p.sourceName) has dtype \(p.dtype) but \(first.sourceName) has \(first.dtype)")
            }
            guard p.shape.count == first.shape.count,
                  p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] }) else {
                throw GyreComputeError(.invalidArgument, "\(p.sourceName) has shape \(p.shape) but \(first.sourceName) has \(first.shape) (only axis \(axis) may differ)")
            }
            offsets.append(total)
            total += p.shape[axis]
        }
        var shape = first.shape
        shape[axis] = total
        self.parts = parts
        self.axis = axis
        self.offsets = offsets
        self.shape = shape
        self.dtype = first.dtype
    }

    package var sourceName: String {
        parts.count == 1 ? parts[0].sourceName : "\(parts[0].sourceName) and \(parts.count - 1) more"
    }

    package var chunks: [[Int]] {
        var c = parts[0].chunks
        c[axis] = parts.flatMap { $0.chunks[axis] }.filter { $0 > 0 }
        if c[axis].isEmpty { c[axis] = [0] }
        return c
    }

    /// For each part the region's positions inside it (a slice of the part) and where they land
    /// along the axis of the result.
    func pieces(_ region: [Slice]) throws -> (count: Int, pieces: [(part: Int, slice: Slice, at: Int, count: Int)]) {
        guard region.count == shape.count else {
            throw GyreComputeError(.invalidArgument, "\(sourceName): \(region.count) slices for \(shape.count) dimensions")
        }
        let r: (start: Int, count: Int, step: Int)
        do { r = try region[axis].resolve(extent: shape[axis]) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
        guard r.step > 0 else { throw GyreComputeError(.invalidArgument, "\(sourceName): concatenated sources are read with positive steps") }
        var pieces: [(part: Int, slice: Slice, at: Int, count: Int)] = []
        if r.count > 0 {
            let last = r.start + (r.count - 1) * r.step
            for (i, p) in parts.enumerated() {
                let lo = offsets[i], hi = lo + p.shape[axis]
                guard hi > r.start, lo <= last else { continue }
                // First region position at or after lo.
                let k0 = lo <= r.start ? 0 : (lo - r.start + r.step - 1) / r.step
                let first = r.start + k0 * r.step
                guard first < hi, first <= last else { continue }
                let stop = Swift.min(hi, last + 1)
                let n = (stop - first + r.step - 1) / r.step
                pieces.append((i, Slice(first - lo, stop - lo, step: r.step), k0, n))
            }
        }
        return (r.count, pieces)
    }

    /// Runs `body` for every piece, at most `maxConcurrency` at once.
    func forEachPiece<T: Sendable>(_ pieces: [(part: Int, slice: Slice, at: Int, count: Int)], region: [Slice],
                                   _ body: @escaping @Sendable (any ChunkedArraySource, [Slice], Int, Int) async throws -> T) async throws -> [T] {
        let parts = self.parts, axis = self.axis
        return try await Bounded.map(count: pieces.count, limit: Swift.max(1, maxConcurrency)) { k in
            let piece = pieces[k]
            var sub = region
            sub[axis] = piece.slice
            return try await body(parts[piece.part], sub, piece.at, piece.count)
        }
    }

    package func read(region: [Slice]) async throws -> AnyNDArray {
        let (count, pieces) = try self.pieces(region)
        if pieces.isEmpty {
            var empty = region
            empty[axis] = Slice(0, 0)
            return try await (parts.first!).read(region: empty)
        }
        if pieces.count == 1 {
            var sub = region
            sub[axis] = pieces[0].slice
            return try await parts[pieces[0].part].read(region: sub)
        }
        if dtype.hasFixedLayout {
            // Every part reads straight into its slab of one result: no concatenation copy.
            var outShape: [Int] = []
            for (d, s) in region.enumerated() {
                if d == axis { outShape.append(count); continue }
                do { outShape.append(try s.resolve(extent: shape[d]).count) } catch {
                    throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)")
                }
            }
            let out = try AnyNDArray.uninitialized(outShape, dtype: dtype)
            let dst = ReadDestination(base: out.unsafeRawBase, shape: outShape, strides: NDArray<UInt8>.contiguousStrides(outShape), dtype: dtype)
            try await read(region: region, into: dst)
            withExtendedLifetime(out) {}
            return out
        }
        let arrays = try await forEachPiece(pieces, region: region) { part, sub, _, _ in try await part.read(region: sub) }
        do { return try AnyNDArray.concatenate(arrays, axis: axis) } catch {
            throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)", cause: error)
        }
    }

    package func read(region: [Slice], into destination: ReadDestination) async throws {
        let (count, pieces) = try self.pieces(region)
        guard destination.shape.count == shape.count, destination.shape[axis] == count, destination.dtype == dtype else {
            throw GyreComputeError(.invalidArgument, "\(sourceName): a destination of shape \(destination.shape) (\(destination.dtype)) does not fit the region")
        }
        let axis = self.axis
        _ = try await forEachPiece(pieces, region: region) { part, sub, at, n in
            try await part.read(region: sub, into: destination.slab(axis: axis, offset: at, count: n))
        }
    }
}
