import GyreArrays
import GyreData
import GyreRender

/// Mosaics of a cube: its time dimension reduced, and pictures of the result.
public enum Mosaic {
    /// The cube reduced over time: median, mean, min or max of the valid values (lazy), or
    /// first, each pixel's first valid value in time order (read whole).
    public static func reduce(_ cube: DataArray, method: String) async throws -> DataArray {
        switch method {
        case "median": return try cube.median("time", skipna: true)
        case "mean": return try cube.mean("time", skipna: true)
        case "min": return try cube.min("time", skipna: true)
        case "max": return try cube.max("time", skipna: true)
        case "first": return try await first(cube)
        default: throw GyreCubeError(.invalidArgument, "mosaic method '\(method)': median, mean, min, max or first")
        }
    }

    /// Each pixel's first valid (not NaN) value along time.
    static func first(_ cube: DataArray) async throws -> DataArray {
        guard let t = cube.dims.firstIndex(of: "time"), t == 0 else { throw GyreCubeError(.invalidArgument, "a cube with time first is needed") }
        let shape = cube.shape
        let plane = shape.dropFirst().reduce(1, *)
        var out = [Double](repeating: .nan, count: plane)
        var left = plane
        for k in 0..<shape[0] where left > 0 {
            let step = try await cube.isel(["time": .at(k)]).variable.load()
            guard let v = try step.data.astype(.float64).doubles() else { continue }
            for i in 0..<plane where out[i].isNaN && !v[i].isNaN { out[i] = v[i]; left -= 1 }
        }
        var dims = cube.dims
        dims.removeFirst()
        var coords = cube.coords
        coords.removeValue(forKey: "time")
        coords.removeValue(forKey: "id")
        let data = try AnyNDArray.float64(try NDArray(shape: Array(shape.dropFirst()), out)).astype(cube.dtype)
        return try DataArray(try Variable(dims, data, attrs: cube.attrs), coords: coords.filter { !$0.value.dims.contains("time") }, name: cube.name)
    }

    /// A (band, y, x) mosaic as an image: three bands as red, green and blue, one band as gray;
    /// values scaled linearly from `range` (default: the 2nd and 98th percentiles of the valid
    /// values) to 0...255; pixels without a value transparent.
    public static func rgb(_ data: AnyNDArray, range: [Double]? = nil) throws -> RGBAImage {
        guard data.ndim == 3, data.shape[0] == 3 || data.shape[0] == 1 else {
            throw GyreCubeError(.invalidArgument, "a picture needs 1 or 3 bands, the mosaic has shape \(data.shape)")
        }
        let bands = data.shape[0], h = data.shape[1], w = data.shape[2]
        let v = try data.astype(.float64).doubles() ?? []
        var lo: Double, hi: Double
        if let range {
            guard range.count == 2, range[0] < range[1] else { throw GyreCubeError(.invalidArgument, "range \(range): MIN,MAX with MIN < MAX") }
            (lo, hi) = (range[0], range[1])
        } else {
            // Percentiles from a sample of at most a million valid values.
            let stride = Swift.max(1, v.count / 1_000_000)
            var sample: [Double] = []
            var i = 0
            while i < v.count { if !v[i].isNaN { sample.append(v[i]) }; i += stride }
            sample.sort()
            guard !sample.isEmpty else { throw GyreCubeError(.invalidArgument, "the mosaic has no valid pixel") }
            lo = sample[Int(Double(sample.count - 1) * 0.02)]
            hi = sample[Int(Double(sample.count - 1) * 0.98)]
            if hi <= lo { hi = lo + 1 }
        }
        var px = [UInt8](repeating: 0, count: w * h * 4)
        let plane = w * h
        for p in 0..<plane {
            var any = false
            for c in 0..<3 {
                let x = v[(bands == 3 ? c : 0) * plane + p]
                if x.isNaN { continue }
                any = true
                px[p * 4 + c] = UInt8(Swift.max(0, Swift.min(255, ((x - lo) / (hi - lo) * 255).rounded())))
            }
            px[p * 4 + 3] = any ? 255 : 0
        }
        return RGBAImage(width: w, height: h, pixels: px)
    }
}
