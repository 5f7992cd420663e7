import GyreCore
import GyreArrays

/// Looks at an expression tree before it runs: what it reads, how many tasks, how much memory;
/// and rewrites it so that nodes read many times (a mean subtracted from every block) are
/// computed once.
package enum Planner {
    /// Decoded bytes one read keeps in flight: under a memory budget, an eighth of it per task
    /// that runs at once.
    static func readLimit(_ options: ComputeOptions) -> Int {
        guard let budget = options.memoryBudget else { return ReadLimits.inFlightBytes }
        return Swift.min(ReadLimits.inFlightBytes, budget / (8 * Swift.max(1, options.threads)))
    }

    /// Bytes a streamed block holds per element: the values read plus every intermediate the
    /// elementwise chain above them makes (all assumed alive at once).
    static func bytesPerElement(_ a: LazyArray) -> Int {
        var own = a.mapBytesPerElement
        if let node = a.source as? any LazyNode, !node.streamsInputs {
            own += Swift.max(node.dtype.itemSize, 1)
            for i in node.inputs { own += bytesPerElement(i) }
        } else {
            own += Swift.max(a.source.dtype.itemSize, 1)
        }
        return own
    }

    /// The largest source chunk a block read decodes (its scratch buffer).
    static func decodeScratchBytes(_ a: LazyArray) -> Int {
        if let node = a.source as? any LazyNode {
            return node.streamsInputs ? 0 : node.inputs.map(decodeScratchBytes).max() ?? 0
        }
        if a.source is RegionCacheSource { return 0 }
        return a.source.chunks.reduce(1) { $0 * ($1.max() ?? 0) } * Swift.max(a.source.dtype.itemSize, 1)
    }

    package static func formatBytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }
}

/// What running a computation will do, found without reading anything.
public struct ComputePlan: Sendable, CustomStringConvertible {
    /// Source chunks read (a chunk read twice counts twice) and their decoded bytes.
    public var chunksRead = 0
    public var bytesRead = 0
    /// Streaming tasks.
    public var tasks = 0
    /// Predicted peak memory.
    public var peakMemory = 0
    /// Bytes of the result.
    public var resultBytes = 0
    /// The tree, one line per node, indented by depth.
    public var steps: [String] = []

    public var description: String {
        var lines = ["plan:"]
        lines += steps.map { "  " + $0 }
        lines.append("chunks read: \(chunksRead)")
        lines.append("bytes read: \(Planner.formatBytes(bytesRead)) (\(bytesRead) bytes, decoded)")
        lines.append("tasks: \(tasks)")
        lines.append("predicted peak memory: \(Planner.formatBytes(peakMemory))")
        lines.append("result: \(Planner.formatBytes(resultBytes))")
        return lines.joined(separator: "\n")
    }
}

extension LazyArray {
    /// What computing `box` (everything by default) would read and hold, under the current
    /// `ComputeOptions`. Throws, before reading anything, when it cannot fit the memory budget.
    public func plan(_ box: Box? = nil) throws -> ComputePlan {
        var p = ComputePlan()
        let b = box ?? fullBox
        p.resultBytes = b.elementCount * Swift.max(dtype.itemSize, 1)
        var held = 0
        try walkPlan(b, repeated: false, depth: 0, into: &p, held: &held)
        p.peakMemory = Swift.max(p.peakMemory, held + p.resultBytes)
        return p
    }

    func walkPlan(_ box: Box, repeated: Bool, depth: Int, into p: inout ComputePlan, held: inout Int) throws {
        let pad = String(repeating: "  ", count: depth)
        let sbox = sourceBox(box)
        let mapsNote = mapNames.isEmpty ? "" : " then \(mapNames.joined(separator: ", "))"
        guard let node = source as? any LazyNode else {
            // A leaf: the source chunks the box touches.
            var chunks = 1, elements = 1
            for (a, lens) in source.chunks.enumerated() {
                var at = 0, n = 0, e = 0
                for c in lens where c > 0 {
                    if at < sbox[a].upperBound && at + c > sbox[a].lowerBound { n += 1; e += c }
                    at += c
                }
                chunks *= n
                elements *= e
            }
            if sbox.contains(where: \.isEmpty) { chunks = 0; elements = 0 }
            p.chunksRead += chunks
            p.bytesRead += elements * Swift.max(source.dtype.itemSize, 1)
            p.steps.append("\(pad)read \(source.sourceName) \(Self.describe(sbox)): \(chunks) chunks\(mapsNote)")
            return
        }
        let inBoxes = node.inputBoxes(sbox)
        if node.streamsInputs, let r = node as? ReductionSource {
            let cached = repeated
            p.steps.append("\(pad)\(r.label)\(cached ? " (computed once, kept: \(Planner.formatBytes(sbox.elementCount * max(r.dtype.itemSize, 1))))" : "")\(mapsNote)")
            let before = held
            for (k, (i, b)) in zip(node.inputs, inBoxes).enumerated() {
                guard let b else { continue }
                try i.walkPlan(b, repeated: true, depth: depth + 1, into: &p, held: &held)
                // Tasks stream the reduced input; weights are read alongside them.
                guard k == 0 else { continue }
                let sub = try i.index(b.slices.map { .slice($0) })
                let layout = try StreamingLayout(sub, reduced: Set(r.axes), gather: r.reducer == nil, stateBytes: r.stateBytesPerOutput,
                                                 outputBytes: sbox.elementCount * Swift.max(r.dtype.itemSize, 1),
                                                 options: ComputeOptions.current, what: r.label)
                p.tasks += layout.taskCount
                p.peakMemory = Swift.max(p.peakMemory, held + layout.predictedPeak)
                if let budget = ComputeOptions.current.memoryBudget, held + layout.predictedPeak > budget {
                    throw GyreComputeError(.invalidArgument, "\(r.label) of \(r.sourceName) needs about \(Planner.formatBytes(layout.predictedPeak)) while \(Planner.formatBytes(held)) of earlier results are kept, over the memory budget of \(Planner.formatBytes(budget)); nothing was read")
                }
            }
            held = before + (cached ? sbox.elementCount * Swift.max(r.dtype.itemSize, 1) : 0)
            return
        }
        p.steps.append("\(pad)\(node.label)\(mapsNote)")
        for (i, b) in zip(node.inputs, inBoxes) {
            guard let b else { continue }
            try i.walkPlan(b, repeated: repeated, depth: depth + 1, into: &p, held: &held)
        }
    }

    static func describe(_ box: Box) -> String {
        "[" + box.map { "\($0.lowerBound):\($0.upperBound)" }.joined(separator: ", ") + "]"
    }

    /// The tree with every reduction that would be read in several pieces computed once, for
    /// the part of it that reading `box` needs.
    func prepared(_ box: Box, repeated: Bool) async throws -> LazyArray {
        guard let node = source as? any LazyNode else { return self }
        let sbox = sourceBox(box)
        let inBoxes = node.inputBoxes(sbox)
        var inputs: [LazyArray] = []
        for (i, b) in zip(node.inputs, inBoxes) {
            inputs.append(b == nil ? i : try await i.prepared(b!, repeated: repeated || node.streamsInputs))
        }
        let rebuilt = try node.withInputs(inputs)
        if repeated && node.streamsInputs && !sbox.contains(where: \.isEmpty) {
            let values = try await rebuilt.read(region: sbox.slices)
            return withSource(RegionCacheSource(shape: rebuilt.shape, dtype: rebuilt.dtype, chunks: rebuilt.chunks, box: sbox,
                                                values: values, sourceName: rebuilt.sourceName))
        }
        return withSource(rebuilt)
    }

    /// Computes the whole array (or `box` of it) under the current `ComputeOptions`: checks the
    /// plan against the memory budget first, computes shared intermediates once, then streams.
    public func compute(_ box: Box? = nil) async throws -> AnyNDArray {
        let b = box ?? fullBox
        _ = try plan(b)
        return try await ReadLimits.$inFlightBytes.withValue(Planner.readLimit(ComputeOptions.current)) {
            let ready = try await prepared(b, repeated: false)
            return try await ready.read(b.slices)
        }
    }


    /// The array ready to be read block by block (by a writer streaming it to a store): the
    /// plan checked against the memory budget, and every reduction it reads in several pieces
    /// computed once.
    public func preparedForStreaming() async throws -> LazyArray {
        _ = try plan()
        return try await prepared(fullBox, repeated: true)
    }
}
