import GyreCore
import GyreArrays

/// The partial states of a reduction over a piece of its input: one state per group (key 0
/// without groups). What a partial task of a distributed run gives, and combine tasks combine.
package struct PartialStates: Sendable {
    var groups: [Int: ReductionState]
    init(groups: [Int: ReductionState]) { self.groups = groups }
}

/// A reduction of an expression tree that a distributed run computes as a stage of its own
/// (partial states over pieces of its input, combined, finalized), before what reads it.
package struct Stage: Sendable {
    /// The node, with the stages inside its input as they are in the tree.
    package let node: ReductionSource
    /// The stages inside its input (their values are what its tasks need).
    package let inside: [Int]
}

extension LazyArray {
    /// The reductions of the tree, numbered in post-order (a reduction's input before the
    /// reduction): the stages of a distributed run. A reduction used twice counts twice.
    package func reductionStages() -> [Stage] {
        var stages: [Stage] = []
        _ = collectStages(&stages)
        return stages
    }

    /// Adds the stages under and at this array; returns the indices it added.
    private func collectStages(_ stages: inout [Stage]) -> [Int] {
        guard let node = source as? any LazyNode else { return [] }
        var inside: [Int] = []
        for i in node.inputs { inside += i.collectStages(&stages) }
        guard let r = node as? ReductionSource else { return inside }
        stages.append(Stage(node: r, inside: inside))
        return inside + [stages.count - 1]
    }

    /// The tree with the stages in `values` replaced by their values (each the whole output of
    /// its reduction), and stage `capture`'s node as it reads then (its input's stages
    /// replaced). Stages keep the numbers `reductionStages` gives.
    package func substitutingStages(_ values: [Int: AnyNDArray], capture: Int? = nil) throws -> (array: LazyArray, captured: ReductionSource?) {
        var counter = 0
        var captured: ReductionSource?
        let out = try substitute(values, counter: &counter, capture: capture, captured: &captured)
        return (out, captured)
    }

    private func substitute(_ values: [Int: AnyNDArray], counter: inout Int, capture: Int?, captured: inout ReductionSource?) throws -> LazyArray {
        guard let node = source as? any LazyNode else { return self }
        var inputs: [LazyArray] = []
        for i in node.inputs { inputs.append(try i.substitute(values, counter: &counter, capture: capture, captured: &captured)) }
        let rebuilt = try node.withInputs(inputs)
        guard let r = rebuilt as? ReductionSource else { return withSource(rebuilt) }
        let index = counter
        counter += 1
        if index == capture { captured = r }
        guard let v = values[index] else { return withSource(rebuilt) }
        guard v.shape == r.shape else {
            throw GyreComputeError(.invalidArgument, "stage \(index) (\(r.label) of \(r.sourceName)) has shape \(r.shape) but its values have \(v.shape)")
        }
        return withSource(RegionCacheSource(shape: r.shape, dtype: r.dtype, chunks: r.chunks, box: r.shape.map { 0..<$0 }, values: v, sourceName: r.sourceName))
    }
}

extension LazyArray {
    /// For reading `box` of this array, the box of each stage's output that is read, for the
    /// stages read directly (not those inside another stage, which that stage's values
    /// replace). Stage numbers as `reductionStages` gives them.
    package func stageBoxesRead(_ box: Box) -> [Int: Box] {
        var counter = 0
        var out: [Int: Box] = [:]
        stageBoxes(box, counter: &counter, into: &out)
        return out
    }

    private func stageBoxes(_ box: Box, counter: inout Int, into out: inout [Int: Box]) {
        guard let node = source as? any LazyNode else { return }
        let sbox = sourceBox(box)
        if node is ReductionSource {
            for i in node.inputs { counter += i.reductionStages().count }
            if !sbox.contains(where: \.isEmpty) {
                out[counter] = out[counter].map { zip($0, sbox).map { Swift.min($0.lowerBound, $1.lowerBound)..<Swift.max($0.upperBound, $1.upperBound) } } ?? sbox
            }
            counter += 1
            return
        }
        for (i, b) in zip(node.inputs, node.inputBoxes(sbox)) {
            if let b { i.stageBoxes(b, counter: &counter, into: &out) } else { counter += i.reductionStages().count }
        }
    }
}

extension ReductionSource {
    /// Whether the reduction splits into partial states (not median or quantile).
    package var isDecomposable: Bool { reducer != nil }

    /// The input as computing the whole reduction reads it: for groups, from the first to the
    /// last position in a group (with the labels along it and where it starts).
    package func stageInput() throws -> (input: LazyArray, labels: [Int], origin: [Int]) {
        var items = [AxisIndex](repeating: .slice(.all), count: input.ndim)
        var origin = [Int](repeating: 0, count: input.ndim)
        var labels: [Int] = []
        if let g = groups {
            let ps = g.labels.indices.filter { g.labels[$0] >= 0 }
            guard let lo = ps.first, let hi = ps.last else { return (input, [], origin) }
            items[g.axis] = .slice(Slice(lo, hi + 1))
            origin[g.axis] = lo
            labels = Array(g.labels[lo...hi])
        }
        return (try input.index(items), labels, origin)
    }

    /// How computing the whole reduction cuts it into tasks (output tiles of the kept axes,
    /// pieces along the reduced ones, in the stage input's coordinates): the same tiles as
    /// computing it in this process, so a distributed run makes the same states and combines
    /// them in the same order. At most `maxTasks` tiles: larger ones past that.
    package func stageTiles(options: ComputeOptions, maxTasks: Int) throws -> (kept: [Box], reduced: [Box]) {
        let sub = try stageInput().input
        var o = options
        o.memoryBudget = nil
        while true {
            let layout = try StreamingLayout(sub, reduced: Set(axes), gather: reducer == nil, stateBytes: stateBytesPerOutput,
                                             outputBytes: 0, options: o, what: label)
            let keptAxes = (0..<input.ndim).filter { !axes.contains($0) }
            if layout.taskCount <= maxTasks || o.taskBytes > Int.max / 4 {
                return (layout.boxes(keptAxes), layout.boxes(axes))
            }
            o.taskBytes *= 2
        }
    }

    /// The partial states of one piece (`box`, in the stage input's coordinates).
    package func partialStates(_ box: Box, options: ComputeOptions) async throws -> PartialStates {
        guard let reducer else { throw fail("\(reduction) has no partial states (it needs every value at once)") }
        let (sub, labels, origin) = try stageInput()
        guard box.count == sub.ndim, zip(box, sub.shape).allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= $1 }) else {
            throw fail("piece \(box) does not fit the input of shape \(sub.shape)")
        }
        if weights != nil && groups != nil { throw fail("weighted group reductions are not supported") }
        return PartialStates(groups: try await taskStates(sub, box: box, reducer: reducer, groupLabels: labels, subOrigin: origin, options: options))
    }

    /// The partial states of consecutive pieces (2^k of them), combined as the stage's combine
    /// tree combines them: each piece one leaf of a balanced subtree.
    package func partialStates(_ pieces: [Box], options: ComputeOptions) async throws -> PartialStates {
        var levels: [PartialStates?] = []
        for piece in pieces {
            var carry = try await partialStates(piece, options: options)
            var i = 0
            while true {
                if i == levels.count { levels.append(carry); break }
                if let l = levels[i] {
                    carry = try combine(l, carry)
                    levels[i] = nil
                    i += 1
                } else {
                    levels[i] = carry
                    break
                }
            }
        }
        var acc: PartialStates?
        for l in levels.reversed() {
            guard let l else { continue }
            acc = try acc.map { try combine($0, l) } ?? l
        }
        guard let acc else { throw fail("a partial task with no pieces") }
        return acc
    }

    /// Two pieces' states combined, the earlier first; a group one lacks is the other's.
    package func combine(_ a: PartialStates, _ b: PartialStates) throws -> PartialStates {
        guard let reducer else { throw fail("\(reduction) has no partial states") }
        var out: [Int: ReductionState] = [:]
        for g in Set(a.groups.keys).union(b.groups.keys) {
            out[g] = try TreeCombiner.merge(a.groups[g], b.groups[g], reducer.combine)
        }
        return PartialStates(groups: out)
    }

    /// The output block of a kept tile (`tile` in the stage input's coordinates; the group
    /// axis whole) from the states of all its pieces, and where it lands in the output.
    package func finalize(_ s: PartialStates, tile: Box) throws -> (box: Box, values: AnyNDArray) {
        guard let reducer else { throw fail("\(reduction) has no partial states") }
        let keptAxes = (0..<input.ndim).filter { !axes.contains($0) }
        let keptShape = keptAxes.map { tile[$0].count }
        let box = outputBox(tile)
        guard let g = groups else {
            guard let state = s.groups[0] else { return (box, try emptyResult(shape: keptShape)) }
            return (box, try reducer.finalize(state))
        }
        let gax = inputAxisOfOutput.firstIndex(of: g.axis)!
        var values: [AnyNDArray] = []
        for k in 0..<g.count {
            values.append(try s.groups[k].map { try reducer.finalize($0) } ?? emptyResult(shape: keptShape))
        }
        do { return (box, try AnyNDArray.stack(values, axis: gax)) } catch { throw fail("\(error)") }
    }

    /// The output box of a kept tile.
    package func outputBox(_ tile: Box) -> Box {
        inputAxisOfOutput.map { a in groups?.axis == a ? 0..<groups!.count : tile[a] }
    }
}
