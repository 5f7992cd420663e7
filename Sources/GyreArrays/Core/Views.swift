import GyreCore
/// A Python-style slice: `start:stop:step`, each bound optional, negative values counting from
/// the end, step non-zero.
public struct Slice: Sendable, Hashable, CustomStringConvertible {
    public var start: Int?
    public var stop: Int?
    public var step: Int

    public init(_ start: Int? = nil, _ stop: Int? = nil, step: Int = 1) {
        self.start = start
        self.stop = stop
        self.step = step
    }

    /// Everything: `:`.
    public static let all = Slice()

    public var description: String {
        "\(start.map(String.init) ?? ""):\(stop.map(String.init) ?? "")\(step == 1 ? "" : ":\(step)")"
    }

    /// Python's `slice.indices(n)`: concrete start, count and step for an axis of extent `n`.
    public func resolve(extent n: Int) throws -> (start: Int, count: Int, step: Int) {
        guard step != 0 else { throw GyreArraysError(.invalidArgument, "slice step cannot be zero") }
        var lo: Int, hi: Int
        if step > 0 {
            lo = start.map { $0 < 0 ? Swift.max($0 + n, 0) : Swift.min($0, n) } ?? 0
            hi = stop.map { $0 < 0 ? Swift.max($0 + n, 0) : Swift.min($0, n) } ?? n
            let count = hi > lo ? (hi - lo + step - 1) / step : 0
            return (lo, count, step)
        } else {
            lo = start.map { $0 < 0 ? Swift.max($0 + n, -1) : Swift.min($0, n - 1) } ?? (n - 1)
            hi = stop.map { $0 < 0 ? Swift.max($0 + n, -1) : Swift.min($0, n - 1) } ?? -1
            let count = lo > hi ? (lo - hi - step - 1) / (-step) : 0
            return (lo, count, step)
        }
    }
}

/// One entry of a basic index expression.
public enum AxisIndex: Sendable, Hashable {
    /// A single position; the dimension is dropped.
    case at(Int)
    /// A slice; the dimension is kept.
    case slice(Slice)
    /// A new dimension of extent 1.
    case newAxis
}

extension NDArray {
    @inlinable
    func _normalizeAxis(_ axis: Int) throws -> Int {
        let a = axis < 0 ? axis + ndim : axis
        guard a >= 0 && a < ndim else {
            throw GyreArraysError(.invalidAxis, "axis \(axis) is out of range for an array of \(ndim) dimensions")
        }
        return a
    }

    /// A view selected by positions, slices and new axes, one entry per leading dimension
    /// (missing trailing entries mean `:`). Copies nothing.
    public func index(_ items: [AxisIndex]) throws -> NDArray {
        var newShape: [Int] = [], newStrides: [Int] = []
        var off = offset
        var d = 0
        for item in items {
            switch item {
            case .newAxis:
                newShape.append(1); newStrides.append(0)
            case .at(let i):
                guard d < ndim else { throw GyreArraysError(.indexOutOfRange, "too many indices for an array of \(ndim) dimensions") }
                let j = i < 0 ? i + shape[d] : i
                guard j >= 0 && j < shape[d] else {
                    throw GyreArraysError(.indexOutOfRange, "index \(i) is out of range for axis \(d) of extent \(shape[d])")
                }
                off += j * strides[d]
                d += 1
            case .slice(let s):
                guard d < ndim else { throw GyreArraysError(.indexOutOfRange, "too many indices for an array of \(ndim) dimensions") }
                let r = try s.resolve(extent: shape[d])
                if r.count > 0 { off += r.start * strides[d] }
                newShape.append(r.count)
                newStrides.append(strides[d] * r.step)
                d += 1
            }
        }
        while d < ndim {
            newShape.append(shape[d]); newStrides.append(strides[d]); d += 1
        }
        return NDArray(storage: _storage, shape: newShape, strides: newStrides, offset: off)
    }

    /// A view sliced along one axis.
    public func slice(axis: Int, _ s: Slice) throws -> NDArray {
        let a = try _normalizeAxis(axis)
        var items = [AxisIndex](repeating: .slice(.all), count: a)
        items.append(.slice(s))
        return try index(items)
    }

    /// A view with the axes permuted; `axes` nil reverses them (NumPy's `.T`).
    public func transposed(_ axes: [Int]? = nil) throws -> NDArray {
        let perm = try axes.map { try $0.map { try _normalizeAxis($0) } } ?? Array((0..<ndim).reversed())
        guard perm.count == ndim, Set(perm).count == ndim else {
            throw GyreArraysError(.invalidAxis, "axes \(axes ?? []) are not a permutation of \(ndim) dimensions")
        }
        return NDArray(storage: _storage, shape: perm.map { shape[$0] }, strides: perm.map { strides[$0] }, offset: offset)
    }

    /// A view with two axes swapped.
    public func swappingAxes(_ a: Int, _ b: Int) throws -> NDArray {
        var perm = Array(0..<ndim)
        perm.swapAt(try _normalizeAxis(a), try _normalizeAxis(b))
        return try transposed(perm)
    }

    /// A view of this array broadcast to `target` by NumPy's rules (align trailing dimensions,
    /// extent-1 dimensions stretch with stride 0).
    public func broadcast(to target: [Int]) throws -> NDArray {
        guard target.count >= ndim else {
            throw GyreArraysError(.shapeMismatch, "cannot broadcast shape \(shape) to \(target)")
        }
        let lead = target.count - ndim
        var st = [Int](repeating: 0, count: target.count)
        for d in 0..<ndim {
            if shape[d] == target[lead + d] {
                st[lead + d] = shape[d] == 1 ? 0 : strides[d]
            } else if shape[d] == 1 {
                st[lead + d] = 0
            } else {
                throw GyreArraysError(.shapeMismatch, "cannot broadcast shape \(shape) to \(target)")
            }
        }
        return NDArray(storage: _storage, shape: target, strides: st, offset: offset)
    }

    /// The array with a new shape of the same size. A view when the layout allows (always for
    /// contiguous data); otherwise a C-order copy. One extent may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) throws -> NDArray {
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw GyreArraysError(.shapeMismatch, "invalid shape \(newShape)")
        }
        if let u = unknown.first {
            let known = target.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw GyreArraysError(.shapeMismatch, "cannot reshape array of size \(count) into shape \(newShape)")
            }
            target[u] = count / known
        }
        guard NDArray.count(of: target) == count else {
            throw GyreArraysError(.shapeMismatch, "cannot reshape array of size \(count) into shape \(newShape)")
        }
        if isContiguous {
            return NDArray(storage: _storage, shape: target, strides: NDArray.contiguousStrides(target), offset: offset)
        }
        let c = contiguous()
        return NDArray(storage: c._storage, shape: target, strides: NDArray.contiguousStrides(target), offset: c.offset)
    }

    /// A view with a new axis of extent 1 at `axis` (which may equal `ndim`).
    public func expandingDims(at axis: Int) throws -> NDArray {
        let a = axis < 0 ? axis + ndim + 1 : axis
        guard a >= 0 && a <= ndim else {
            throw GyreArraysError(.invalidAxis, "axis \(axis) is out of range for inserting into \(ndim) dimensions")
        }
        var sh = shape, st = strides
        sh.insert(1, at: a); st.insert(0, at: a)
        return NDArray(storage: _storage, shape: sh, strides: st, offset: offset)
    }

    /// A view without the given extent-1 axes (all extent-1 axes when nil).
    public func squeezed(axes: [Int]? = nil) throws -> NDArray {
        let drop: Set<Int>
        if let axes {
            let norm = try axes.map { try _normalizeAxis($0) }
            for a in norm where shape[a] != 1 {
                throw GyreArraysError(.invalidAxis, "cannot squeeze axis \(a) of extent \(shape[a])")
            }
            drop = Set(norm)
        } else {
            drop = Set(shape.indices.filter { shape[$0] == 1 })
        }
        let keep = shape.indices.filter { !drop.contains($0) }
        return NDArray(storage: _storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// A view reversed along one axis.
    public func flipped(axis: Int) throws -> NDArray { try slice(axis: axis, Slice(step: -1)) }

    /// Elements picked by integer positions along one axis (NumPy's `take`); copies.
    public func take(_ positions: [Int], axis: Int) throws -> NDArray {
        let a = try _normalizeAxis(axis)
        let n = shape[a]
        let pos = try positions.map { p -> Int in
            let q = p < 0 ? p + n : p
            guard q >= 0 && q < n else {
                throw GyreArraysError(.indexOutOfRange, "index \(p) is out of range for axis \(a) of extent \(n)")
            }
            return q
        }
        let perm = [a] + (0..<ndim).filter { $0 != a }
        let moved = try transposed(perm)
        let rest = Array(moved.shape.dropFirst())
        let src = _storage.base
        var subs: [NDArray] = []
        subs.reserveCapacity(pos.count)
        for q in pos { subs.append(try moved.index([.at(q)])) }
        let gathered = NDArray(shape: [pos.count] + rest) { dst in
            var k = 0
            for sub in subs {
                _forEachRow(shape: sub.shape, strides: [sub.strides], offsets: [sub.offset]) { offs, n, st in
                    var p = offs[0]
                    for _ in 0..<n {
                        (dst.baseAddress! + k).initialize(to: src[p])
                        k += 1
                        p += st[0]
                    }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: ndim)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return try gathered.transposed(inverse)
    }

    /// Number of bytes the elements would take in a contiguous buffer.
    public var nbytes: Int { count * MemoryLayout<Element>.stride }
}

/// The shape two shapes broadcast to by NumPy's rules.
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else {
            throw GyreArraysError(.shapeMismatch, "shapes \(a) and \(b) cannot be broadcast together")
        }
    }
    return out
}
