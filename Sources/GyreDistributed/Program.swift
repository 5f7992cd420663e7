import GyreArrays
import GyreCompute
import GyreData
import GyreExpr
import GyreStorage
import GyreZarr

/// A program opened and evaluated: its sources' dataset, the expression's (lazy) result, and
/// for a program that writes, the result as it is written (CF-encoded) and the target's
/// arrays. The client that plans and every worker that runs tasks build the same one from the
/// same `ProgramReference`, so stage numbers and boxes mean the same tree everywhere.
package final class ProgramInstance: Sendable {
    package let reference: ProgramReference
    /// The result, lazy, with its variables by name (a DataArray result as a one-variable dataset).
    package let result: Dataset
    /// The name of a DataArray result (nil for a dataset).
    package let arrayName: String?
    /// What is written (the result CF-encoded), for programs with an output.
    package let encoded: Dataset?

    init(reference: ProgramReference, result: Dataset, arrayName: String?, encoded: Dataset?) {
        self.reference = reference
        self.result = result
        self.arrayName = arrayName
        self.encoded = encoded
    }

    /// Opens the sources and evaluates the expression (reads metadata and coordinates only).
    package static func open(_ p: ProgramReference) async throws -> ProgramInstance {
        let ds: Dataset
        do {
            ds = p.sources.count == 1 ? try await Dataset.open(p.sources[0], concatDim: p.concatDim, storageOptions: p.storageOptions)
                : try await Dataset.open(files: p.sources, concatDim: p.concatDim, storageOptions: p.storageOptions)
        } catch { throw GyreDistributedError(.program, "opening \(p.sources.joined(separator: " ")): \(error)", cause: error) }
        let value: ExprValue
        do { value = try await Evaluator(dataset: ds).evaluate(p.expression) } catch let e as GyreExprError {
            throw GyreDistributedError(.program, e.pointing(into: p.expression), cause: e)
        }
        let result: Dataset, name: String?
        switch value {
        case .array(let a): name = a.name ?? "result"; result = try a.toDataset(name: name)
        case .dataset(let d): name = nil; result = d
        default: throw GyreDistributedError(.program, "\(p.expression) gives a plain value, not an array or a dataset: nothing to compute on a cluster")
        }
        let encoded = p.output == nil ? nil : try result.encodeCF()
        return ProgramInstance(reference: p, result: result, arrayName: name, encoded: encoded)
    }

    /// The lazy values of a variable as the tasks compute them (encoded when writing).
    package func array(_ variable: String) throws -> LazyArray {
        let ds = encoded ?? result
        guard let v = ds.variables[variable] else {
            throw GyreDistributedError(.program, "the program has no variable '\(variable)'; it has \(Array(ds.variables.keys))")
        }
        guard let l = v.lazyData else { throw GyreDistributedError(.program, "variable '\(variable)' is already in memory; no task computes it") }
        return l
    }
}

/// Programs a worker process has opened, by reference (a few, most recent kept), so the tasks
/// of one graph open their sources once per process.
package actor ProgramCache {
    package static let shared = ProgramCache()
    var entries: [(ProgramReference, Task<ProgramInstance, any Error>)] = []
    let capacity = 4

    package func instance(_ p: ProgramReference) async throws -> ProgramInstance {
        if let i = entries.firstIndex(where: { $0.0 == p }) {
            let e = entries.remove(at: i)
            entries.append(e)
            return try await e.1.value
        }
        let t = Task { try await ProgramInstance.open(p) }
        entries.append((p, t))
        if entries.count > capacity { entries.removeFirst() }
        do { return try await t.value } catch {
            entries.removeAll { $0.0 == p }
            throw error
        }
    }
}
