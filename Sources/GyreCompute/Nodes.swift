import GyreCore
import GyreArrays

/// A node of the expression tree that computes from other lazy arrays (elementwise maps,
/// reductions). Leaves are plain chunked sources (a Zarr array, a netCDF variable). The planner
/// walks nodes through this protocol: it can swap inputs, follow which block of each input a
/// read needs, and compute a node once when it would otherwise be computed many times.
package protocol LazyNode: ChunkedArraySource {
    var inputs: [LazyArray] { get }
    /// The node with its inputs replaced by equivalent ones (same shapes and dtypes).
    func withInputs(_ inputs: [LazyArray]) throws -> any LazyNode
    /// For reading `box` of this node, the bounding box of each input that is read (nil when
    /// that input is not read at all).
    func inputBoxes(_ box: Box) -> [Box?]
    /// Whether reading the node reads its inputs piece by piece (a reduction streams them).
    var streamsInputs: Bool { get }
    /// One line for plans: what the node does.
    var label: String { get }
}

/// One operand of an elementwise node: a lazy array or values in memory, whose axes map onto
/// the node's axes in increasing order (`axes[i]` is the node axis of operand axis i); node
/// axes it lacks, or where it has length 1, are broadcast.
package struct ElementwiseOperand: Sendable {
    package enum Data: Sendable {
        case lazy(LazyArray)
        case eager(AnyNDArray)
    }
    package let data: Data
    package let axes: [Int]
    package init(_ data: Data, axes: [Int]) {
        self.data = data
        self.axes = axes
    }
    var shape: [Int] {
        switch data { case .lazy(let l): return l.shape; case .eager(let a): return a.shape }
    }
    var dtype: DType {
        switch data { case .lazy(let l): return l.dtype; case .eager(let a): return a.dtype }
    }
}

/// An elementwise function of several operands, broadcast against each other. Reading a block
/// reads the matching block of every operand and applies the function: chains of these fuse
/// into one pass per block, and selections pass straight through to the sources.
package struct ElementwiseSource: LazyNode {
    package let operands: [ElementwiseOperand]
    package let shape: [Int]
    package let dtype: DType
    package let name: String
    /// Computes the result from the operands' blocks, each already broadcast to the block's shape.
    package let function: @Sendable ([AnyNDArray]) throws -> AnyNDArray

    package init(_ name: String, operands: [ElementwiseOperand], shape: [Int], dtype: DType,
                function: @escaping @Sendable ([AnyNDArray]) throws -> AnyNDArray) throws {
        for o in operands {
            guard o.axes.count == o.shape.count, o.axes == o.axes.sorted(), Set(o.axes).count == o.axes.count,
                  o.axes.allSatisfy({ (0..<shape.count).contains($0) }) else {
                throw GyreComputeError(.invalidArgument, "\(name): operand axes \(o.axes) do not fit \(shape.count) dimensions")
            }
            for (i, a) in o.axes.enumerated() where o.shape[i] != 1 && o.shape[i] != shape[a] {
                throw GyreComputeError(.invalidArgument, "\(name): an operand of length \(o.shape[i]) cannot broadcast to \(shape[a])")
            }
        }
        self.operands = operands
        self.shape = shape
        self.dtype = dtype
        self.name = name
        self.function = function
    }

    package var sourceName: String {
        let names = operands.compactMap { o -> String? in if case .lazy(let l) = o.data { return l.sourceName }; return nil }
        return names.first ?? name
    }
    package var label: String { name }
    package var streamsInputs: Bool { false }

    package var inputs: [LazyArray] {
        operands.compactMap { if case .lazy(let l) = $0.data { return l }; return nil }
    }

    package func withInputs(_ inputs: [LazyArray]) throws -> any LazyNode {
        var it = inputs.makeIterator()
        let ops = operands.map { o -> ElementwiseOperand in
            if case .lazy = o.data { return ElementwiseOperand(.lazy(it.next()!), axes: o.axes) }
            return o
        }
        return try ElementwiseSource(name, operands: ops, shape: shape, dtype: dtype, function: function)
    }

    /// The operand's box for a block of the node.
    func operandBox(_ o: ElementwiseOperand, _ box: Box) -> Box {
        zip(o.axes, o.shape).map { a, n in n == 1 && shape[a] != 1 ? 0..<1 : box[a] }
    }

    package func inputBoxes(_ box: Box) -> [Box?] {
        operands.compactMap { o -> Box? in
            guard case .lazy = o.data else { return nil }
            return box.contains(where: \.isEmpty) ? nil : operandBox(o, box)
        }
    }

    package var chunks: [[Int]] {
        shape.indices.map { a in
            for o in operands {
                guard case .lazy(let l) = o.data, let i = o.axes.firstIndex(of: a), o.shape[i] == shape[a] else { continue }
                return l.chunks[i]
            }
            return [shape[a]]
        }
    }

    package func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == shape.count else {
            throw GyreComputeError(.invalidArgument, "\(name): \(region.count) slices for \(shape.count) dimensions")
        }
        let resolved: [(start: Int, count: Int, step: Int)]
        do { resolved = try zip(region, shape).map { try $0.resolve(extent: $1) } } catch {
            throw GyreComputeError(.invalidArgument, "\(name): \(error)")
        }
        let outShape = resolved.map(\.count)
        var blocks: [AnyNDArray] = []
        for o in operands {
            let sub = zip(o.axes, o.shape).map { a, n in n == 1 && shape[a] != 1 ? Slice(0, 1) : region[a] }
            var b: AnyNDArray
            switch o.data {
            case .lazy(let l): b = try await l.read(sub)
            case .eager(let e):
                do { b = try e.index(sub.map { .slice($0) }) } catch { throw GyreComputeError(.invalidArgument, "\(name): \(error)") }
            }
            // Lay the block out along the node's axes, then broadcast.
            var full = [Int](repeating: 1, count: shape.count)
            for (i, a) in o.axes.enumerated() { full[a] = b.shape[i] }
            do {
                if b.shape != full { b = try b.reshaped(full) }
                if b.shape != outShape { b = try b.broadcast(to: outShape) }
            } catch { throw GyreComputeError(.invalidArgument, "\(name): \(error)") }
            blocks.append(b)
        }
        do { return try function(blocks) } catch let e as GyreComputeError { throw e } catch {
            throw GyreComputeError(.invalidArgument, "\(name) on \(sourceName): \(error)", cause: error as? any Error & Sendable)
        }
    }
}

/// A block of a node's values computed ahead by the planner (a reduction that would otherwise
/// be recomputed for every block of what uses it). Reads must fall inside the block.
struct RegionCacheSource: ChunkedArraySource {
    let shape: [Int]
    let dtype: DType
    let chunks: [[Int]]
    let box: Box
    let values: AnyNDArray
    let sourceName: String

    func read(region: [Slice]) async throws -> AnyNDArray {
        var items: [AxisIndex] = []
        for (a, s) in region.enumerated() {
            let r: (start: Int, count: Int, step: Int)
            do { r = try s.resolve(extent: shape[a]) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
            if r.count == 0 { items.append(.slice(Slice(0, 0))); continue }
            let last = r.start + (r.count - 1) * r.step
            guard box[a].contains(r.start), box[a].contains(last) else {
                throw GyreComputeError(.invalidArgument, "internal: \(sourceName) was computed for \(box) but \(region) was read")
            }
            let lo = r.start - box[a].lowerBound, hi = last - box[a].lowerBound
            items.append(.slice(r.step > 0 ? Slice(lo, hi + 1, step: r.step) : Slice(lo, hi == 0 ? nil : hi - 1, step: r.step)))
        }
        do { return try values.index(items) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
    }
}

/// One axis of length n·k seen as two, (n, k): `coarsen` reduces the inner axis. A block of
/// the view reads the contiguous run of input positions under it.
package struct SplitAxisSource: LazyNode {
    package let input: LazyArray
    package let axis: Int
    package let window: Int
    package let shape: [Int]

    package init(_ input: LazyArray, axis: Int, window: Int) throws {
        guard (0..<input.ndim).contains(axis), window >= 1, input.shape[axis] % window == 0 else {
            throw GyreComputeError(.invalidArgument, "\(input.sourceName): axis \(axis) of length \(axis < input.ndim && axis >= 0 ? input.shape[axis] : 0) cannot split into windows of \(window)")
        }
        self.input = input
        self.axis = axis
        self.window = window
        var s = input.shape
        s[axis] /= window
        s.insert(window, at: axis + 1)
        shape = s
    }

    package var dtype: DType { input.dtype }
    package var sourceName: String { input.sourceName }
    package var inputs: [LazyArray] { [input] }
    package var streamsInputs: Bool { false }
    package var label: String { "axis \(axis) split into windows of \(window)" }
    package func withInputs(_ inputs: [LazyArray]) throws -> any LazyNode { try SplitAxisSource(inputs[0], axis: axis, window: window) }

    package var chunks: [[Int]] {
        var c = input.chunks
        // Outer chunks end where an input chunk ends (rounded up to a whole window).
        var ends: [Int] = [], pos = 0
        for n in c[axis] {
            pos += n
            let e = (pos + window - 1) / window
            if e > (ends.last ?? 0) { ends.append(e) }
        }
        var prev = 0
        let outer = ends.map { e -> Int in defer { prev = e }; return e - prev }
        c[axis] = outer.isEmpty ? [shape[axis]] : outer
        c.insert([window], at: axis + 1)
        return c
    }

    package func inputBoxes(_ box: Box) -> [Box?] {
        guard !box.contains(where: \.isEmpty) else { return [nil] }
        var b = box
        let o = box[axis], i = box[axis + 1]
        b.remove(at: axis + 1)
        b[axis] = (o.lowerBound * window + i.lowerBound)..<((o.upperBound - 1) * window + i.upperBound)
        return [b]
    }

    package func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == shape.count else { throw GyreComputeError(.invalidArgument, "\(sourceName): \(region.count) slices for \(shape.count) dimensions") }
        let outer: (start: Int, count: Int, step: Int)
        do { outer = try region[axis].resolve(extent: shape[axis]) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
        if outer.count == 0 || (try? region[axis + 1].resolve(extent: window).count) == 0 {
            var s = shape
            for (a, r) in region.enumerated() { s[a] = (try? r.resolve(extent: shape[a]).count) ?? 0 }
            return try AnyNDArray.uninitialized(s, dtype: dtype)
        }
        let last = outer.start + (outer.count - 1) * outer.step
        let lo = min(outer.start, last), hi = max(outer.start, last)
        var sub = region
        sub.remove(at: axis + 1)
        sub[axis] = Slice(lo * window, (hi + 1) * window)
        let block = try await input.read(sub)
        var split = block.shape
        split[axis] = hi - lo + 1
        split.insert(window, at: axis + 1)
        var items = [AxisIndex](repeating: .slice(.all), count: shape.count)
        let a = outer.start - lo, b = last - lo
        items[axis] = .slice(outer.step > 0 ? Slice(a, b + 1, step: outer.step) : Slice(a, b == 0 ? nil : b - 1, step: outer.step))
        items[axis + 1] = .slice(region[axis + 1])
        do { return try block.reshaped(split).index(items) } catch { throw GyreComputeError(.invalidArgument, "\(sourceName): \(error)") }
    }
}
