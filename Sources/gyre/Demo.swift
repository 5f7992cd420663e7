import ArgumentParser
import Foundation
import Gyre

/// Builds a sea-surface-temperature-like dataset and prints it and a few reductions.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a sample SST dataset in memory, print it and a few analyses.")

    @Option(help: "Days of daily data, starting 2001-01-01.") var days = 365
    @Option(help: "Grid spacing in degrees.") var resolution = 2.0
    @Option(help: "Random seed for the noise.") var seed: UInt64 = 42
    @Option(help: "Also write the sample dataset to this Zarr v3 store (refused if it exists).") var zarr: String?
    @Option(help: "Also write the sample dataset as netCDF-4 files of 73 days each into this new directory.") var netcdf: String?

    func validate() throws {
        guard days > 0 && days <= 36_500 else { throw ValidationError("--days must be in 1...36500") }
        guard resolution >= 0.25 && resolution <= 30 else { throw ValidationError("--resolution must be in 0.25...30 degrees") }
    }

    func run() async throws {
        let start = Date()
        let ds = try SampleData.sst(days: days, resolution: resolution, seed: seed)
        print(ds)
        print()
        let sst = try ds.dataArray("sst")

        print("Time mean, summarized (sst.mean(\"time\")):")
        let timeMean = try sst.mean("time")
        print(timeMean)
        print()

        print("Area-weighted global mean for the first 5 days (weights cos(lat)):")
        let weights = try ds.dataArray("lat").unary(.deg2rad).unary(.cos)
        let valid = try sst.notnull().astype(.float64)
        let weighted = try (sst * weights).sum("lat", "lon")
        let norm = try (valid * weights).sum("lat", "lon")
        let globalMean = try (weighted / norm).isel(["time": .slice(Slice(0, 5))])
        print(globalMean)
        print()

        print("March 2001 at the point nearest 10.3N 200.1E (sel with method nearest):")
        let point = try sst.sel(["lat": 10.3, "lon": 200.1], method: .nearest).sel(["time": "2001-03"])
        print(try point.mean("time"))
        print()

        print("Warmest day per cell, statistics: max \(try sst.max().data.scalarValue!), 90th percentile of the time mean \(try timeMean.quantile(0.9).data.scalarValue!)")
        if let zarr {
            guard !FileManager.default.fileExists(atPath: zarr) else { throw CLIError("\(zarr) already exists") }
            try await ds.writeZarr(to: FileStore(path: zarr), options: ZarrWriteOptions(format: .v3, chunks: ["time": 73]))
            print("Wrote the sample dataset to \(zarr) (Zarr v3, chunks of 73 days).")
        }
        if let netcdf {
            guard !FileManager.default.fileExists(atPath: netcdf) else { throw CLIError("\(netcdf) already exists") }
            try FileManager.default.createDirectory(atPath: netcdf, withIntermediateDirectories: true)
            var files = 0
            for first in stride(from: 0, to: days, by: 73) {
                let part = try ds.isel(["time": .slice(Slice(first, first + 73))])
                try await part.writeNetCDF(to: "\(netcdf)/sst_\(String(format: "%05d", first)).nc", options: NetCDFWriteOptions(zlibLevel: 1))
                files += 1
            }
            print("Wrote the sample dataset to \(netcdf) as \(files) netCDF-4 files of up to 73 days.")
        }
        print(String(format: "Demo finished in %.2f s.", Date().timeIntervalSince(start)))
    }
}
