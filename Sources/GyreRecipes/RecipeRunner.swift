import Foundation
import GyreArrays
import GyreCodecs
import GyreCore
import GyreData
import GyreExpr
import GyreStorage
import GyreZarr

/// How a recipe runs.
public struct RecipeRunOptions: Sendable {
    /// Finish without the inputs that still fail after their retries (listed in the report);
    /// otherwise the run stops with them named and the target stays incomplete.
    public var skipFailed = false
    /// Add the inputs not yet in a complete target, along the concatenation dimension.
    public var append = false
    /// Replace whatever the target holds.
    public var overwrite = false
    /// Progress after each unit of work.
    public var progress: (@Sendable (RecipeProgress) -> Void)?
    public init(skipFailed: Bool = false, append: Bool = false, overwrite: Bool = false) {
        self.skipFailed = skipFailed
        self.append = append
        self.overwrite = overwrite
    }
}

/// Where a run is.
public struct RecipeProgress: Sendable {
    public let unitsDone: Int
    public let unitsTotal: Int
    public let bytesDone: Int
    public let bytesTotal: Int
    public let elapsed: Double
    /// Seconds left at the rate so far.
    public var eta: Double { bytesDone > 0 ? elapsed * Double(bytesTotal - bytesDone) / Double(bytesDone) : .nan }
}

/// What a run did.
public struct RecipeReport: Sendable {
    /// Inputs read in this run.
    public var read: [String] = []
    /// Inputs that failed after their retries, with why.
    public var failed: [(input: String, error: String)] = []
    /// Units of work (regions of the target along the dimension): all, skipped (done before a
    /// kill), and written now.
    public var units = 0
    public var resumedUnits = 0
    public var writtenUnits = 0
    public var bytes = 0
    /// Values compared between the target and the sources at the end.
    public var validated = 0
    public var appended = false
    /// Inputs already in the target (an append with nothing new reads none).
    public var alreadyThere = 0
    public var seconds = 0.0
}

/// What a run will read and write (`gyre recipe plan`).
public struct RecipePlan: Sendable {
    public var inputs: [(location: String, length: Int)]
    public var failed: [(input: String, error: String)]
    public var dim: String
    public var arrays: [(name: String, dims: [String], shape: [Int], chunks: [Int], dtype: String, codecs: String)]
    public var units: Int
    public var bytes: Int
    public var concurrency: Int
    public var target: String
}

/// Runs recipes: inputs opened in parallel (with retries), combined and transformed lazily,
/// written unit by unit (one target chunk along the dimension each, so no two units share a
/// chunk) within a memory budget, a manifest of finished units beside the target after each,
/// the target checked against the sources and its root metadata written last, so an
/// interrupted run never opens as a complete store and a rerun resumes where it stopped.
public enum RecipeRunner {
    // MARK: The manifest

    struct Manifest {
        var fingerprint: String
        var dim: String
        /// Every input ever taken in (read or failed), in key order.
        var inputs: [String]
        var failed: [String: String]
        /// The length along the dimension when the current run began (0, or the old length
        /// for an append), and units done in it (by their start).
        var base: Int
        var done: Set<Int>
        var complete: Bool
        /// The inputs of the current run (all of them, or those an append adds).
        var current: [String]
        /// Those of them it combined (the others could not be opened): a resume keeps the
        /// finished units only if it combines the same ones.
        var used: [String] = []

        var json: JSON {
            ["gyre_recipe": 1, "fingerprint": .string(fingerprint), "dim": .string(dim), "inputs": .array(inputs.map { .string($0) }),
             "failed": .object(JSONObject(uniqueKeysWithValues: failed.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
             "base": .int(Int64(base)), "done": .array(done.sorted().map { .int(Int64($0)) }), "complete": .bool(complete),
             "current": .array(current.map { .string($0) }), "used": .array(used.map { .string($0) })]
        }

        init(fingerprint: String, dim: String, inputs: [String], failed: [String: String], base: Int, done: Set<Int>, complete: Bool, current: [String]) {
            self.fingerprint = fingerprint; self.dim = dim; self.inputs = inputs; self.failed = failed
            self.base = base; self.done = done; self.complete = complete; self.current = current
        }

        init(_ j: JSON, source: String) throws {
            guard j["gyre_recipe"]?.integer == 1, let f = j["fingerprint"]?.string, let d = j["dim"]?.string,
                  let i = j["inputs"]?.array?.compactMap({ $0.string }), let b = j["base"]?.integer,
                  let doneList = j["done"]?.array?.compactMap({ $0.integer }), let c = j["complete"]?.bool else {
                throw GyreRecipesError(.target, "\(source): not a recipe manifest Gyre wrote (remove it, or run with --overwrite)")
            }
            fingerprint = f; dim = d; inputs = i; base = Int(b); done = Set(doneList.map { Int($0) }); complete = c
            current = j["current"]?.array?.compactMap { $0.string } ?? i
            used = j["used"]?.array?.compactMap { $0.string } ?? []
            failed = [:]
            for (k, v) in j["failed"]?.object ?? [:] { failed[k] = v.string ?? "" }
        }
    }

    /// Keeps the manifest, one write at a time.
    actor ManifestWriter {
        let store: any WritableStore
        let key: String
        var manifest: Manifest
        init(store: any WritableStore, key: String, manifest: Manifest) { self.store = store; self.key = key; self.manifest = manifest }
        func save() async throws { try await store.set(key, manifest.json.serialized(indent: 1, sortedKeys: true)) }
        func finished(_ unit: Int) async throws { manifest.done.insert(unit); try await save() }
        func update(_ f: @Sendable (inout Manifest) -> Void) async throws { f(&manifest); try await save() }
        func current() -> Manifest { manifest }
    }

    /// The manifest's location: beside the target (`out.zarr` → `out.zarr.recipe.json`).
    static func manifestLocation(_ r: Recipe) throws -> (store: any WritableStore, key: String, shown: String) {
        let target = r.target.hasSuffix("/") ? String(r.target.dropLast()) : r.target
        let (parent, key) = try StoreResolver.split(target)
        let store = try Dataset.writableStore(parent.isEmpty ? "." : parent, storageOptions: r.targetOptions)
        return (store, key + ".recipe.json", target + ".recipe.json")
    }

    // MARK: Opening inputs

    /// Runs `body` up to `1 + retries` times, waiting 0.2 s, 0.4 s, ... (jittered) between.
    static func retrying<T: Sendable>(_ retries: Int, _ body: @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do { return try await body() } catch {
                attempt += 1
                if attempt > retries { throw error }
                let wait = 0.2 * pow(2, Double(attempt - 1)) * Double.random(in: 0.5...1.0)
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        let s = "\(error)"
        return s.count > 600 ? String(s.prefix(600)) + "…" : s
    }

    /// Opens inputs (their metadata; values stay lazy), `concurrency` at a time, each retried.
    static func open(_ locations: [String], _ r: Recipe) async throws -> (opened: [(file: String, ds: Dataset)], failed: [(input: String, error: String)]) {
        let results = try await Bounded.map(count: locations.count, limit: Swift.max(1, Swift.min(16, r.concurrency * 4))) { i -> Result<Dataset, RecipesFailure> in
            do {
                var ds = try await retrying(r.retries) { try await Dataset.open(locations[i], group: r.group, storageOptions: r.sourceOptions) }
                if !r.dropOnOpen.isEmpty { ds = try ds.dropVars(r.dropOnOpen, ignoreMissing: true) }
                return .success(ds)
            } catch { return .failure(RecipesFailure(message: describe(error))) }
        }
        var opened: [(file: String, ds: Dataset)] = [], failed: [(input: String, error: String)] = []
        for (loc, res) in zip(locations, results) {
            switch res {
            case .success(let ds): opened.append((loc, ds))
            case .failure(let f): failed.append((loc, f.message))
            }
        }
        return (opened, failed)
    }

    struct RecipesFailure: Error { let message: String }

    /// The inputs combined along the dimension and transformed: what the target holds.
    static func build(_ parts: [(file: String, ds: Dataset)], _ r: Recipe) async throws -> (ds: Dataset, dim: String, offsets: [String: Range<Int>]) {
        var combined: Dataset
        do { combined = try Dataset.combine(parts, concatDim: r.concatDim) } catch {
            throw GyreRecipesError(.inputs, "combining the inputs: \(describe(error))")
        }
        let dim: String
        if let d = r.concatDim { dim = d } else if parts.count > 1 {
            do { dim = try Dataset.inferConcatDim(parts) } catch { throw GyreRecipesError(.recipe, "no dimension to combine along (\(describe(error))); give source.concat_dim") }
        } else {
            guard let d = combined.dims.first else { throw GyreRecipesError(.recipe, "the input has no dimension to write along; give source.concat_dim") }
            dim = d
        }
        // Where each input lands along the dimension.
        var offsets: [String: Range<Int>] = [:]
        if let coord = combined.variables[dim], coord.ndim == 1 {
            let values = try coord.data.scalars.map(\.description)
            var at: [String: Int] = [:]
            for (i, v) in values.enumerated() where at[v] == nil { at[v] = i }
            for p in parts {
                guard let c = p.ds.variables[dim], let first = try c.data.scalars.first, let start = at[first.description] else { continue }
                offsets[p.file] = start..<(start + (p.ds.sizes[dim] ?? 0))
            }
        } else {
            var start = 0
            for p in parts { let n = p.ds.sizes[dim] ?? 0; offsets[p.file] = start..<(start + n); start += n }
        }
        // Transforms, in order: rename, variables, drop, attributes.
        do {
            if !r.rename.isEmpty { combined = try combined.rename(r.rename) }
            for (name, expression) in r.variables {
                let value = try await Evaluator(dataset: combined).evaluate(expression)
                guard case .array(let a) = value else {
                    throw GyreRecipesError(.recipe, "transforms.variables.\(name): '\(expression)' does not give an array")
                }
                combined = try combined.assigning(name, a.variable)
            }
            if !r.drop.isEmpty { combined = try combined.dropVars(r.drop) }
            for (k, v) in r.attrs { combined.attrs[k] = ZarrAttributes.decode(v) }
        } catch let e as GyreRecipesError { throw e } catch {
            throw GyreRecipesError(.recipe, "applying the transforms: \(describe(error))")
        }
        return (combined, dim, offsets)
    }

    static func writeOptions(_ r: Recipe, dim: String, firstLength: Int, existing chunk: Int?) throws -> ZarrWriteOptions {
        var o = ZarrWriteOptions(format: r.format, chunks: r.chunks, overwrite: true)
        if let c = r.codec { o.compressors = try CodecRegistry.compressors(spec: c) }
        // One chunk length along the dimension for every variable: the recipe's, the
        // target's (appending), or one input's length.
        o.chunks[dim] = chunk ?? r.chunks[dim] ?? Swift.max(1, firstLength)
        return o
    }

    // MARK: Plan

    /// What a run would read and write, reading only the inputs' metadata.
    public static func plan(_ r: Recipe) async throws -> RecipePlan {
        let locations = try r.locations()
        let (opened, failed) = try await open(locations, r)
        guard !opened.isEmpty else { throw GyreRecipesError(.inputs, "no input could be opened: \(failed.first.map { "\($0.input): \($0.error)" } ?? "")") }
        let (ds, dim, offsets) = try await build(opened, r)
        let options = try writeOptions(r, dim: dim, firstLength: opened[0].ds.sizes[dim] ?? 1, existing: nil)
        let plan = try ds.zarrPlan(options: options)
        let c = options.chunks[dim]!
        let n = ds.sizes[dim] ?? 0
        let unitBytes = plan.arrays.filter { $0.variable.dims.contains(dim) }.reduce(0) { $0 + $1.variable.nbytes / Swift.max(n, 1) * c }
        return RecipePlan(
            inputs: opened.map { ($0.file, offsets[$0.file]?.count ?? 0) }, failed: failed, dim: dim,
            arrays: plan.arrays.map { a in
                let m = a.metadata
                let codecs = m.pipeline.bytesToBytes.map(\.name).joined(separator: ", ")
                return (a.name, a.variable.dims, m.shape, m.chunkShape, numpyName(m.dtype), codecs.isEmpty ? "none" : codecs)
            },
            units: (n + c - 1) / c, bytes: plan.arrays.reduce(0) { $0 + $1.variable.nbytes },
            concurrency: Swift.max(1, Swift.min(r.concurrency, r.memoryBudget / Swift.max(1, unitBytes * 3))), target: r.target)
    }

    // MARK: Run

    /// Runs the recipe. Errors come before anything is written when the recipe or the target
    /// is wrong (a target that exists and is not this recipe's, a complete one without
    /// `append` or `overwrite`, inputs that do not combine).
    public static func run(_ r: Recipe, options: RecipeRunOptions = RecipeRunOptions()) async throws -> RecipeReport {
        let started = Date()
        var report = RecipeReport()
        let target = try Dataset.writableStore(r.target, storageOptions: r.targetOptions)
        let (mStore, mKey, mShown) = try manifestLocation(r)
        let locations = try r.locations()
        let existing = try await target.list(prefix: "")
        var manifest: Manifest? = nil
        if let b = try await mStore.get(mKey) {
            do { manifest = try Manifest(try JSON.parse(b, source: mShown), source: mShown) } catch let e as GyreRecipesError { throw e } catch {
                throw GyreRecipesError(.target, "\(mShown): not a recipe manifest (\(error)); remove it, or run with --overwrite")
            }
        }
        let fp = r.fingerprint
        // What this run is: fresh, a resume, an append (or a resumed append).
        var inputs = locations
        var base = 0
        var done = Set<Int>()
        var oldInputs: [String] = []
        var oldFailed: [String: String] = [:]
        if options.overwrite {
            if !existing.isEmpty { try await target.delete(keys: existing) }
            try await mStore.delete(mKey)
            removeUnfinishedWrites(target)
        } else if existing.isEmpty {
            if manifest != nil { try await mStore.delete(mKey) }
        } else if let m = manifest, m.fingerprint == fp {
            if !m.complete {
                // Resume: the interrupted run's units are kept.
                base = m.base
                done = m.done
                let fresh = locations.filter { !m.inputs.contains($0) }
                if m.base == 0 {
                    guard fresh.isEmpty, m.inputs.allSatisfy(locations.contains) else {
                        throw GyreRecipesError(.target, "\(r.target): an interrupted run of this recipe read other inputs (\(m.inputs.count) then, \(locations.count) now); finish it with the same inputs, or rerun with --overwrite")
                    }
                    inputs = m.current
                } else {
                    // An interrupted append: its inputs are those it added.
                    inputs = m.current
                    oldInputs = m.inputs.filter { !m.current.contains($0) }
                    report.appended = true
                }
                oldFailed = m.failed
                removeUnfinishedWrites(target)
                report.resumedUnits = done.count
            } else if options.append {
                oldInputs = m.inputs
                oldFailed = m.failed
                inputs = locations.filter { !m.inputs.contains($0) }
                report.alreadyThere = m.inputs.count
                report.appended = true
                if inputs.isEmpty {
                    report.seconds = Date().timeIntervalSince(started)
                    return report
                }
            } else {
                throw GyreRecipesError(.target, "\(r.target) is already complete (this recipe wrote it); pass --append to add new inputs, or --overwrite to rebuild it")
            }
        } else {
            throw GyreRecipesError(.target, "\(r.target) already holds \(existing.count) keys and is not this recipe's output (\(manifest == nil ? "no manifest \(mShown)" : "its manifest is another recipe's")); pass --overwrite to replace it")
        }
        // An append (new or resumed) adds to the arrays as they are.
        var oldLength = 0
        var existingChunk: Int? = nil
        var targetGroup: ZarrGroup? = nil
        if report.appended {
            let group = try await ZarrGroup.open(target)
            targetGroup = group
            let d = manifest!.dim
            guard let a = group.arrays.values.first(where: { $0.dimensionNames?.contains(d) == true }), let axis = a.dimensionNames?.firstIndex(of: d) else {
                throw GyreRecipesError(.target, "\(r.target): no array along '\(d)' to append to")
            }
            oldLength = base > 0 ? base : a.shape[axis]
            existingChunk = a.chunkShape[axis]
            base = oldLength
        }

        // Open the inputs (metadata only).
        let (opened, failedOpen) = try await open(inputs, r)
        report.failed = failedOpen
        if !failedOpen.isEmpty && !options.skipFailed {
            throw GyreRecipesError(.inputs, "\(failedOpen.count) of \(inputs.count) inputs could not be read after \(r.retries) retries (nothing was written; --skip-failed finishes without them):\n"
                                   + failedOpen.prefix(20).map { "  \($0.input): \($0.error)" }.joined(separator: "\n"))
        }
        guard !opened.isEmpty else { throw GyreRecipesError(.inputs, "none of the \(inputs.count) inputs could be read") }
        if let m = manifest, !done.isEmpty, Set(m.used) != Set(opened.map(\.file)) {
            // Other inputs open than in the interrupted run: its parts are in other places.
            done = []
            report.resumedUnits = 0
        }
        var (ds, dim, offsets) = try await build(opened, r)
        if let group = targetGroup {
            // Times are written in the target's units and calendar, not the new files' own.
            for (name, v) in ds.variables where v.dtype.isDatetime {
                guard let m = group.arrays[name], let units = m.attributes["units"]?.string else { continue }
                var w = v
                w.encoding["units"] = .string(units)
                if let c = m.attributes["calendar"]?.string { w.encoding["calendar"] = .string(c) }
                w.encoding["dtype"] = .string(m.dtype.description)
                try ds.replaceVariable(name, w)
            }
        }
        let writeOpts = try writeOptions(r, dim: dim, firstLength: opened[0].ds.sizes[dim] ?? 1, existing: existingChunk)
        let plan = try ds.zarrPlan(options: writeOpts)
        let c = writeOpts.chunks[dim]!
        let n = ds.sizes[dim] ?? 0
        if let group = targetGroup {
            try await checkAppend(target, group: group, ds: ds, dim: dim, oldLength: oldLength, plan: plan)
        }
        // Units: [start, end) along the dimension in target coordinates, never sharing a chunk.
        var units: [Range<Int>] = []
        var at = base
        while at < base + n {
            let end = Swift.min(base + n, (at / c + 1) * c)
            units.append(at..<end)
            at = end
        }
        report.units = units.count
        let failedInputs = Dictionary(failedOpen.map { ($0.input, $0.error) }, uniquingKeysWith: { a, _ in a })
        let writer = ManifestWriter(store: mStore, key: mKey, manifest: Manifest(
            fingerprint: fp, dim: dim, inputs: oldInputs + inputs, failed: oldFailed.merging(failedInputs) { a, _ in a },
            base: base, done: done, complete: false, current: inputs))
        try await writer.update { [used = opened.map(\.file)] in $0.used = used }

        // The arrays' metadata (their full shapes); variables without the dimension are
        // written whole now (again on a resume: the same bytes).
        var arrays: [String: ZarrArray] = [:]
        for a in plan.arrays {
            var meta = a.metadata
            if let axis = a.variable.dims.firstIndex(of: dim) { meta.shape[axis] = base + n }
            do { arrays[a.name] = try await ZarrArray.create(target, path: a.name, metadata: meta, overwrite: true) } catch {
                throw GyreRecipesError(.target, "\(r.target): writing '\(a.name)': \(describe(error))")
            }
            if !a.variable.dims.contains(dim), !report.appended {
                let data = try await a.variable.read(a.variable.shape.map { _ in Slice() })
                try await arrays[a.name]!.write(data)
            }
        }
        let alongDim = plan.arrays.filter { $0.variable.dims.contains(dim) }
        let unitBytes = alongDim.reduce(0) { $0 + $1.variable.nbytes / Swift.max(n, 1) * c }
        let total = alongDim.reduce(0) { $0 + $1.variable.nbytes }
        let limit = Swift.max(1, Swift.min(r.concurrency, r.memoryBudget / Swift.max(1, unitBytes * 3)))
        let todo = units.filter { !done.contains($0.lowerBound) }
        let start0 = base, written = arrays, along = dim
        let progressState = ProgressState(total: units.count, bytesTotal: total, done: units.count - todo.count,
                                          bytesDone: (units.count - todo.count) * unitBytes, started: started, callback: options.progress)
        // Steps checked at the end against what was read from the sources: the first, the
        // middle and the last along the dimension (reading one back decodes its whole chunk;
        // coordinates along it are checked whole).
        let samples = n == 0 ? Set<Int>() : Set([base, base + n / 2, base + n - 1])
        let checked = Checked()
        // Units in parallel, each retried; one that still fails names the inputs it reads.
        let outcomes = try await Bounded.map(count: todo.count, limit: limit) { i -> (Range<Int>, String?) in
            let u = todo[i]
            do {
                try await retrying(r.retries) {
                    for a in alongDim {
                        let axis = a.variable.dims.firstIndex(of: along)!
                        var region = a.variable.shape.map { _ in Slice() }
                        region[axis] = Slice(u.lowerBound - start0, u.upperBound - start0)
                        let data = try await a.variable.read(region)
                        var origin = a.variable.shape.map { _ in 0 }
                        origin[axis] = u.lowerBound
                        try await written[a.name]!.write(data, at: origin)
                        // The sampled steps in this part, read back now (beside the other
                        // parts' work, while what the sources gave is still in memory).
                        guard a.variable.ndim > 1 else { continue }
                        for k in samples.sorted() where u.contains(k) {
                            var step = data.shape.map { _ in Slice() }
                            step[axis] = Slice(k - u.lowerBound, k - u.lowerBound + 1)
                            var got = a.variable.shape.map { _ in Slice() }
                            got[axis] = Slice(k, k + 1)
                            let x = try data.index(step.map { .slice($0) })
                            try await compare(x, written[a.name]!, got, what: "'\(a.name)' at \(along)=\(k)", target: r.target)
                            checked.add(a.name, k, count: x.count)
                        }
                    }
                }
                try await writer.finished(u.lowerBound)
                progressState.advance(bytes: alongDim.reduce(0) { $0 + $1.variable.nbytes / Swift.max(n, 1) * u.count })
                return (u, nil)
            } catch let e as GyreRecipesError where e.code == .validation {
                throw e
            } catch {
                return (u, describe(error))
            }
        }
        report.read = opened.map(\.file)
        report.writtenUnits = outcomes.filter { $0.1 == nil }.count
        report.bytes = total
        report.validated = checked.values
        let unitFailures = outcomes.filter { $0.1 != nil }
        if !unitFailures.isEmpty {
            var named: [(input: String, error: String)] = []
            for (u, why) in unitFailures {
                let local = (u.lowerBound - base)..<(u.upperBound - base)
                let hit = opened.filter { offsets[$0.file].map { $0.overlaps(local) } ?? true }.map(\.file)
                for f in hit where !named.contains(where: { $0.input == f }) { named.append((f, why!)) }
            }
            report.failed += named
            let failedNow = Dictionary(named.map { ($0.input, $0.error) }, uniquingKeysWith: { a, _ in a })
            try await writer.update { $0.failed.merge(failedNow) { a, _ in a } }
            if !options.skipFailed {
                throw GyreRecipesError(.inputs, "\(unitFailures.count) of \(units.count) parts of the target could not be written, after \(r.retries) retries; the inputs they read:\n"
                                       + named.prefix(20).map { "  \($0.input): \($0.error)" }.joined(separator: "\n")
                                       + "\nthe target is left incomplete; rerun to retry them, or pass --skip-failed to finish without them")
            }
        }
        // The target against the sources: the sampled steps of every variable along the
        // dimension (checked as their parts were written; read from the sources again for
        // parts an interrupted run wrote), and 1-D coordinates along it whole.
        let failedUnits = units.filter { u in unitFailures.contains { $0.0 == u } }
        for a in alongDim {
            let axis = a.variable.dims.firstIndex(of: dim)!
            let checks: [Int] = a.variable.ndim == 1 ? [] : samples.sorted().filter { k in !failedUnits.contains { $0.contains(k) } }
            for k in checks where !checked.contains(a.name, k) {
                var got = a.variable.shape.map { _ in Slice() }
                got[axis] = Slice(k, k + 1)
                var want = got
                want[axis] = Slice(k - base, k - base + 1)
                let x = try await a.variable.read(want)
                try await compare(x, arrays[a.name]!, got, what: "'\(a.name)' at \(dim)=\(k)", target: r.target)
                report.validated += x.count
            }
            if a.variable.ndim == 1, failedUnits.isEmpty {
                let x = try await a.variable.read([Slice()])
                try await compare(x, arrays[a.name]!, [Slice(base, base + n)], what: "'\(a.name)'", target: r.target)
                report.validated += x.count
            }
        }
        // The root metadata last: only now does the target open as a complete store.
        try await ZarrGroup.create(target, format: r.format, attributes: plan.attributes)
        try await ZarrGroup.consolidate(target)
        try await writer.update { m in m.complete = true; m.base = 0; m.done = [] }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func compare(_ x: AnyNDArray, _ array: ZarrArray, _ region: [Slice], what: String, target: String) async throws {
        let y: AnyNDArray
        do { y = try await array.read(region) } catch {
            throw GyreRecipesError(.validation, "\(target): reading back \(what): \(describe(error))")
        }
        let same = (x.dtype.hasFixedLayout && x.dtype == y.dtype) ? (try x.rawBytes() == y.rawBytes()) : x.scalars.map(\.description) == y.scalars.map(\.description)
        guard same else { throw GyreRecipesError(.validation, "\(target): \(what) differs from the sources") }
    }

    /// The sampled steps checked as their parts were written, and how many values they hold.
    final class Checked: @unchecked Sendable {
        let lock = NSLock()
        var steps: [String: Int] = [:]
        func add(_ name: String, _ k: Int, count: Int) { lock.withLock { steps["\(name)\u{0}\(k)"] = count } }
        func contains(_ name: String, _ k: Int) -> Bool { lock.withLock { steps["\(name)\u{0}\(k)"] != nil } }
        var values: Int { lock.withLock { steps.values.reduce(0, +) } }
    }

    /// An append must bring the target's variables with the same dimensions, dtypes and sizes
    /// (but along the dimension), and values along it after the target's last.
    static func checkAppend(_ target: any ReadableStore, group: ZarrGroup, ds: Dataset, dim: String, oldLength: Int,
                            plan: (arrays: [(name: String, variable: Variable, metadata: ZarrArrayMetadata, stored: ZarrArray?)], attributes: JSONObject)) async throws {
        for a in plan.arrays {
            guard let m = group.arrays[a.name] else { throw GyreRecipesError(.target, "appending: '\(a.name)' is not in the target") }
            guard m.dtype == a.metadata.dtype, m.dimensionNames?.compactMap({ $0 }) == a.variable.dims else {
                throw GyreRecipesError(.target, "appending: '\(a.name)' is \(a.metadata.dtype) \(a.variable.dims) in the new inputs, \(m.dtype) \(m.dimensionNames ?? []) in the target")
            }
            for (i, d) in a.variable.dims.enumerated() where d != dim && m.shape[i] != a.variable.shape[i] {
                throw GyreRecipesError(.target, "appending: '\(a.name)' has \(a.variable.shape[i]) along '\(d)', the target \(m.shape[i])")
            }
        }
        if let coord = ds.variables[dim], coord.ndim == 1, group.arrays[dim] != nil, oldLength > 0 {
            // Compared decoded (the target's times in its units, the new ones in theirs).
            let old = try await Dataset.openZarr(target)
            if let lastOld = try old.variables[dim]?.data.scalars.last, let firstNew = try coord.data.scalars.first,
               let a = order(lastOld), let b = order(firstNew), b <= a {
                throw GyreRecipesError(.target, "appending: the new inputs start at \(dim) \(firstNew), not after the target's last value \(lastOld)")
            }
        }
    }

    /// A number to order coordinate values by (times as their ticks).
    static func order(_ s: Scalar) -> Double? {
        switch s {
        case .datetime(let t, let u): return Double(t) * Double(u.nanoseconds)
        default: return s.doubleValue
        }
    }

    /// A killed local writer can leave temporary files (`.NAME.tmp-...`); a resumed run
    /// removes them so the result is byte for byte what an uninterrupted run writes.
    static func removeUnfinishedWrites(_ store: any ReadableStore) {
        guard let f = store as? FileStore else { return }
        let root = f.root.path
        guard let e = FileManager.default.enumerator(atPath: root) else { return }
        for case let p as String in e where (p as NSString).lastPathComponent.hasPrefix(".") && p.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: root + "/" + p)
        }
    }

    final class ProgressState: @unchecked Sendable {
        let lock = NSLock()
        var done: Int, bytesDone: Int
        let total: Int, bytesTotal: Int, started: Date
        let callback: (@Sendable (RecipeProgress) -> Void)?
        init(total: Int, bytesTotal: Int, done: Int, bytesDone: Int, started: Date, callback: (@Sendable (RecipeProgress) -> Void)?) {
            self.total = total; self.bytesTotal = bytesTotal; self.done = done; self.bytesDone = bytesDone; self.started = started; self.callback = callback
        }
        func advance(bytes: Int) {
            let p: RecipeProgress = lock.withLock {
                done += 1
                bytesDone += bytes
                return RecipeProgress(unitsDone: done, unitsTotal: total, bytesDone: bytesDone, bytesTotal: bytesTotal, elapsed: Date().timeIntervalSince(started))
            }
            callback?(p)
        }
    }
}
