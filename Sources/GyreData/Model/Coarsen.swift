import GyreCore
import GyreArrays
import GyreCompute
import OrderedCollections

/// `array.coarsen(time: 7, lat: 2)`: reductions over non-overlapping windows along one or more
/// dimensions (xarray's `coarsen`). `boundary` is "exact" (the lengths must divide), "trim"
/// (trailing positions that do not fill a window are dropped) or "pad" (the last window is
/// filled out with NaN: integers become float64, as in xarray). Coordinates along the
/// windows become their means, as xarray's default `coord_func="mean"` (a padded window's
/// coordinate is the mean of its real positions). Lazy arrays stay lazy.
public struct Coarsen: Sendable {
    public let array: DataArray
    public let windows: [(dim: String, size: Int)]
    public let boundary: String

    public func reduce(_ r: Reduction, skipna: Bool? = nil) throws -> DataArray {
        let what = "coarsen(\(windows.map { "\($0.dim)=\($0.size)" }.joined(separator: ", ")))"
        var trim: [String: PositionIndexer] = [:]
        var pad: [String: Int] = [:]
        for (d, k) in windows {
            let n = array.sizes[d] ?? 0
            guard n % k != 0 else { continue }
            switch boundary {
            case "trim": trim[d] = .slice(Slice(0, n - n % k))
            case "pad": pad[d] = k - n % k
            default:
                throw GyreDataError(.invalidArgument, "\(what): dimension '\(d)' of length \(n) is not a multiple of \(k); pass boundary=\"trim\" to drop the last \(n % k) or boundary=\"pad\" to fill the last window with NaN")
            }
        }
        let x = trim.isEmpty ? array : try array.isel(trim)
        // The values padded (their coordinates are padded one by one below).
        var values = x.variable
        for (d, count) in pad { values = try Self.padEnd(values, dim: d, count: count, what: "\(what) of '\(array.name ?? "array")'") }
        let v = try Self.split(values, windows, what: what)
        let inner = windows.map { "\($0.dim)\u{1F}window" }
        var out: Variable
        do { out = try v.reduce(r, dims: inner, skipna: skipna) } catch let e as GyreDataError {
            throw GyreDataError(e.code, "\(what).\(r): \(e.message)", cause: e)
        }
        out.attrs = array.variable.attrs
        var coords: OrderedDictionary<String, Variable> = [:]
        for (name, c) in x.coords {
            guard windows.contains(where: { c.dims.contains($0.dim) }) else { coords[name] = c; continue }
            coords[name] = try Self.coarsenCoordinate(c, windows.filter { c.dims.contains($0.dim) }, pad: pad, what: "\(what) of coordinate '\(name)'")
        }
        return try DataArray(out, coords: coords, name: array.name)
    }

    /// Each windowed dimension split in two: the windows, and the positions in a window.
    static func split(_ v: Variable, _ windows: [(dim: String, size: Int)], what: String) throws -> Variable {
        var dims = v.dims
        var storage = v.storage
        for (d, k) in windows {
            guard let ax = dims.firstIndex(of: d) else { throw GyreDataError(.missingDimension, "\(what): '\(d)' is not a dimension") }
            do {
                switch storage {
                case .lazy(let l): storage = .lazy(LazyArray(try SplitAxisSource(l, axis: ax, window: k)))
                case .eager(let a):
                    var s = a.shape
                    s[ax] /= k
                    s.insert(k, at: ax + 1)
                    storage = .eager(try a.reshaped(s))
                }
            } catch let e as GyreComputeError {
                throw GyreDataError(.invalidArgument, "\(what): \(e.message)", cause: e)
            } catch {
                throw GyreDataError(.invalidArgument, "\(what): \(error)")
            }
            dims.insert("\(d)\u{1F}window", at: ax + 1)
        }
        switch storage {
        case .lazy(let l): return try Variable(dims, lazy: l, attrs: v.attrs)
        case .eager(let a): return try Variable(dims, a, attrs: v.attrs)
        }
    }

    /// A coordinate's windows replaced by their means (times: the mean instant).
    static func coarsenCoordinate(_ c: Variable, _ windows: [(dim: String, size: Int)], pad: [String: Int], what: String) throws -> Variable {
        let data = try c.data
        let isTime: Bool
        switch data { case .datetime64, .cftime, .timedelta64: isTime = true; default: isTime = false }
        guard isTime || data.dtype.isNumeric else {
            throw GyreDataError(.invalidArgument, "\(what): cannot take the mean of \(data.dtype) values")
        }
        let ticks: AnyNDArray
        switch data {
        case .datetime64(let t, _), .cftime(let t, _), .timedelta64(let t, _): ticks = .int64(t)
        default: ticks = data
        }
        var values = try Variable(c.dims, ticks)
        for (d, count) in pad where c.dims.contains(d) {
            // NaN after the real positions, skipped by the mean.
            values = try Self.padEnd(values, dim: d, count: count, what: what)
        }
        let split = try Self.split(values, windows, what: what)
        var m = try split.reduce(.mean, dims: windows.map { "\($0.dim)\u{1F}window" }, skipna: true)
        // Times come back as the mean tick, rounded to the nearest.
        if isTime, let means = try m.data.doubles() {
            let t = try NDArray(shape: try m.data.shape, means.map { Int64($0.rounded()) })
            let back: AnyNDArray
            switch data {
            case .datetime64(_, let u): back = .datetime64(t, u)
            case .cftime(_, let cal): back = .cftime(t, cal)
            case .timedelta64(_, let u): back = .timedelta64(t, u)
            default: back = .int64(t)
            }
            m = try Variable(m.dims, back)
        }
        m.attrs = c.attrs
        return m
    }

    /// `v` with `count` NaN positions appended along `dim` (integers and booleans become
    /// float64); lazy values stay lazy.
    static func padEnd(_ v: Variable, dim: String, count: Int, what: String) throws -> Variable {
        guard let ax = v.dims.firstIndex(of: dim) else { throw GyreDataError(.missingDimension, "\(what): '\(dim)' is not a dimension") }
        guard v.dtype.isNumeric || v.dtype == .bool else {
            throw GyreDataError(.invalidArgument, "\(what): boundary=\"pad\" fills with NaN, which \(v.dtype) values cannot hold")
        }
        let target: DType = v.dtype.isFloatingPoint ? v.dtype : .float64
        var shape = v.shape
        shape[ax] = count
        do {
            switch v.storage {
            case .eager(let a):
                let fill = try AnyNDArray.full(shape, .double(.nan), dtype: target)
                return try Variable(v.dims, try AnyNDArray.concatenate([try a.astype(target), fill], axis: ax), attrs: v.attrs)
            case .lazy(var l):
                if l.dtype != target { l = l.map(LazyArray.Map(name: "astype \(target)", dtype: target) { try $0.astype(target) }) }
                let fill = FillSource(shape: shape, dtype: target, value: .double(.nan), name: "padding")
                return try Variable(v.dims, lazy: LazyArray(try ConcatenatedSource([l, fill], axis: ax)), attrs: v.attrs)
            }
        } catch let e as GyreDataError {
            throw e
        } catch {
            throw GyreDataError(.invalidArgument, "\(what): padding '\(dim)': \(error)")
        }
    }

    public func mean(skipna: Bool? = nil) throws -> DataArray { try reduce(.mean, skipna: skipna) }
    public func sum(skipna: Bool? = nil) throws -> DataArray { try reduce(.sum, skipna: skipna) }
    public func min(skipna: Bool? = nil) throws -> DataArray { try reduce(.min, skipna: skipna) }
    public func max(skipna: Bool? = nil) throws -> DataArray { try reduce(.max, skipna: skipna) }
    public func median(skipna: Bool? = nil) throws -> DataArray { try reduce(.median, skipna: skipna) }
    public func count() throws -> DataArray { try reduce(.count) }
}

extension DataArray {
    /// Non-overlapping windows along dimensions (xarray's `coarsen(dim=size, boundary=)`).
    public func coarsen(_ windows: [(String, Int)], boundary: String = "exact") throws -> Coarsen {
        guard !windows.isEmpty else { throw GyreDataError(.invalidArgument, "coarsen needs at least one dimension=size") }
        guard ["exact", "trim", "pad"].contains(boundary) else {
            throw GyreDataError(.invalidArgument, "coarsen: boundary must be \"exact\", \"trim\" or \"pad\", not \"\(boundary)\"")
        }
        for (d, k) in windows {
            guard dims.contains(d) else { throw GyreDataError(.missingDimension, "coarsen: dimension '\(d)' not found; the array has dimensions \(dims)") }
            guard k >= 1 else { throw GyreDataError(.invalidArgument, "coarsen: the window along '\(d)' must be at least 1, not \(k)") }
            guard k <= (sizes[d] ?? 0) else { throw GyreDataError(.invalidArgument, "coarsen: the window \(k) along '\(d)' is longer than the dimension (\(sizes[d] ?? 0))") }
        }
        guard Set(windows.map(\.0)).count == windows.count else { throw GyreDataError(.invalidArgument, "coarsen: a dimension is given twice") }
        return Coarsen(array: self, windows: windows.map { (dim: $0.0, size: $0.1) }, boundary: boundary)
    }
}
