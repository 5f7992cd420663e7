import GyreCore
import GyreArrays

/// Datetime fields of a time-valued DataArray (`da.dt.month`), for datetime64 and
/// calendar-aware (cftime) values alike.
public struct DatetimeAccessor: Sendable {
    let array: DataArray

    public enum Field: String, Sendable, CaseIterable {
        case year, month, day, hour, minute, second, dayofyear, dayofweek, season, daysinmonth
    }

    /// The field as an int64 array (season: strings "DJF"...), named after the field.
    public func field(_ f: Field) throws -> DataArray {
        let values: AnyNDArray
        func ints(_ t: NDArray<Int64>, _ g: (Int64) -> Int64) -> AnyNDArray { .int64(t.map { $0 == Int64.min ? -1 : g($0) }) }
        switch try array.data {
        case .datetime64(let t, let u):
            if f == .season {
                values = .string(t.map { seasonName(month: Int(datetimeFields($0, unit: u).month)) }, .variable)
            } else {
                values = ints(t) { ticks in
                    let x = datetimeFields(ticks, unit: u)
                    switch f {
                    case .year: return x.year
                    case .month: return x.month
                    case .day: return x.day
                    case .hour: return x.hour
                    case .minute: return x.minute
                    case .second: return x.second
                    case .dayofyear, .daysinmonth, .dayofweek:
                        let d = try! CFDate(Int(x.year), Int(x.month), Int(x.day), calendar: .proleptic_gregorian)
                        return Int64(f == .dayofyear ? d.dayOfYear : f == .daysinmonth ? d.daysInMonth : d.dayOfWeek!)
                    case .season: return 0
                    }
                }
            }
        case .cftime(let t, let c):
            if f == .season {
                values = .string(t.map { CFDate(ticks: $0, calendar: c).season }, .variable)
            } else {
                if f == .dayofweek && c.isStandardLike == false && c != .julian {
                    throw GyreDataError(.invalidArgument, "dayofweek is not defined for the \(c.cfName) calendar")
                }
                values = ints(t) { ticks in
                    let d = CFDate(ticks: ticks, calendar: c)
                    switch f {
                    case .year: return Int64(d.year)
                    case .month: return Int64(d.month)
                    case .day: return Int64(d.day)
                    case .hour: return Int64(d.hour)
                    case .minute: return Int64(d.minute)
                    case .second: return Int64(d.second)
                    case .dayofyear: return Int64(d.dayOfYear)
                    case .daysinmonth: return Int64(d.daysInMonth)
                    case .dayofweek: return Int64(d.dayOfWeek ?? -1)
                    case .season: return 0
                    }
                }
            }
        default:
            throw GyreDataError(.invalidArgument, "'.dt' needs datetime values; '\(array.name ?? "array")' has dtype \(array.dtype)")
        }
        var r = array
        r.variable = try Variable(array.dims, values)
        r.name = f.rawValue
        return r
    }

    public var year: DataArray { get throws { try field(.year) } }
    public var month: DataArray { get throws { try field(.month) } }
    public var day: DataArray { get throws { try field(.day) } }
    public var hour: DataArray { get throws { try field(.hour) } }
    public var dayofyear: DataArray { get throws { try field(.dayofyear) } }
    public var season: DataArray { get throws { try field(.season) } }
}

extension DataArray {
    /// Datetime fields (`year`, `month`, `day`, `hour`, `dayofyear`, `season`...).
    public var dt: DatetimeAccessor { DatetimeAccessor(array: self) }
}
