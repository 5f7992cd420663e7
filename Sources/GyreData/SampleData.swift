import GyreCore
import Foundation
import GyreArrays
import OrderedCollections

/// Generated sample data, so demos and tests need no downloads.
public enum SampleData {
    /// A small deterministic generator (SplitMix64) so samples are reproducible everywhere.
    /// The generator of the sample data (kept as a name for callers).
    public typealias Generator = SplitMix64

    /// A sea-surface-temperature-like dataset: daily `sst` (float32, °C) on a regular grid with a
    /// meridional gradient, a seasonal cycle of opposite phase in each hemisphere, noise, and NaN
    /// over a blocky "land" mask; plus an `err` estimate. CF-style attributes throughout.
    public static func sst(days: Int, resolution: Double = 2.0, seed: UInt64 = 42) throws -> Dataset {
        let nlat = Int((180 / resolution).rounded()), nlon = Int((360 / resolution).rounded())
        let lat = (0..<nlat).map { -90 + resolution / 2 + Double($0) * resolution }
        let lon = (0..<nlon).map { resolution / 2 + Double($0) * resolution }
        let t0 = try parseDatetime64("2001-01-01", unit: .nanoseconds)
        let dayNs = TimeUnit.days.nanoseconds
        let times = (0..<days).map { t0 + Int64($0) * dayNs }
        var rng = Generator(seed: seed)
        // Land: a few rectangles (continents-ish), fixed in time.
        func isLand(_ la: Double, _ lo: Double) -> Bool {
            (la > -35 && la < 35 && lo > 10 && lo < 50) ||      // Africa
            (la > 25 && la < 70 && lo > 60 && lo < 140) ||      // Asia
            (la > 15 && la < 70 && lo > 235 && lo < 300) ||     // North America
            (la > -55 && la < 10 && lo > 280 && lo < 325) ||    // South America
            la < -70                                            // Antarctica
        }
        var land = [Bool](repeating: false, count: nlat * nlon)
        for i in 0..<nlat { for j in 0..<nlon { land[i * nlon + j] = isLand(lat[i], lon[j]) } }
        var values = [Float](repeating: .nan, count: days * nlat * nlon)
        for t in 0..<days {
            let season = Foundation.cos(2 * Double.pi * (Double(t) - 45) / 365.25)
            for i in 0..<nlat {
                let s = Foundation.sin(lat[i] * .pi / 180)
                let base = 28 - 30 * s * s
                let amp = 4 * s  // northern summer warm, southern summer opposite
                for j in 0..<nlon where !land[i * nlon + j] {
                    let v = base - amp * season + 0.5 * rng.normal()
                    values[(t * nlat + i) * nlon + j] = Float(Swift.max(v, -1.8))
                }
            }
        }
        let sst = try Variable(["time", "lat", "lon"], .float32(try NDArray(shape: [days, nlat, nlon], values)),
                               attrs: ["standard_name": "sea_surface_temperature", "long_name": "Sea surface temperature", "units": "degC"])
        let errValues = values.map { $0.isNaN ? Float.nan : 0.2 + 0.01 * Swift.abs($0 - 15) }
        let err = try Variable(["time", "lat", "lon"], .float32(try NDArray(shape: [days, nlat, nlon], errValues)),
                               attrs: ["long_name": "SST error estimate", "units": "degC"])
        return try Dataset(
            dataVars: ["sst": sst, "err": err],
            coords: [
                "time": try Variable(["time"], .datetime64(NDArray(times), .nanoseconds), attrs: ["standard_name": "time"]),
                "lat": Variable("lat", lat, attrs: ["standard_name": "latitude", "units": "degrees_north"]),
                "lon": Variable("lon", lon, attrs: ["standard_name": "longitude", "units": "degrees_east"]),
            ],
            attrs: ["title": "Gyre sample SST (generated)", "Conventions": "CF-1.8", "source": .string("SampleData.sst(days: \(days), resolution: \(resolution), seed: \(seed))")])
    }
}
