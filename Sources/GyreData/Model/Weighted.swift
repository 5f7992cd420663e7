import GyreCore
import GyreArrays
import GyreCompute
import OrderedCollections

/// `array.weighted(w)`: sums and means weighted by `w` (for example area weights
/// `cos(lat)`), over the values that are not NaN, as xarray's `weighted`. Weights may not be
/// NaN. On lazy data the weighted sums stream in one pass.
public struct Weighted: Sendable {
    public let array: DataArray
    public let weights: DataArray

    /// Σ w·x over `dims` (all of the array's when nil).
    public func sum(_ dims: [String]? = nil) throws -> DataArray { try reduce(.sum, dims) }
    /// Σ w·x / Σ w over `dims`, counting only the weights of values that are not NaN.
    public func mean(_ dims: [String]? = nil) throws -> DataArray { try reduce(.mean, dims) }

    /// Σ w over `dims` for the values that are not NaN.
    public func sumOfWeights(_ dims: [String]? = nil) throws -> DataArray {
        let mask = try array.notnull().astype(weights.dtype)
        return try (mask * weights).reduce(.sum, dims: dims ?? array.dims)
    }

    func reduce(_ r: Reduction, _ dims: [String]?) throws -> DataArray {
        let names = dims ?? array.dims
        for d in names where !array.dims.contains(d) && !weights.dims.contains(d) {
            throw GyreDataError(.missingDimension, "weighted \(r): dimension '\(d)' not found; the array has dimensions \(array.dims)")
        }
        guard Set(weights.dims).isSubset(of: array.dims) else {
            throw GyreDataError(.dimensionMismatch, "weighted: weights have dimensions \(weights.dims), not all of which the array \(array.dims) has")
        }
        guard weights.dtype.isNumeric, array.dtype.isNumeric else {
            throw GyreDataError(.invalidArgument, "weighted: values (\(array.dtype)) and weights (\(weights.dtype)) must be numbers")
        }
        // Align on shared indexes first (weights may come from a coordinate of the array).
        let aligned = try align([array, weights], join: .inner)
        let x = aligned[0], w = aligned[1]
        if !w.variable.isLazy, let d = try w.data.doubles(), d.contains(where: \.isNaN) {
            throw GyreDataError(.invalidArgument, "weighted: the weights contain NaN; fill them first (weights.fillna(0))")
        }
        let axes = try names.map { try x.variable.axis(of: $0) }
        let remaining = x.dims.filter { !names.contains($0) }
        var coords: OrderedDictionary<String, Variable> = [:]
        for (k, c) in x.coords where Set(c.dims).isDisjoint(with: names) { coords[k] = c }
        if case .lazy(let l) = x.variable.storage {
            let order = x.dims.filter { w.dims.contains($0) }
            let wt = try w.variable.transposed(order)
            let wAxes = order.map { x.dims.firstIndex(of: $0)! }
            let operand: ElementwiseOperand
            switch wt.storage {
            case .lazy(let wl): operand = ElementwiseOperand(.lazy(wl), axes: wAxes)
            case .eager(let we): operand = ElementwiseOperand(.eager(we), axes: wAxes)
            }
            do {
                let node = try ReductionSource(l, axes: axes, reduction: r, skipna: true, weights: operand)
                return try DataArray(try Variable(remaining, lazy: LazyArray(node)), coords: coords, name: x.name)
            } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, "weighted \(r): \(e.message)", cause: e)
            }
        }
        let valid = try x.notnull()
        let xw = try (x * w).where(valid, other: .double(0))
        let total = try xw.reduce(.sum, dims: names, skipna: false)
        let result: DataArray
        if r == .sum { result = total } else {
            let ww = try (valid.astype(w.dtype) * w).reduce(.sum, dims: names, skipna: false)
            result = try total / ww
        }
        var out = try DataArray(try result.variable.transposed(remaining), coords: coords, name: x.name)
        if out.dtype != .float32 && out.dtype != .float64 { out = try out.astype(.float64) }
        return out
    }
}

extension DataArray {
    /// Weighted sums and means (`da.weighted(w).mean(["lat", "lon"])`).
    public func weighted(_ weights: DataArray) -> Weighted { Weighted(array: self, weights: weights) }
}
