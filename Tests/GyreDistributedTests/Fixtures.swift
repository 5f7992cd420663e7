import Foundation
import GyreArrays
import GyreCompute
import GyreData
import GyreZarr
import GyreExpr
import GyreStorage
import GyreTestSupport
import Testing

/// The data the distributed tests compute on: SampleData's daily sst (NaN over land), written as
/// Zarr in chunks of 10 days, so a reduction has many pieces and groups straddle them.
enum Fixtures {
    static func cube(days: Int = 120, resolution: Double = 10, chunkDays: Int = 10) async throws -> URL {
        let dir = try LocalServers.scratch("distributed")
        let url = dir.appendingPathComponent("sst.zarr")
        let ds = try SampleData.sst(days: days, resolution: resolution)
        var options = ZarrWriteOptions()
        options.chunks = ["time": chunkDays]
        try await ds.write(to: url.path, options: options)
        return url
    }

    /// The expressions every executor must agree on.
    static let expressions = [
        "sst.mean('time')",
        "sst.groupby('time.month').mean()",
        "sst.weighted(np.cos(np.deg2rad(sst.lat))).mean(('lat', 'lon'))",
        "(sst - sst.mean('time')).std('time')",
        "sst.median('time')",
    ]

    /// Computes here, the usual way.
    static func direct(_ p: ProgramReference) async throws -> Dataset {
        let ds = try await Dataset.open(p.sources[0])
        guard case .array(let a) = try await Evaluator(dataset: ds).evaluate(p.expression) else { throw Failure("not an array") }
        return try await ComputeOptions.$current.withValue(ComputeOptions(taskBytes: p.taskBytes, slabBytes: p.slabBytes)) {
            try await a.toDataset(name: a.name ?? "result").load()
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// Bit for bit: the same dtype, shape and bytes (NaN where NaN).
    static func same(_ a: AnyNDArray, _ b: AnyNDArray) throws -> Bool {
        guard a.dtype == b.dtype, a.shape == b.shape else { return false }
        return try a.rawBytes() == b.rawBytes()
    }
}
