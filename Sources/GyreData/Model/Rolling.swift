import GyreCore
import GyreArrays
import GyreCompute

/// `array.rolling(dim: window, center:, minPeriods:)`: moving-window statistics, eager or lazy.
public struct Rolling: Sendable {
    public let array: DataArray
    public let dim: String
    public let window: Int
    public let center: Bool
    public let minPeriods: Int?

    public func reduce(_ kind: RollingSpec.Kind) throws -> DataArray {
        let ax = try array.variable.axis(of: dim)
        let spec: RollingSpec
        do { spec = try RollingSpec(axis: ax, window: window, center: center, minPeriods: minPeriods, kind: kind) } catch let e as GyreComputeError {
            throw GyreDataError(.invalidArgument, "rolling(\(dim)=\(window)): \(e.message)", cause: e)
        }
        let v: Variable
        do {
            switch array.variable.storage {
            case .lazy(let l): v = try Variable(array.dims, lazy: LazyArray(try RollingSource(l, spec: spec)))
            case .eager(let a): v = try Variable(array.dims, try spec.apply(a))
            }
        } catch let e as GyreComputeError {
            throw GyreDataError(.invalidArgument, "rolling(\(dim)=\(window)).\(kind.rawValue): \(e.message)", cause: e)
        }
        return try DataArray(v, coords: array.coords, name: array.name)
    }

    public func mean() throws -> DataArray { try reduce(.mean) }
    public func sum() throws -> DataArray { try reduce(.sum) }
    public func min() throws -> DataArray { try reduce(.min) }
    public func max() throws -> DataArray { try reduce(.max) }
    public func std() throws -> DataArray { try reduce(.std) }
    public func variance() throws -> DataArray { try reduce(.variance) }
    public func count() throws -> DataArray { try reduce(.count) }
}

extension DataArray {
    /// Moving windows along `dim` (xarray's `rolling(dim=window, center=, min_periods=)`).
    public func rolling(_ dim: String, window: Int, center: Bool = false, minPeriods: Int? = nil) throws -> Rolling {
        guard dims.contains(dim) else { throw GyreDataError(.missingDimension, "rolling: dimension '\(dim)' not found; the array has dimensions \(dims)") }
        return Rolling(array: self, dim: dim, window: window, center: center, minPeriods: minPeriods)
    }

    /// Differences of neighbours along `dim` (`n` times), labelled by the later position, as xarray.
    public func diff(_ dim: String, n: Int = 1) throws -> DataArray {
        guard n >= 0 else { throw GyreDataError(.invalidArgument, "diff: n must not be negative, not \(n)") }
        var out = self
        for _ in 0..<n {
            let later = try out.isel([dim: .slice(Slice(1, nil))])
            let earlier = try out.isel([dim: .slice(Slice(nil, -1))])
            let v = try later.variable.binary(.subtract, earlier.variable)
            out = try DataArray(v, coords: later.coords, name: name)
        }
        return out
    }

    /// Values moved `periods` positions along `dim`, NaN filling the vacated ones (xarray's `shift`).
    public func shift(_ dim: String, periods: Int) throws -> DataArray {
        let ax = try variable.axis(of: dim)
        let n = shape[ax]
        let k = Swift.max(-n, Swift.min(n, periods))
        let positions = (0..<n).map { i -> Int in let j = i - k; return (0..<n).contains(j) ? j : 0 }
        let moved = try variable.isel([dim: .positions(positions)])
        let valid = (0..<n).map { i -> Bool in (0..<n).contains(i - k) }
        let mask = try Variable([dim], .bool(NDArray(valid)))
        let v = try moved.where(mask)
        return try DataArray(v, coords: coords, name: name)
    }

    /// Running sums along `dim` (NaN counted as 0, as xarray's skipna).
    public func cumsum(_ dim: String) throws -> DataArray {
        let n = shape[try variable.axis(of: dim)]
        // A trailing window as long as the axis is a running sum; positions before the first
        // value give 0 (xarray's cumsum with skipna gives 0 there too).
        let r = try Rolling(array: self, dim: dim, window: Swift.max(n, 1), center: false, minPeriods: 0).reduce(.sum)
        return try r.fillna(.double(0))
    }
}
