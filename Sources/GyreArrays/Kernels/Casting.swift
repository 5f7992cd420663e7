import GyreCore
import Foundation

extension AnyNDArray {
    private struct ToNumeric<D: NumericElement>: _NumericVisitor {
        func visitInteger<T: IntegerElement>(_ a: NDArray<T>) -> NDArray<D> {
            if T.self == D.self { return a as! NDArray<D> }
            return a.map { D.cast($0) }
        }
        func visitFloat<T: FloatElement>(_ a: NDArray<T>) -> NDArray<D> {
            if T.self == D.self { return a as! NDArray<D> }
            return a.map { D.cast($0) }
        }
    }

    private struct ToBool: _NumericVisitor {
        func visitInteger<T: IntegerElement>(_ a: NDArray<T>) -> NDArray<Bool> { a.map { $0 != 0 } }
        func visitFloat<T: FloatElement>(_ a: NDArray<T>) -> NDArray<Bool> { a.map { $0 != 0 } }  // NaN is true
    }

    /// The elements as `D` by NumPy's casting rules (numeric dtypes and bool only).
    public func numericArray<D: NumericElement>(_: D.Type) throws -> NDArray<D> {
        if case .bool(let a) = self { return a.map { $0 ? D.oneValue : D.zeroValue } }
        return try _numeric(ToNumeric<D>(), "conversion of \(dtype) to \(D.dtype)")
    }

    /// Converts to `target` with NumPy's casting semantics: integers wrap, floats truncate,
    /// datetimes change unit by flooring, numbers format as strings and strings parse as numbers.
    /// Returns `self` (no copy) when the dtype already matches.
    public func astype(_ target: DType) throws -> AnyNDArray {
        let source = dtype
        if source == target { return self }
        switch (self, target) {
        case (.string(let a, _), .string(let k)):
            switch k {
            case .unicode(let n): return .string(a.map { String($0.prefix(n)) }, k)
            case .bytes(let n): return .string(a.map { String(decoding: Array($0.utf8.prefix(n)), as: UTF8.self) }, k)
            case .variable: return .string(a, k)
            }
        case (_, .string(let k)):
            let strs = scalars.map { $0.description }
            return .string(try NDArray(shape: shape, strs), k)
        case (.string(let a, _), _) where target.isNumeric:
            var bad: String?
            let d = a.map { s -> Double in
                if let v = Double(s.trimmingCharacters(in: .whitespaces)) { return v }
                if ["nan", "NaN"].contains(s) { return .nan }
                if bad == nil { bad = s }
                return .nan
            }
            if let bad { throw GyreArraysError(.parse, "cannot convert string '\(bad)' to \(target)") }
            return try AnyNDArray.float64(d).astype(target)
        case (.string(let a, _), .datetime64(let u)):
            var failure: (any Error & Sendable)?
            let t = a.map { s -> Int64 in
                do { return try parseDatetime64(s, unit: u) } catch {
                    if failure == nil { failure = error as? GyreArraysError }
                    return Int64.min
                }
            }
            if let failure { throw failure }
            return .datetime64(t, u)
        case (.datetime64(let a, let u), .datetime64(let v)): return .datetime64(convertTicks(a, from: u, to: v), v)
        case (.timedelta64(let a, let u), .timedelta64(let v)): return .timedelta64(convertTicks(a, from: u, to: v), v)
        case (.datetime64(let a, _), .int64), (.timedelta64(let a, _), .int64): return .int64(a)
        case (.datetime64(let a, let u), .cftime(let c)) where c.isStandardLike:
            let us = convertTicks(a, from: u, to: .microseconds)
            if c == .standard {
                let cutover = Int64(-141427) * 86_400_000_000  // 1582-10-15
                if us.elements.contains(where: { $0 != Int64.min && $0 < cutover }) {
                    return try AnyNDArray.datetime64(a, u).astype(.cftime(.proleptic_gregorian)).convertCalendar(to: .standard)
                }
            }
            return .cftime(us, c)
        case (.cftime(let a, let c), .datetime64(let u)):
            guard c.isStandardLike else {
                throw GyreArraysError(.unsupportedDType, "cannot convert \(c.cfName) calendar dates to datetime64: the calendar is not the standard one")
            }
            var src = AnyNDArray.cftime(a, c)
            if c == .standard { src = try src.convertCalendar(to: .proleptic_gregorian) }
            guard case .cftime(let pg, _) = src else { fatalError() }
            return .datetime64(convertTicks(pg, from: .microseconds, to: u), u)
        case (.cftime(let a, let c), .cftime(let d)):
            return try AnyNDArray.cftime(a, c).convertCalendar(to: d)
        case (.int8, .datetime64(let u)), (.int16, .datetime64(let u)), (.int32, .datetime64(let u)), (.int64, .datetime64(let u)),
             (.uint8, .datetime64(let u)), (.uint16, .datetime64(let u)), (.uint32, .datetime64(let u)):
            return .datetime64(try numericArray(Int64.self), u)
        case (.int8, .timedelta64(let u)), (.int16, .timedelta64(let u)), (.int32, .timedelta64(let u)), (.int64, .timedelta64(let u)),
             (.uint8, .timedelta64(let u)), (.uint16, .timedelta64(let u)), (.uint32, .timedelta64(let u)):
            return .timedelta64(try numericArray(Int64.self), u)
        case (.float32, .timedelta64(let u)), (.float64, .timedelta64(let u)):
            let d = try numericArray(Double.self)
            return .timedelta64(d.map { $0.isNaN ? Int64.min : Int64($0.rounded(.towardZero)) }, u)
        case (.datetime64(let a, _), .float64), (.timedelta64(let a, _), .float64):
            return .float64(a.map { $0 == Int64.min ? .nan : Double($0) })
        default: break
        }
        guard source.isNumeric else {
            throw GyreArraysError(.unsupportedDType, "cannot convert \(source) to \(target)")
        }
        switch target {
        case .bool:
            return .bool(try _numeric(ToBool(), "conversion to bool"))
        case .int8: return .int8(try numericArray(Int8.self))
        case .int16: return .int16(try numericArray(Int16.self))
        case .int32: return .int32(try numericArray(Int32.self))
        case .int64: return .int64(try numericArray(Int64.self))
        case .uint8: return .uint8(try numericArray(UInt8.self))
        case .uint16: return .uint16(try numericArray(UInt16.self))
        case .uint32: return .uint32(try numericArray(UInt32.self))
        case .uint64: return .uint64(try numericArray(UInt64.self))
        case .float32: return .float32(try numericArray(Float.self))
        case .float64: return .float64(try numericArray(Double.self))
        default:
            throw GyreArraysError(.unsupportedDType, "cannot convert \(source) to \(target)")
        }
    }

    /// Re-expresses calendar-aware datetimes in another calendar by their fields (year, month,
    /// day, time). Dates that do not exist in the target calendar (Feb 30 in 360_day to noleap,
    /// Feb 29 to noleap) raise an error naming the date.
    public func convertCalendar(to target: CFCalendar) throws -> AnyNDArray {
        guard case .cftime(let a, let c) = self else {
            throw GyreArraysError(.unsupportedDType, "convertCalendar needs cftime values, not \(dtype)")
        }
        if c == target { return self }
        var failure: String?
        let out = a.map { t -> Int64 in
            if t == Int64.min { return t }
            let d = CFDate(ticks: t, calendar: c)
            do { return try CFDate(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, calendar: target).ticks }
            catch { if failure == nil { failure = "\(d.isoformat()) does not exist in the \(target.cfName) calendar" }; return Int64.min }
        }
        if let failure { throw GyreArraysError(.calendar, failure) }
        return .cftime(out, target)
    }
}

/// Converts datetime/timedelta ticks between units: finer multiplies, coarser floors. NaT stays NaT.
@inlinable
public func convertTicks(_ a: NDArray<Int64>, from u: TimeUnit, to v: TimeUnit) -> NDArray<Int64> {
    if u == v { return a }
    if u.nanoseconds > v.nanoseconds {
        let k = u.nanoseconds / v.nanoseconds
        return a.map { $0 == Int64.min ? $0 : $0 &* k }
    }
    let k = v.nanoseconds / u.nanoseconds
    return a.map { t in
        if t == Int64.min { return t }
        let q = t / k
        return (t % k != 0 && t < 0) ? q - 1 : q
    }
}

/// Converts one tick value between units (finer multiplies, coarser floors). NaT stays NaT.
@inlinable
public func convertTick(_ t: Int64, from u: TimeUnit, to v: TimeUnit) -> Int64 {
    if u == v || t == Int64.min { return t }
    if u.nanoseconds > v.nanoseconds { return t &* (u.nanoseconds / v.nanoseconds) }
    let k = v.nanoseconds / u.nanoseconds
    let q = t / k
    return (t % k != 0 && t < 0) ? q - 1 : q
}
