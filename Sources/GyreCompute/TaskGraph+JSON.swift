import GyreCore

// The graph as JSON (the house JSON type), the form it travels in to a Dask client and its
// workers: every task one object, `{"id": 3, "op": "partial", "variable": "sst", "stage": 0,
// "box": [[0, 10], [0, 180]], "inputs": [1, 2]}`.

extension ProgramReference {
    public var json: JSON {
        var o: JSONObject = ["sources": .array(sources.map { .string($0) }), "expression": .string(expression),
                             "task_bytes": .int(Int64(taskBytes)), "slab_bytes": .int(Int64(slabBytes))]
        if let concatDim { o["concat_dim"] = .string(concatDim) }
        if let output { o["output"] = .string(output) }
        if !storageOptions.isEmpty { o["storage_options"] = .object(JSONObject(uniqueKeysWithValues: storageOptions.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })) }
        return .object(o)
    }

    public init(json: JSON) throws {
        func fail(_ why: String) -> GyreComputeError { GyreComputeError(.invalidArgument, "program: \(why)") }
        guard let src = json["sources"]?.array, !src.isEmpty else { throw fail("no sources") }
        let sources = try src.map { s -> String in guard let t = s.string else { throw fail("a source is not a string") }; return t }
        guard let expression = json["expression"]?.string else { throw fail("no expression") }
        var options: [String: String] = [:]
        for (k, v) in json["storage_options"]?.object ?? [:] {
            guard let t = v.string else { throw fail("storage option \(k) is not a string") }
            options[k] = t
        }
        let defaults = ComputeOptions()
        func positive(_ key: String, _ fallback: Int) throws -> Int {
            guard let v = json[key] else { return fallback }
            guard let i = v.integer, i > 0 else { throw fail("\(key) must be a positive integer") }
            return Int(i)
        }
        self.init(sources: sources, expression: expression, concatDim: json["concat_dim"]?.string, storageOptions: options,
                  output: json["output"]?.string, taskBytes: try positive("task_bytes", defaults.taskBytes),
                  slabBytes: try positive("slab_bytes", defaults.slabBytes))
    }
}

extension GraphTask {
    static func boxJSON(_ b: [Range<Int>]) -> JSON { .array(b.map { .array([.int(Int64($0.lowerBound)), .int(Int64($0.upperBound))]) }) }

    static func box(_ j: JSON?, _ what: String) throws -> [Range<Int>] {
        guard let a = j?.array else { throw GyreComputeError(.invalidArgument, "\(what): no box") }
        return try a.map { r in
            guard let p = r.array, p.count == 2, let lo = p[0].integer, let hi = p[1].integer, lo >= 0, lo <= hi else {
                throw GyreComputeError(.invalidArgument, "\(what): a box range is not [start, stop] with 0 <= start <= stop")
            }
            return Int(lo)..<Int(hi)
        }
    }

    public var json: JSON {
        var o: JSONObject = ["id": .int(Int64(id)), "inputs": .array(inputs.map { .int(Int64($0)) }), "variable": .string(op.variable),
                             "op": .string(op.kind)]
        switch op {
        case .partial(_, let s, let p): o["stage"] = .int(Int64(s)); o["pieces"] = .array(p.map(Self.boxJSON))
        case .combine(_, let s): o["stage"] = .int(Int64(s))
        case .finalize(_, let s, let b), .reduceBlock(_, let s, let b): o["stage"] = .int(Int64(s)); o["box"] = Self.boxJSON(b)
        case .compute(_, let b), .write(_, let b): o["box"] = Self.boxJSON(b)
        }
        return .object(o)
    }

    public init(json: JSON) throws {
        let what = "task \(json["id"]?.integer.map(String.init) ?? "?")"
        func fail(_ why: String) -> GyreComputeError { GyreComputeError(.invalidArgument, "\(what): \(why)") }
        guard let id = json["id"]?.integer, id >= 0 else { throw fail("no id") }
        guard let v = json["variable"]?.string else { throw fail("no variable") }
        let inputs = try (json["inputs"]?.array ?? []).map { i -> Int in
            guard let n = i.integer, n >= 0 else { throw fail("an input is not a task id") }
            return Int(n)
        }
        func stage() throws -> Int {
            guard let s = json["stage"]?.integer, s >= 0 else { throw fail("no stage") }
            return Int(s)
        }
        let op: TaskOperation
        switch json["op"]?.string {
        case "partial":
            guard let ps = json["pieces"]?.array, !ps.isEmpty else { throw fail("a partial task lists no pieces") }
            op = .partial(variable: v, stage: try stage(), pieces: try ps.map { try Self.box($0, what) })
        case "combine": op = .combine(variable: v, stage: try stage())
        case "finalize": op = .finalize(variable: v, stage: try stage(), tile: try Self.box(json["box"], what))
        case "reduce": op = .reduceBlock(variable: v, stage: try stage(), tile: try Self.box(json["box"], what))
        case "compute": op = .compute(variable: v, region: try Self.box(json["box"], what))
        case "write": op = .write(variable: v, region: try Self.box(json["box"], what))
        default: throw fail("unknown operation \(json["op"].map { "\($0)" } ?? "(none)")")
        }
        self.init(id: Int(id), op: op, inputs: inputs)
    }
}

extension TaskGraph {
    public var json: JSON {
        .object(["program": program.json, "tasks": .array(tasks.map(\.json)), "results": .array(results.map { .int(Int64($0)) }),
                 "shapes": .object(JSONObject(uniqueKeysWithValues: shapes.sorted { $0.key < $1.key }.map { ($0.key, JSON.array($0.value.map { .int(Int64($0)) })) }))])
    }

    public init(json: JSON) throws {
        guard let p = json["program"], let ts = json["tasks"]?.array else {
            throw GyreComputeError(.invalidArgument, "task graph: no program or tasks")
        }
        var shapes: [String: [Int]] = [:]
        for (k, v) in json["shapes"]?.object ?? [:] { shapes[k] = (v.array ?? []).compactMap { $0.integer.map(Int.init) } }
        self.init(program: try ProgramReference(json: p), tasks: try ts.map { try GraphTask(json: $0) },
                  results: (json["results"]?.array ?? []).compactMap { $0.integer.map(Int.init) }, shapes: shapes)
    }
}
