import GyreCore
import Foundation
import GyreArrays
import GyreCompute
import GyreNetCDF
import GyreZarr
import OrderedCollections

/// Attribute values between netCDF and the data model.
enum NetCDFAttributes {
    static func decode(_ a: NetCDFAttribute) -> AttributeValue {
        switch a {
        case .text(let s): return .string(s)
        case .strings(let s): return s.count == 1 ? .string(s[0]) : .strings(s)
        case .values(let v):
            // One value reads as a scalar, as netCDF4-python gives it.
            if v.count == 1, let s = try? v.reshaped([]) { return .values(s) }
            return .values(v)
        }
    }

    static func encode(_ a: AttributeValue) -> NetCDFAttribute {
        switch a {
        case .string(let s): return .text(s)
        case .strings(let s): return .strings(s)
        case .values(let v): return .values(v.ndim == 0 ? ((try? v.reshaped([1])) ?? v) : v)
        }
    }
}

/// Options for writing a Dataset to netCDF-4.
public struct NetCDFWriteOptions: Sendable {
    /// Chunk length per dimension (dimensions not named are whole); nil: netCDF's default chunking.
    public var chunks: [String: Int]? = nil
    /// zlib level for every numeric variable (nil or 0: uncompressed).
    public var zlibLevel: Int? = nil
    public var shuffle = true
    /// Dimensions written as unlimited (besides those the dataset's encoding names).
    public var unlimitedDims: [String] = []
    public var overwrite = false
    public init(chunks: [String: Int]? = nil, zlibLevel: Int? = nil, shuffle: Bool = true, unlimitedDims: [String] = [], overwrite: Bool = false) {
        self.chunks = chunks
        self.zlibLevel = zlibLevel
        self.shuffle = shuffle
        self.unlimitedDims = unlimitedDims
        self.overwrite = overwrite
    }
}

extension Dataset {
    /// Opens a netCDF file (netCDF-3 classic, 64-bit offset, CDF-5, netCDF-4/HDF5) through
    /// netcdf-c and decodes it by the CF conventions. `group` picks a group by path ("a/b").
    /// Numeric data variables are lazy (a region read reads only that hyperslab); dimension
    /// coordinates, times and text are read now, as xarray does, and other coordinates when
    /// small (``Dataset/coordinateLoadBytes``).
    public static func openNetCDF(_ path: String, group: String = "/", decode options: CFDecodeOptions = CFDecodeOptions()) async throws -> Dataset {
        let file: NetCDFFile
        do { file = try await NetCDFFile.open(path) } catch let e as GyreNetCDFError {
            throw GyreDataError(.read, e.message, cause: e)
        }
        return try await openNetCDF(file, group: group, decode: options)
    }

    /// Decodes an opened netCDF file (local, or in a store and read by byte range).
    static func openNetCDF(_ file: NetCDFFile, group: String, decode options: CFDecodeOptions) async throws -> Dataset {
        let path = file.path
        let g: NetCDFGroup
        do { g = try file.group(group) } catch let e as GyreNetCDFError { throw GyreDataError(.missingVariable, e.message, cause: e) }
        var raw: OrderedDictionary<String, Variable> = [:]
        var coordNames = Set<String>()
        for v in g.variables {
            var attrs: Attributes = [:]
            for (k, a) in v.attributes { attrs[k] = NetCDFAttributes.decode(a) }
            if case .string(let c)? = attrs.removeValue(forKey: "coordinates") {
                coordNames.formUnion(c.split(separator: " ").map(String.init))
            }
            var encoding: Attributes = ["source": .string(path)]
            if let c = v.chunkShape { encoding["chunksizes"] = .values(.int64(NDArray(c.map(Int64.init)))) }
            encoding["contiguous"] = .values(.bool(NDArray(scalar: v.chunkShape == nil)))
            if let l = v.deflateLevel { encoding["zlib"] = .values(.bool(NDArray(scalar: true))); encoding["complevel"] = .int(Int64(l)) }
            if v.shuffle { encoding["shuffle"] = .values(.bool(NDArray(scalar: true))) }
            var variable: Variable
            do {
                if v.isChar || v.isString {
                    let text = try await NetCDFArray.readText(file: file, variable: v)
                    variable = try Variable(v.isChar ? Array(v.dims.dropLast()) : v.dims, text, attrs: attrs, encoding: encoding)
                } else {
                    if let values = file.preloadedValues(of: v) {
                        variable = try Variable(v.dims, values, attrs: attrs, encoding: encoding)
                    } else {
                        let source = try NetCDFArray(file: file, variable: v)
                        variable = try Variable(v.dims, lazy: LazyArray(source), attrs: attrs, encoding: encoding)
                        if v.dims == [v.name] || CF.decodingNeedsValues(variable, options: options) { variable = try await variable.load() }
                    }
                }
            } catch let e as GyreNetCDFError {
                throw GyreDataError(.read, e.message, cause: e)
            }
            raw[v.name] = variable
        }
        var globalAttrs: Attributes = [:]
        for (k, a) in g.attributes {
            if k == "coordinates", case .text(let s) = a { coordNames.formUnion(s.split(separator: " ").map(String.init)); continue }
            globalAttrs[k] = NetCDFAttributes.decode(a)
        }
        let (coords, dataVars) = try await splitOpened(raw, coordNames: coordNames, options: options, source: path)
        var ds = try Dataset(dataVars: dataVars, coords: coords, attrs: globalAttrs)
        let unlimited = g.dimensions.filter(\.isUnlimited).map(\.name)
        if !unlimited.isEmpty { ds.encoding["unlimited_dims"] = .strings(unlimited) }
        ds.encoding["source"] = .string(path)
        ds.encoding["format"] = .string(file.format)
        return ds
    }

    /// Writes the dataset as a netCDF-4 file with xarray's conventions (CF-encoded variables,
    /// `coordinates` attributes), optionally chunked and zlib-compressed. Lazy variables stream
    /// block by block. The file appears at `path` only when complete.
    public func writeNetCDF(to path: String, options: NetCDFWriteOptions = NetCDFWriteOptions(),
                            progress: (@Sendable (ConvertProgress) -> Void)? = nil) async throws {
        if FileManager.default.fileExists(atPath: path) && !options.overwrite {
            throw GyreDataError(.conflict, "\(path) already exists; pass overwrite to replace it")
        }
        let encoded = try encodeCF()
        let writer: NetCDFWriter
        do { writer = try await NetCDFWriter.create(path) } catch let e as GyreNetCDFError { throw GyreDataError(.conflict, e.message, cause: e) }
        do {
            var unlimited = Set(options.unlimitedDims)
            if case .strings(let u)? = encoding["unlimited_dims"] { unlimited.formUnion(u) }
            if case .string(let u)? = encoding["unlimited_dims"] { unlimited.insert(u) }
            for (d, n) in encoded.sizes { try await writer.defineDimension(d, length: n, unlimited: unlimited.contains(d)) }
            let nonDimCoords = encoded.coords.keys.filter { !(encoded.variables[$0]!.dims == [$0]) }
            for (name, v) in encoded.variables {
                guard v.dtype.isNumeric || v.dtype == .string(.variable) || { if case .string = v.dtype { return true }; return false }() else {
                    throw GyreDataError(.cfEncoding, "variable '\(name)': dtype \(v.dtype) cannot be stored in netCDF")
                }
                let dtype: DType = { if case .string = v.dtype { return .string(.variable) }; return v.dtype }()
                var storage = NetCDFWriter.Storage(shuffle: options.shuffle)
                if dtype.isNumeric, v.ndim > 0 {
                    storage.zlibLevel = options.zlibLevel
                    if let c = options.chunks {
                        storage.chunks = zip(v.dims, v.shape).map { d, n in Swift.max(1, Swift.min(c[d] ?? n, Swift.max(n, 1))) }
                    }
                }
                let fill = v.attrs["_FillValue"]?.doubleValue.map { Scalar.double($0) }
                try await writer.defineVariable(name, dtype: dtype, dims: v.dims, storage: storage, fill: dtype.isNumeric ? fill : nil)
                // netCDF has no boolean type: bytes with dtype="bool", as xarray writes them.
                if dtype == .bool { try await writer.putAttribute("dtype", .text("bool"), variable: name) }
                for (k, a) in v.attrs where k != "_FillValue" { try await writer.putAttribute(k, NetCDFAttributes.encode(a), variable: name) }
                if !encoded.coordNames.contains(name) {
                    let mine = nonDimCoords.filter { Set(encoded.variables[$0]!.dims).isSubset(of: v.dims) }
                    if !mine.isEmpty { try await writer.putAttribute("coordinates", .text(mine.joined(separator: " ")), variable: name) }
                }
            }
            for (k, a) in attrs { try await writer.putAttribute(k, NetCDFAttributes.encode(a)) }
            try await writer.endDefinitions()
            let total = encoded.variables.values.reduce(0) { $0 + $1.nbytes }
            var done = 0
            for (name, v) in encoded.variables {
                switch v.storage {
                case .eager(let data):
                    let d: AnyNDArray = { if case .string(let s, let k) = data, k != .variable { return .string(s, .variable) }; return data }()
                    try await writer.write(name, d)
                    done += data.nbytes
                    progress?(ConvertProgress(bytesDone: done, bytesTotal: total, array: name))
                case .lazy(let unprepared):
                    let lazy = try await unprepared.preparedForStreaming()
                    let target = lazy.chunks.map { $0.max() ?? 1 }
                    // One block at a time: netcdf-c compresses on its own serial queue anyway.
                    try await BlockCopy.run(shape: lazy.shape, sourceChunks: target, targetChunks: target, concurrentWrites: 1,
                                            read: { try await lazy.read($0) },
                                            write: { origin, data in try await writer.write(name, data, at: origin) },
                                            written: { bytes in
                                                done += bytes
                                                progress?(ConvertProgress(bytesDone: done, bytesTotal: total, array: name))
                                            })
                }
            }
            try await writer.close()
        } catch {
            await writer.abort()
            if let e = error as? GyreNetCDFError { throw GyreDataError(.conflict, e.message, cause: e) }
            if let e = error as? GyreComputeError { throw GyreDataError(.read, "writing \(path): \(e.message)", cause: e) }
            throw error
        }
    }
}
