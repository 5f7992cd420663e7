import GyreCore
import Foundation
import GyreArrays

/// A reduction over some axes of a lazy array, optionally by groups along one axis (groupby,
/// resample). Reading a block streams the matching part of the input in tasks of whole source
/// chunks, at most `threads` at once, combining partial states as a tree (create / combine /
/// finalize); median and quantile, which need every value at once, gather one output block at
/// a time instead.
package struct ReductionSource: LazyNode {
    /// Groups along one input axis: `labels[i]` is the group of position i (-1: in no group).
    /// The axis stays in the output with one entry per group.
    package struct Groups: Sendable {
        package let axis: Int
        package let labels: [Int]
        package let count: Int
        package init(axis: Int, labels: [Int], count: Int) {
            self.axis = axis
            self.labels = labels
            self.count = count
        }
    }

    package let input: LazyArray
    /// Input axes reduced (with groups: exactly the group axis).
    package let axes: [Int]
    package let reduction: Reduction
    package let skipna: Bool?
    package let groups: Groups?
    /// Weights broadcast against the input (axes are input axes): `sum` gives Σ w·x and `mean`
    /// Σ w·x / Σ w over the values that are not NaN (xarray's `weighted`).
    package let weights: ElementwiseOperand?
    package let shape: [Int]
    package let dtype: DType
    let reducer: Reducer?

    package init(_ input: LazyArray, axes: [Int], reduction: Reduction, skipna: Bool?, groups: Groups? = nil,
                weights: ElementwiseOperand? = nil) throws {
        let name = input.sourceName
        if let w = weights {
            guard reduction == .sum || reduction == .mean, input.dtype.isNumeric, w.dtype.isNumeric else {
                throw GyreComputeError(.invalidArgument, "\(name): weighted \(reduction) is not defined (weighted sum and mean of numbers are)")
            }
            guard w.axes.count == w.shape.count, w.axes == w.axes.sorted(),
                  zip(w.axes, w.shape).allSatisfy({ $0 < input.ndim && ($1 == 1 || $1 == input.shape[$0]) }) else {
                throw GyreComputeError(.invalidArgument, "\(name): weights of shape \(w.shape) do not broadcast against \(input.shape)")
            }
        }
        self.weights = weights
        guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<input.ndim).contains($0) }) else {
            throw GyreComputeError(.invalidArgument, "\(name): cannot reduce axes \(axes) of an array of \(input.ndim) dimensions")
        }
        if let g = groups {
            guard axes == [g.axis], g.labels.count == input.shape[g.axis], g.labels.allSatisfy({ $0 >= -1 && $0 < g.count }) else {
                throw GyreComputeError(.invalidArgument, "\(name): group labels do not fit axis \(g.axis)")
            }
        }
        self.input = input
        self.axes = axes.sorted()
        self.reduction = reduction
        self.skipna = skipna
        self.groups = groups
        do {
            var r = reduction.isDecomposable ? try Reducer(reduction, skipna: skipna, dtype: input.dtype) : nil
            if let w = weights {
                // Weighted results are float, promoted with the weights' type.
                r?.resultDType = DType.promote(input.dtype, w.dtype)?.nanPromoted == .float32 ? .float32 : .float64
            }
            reducer = r
            dtype = try reducer?.resultDType ?? reduction.resultDType(for: input.dtype)
        } catch let e as GyreComputeError { throw e } catch {
            throw GyreComputeError(.invalidArgument, "\(reduction) of \(name) (\(input.dtype)): \(error)")
        }
        var s: [Int] = []
        for a in 0..<input.ndim {
            if let g = groups, a == g.axis { s.append(g.count) } else if !axes.contains(a) { s.append(input.shape[a]) }
        }
        shape = s
    }

    /// Input axis of each output axis.
    var inputAxisOfOutput: [Int] {
        (0..<input.ndim).filter { a in groups?.axis == a || !axes.contains(a) }
    }

    package var sourceName: String { input.sourceName }
    package var inputs: [LazyArray] {
        if let w = weights, case .lazy(let l) = w.data { return [input, l] }
        return [input]
    }
    package var streamsInputs: Bool { true }
    package var label: String {
        let what = weights == nil ? "\(reduction)" : "weighted \(reduction)"
        return groups == nil ? "\(what) over axes \(axes)" : "\(what) by \(groups!.count) groups along axis \(groups!.axis)"
    }
    package var chunks: [[Int]] {
        let c = input.chunks
        return inputAxisOfOutput.map { a in groups?.axis == a ? [groups!.count] : c[a] }
    }

    package func withInputs(_ inputs: [LazyArray]) throws -> any LazyNode {
        var it = inputs.makeIterator()
        let x = it.next()!
        var w = weights
        if let old = weights, case .lazy = old.data { w = ElementwiseOperand(.lazy(it.next()!), axes: old.axes) }
        return try ReductionSource(x, axes: axes, reduction: reduction, skipna: skipna, groups: groups, weights: w)
    }

    /// The input box a block of the output reads (positions of the requested groups).
    package func inputBoxes(_ box: Box) -> [Box?] {
        guard !box.contains(where: \.isEmpty) else { return [nil] }
        var inBox = input.fullBox
        for (j, a) in inputAxisOfOutput.enumerated() {
            if let g = groups, a == g.axis {
                let wanted = Set(box[j])
                let ps = g.labels.indices.filter { wanted.contains(g.labels[$0]) }
                guard let lo = ps.first, let hi = ps.last else { return inputs.map { _ in nil } }
                inBox[a] = lo..<(hi + 1)
            } else {
                inBox[a] = box[j]
            }
        }
        guard let w = weights, case .lazy = w.data else { return [inBox] }
        return [inBox, zip(w.axes, w.shape).map { a, n in n == 1 ? 0..<1 : inBox[a] }]
    }

    func fail(_ why: String) -> GyreComputeError { GyreComputeError(.invalidArgument, "\(reduction) of \(sourceName): \(why)") }

    package func read(region: [Slice]) async throws -> AnyNDArray {
        guard region.count == shape.count else { throw fail("\(region.count) slices for \(shape.count) dimensions") }
        let resolved: [(start: Int, count: Int, step: Int)]
        do { resolved = try zip(region, shape).map { try $0.resolve(extent: $1) } } catch { throw fail("\(error)") }
        let outShape = resolved.map(\.count)
        if outShape.contains(0) { return try AnyNDArray.uninitialized(outShape, dtype: dtype) }
        // The input seen through the region: kept axes selected, the rest whole (for groups,
        // the span of the requested groups' positions).
        let outAxes = inputAxisOfOutput
        var items = [AxisIndex](repeating: .slice(.all), count: input.ndim)
        var groupPosition: [Int: Int] = [:]   // group -> position in the output block
        var groupLabels: [Int] = []             // labels along the sub-array's group axis
        for (j, a) in outAxes.enumerated() {
            if let g = groups, a == g.axis {
                for k in 0..<resolved[j].count { groupPosition[resolved[j].start + k * resolved[j].step] = k }
                let ps = g.labels.indices.filter { groupPosition[g.labels[$0]] != nil }
                guard let lo = ps.first, let hi = ps.last else {
                    return try emptyResult(shape: outShape)
                }
                items[a] = .slice(Slice(lo, hi + 1))
                groupLabels = Array(g.labels[lo...hi])
            } else {
                items[a] = .slice(region[j])
            }
        }
        let sub = try input.index(items)
        let reducedAxes = axes
        let options = ComputeOptions.current
        let layout = try StreamingLayout(sub, reduced: Set(reducedAxes), gather: reducer == nil, stateBytes: stateBytesPerOutput,
                                         outputBytes: outShape.reduce(1, *) * Swift.max(dtype.itemSize, 1), options: options, what: label)
        // Results are placed in a buffer of a fixed-layout dtype (booleans as bytes, calendar
        // times as their ticks).
        let placeDType: DType
        switch dtype {
        case .bool: placeDType = .uint8
        case .cftime: placeDType = .int64
        default:
            guard dtype.hasFixedLayout else { throw fail("results of dtype \(dtype) cannot be computed lazily; load() first") }
            placeDType = dtype
        }
        let out = try AnyNDArray.uninitialized(outShape, dtype: placeDType)
        let dst = ReadDestination(base: out.unsafeRawBase, shape: outShape, strides: NDArray<UInt8>.contiguousStrides(outShape), dtype: placeDType)
        let keptInputAxes = (0..<input.ndim).filter { !reducedAxes.contains($0) }
        let groupOutAxis = groups.map { g in outAxes.firstIndex(of: g.axis)! }

        /// Places one finished output block (the state of group `g`, or the only state).
        func place(_ value: AnyNDArray, keptTile: Box, group: Int?) throws {
            var origin: [Int] = [], shape: [Int] = []
            var v: AnyNDArray
            switch value {
            case .cftime(let t, _): v = .int64(t)
            case .bool: v = try value.astype(.uint8)
            default: v = value
            }
            var keptIt = keptInputAxes.makeIterator()
            for (j, a) in outAxes.enumerated() {
                if let gax = groupOutAxis, j == gax {
                    origin.append(groupPosition[group!]!); shape.append(1)
                    do { v = try v.expandingDims(at: j) } catch { throw fail("\(error)") }
                } else {
                    _ = keptIt.next()
                    let r = keptTile[a]
                    origin.append(r.lowerBound); shape.append(r.count)
                }
            }
            do { try dst.block(origin: origin, shape: shape).copy(from: v) } catch { throw fail("\(error)") }
        }

        let progress = options.progress
        let keptTiles = layout.boxes(keptInputAxes)
        let reducedTiles = layout.boxes(reducedAxes)
        let inputItem = Swift.max(sub.dtype.itemSize, 1)
        if let reducer {
            let total = keptTiles.count * reducedTiles.count
            progress?.addTasks(total)
            // Per output block: results waiting for their turn, and the combiners fed in order.
            var pending: [Int: [Int: [Int: ReductionState]]] = [:]
            var nextSeq = [Int](repeating: 0, count: keptTiles.count)
            // One tree per requested group (0 without groups) from the first task on.
            let requested = groups == nil ? [0] : Array(groupPosition.keys)
            var combiners = [[Int: TreeCombiner]](repeating: Dictionary(uniqueKeysWithValues: requested.map { ($0, TreeCombiner()) }),
                                                  count: keptTiles.count)
            let groupsHere = groupLabels
            let hasGroups = groups != nil
            let weightsHere = weights
            if weights != nil && hasGroups { throw fail("weighted group reductions are not supported") }
            let subOrigin = try zip(items, input.shape).map { item, n -> Int in
                guard case .slice(let s) = item else { return 0 }
                let r = try s.resolve(extent: n)
                guard r.step == 1 || r.count <= 1 || weights == nil else { throw fail("weighted reductions read with steps are not supported") }
                return r.start
            }
            try await Bounded.forEach(count: total, limit: layout.concurrency, { k in
                let box = Self.taskBox(keptTiles[k / reducedTiles.count], reducedTiles[k % reducedTiles.count])
                let bytes = box.elementCount * layout.bytesPerElement
                progress?.reserve(bytes)
                defer { progress?.release(bytes) }
                let states = try await taskStates(sub, box: box, reducer: reducer, groupLabels: groupsHere, subOrigin: subOrigin, options: options)
                progress?.taskDone(bytesRead: box.elementCount * inputItem)
                return states
            }, consume: { k, states in
                let ob = k / reducedTiles.count, seq = k % reducedTiles.count
                pending[ob, default: [:]][seq] = states
                while let ready = pending[ob]?[nextSeq[ob]] {
                    pending[ob]![nextSeq[ob]] = nil
                    nextSeq[ob] += 1
                    // Every group takes each task's place in its tree, present or not.
                    for g in requested { try combiners[ob][g]!.add(ready[g], reducer.combine) }
                }
                guard nextSeq[ob] == reducedTiles.count else { return }
                pending[ob] = nil
                let tile = keptTiles[ob]
                if hasGroups {
                    for g in groupPosition.keys {
                        if let s = try combiners[ob][g]?.result(reducer.combine) {
                            try place(try reducer.finalize(s), keptTile: tile, group: g)
                        } else {
                            try place(try emptyResult(shape: keptInputAxes.map { tile[$0].count }), keptTile: tile, group: g)
                        }
                    }
                } else if let s = try combiners[ob][0]?.result(reducer.combine) {
                    try place(try reducer.finalize(s), keptTile: tile, group: nil)
                }
                combiners[ob] = [:]
            })
        } else {
            // Gather: each output block reads everything it reduces, then reduces it at once.
            progress?.addTasks(keptTiles.count)
            let groupsHere = groupLabels
            let hasGroups = groups != nil
            let full = Self.taskBox(keptTiles[0], reducedTiles[0])
            try await Bounded.forEach(count: keptTiles.count, limit: layout.concurrency, { k in
                var box = full
                for a in keptInputAxes { box[a] = keptTiles[k][a] }
                let bytes = box.elementCount * layout.bytesPerElement
                progress?.reserve(bytes)
                defer { progress?.release(bytes) }
                let block = try await sub.read(box.slices)
                var values: [Int: AnyNDArray] = [:]
                do {
                    if hasGroups {
                        let gax = reducedAxes[0]
                        var byGroup: [Int: [Int]] = [:]
                        for (i, l) in groupsHere.enumerated() where l >= 0 { byGroup[l, default: []].append(i) }
                        for (g, ps) in byGroup {
                            values[g] = try reduction.apply(try block.take(ps, axis: gax), axes: reducedAxes, skipna: skipna)
                        }
                    } else {
                        values[0] = try reduction.apply(block, axes: reducedAxes, skipna: skipna)
                    }
                } catch { throw GyreComputeError(.invalidArgument, "\(reduction) of \(sourceName): \(error)") }
                progress?.taskDone(bytesRead: box.elementCount * inputItem)
                return values
            }, consume: { k, values in
                if hasGroups {
                    for g in groupPosition.keys {
                        if let v = values[g] { try place(v, keptTile: keptTiles[k], group: g) } else {
                            try place(try emptyResult(shape: keptInputAxes.map { keptTiles[k][$0].count }), keptTile: keptTiles[k], group: g)
                        }
                    }
                } else {
                    try place(values[0]!, keptTile: keptTiles[k], group: nil)
                }
            })
        }
        withExtendedLifetime(out) {}
        switch (dtype, out) {
        case (.bool, _): return try out.astype(.bool)
        case (.cftime(let c), .int64(let t)): return .cftime(t, c)
        default: return out
        }
    }

    /// The partial states (by group; 0 without groups) of one task's box of `sub` (the input
    /// seen through a block's selection, starting at `subOrigin` of the input; `groupLabels`
    /// along its group axis). This is one streaming task, locally or on a Dask worker.
    func taskStates(_ sub: LazyArray, box: Box, reducer: Reducer, groupLabels groupsHere: [Int], subOrigin: [Int],
                    options: ComputeOptions) async throws -> [Int: ReductionState] {
        let reducedAxes = axes
        let keptInputAxes = (0..<input.ndim).filter { !reducedAxes.contains($0) }
        let inputItem = Swift.max(sub.dtype.itemSize, 1)
        let weightsHere = weights
        let hasGroups = groups != nil
        // Slab by slab along the first axis (a chunk's stored bytes and one slab in
        // memory, not the decoded chunk): where that axis is kept the slabs' states line
        // up; where it is reduced, sums add into one state in place, and other states
        // are combined per slab only when they are small beside a slab (per-slab map-sized
        // states and their combines cost more than the memory saved: measured, a time
        // mean twice as slow).
        var states: [Int: ReductionState] = [:]
        var lined: [Int: [ReductionState]] = [:]
        var sums: [Int: PartialSumAccumulator] = [:]
        let fresh = weightsHere == nil ? reducer.accumulator(axes: reducedAxes) : nil
        let lineUp = !box.isEmpty && !reducedAxes.contains(0)
        let stateElements = keptInputAxes.reduce(1) { $0 * box[$1].count }
        let slabElements = options.slabBytes / Swift.max(inputItem, 1)
        let slabbed = !box.isEmpty && (lineUp || fresh != nil || stateElements * 64 <= slabElements)
        try await sub.readSlabs(box.slices, maxBytes: slabbed ? options.slabBytes : Int.max) { block, offset in
            var box = box
            if !box.isEmpty { box[0] = (box[0].lowerBound + offset)..<(box[0].lowerBound + offset + block.shape[0]) }
            var here: [Int: ReductionState] = [:]
            /// Folds one part of the block into group `g`'s state.
            func fold(_ part: AnyNDArray, _ g: Int) throws {
                if !lineUp, let fresh {
                    var acc = sums[g] ?? fresh
                    try acc.add(part)
                    sums[g] = acc
                } else {
                    let s = try reducer.create(part, axes: reducedAxes)
                    here[g] = try here[g].map { try reducer.combine($0, s) } ?? s
                }
            }
            if let w = weightsHere {
                here[0] = try Self.weightedState(block, try await Self.readWeights(w, box: box, offsets: subOrigin, shape: block.shape), axes: reducedAxes)
            } else if hasGroups {
                let gax = reducedAxes[0]
                var runStart = box[gax].lowerBound
                while runStart < box[gax].upperBound {
                    let label = groupsHere[runStart]
                    var runEnd = runStart + 1
                    while runEnd < box[gax].upperBound && groupsHere[runEnd] == label { runEnd += 1 }
                    if label >= 0 {
                        var it = [AxisIndex](repeating: .slice(.all), count: block.ndim)
                        it[gax] = .slice(Slice(runStart - box[gax].lowerBound, runEnd - box[gax].lowerBound))
                        try fold(try block.index(it), label)
                    }
                    runStart = runEnd
                }
            } else {
                try fold(block, 0)
            }
            for (g, s) in here {
                if lineUp { lined[g, default: []].append(s) } else { states[g] = try states[g].map { try reducer.combine($0, s) } ?? s }
            }
        }
        for (g, acc) in sums { states[g] = reducer.state(of: acc) }
        for (g, parts) in lined { states[g] = try Self.lineUp(parts) }
        for (g, acc) in sums { states[g] = reducer.state(of: acc) }
        for (g, parts) in lined { states[g] = try Self.lineUp(parts) }
        return states
    }
    /// Partial states of consecutive slabs along the first output axis, as one state.
    static func lineUp(_ parts: [ReductionState]) throws -> ReductionState {
        guard parts.count > 1 else { return parts[0] }
        do {
            return ReductionState(parts: try parts[0].parts.indices.map { i in try AnyNDArray.concatenate(parts.map { $0.parts[i] }, axis: 0) })
        } catch { throw GyreComputeError(.invalidArgument, "joining slab states: \(error)", cause: error) }
    }

    /// Reads the weights for a task's box (given in the coordinates of the input selection
    /// that starts at `offsets`), with the block's rank.
    static func readWeights(_ w: ElementwiseOperand, box: Box, offsets: [Int], shape: [Int]) async throws -> AnyNDArray {
        let region = zip(w.axes, w.shape).map { a, n in
            n == 1 ? Slice(0, 1) : Slice(box[a].lowerBound + offsets[a], box[a].upperBound + offsets[a])
        }
        var b: AnyNDArray
        switch w.data {
        case .lazy(let l): b = try await l.read(region)
        case .eager(let e): b = try e.index(region.map { .slice($0) })
        }
        var full = [Int](repeating: 1, count: shape.count)
        for (i, a) in w.axes.enumerated() { full[a] = b.shape[i] }
        // Left at extent 1 where they broadcast: the kernel walks them with zero strides.
        return try b.reshaped(full)
    }

    /// Σ w·x and Σ w over the values of x that are not NaN.
    static func weightedState(_ x: AnyNDArray, _ w: AnyNDArray, axes: [Int]) throws -> ReductionState {
        let (s1, s2) = try x.weightedPartialSums(w, axes: axes)
        return ReductionState(parts: [.float64(s1), .float64(s2)])
    }

    /// Bytes of partial state per output element.
    var stateBytesPerOutput: Int {
        guard let reducer else { return Swift.max(dtype.itemSize, 1) }
        if reducer.usesMoments { if case .std = reduction { return 24 }; if case .variance = reduction { return 24 }; return 16 }
        return Swift.max(dtype.itemSize, 1) * 2
    }

    /// A box of the input from a kept tile and a reduced tile (each whole-array boxes with
    /// the other axes full).
    static func taskBox(_ kept: Box, _ reduced: Box) -> Box {
        zip(kept, reduced).map { k, r in Swift.max(k.lowerBound, r.lowerBound)..<Swift.min(k.upperBound, r.upperBound) }
    }

    /// What a group with no members gives (resample bins with no data): the reduction of
    /// nothing where it is defined (0 for sums and counts, 1 for products), NaN otherwise.
    func emptyResult(shape: [Int]) throws -> AnyNDArray {
        switch reduction {
        case .sum, .count, .prod: return try AnyNDArray.full(shape, .int(reduction == .prod ? 1 : 0), dtype: dtype)
        default:
            guard dtype.isFloatingPoint else { throw fail("a group has no values and \(reduction) of \(dtype) has no value for that") }
            return try AnyNDArray.full(shape, .double(.nan), dtype: dtype)
        }
    }
}

/// How a streaming computation cuts an array into tasks: whole source chunks, several together
/// up to the task size, and how many tasks run at once, so the predicted peak fits the budget.
struct StreamingLayout {
    /// Per axis, the ranges tasks cover.
    var tiles: [[Range<Int>]]
    var concurrency: Int
    /// Bytes held per element of a task's block (the read values and every intermediate).
    let bytesPerElement: Int
    /// Predicted peak bytes.
    var predictedPeak: Int

    init(_ array: LazyArray, reduced: Set<Int>, gather: Bool, stateBytes: Int, outputBytes: Int,
         options: ComputeOptions, what: String) throws {
        let chunks = array.chunks
        let shape = array.shape
        let bytesPerElement = Planner.bytesPerElement(array)
        self.bytesPerElement = bytesPerElement
        let scratch = Planner.decodeScratchBytes(array)
        var factor = [Int](repeating: 1, count: shape.count)
        func runs(_ a: Int) -> [Range<Int>] {
            var out: [Range<Int>] = [], at = 0
            for c in chunks[a] where c > 0 { out.append(at..<(at + c)); at += c }
            return out.isEmpty ? [0..<shape[a]] : out
        }
        var base = shape.indices.map(runs)
        if gather { for a in reduced { base[a] = [0..<shape[a]] } }
        func merged(_ f: [Int]) -> [[Range<Int>]] {
            base.indices.map { a in
                stride(from: 0, to: base[a].count, by: f[a]).map { i in
                    base[a][i].lowerBound..<base[a][Swift.min(i + f[a], base[a].count) - 1].upperBound
                }
            }
        }
        func largest(_ t: [[Range<Int>]]) -> Int { t.reduce(1) { $0 * ($1.map(\.count).max() ?? 0) } }
        // Merge chunks up to the task size: reduced axes first (fewer partial states), then the
        // kept ones from the innermost out.
        let order = shape.indices.filter { reduced.contains($0) } + shape.indices.filter { !reduced.contains($0) }.reversed()
        for a in order {
            while factor[a] < base[a].count {
                var f = factor
                f[a] *= 2
                if largest(merged(f)) * bytesPerElement > options.taskBytes { break }
                factor = f
            }
        }
        var tiles = merged(factor)
        var concurrency = Swift.max(1, options.threads)
        let totalTasks = tiles.reduce(1) { $0 * $1.count }
        // Stored bytes a task's read holds in flight besides the decoded block (at most the
        // block's own size, at most the read limit).
        let inFlight = Planner.readLimit(options)
        func peak() -> Int {
            let block = largest(tiles) * bytesPerElement
            let task = block + scratch + Swift.min(block, inFlight)
            var outBlock = 1
            for a in shape.indices where !reduced.contains(a) { outBlock *= tiles[a].map(\.count).max() ?? 0 }
            let live = Swift.min(concurrency, totalTasks) + 2 + Int(log2(Double(Swift.max(totalTasks, 1))))
            return Swift.min(concurrency, totalTasks) * task + live * outBlock * stateBytes + outputBytes
        }
        var predictedPeak = peak()
        if let budget = options.memoryBudget, predictedPeak > budget {
        // Over budget: single chunks, then fewer tasks at once, then pieces of chunks along
        // the kept axes (each still decodes its whole chunk once).
        factor = [Int](repeating: 1, count: shape.count)
        tiles = merged(factor)
        predictedPeak = peak()
        while predictedPeak > budget && concurrency > 1 { concurrency -= 1; predictedPeak = peak() }
        while predictedPeak > budget {
            guard let a = shape.indices.filter({ !reduced.contains($0) || !gather }).max(by: {
                (tiles[$0].map(\.count).max() ?? 0) < (tiles[$1].map(\.count).max() ?? 0) }),
                  let widest = tiles[a].map(\.count).max(), widest > 1 else {
                throw GyreComputeError(.invalidArgument,
                    "\(what) of \(array.sourceName) needs about \(Planner.formatBytes(predictedPeak)) (one task holds \(Planner.formatBytes(largest(tiles) * bytesPerElement + scratch)), the result \(Planner.formatBytes(outputBytes))) but the memory budget is \(Planner.formatBytes(budget)); nothing was read")
            }
            tiles[a] = tiles[a].flatMap { r -> [Range<Int>] in
                guard r.count > 1 else { return [r] }
                let mid = r.lowerBound + r.count / 2
                return [r.lowerBound..<mid, mid..<r.upperBound]
            }
            predictedPeak = peak()
        }
        }
        self.tiles = tiles
        self.concurrency = concurrency
        self.predictedPeak = predictedPeak
    }

    var taskCount: Int { tiles.reduce(1) { $0 * $1.count } }

    /// Every combination of tiles along `axes`, other axes whole, as boxes.
    func boxes(_ axes: [Int]) -> [Box] {
        var out: [Box] = [tiles.map { ($0.first?.lowerBound ?? 0)..<($0.last?.upperBound ?? 0) }]
        for a in axes {
            out = out.flatMap { b in tiles[a].map { r in var c = b; c[a] = r; return c } }
        }
        return out
    }
}
