import GyreArrays
import GyreCompute
import GyreData
import GyreStorage
import GyreZarr

/// Runs one task of a graph in this process: rebuilds the program's tree (once per process),
/// puts the values of the stages it needs in place of their reductions, and runs its one
/// operation. What a Dask worker does for each task (through the C library), and what the
/// local graph executor does.
package enum TaskRunner {
    package static func run(_ program: ProgramReference, _ task: GraphTask, inputs: [[UInt8]], threads: Int) async throws -> [UInt8] {
        let payloads: [TaskPayload]
        do { payloads = try inputs.enumerated().map { k, b in try TaskPayload(decoding: b, what: inputName(task, k)) } } catch {
            throw GyreDistributedError(.task, "\(task.op.summary): \(error)", cause: error)
        }
        return try await run(program, task, payloads: payloads, threads: threads)
    }

    static func inputName(_ task: GraphTask, _ k: Int) -> String { "input \(k) (task \(task.inputs[safe: k] ?? -1)) of task \(task.id)" }

    /// Runs a task on its inputs' results, already read.
    package static func run(_ program: ProgramReference, _ task: GraphTask, payloads: [TaskPayload], threads: Int) async throws -> [UInt8] {
        do {
            return try await ComputeOptions.$current.withValue(ComputeOptions(threads: threads, taskBytes: program.taskBytes, slabBytes: program.slabBytes)) {
                try await runHere(program, task, inputs: payloads)
            }
        } catch let e as GyreDistributedError {
            throw e
        } catch {
            throw GyreDistributedError(.task, "\(task.op.summary): \(error)", cause: error)
        }
    }

    static func runHere(_ program: ProgramReference, _ task: GraphTask, inputs: [TaskPayload]) async throws -> [UInt8] {
        let instance = try await ProgramCache.shared.instance(program)
        let array = try instance.array(task.op.variable)
        let options = ComputeOptions.current
        func decoded() throws -> [TaskPayload] { inputs }
        func stageNode(_ stage: Int) throws -> ReductionSource {
            let stages = array.reductionStages()
            guard stages.indices.contains(stage) else {
                throw GyreDistributedError(.program, "variable '\(task.op.variable)' has \(stages.count) reductions, not a stage \(stage)")
            }
            return stages[stage].node
        }
        func states(_ p: TaskPayload) throws -> PartialStates {
            guard case .states(let s) = p else { throw GyreDistributedError(.task, "task \(task.id) takes partial states but got a block of values") }
            return s
        }
        switch task.op {
        case .partial(_, let stage, let pieces):
            let (_, node) = try array.substitutingStages(try stageValues(array, decoded()), capture: stage)
            guard let node else { throw GyreDistributedError(.program, "no stage \(stage) in '\(task.op.variable)'") }
            return try TaskPayload.states(try await node.partialStates(pieces, options: options)).encoded()
        case .combine(_, let stage):
            let parts = try decoded()
            guard parts.count == 2 else { throw GyreDistributedError(.task, "a combine takes two states, task \(task.id) got \(parts.count)") }
            return try TaskPayload.states(try stageNode(stage).combine(try states(parts[0]), try states(parts[1]))).encoded()
        case .finalize(_, let stage, let tile):
            let parts = try decoded()
            guard !parts.isEmpty else { throw GyreDistributedError(.task, "a finalize takes states, task \(task.id) got none") }
            let node = try stageNode(stage)
            var state = try states(parts[0])
            for p in parts.dropFirst() { state = try node.combine(state, try states(p)) }
            let (box, values) = try node.finalize(state, tile: tile)
            return try TaskPayload.values(stage: stage, box: box, array: values).encoded()
        case .reduceBlock(_, let stage, let tile):
            let (_, node) = try array.substitutingStages(try stageValues(array, decoded()), capture: stage)
            guard let node else { throw GyreDistributedError(.program, "no stage \(stage) in '\(task.op.variable)'") }
            let box = node.outputBox(tile)
            return try TaskPayload.values(stage: stage, box: box, array: try await node.read(region: box.map { Slice($0.lowerBound, $0.upperBound) })).encoded()
        case .compute(_, let region):
            let (ready, _) = try array.substitutingStages(try stageValues(array, decoded()))
            let values = try await ready.read(region.map { Slice($0.lowerBound, $0.upperBound) })
            return try TaskPayload.values(stage: nil, box: region, array: values).encoded()
        case .write(let variable, let region):
            guard let output = program.output else { throw GyreDistributedError(.program, "task \(task.id) writes but the program has no output") }
            let (ready, _) = try array.substitutingStages(try stageValues(array, decoded()))
            let values = try await ready.read(region.map { Slice($0.lowerBound, $0.upperBound) })
            let store = try Dataset.writableStore(output, storageOptions: program.storageOptions)
            let target: ZarrArray
            do { target = try await ZarrArray.open(store, path: variable) } catch {
                throw GyreDistributedError(.task, "\(output): array '\(variable)' is not there to write into (the client creates it before the tasks run): \(error)", cause: error)
            }
            try await target.write(values, at: region.map(\.lowerBound))
            return try TaskPayload.written(bytes: values.nbytes).encoded()
        }
    }

    /// The stages' values from the blocks the task was given (each stage's blocks put together).
    static func stageValues(_ array: LazyArray, _ payloads: [TaskPayload]) throws -> [Int: AnyNDArray] {
        var blocks: [Int: [(Box, AnyNDArray)]] = [:]
        for p in payloads {
            guard case .values(let s?, let box, let a) = p else { continue }
            blocks[s, default: []].append((box, a))
        }
        guard !blocks.isEmpty else { return [:] }
        let stages = array.reductionStages()
        var out: [Int: AnyNDArray] = [:]
        for (s, parts) in blocks {
            guard stages.indices.contains(s) else { throw GyreDistributedError(.task, "values of stage \(s), which the variable does not have") }
            let shape = stages[s].node.shape
            if parts.count == 1, parts[0].0.map(\.count) == shape { out[s] = parts[0].1; continue }
            var whole = try AnyNDArray.uninitialized(shape, dtype: parts[0].1.dtype)
            for (box, a) in parts {
                guard box.count == shape.count, zip(box, shape).allSatisfy({ $0.upperBound <= $1 }) else {
                    throw GyreDistributedError(.task, "a block \(box) of stage \(s) does not fit its shape \(shape)")
                }
                try whole.assign(box.map { .slice(Slice($0.lowerBound, $0.upperBound)) }, from: a)
            }
            out[s] = whole
        }
        return out
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
