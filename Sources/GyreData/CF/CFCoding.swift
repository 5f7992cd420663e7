import GyreCore
import GyreArrays
import GyreCompute
import OrderedCollections

/// Options for decoding CF conventions.
public struct CFDecodeOptions: Sendable {
    /// Mask `_FillValue`/`missing_value` and apply `scale_factor`/`add_offset` (xarray's default).
    public var maskAndScale = true
    /// Decode "UNITS since DATE" numbers to datetimes.
    public var decodeTimes = true
    /// Mask values outside `valid_min`/`valid_max`/`valid_range` (netCDF4-python does, xarray does not).
    public var maskValidRange = false
    /// Without a `_FillValue` attribute, also mask the netCDF default fill value of the type
    /// (netCDF4-python does, except for byte types; xarray does not).
    public var maskDefaultFillValue = false
    public init(maskAndScale: Bool = true, decodeTimes: Bool = true, maskValidRange: Bool = false, maskDefaultFillValue: Bool = false) {
        self.maskAndScale = maskAndScale
        self.decodeTimes = decodeTimes
        self.maskValidRange = maskValidRange
        self.maskDefaultFillValue = maskDefaultFillValue
    }

    /// What netCDF4-python applies by default: valid ranges and default fill values too.
    public static let netCDF4Python = CFDecodeOptions(maskValidRange: true, maskDefaultFillValue: true)
}

/// The CF conventions: decoding stored variables to analysis values and back, with xarray's
/// defaults (decode order: `_Unsigned`, mask, scale/offset, times).
public enum CF {
    /// The float dtype xarray decodes packed or masked data to (`_choose_float_dtype`).
    public static func chooseFloatDType(_ dtype: DType, _ attrs: Attributes) -> DType {
        let scale = attrs["scale_factor"], offset = attrs["add_offset"]
        if scale != nil || offset != nil {
            let scaleType = scale?.dtype
            let offsetType = offset?.dtype
            if let s = scaleType, let o = offsetType, s == o, s == .float32 || s == .float64 {
                if dtype.itemSize == 4 && dtype.isInteger { return .float64 }
                return s
            }
            if offset != nil { return .float64 }
            return scaleType ?? .float64
        }
        if dtype.itemSize <= 4 && dtype.isFloatingPoint { return .float32 }
        if dtype.itemSize <= 2 && dtype.isInteger { return .float32 }
        return .float64
    }


    /// Whether decoding `variable` needs its values, not only its attributes and dtype: times
    /// (whether they fit datetime64[ns] depends on the values) and non-numeric data. Backends
    /// load such variables before decoding; everything else decodes lazily, chunk by chunk.
    public static func decodingNeedsValues(_ variable: Variable, options: CFDecodeOptions = CFDecodeOptions()) -> Bool {
        let t = variable.dtype
        guard t.isNumeric || t.isTimedelta else { return true }
        if case .datetime64 = t { return true }
        if options.decodeTimes, let units = variable.attrs["units"]?.stringValue, units.contains(" since ") { return true }
        return false
    }

    /// Runs an elementwise coding lazily: the attributes, encoding and dtype come from coding
    /// a one-element probe of the same dtype (the coding depends on attributes only), and each
    /// region read later is coded the same way.
    static func lazily(_ variable: Variable, _ lazy: LazyArray, name: String, what: String, keepsValues: Bool,
                       _ code: @escaping @Sendable (Variable) throws -> Variable) throws -> Variable {
        let probeIn = try Variable(variable.dims, try AnyNDArray.zeros(Array(repeating: 1, count: variable.ndim), dtype: lazy.dtype),
                                   attrs: variable.attrs, encoding: variable.encoding)
        let probe = try code(probeIn)
        if keepsValues && probe.dtype == lazy.dtype {
            // Only attributes move (to encoding and back): the values are read as stored, with no
            // pass over them, and the array stays its source (a served Zarr view passes the
            // stored chunks through).
            return try Variable(variable.dims, lazy: lazy, attrs: probe.attrs, encoding: probe.encoding)
        }
        let attrs = variable.attrs, encoding = variable.encoding
        let mapped = lazy.map(LazyArray.Map(name: "\(what) '\(name)'", dtype: probe.dtype) { chunk in
            let dims = (0..<chunk.ndim).map { "dim_\($0)" }
            return try code(try Variable(dims, chunk, attrs: attrs, encoding: encoding)).data
        })
        return try Variable(variable.dims, lazy: mapped, attrs: probe.attrs, encoding: probe.encoding)
    }

    /// Whether decoding leaves the values as stored (only attributes move to the encoding): no
    /// unsigned reinterpretation, no fill value but NaN, no valid range, no packing, no times,
    /// no booleans. Conservative: false wherever `decode` might touch a value.
    static func decodeKeepsValues(_ v: Variable, options: CFDecodeOptions) -> Bool {
        let a = v.attrs
        if options.maskAndScale {
            if a["_Unsigned"] != nil || a["scale_factor"] != nil || a["add_offset"] != nil { return false }
            for key in ["missing_value", "_FillValue"] {
                if let fv = a[key] { guard let d = fv.doubles, d.allSatisfy(\.isNaN) else { return false } }
            }
            if options.maskDefaultFillValue, a["_FillValue"] == nil, v.encoding["_FillValue"] == nil, v.dtype.itemSize > 1,
               defaultFillValue(v.dtype) != nil { return false }
            if options.maskValidRange, a["valid_range"] != nil || a["valid_min"] != nil || a["valid_max"] != nil { return false }
        }
        if options.decodeTimes, let u = a["units"]?.stringValue, u.contains(" since ") { return false }
        if a["dtype"]?.stringValue == "bool" { return false }
        return true
    }

    /// Whether encoding leaves the values as they are: no times, no packing, no fill value but
    /// NaN for floats, no change of dtype.
    static func encodeKeepsValues(_ v: Variable) -> Bool {
        if v.dtype.isDatetime { return false }
        if case .cftime = v.dtype { return false }
        let enc = v.encoding
        if enc["scale_factor"] != nil || enc["add_offset"] != nil { return false }
        if let fv = enc["_FillValue"], v.dtype.isFloatingPoint, !(fv.doubleValue ?? .nan).isNaN { return false }
        if let t = enc["dtype"]?.stringValue {
            guard let d = parseDTypeName(t) else { return false }
            if d != v.dtype { return false }
        }
        return true
    }

    /// Decodes one variable. A lazy variable stays lazy (its regions are decoded as they are
    /// read) unless `decodingNeedsValues`, in which case it must be loaded first.
    public static func decode(_ variable: Variable, name: String, options: CFDecodeOptions = CFDecodeOptions()) throws -> Variable {
        if case .lazy(let l) = variable.storage {
            guard !decodingNeedsValues(variable, options: options) else {
                throw GyreDataError(.notLoaded, "variable '\(name)': decoding \(variable.dtype) values with units '\(variable.attrs["units"]?.stringValue ?? "")' needs them in memory; load() it first")
            }
            return try lazily(variable, l, name: name, what: "CF decoding", keepsValues: decodeKeepsValues(variable, options: options)) {
                try decode($0, name: name, options: options)
            }
        }
        var v = variable
        var attrs = v.attrs
        var encoding = v.encoding
        var data = try v.data
        func fail(_ why: String) -> GyreDataError { GyreDataError(.cfDecoding, "variable '\(name)': \(why)") }
        if encoding["dtype"] == nil, data.dtype.isNumeric { encoding["dtype"] = .string(data.dtype.description) }

        if options.maskAndScale {
            // _Unsigned: reinterpret signed storage as unsigned (and the reverse).
            if let u = attrs.removeValue(forKey: "_Unsigned") {
                encoding["_Unsigned"] = u
                let flag = u.stringValue?.lowercased() == "true"
                let target: DType?
                switch (data.dtype, flag) {
                case (.int8, true): target = .uint8
                case (.int16, true): target = .uint16
                case (.int32, true): target = .uint32
                case (.int64, true): target = .uint64
                case (.uint8, false): target = .int8
                case (.uint16, false): target = .int16
                case (.uint32, false): target = .int32
                case (.uint64, false): target = .int64
                default: target = nil
                }
                if let target {
                    data = try context("_Unsigned on '\(name)'") { try data.astype(target) }
                    for key in ["_FillValue", "missing_value"] {
                        if case .values(let fv)? = attrs[key] { attrs[key] = .values(try fv.astype(target)) }
                    }
                }
            }
            // Fill values.
            var fillValues: [Double] = []
            for key in ["missing_value", "_FillValue"] {
                guard let fv = attrs.removeValue(forKey: key) else { continue }
                encoding[key] = fv
                guard let d = fv.doubles else {
                    throw fail("attribute \(key) = \(fv) is not numeric")
                }
                for x in d where !x.isNaN && !fillValues.contains(x) { fillValues.append(x) }
            }
            if options.maskDefaultFillValue, encoding["_FillValue"] == nil, data.dtype.itemSize > 1,
               let dflt = CF.defaultFillValue(data.dtype), !fillValues.contains(dflt) {
                fillValues.append(dflt)
            }
            var validLow: Double? = nil, validHigh: Double? = nil
            if options.maskValidRange {
                if let r = attrs["valid_range"]?.doubles {
                    guard r.count == 2 else { throw fail("valid_range must have two values, has \(r.count)") }
                    validLow = r[0]; validHigh = r[1]
                }
                if let lo = attrs["valid_min"]?.doubleValue { validLow = lo }
                if let hi = attrs["valid_max"]?.doubleValue { validHigh = hi }
            }
            let packed = attrs["scale_factor"] != nil || attrs["add_offset"] != nil
            let timeLike = options.decodeTimes && (attrs["units"]?.stringValue.map(CFTimeUnits.isTimeUnits) ?? false)
            if !fillValues.isEmpty || validLow != nil || validHigh != nil {
                guard data.dtype.isNumeric else { throw fail("cannot mask values of dtype \(data.dtype)") }
                let raw = data
                // Which float (or NaT-sentinel int64) type holds the decoded values.
                let target: DType
                var sentinel = false
                if packed { target = chooseFloatDType(data.dtype, attrs) }
                else if timeLike && data.dtype.isInteger { target = .int64; sentinel = true }
                else { target = data.dtype.nanPromoted }
                let converted = try context("masking '\(name)'") { try data.astype(target) }
                var mask = NDArray<Bool>(repeating: false, shape: data.shape)
                if !fillValues.isEmpty {
                    let cmp = try context("masking '\(name)'") { try converted.astype(.float64).numericArray(Double.self) }
                    let fvs = fillValues.map { target == .float32 ? Double(Float($0)) : $0 }
                    mask = cmp.map { fvs.contains($0) }
                }
                if validLow != nil || validHigh != nil {
                    let r = try raw.numericArray(Double.self)
                    let outside = r.map { x in (validLow.map { x < $0 } ?? false) || (validHigh.map { x > $0 } ?? false) }
                    mask = try ndZip(mask, outside) { $0 || $1 }
                }
                let fill: Scalar = sentinel ? .int(Int64.min) : .double(.nan)
                data = try context("masking '\(name)'") { try AnyNDArray.where(.bool(mask), try converted.operand(fill), converted) }
            }
            // Scale and offset.
            if packed {
                let scale = attrs.removeValue(forKey: "scale_factor")
                let offset = attrs.removeValue(forKey: "add_offset")
                if let scale { encoding["scale_factor"] = scale }
                if let offset { encoding["add_offset"] = offset }
                guard scale?.doubleValue != nil || scale == nil, offset?.doubleValue != nil || offset == nil else {
                    throw fail("scale_factor and add_offset must be single numbers")
                }
                var target = data.dtype
                let masked = encoding["_FillValue"] != nil || encoding["missing_value"] != nil
                if !masked || timeLike { target = chooseFloatDType(data.dtype, encoding) }
                if !target.isFloatingPoint { target = chooseFloatDType(data.dtype, encoding) }
                data = try context("unpacking '\(name)'") {
                    var x = try data.astype(target)
                    // NumPy's in-place `data *= scale`: computed in the wider of the two float types.
                    if let s = scale, case .values(let sv) = s {
                        let wide = (sv.dtype == .float64 || target == .float64) ? DType.float64 : target
                        x = try x.astype(wide).binary(.multiply, try sv.reshaped([]).astype(wide)).astype(target)
                    }
                    if let o = offset, case .values(let ov) = o {
                        let wide = (ov.dtype == .float64 || target == .float64) ? DType.float64 : target
                        x = try x.astype(wide).binary(.add, try ov.reshaped([]).astype(wide)).astype(target)
                    }
                    return x
                }
            }
        }
        // Times.
        // Like xarray, any units with "since" are time units: a bad one is an error, not numbers.
        if options.decodeTimes, let unitsText = attrs["units"]?.stringValue, unitsText.contains(" since "), data.dtype.isNumeric,
           !unitsText.lowercased().hasPrefix("month"), !unitsText.lowercased().hasPrefix("year") {
            let calendar = attrs["calendar"]?.stringValue
            let decoded: AnyNDArray
            do { decoded = try decodeTimes(data, units: unitsText, calendar: calendar) } catch let e as GyreDataError {
                throw GyreDataError(.cfDecoding, "variable '\(name)': \(e.message)", cause: e)
            }
            data = decoded
            encoding["units"] = attrs.removeValue(forKey: "units")
            if let c = attrs.removeValue(forKey: "calendar") { encoding["calendar"] = c }
        }
        // Booleans stored as integers with dtype="bool" (xarray's BooleanCoder).
        if attrs["dtype"]?.stringValue == "bool", data.dtype.isInteger {
            encoding["dtype"] = attrs.removeValue(forKey: "dtype")
            data = try context("decoding booleans of '\(name)'") { try data.astype(.bool) }
        }
        v = try Variable(v.dims, data, attrs: attrs, encoding: encoding)
        return v
    }

    /// Default `_FillValue`s of netCDF for each type (used when packing NaNs into integers).
    public static func defaultFillValue(_ t: DType) -> Double? {
        switch t {
        case .int8: return -127
        case .uint8: return 255
        case .int16: return -32767
        case .uint16: return 65535
        case .int32: return -2147483647
        case .uint32: return 4294967295
        case .int64: return Double(Int64(-9_223_372_036_854_775_806))
        case .uint64: return Double(UInt64(18_446_744_073_709_551_614))
        case .float32: return Double(Float(bitPattern: 0x7CF0_0000))
        case .float64: return 9.969209968386869e36
        default: return nil
        }
    }

    /// Encodes one variable for storage, the reverse of `decode`: times to numbers with units and
    /// calendar, NaN to `_FillValue`, floats packed to the integer dtype in `encoding["dtype"]`
    /// with `scale_factor`/`add_offset`.
    public static func encode(_ variable: Variable, name: String) throws -> Variable {
        if case .lazy(let l) = variable.storage {
            switch variable.dtype {
            case .datetime64, .cftime:
                throw GyreDataError(.notLoaded, "variable '\(name)': encoding times needs the values in memory (to choose units); load() it first")
            default: break
            }
            return try lazily(variable, l, name: name, what: "CF encoding", keepsValues: encodeKeepsValues(variable)) { try encode($0, name: name) }
        }
        var attrs = variable.attrs
        let enc = variable.encoding
        var data = try variable.data
        func fail(_ why: String) -> GyreDataError { GyreDataError(.cfEncoding, "variable '\(name)': \(why)") }
        for key in ["units", "calendar", "_FillValue", "scale_factor", "add_offset", "missing_value"] where attrs[key] != nil && data.dtype.isDatetime {
            if key == "units" || key == "calendar" { throw fail("'\(key)' must be in encoding, not attrs, for datetime data") }
        }
        switch data.dtype {
        case .datetime64, .cftime:
            let units = try enc["units"]?.stringValue ?? inferTimeUnits(data)
            var calendar = enc["calendar"]?.stringValue
            if calendar == nil {
                if case .cftime(let c) = data.dtype { calendar = c.cfName } else { calendar = "proleptic_gregorian" }
            }
            data = try encodeTimes(data, units: units, calendar: calendar)
            attrs["units"] = .string(units)
            attrs["calendar"] = .string(calendar!)
            if data.dtype == .float64 && data.isnan().elements.contains(true) { attrs["_FillValue"] = .double(.nan) }
            return try Variable(variable.dims, data, attrs: attrs, encoding: enc)
        default: break
        }
        let targetName = enc["dtype"]?.stringValue
        let target = try targetName.map { t -> DType in
            if let d = parseDTypeName(t) { return d }
            throw fail("unknown encoding dtype '\(t)'")
        }
        let scale = enc["scale_factor"], offset = enc["add_offset"]
        if scale != nil || offset != nil {
            guard data.dtype.isFloatingPoint || data.dtype.isInteger else { throw fail("cannot pack dtype \(data.dtype)") }
            let t = target ?? .int16
            var x = try context("packing '\(name)'") { try data.astype(.float64) }
            if let o = offset?.doubleValue { x = try x.binary(.subtract, .double(o)) }
            if let s = scale?.doubleValue { x = try x.binary(.divide, .double(s)) }
            x = try x.unary(.round)
            let fill = enc["_FillValue"]?.doubleValue ?? (t.isInteger ? defaultFillValue(t) : nil)
            if let fill { x = try x.fillna(.double(fill)); attrs["_FillValue"] = try .scalar(.double(fill), dtype: t) }
            data = try context("packing '\(name)'") { try x.astype(t) }
            if let s = scale { attrs["scale_factor"] = s }
            if let o = offset { attrs["add_offset"] = o }
            return try Variable(variable.dims, data, attrs: attrs, encoding: enc)
        }
        if let fv = enc["_FillValue"] {
            let fill = fv.doubleValue ?? .nan
            if data.dtype.isFloatingPoint, !fill.isNaN { data = try data.fillna(.double(fill)) }
            attrs["_FillValue"] = fv
        } else if data.dtype.isFloatingPoint {
            // Floats without a declared fill value are written with NaN as theirs, as xarray does.
            attrs["_FillValue"] = try .scalar(.double(.nan), dtype: data.dtype)
        }
        if let mv = enc["missing_value"] { attrs["missing_value"] = mv }
        if let t = target, t != data.dtype, t.isNumeric, data.dtype.isNumeric {
            data = try context("encoding '\(name)'") { try data.astype(t) }
        }
        return try Variable(variable.dims, data, attrs: attrs, encoding: enc)
    }

    /// Parses dtype names as xarray stores them in encodings ("int16", "float32", "<i2").
    public static func parseDTypeName(_ s: String) -> DType? {
        let names: [String: DType] = ["bool": .bool, "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64,
                                      "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
                                      "float32": .float32, "float64": .float64]
        if let d = names[s] { return d }
        return try? parseNumpyDescr(s).0
    }
}

extension Dataset {
    /// Decodes every variable by the CF conventions (xarray's `decode_cf`).
    public func decodeCF(_ options: CFDecodeOptions = CFDecodeOptions()) throws -> Dataset {
        try mapVariables(includeCoords: true) { name, v in try CF.decode(v, name: name, options: options) }
    }

    /// Encodes every variable for storage by the CF conventions.
    public func encodeCF() throws -> Dataset {
        try mapVariables(includeCoords: true) { name, v in try CF.encode(v, name: name) }
    }
}
