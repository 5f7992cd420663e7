import Foundation
import Testing
import Gyre
import GyreNetCDF
import GyreStorage

/// netCDF files read through a store by byte range (Gyre's own netCDF-3 header and HDF5
/// readers, values at computed offsets or chunk by chunk) against netcdf-c reading the same
/// local files: metadata and every variable's values, whole and in stepped, partial regions.
@Suite("Interop: netCDF read by byte range through a store equals netcdf-c", .enabled(if: Interop.enabled))
struct NetCDFByteRangeTests {
    static func netCDFFiles(in dir: URL) -> [String] {
        let all = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return all.filter { $0.hasSuffix(".nc") }.sorted()
    }

    /// Regions that cover edges, partial chunks, steps and reversed steps.
    static func regions(_ shape: [Int]) -> [[Slice]] {
        guard !shape.isEmpty else { return [[]] }
        var out: [[Slice]] = [shape.map { _ in Slice() }]
        out.append(shape.map { $0 > 1 ? Slice(1, $0) : Slice() })
        out.append(shape.map { _ in Slice(nil, nil, step: 2) })
        out.append(shape.enumerated().map { $0.offset == shape.count - 1 ? Slice(nil, nil, step: -1) : Slice(0, Swift.max(1, $0.element / 2)) })
        return out
    }

    static func compare(in dir: URL, declinable: Set<String> = []) async throws -> (failures: [String], files: Int, values: Int) {
        let store = FileStore(path: dir.path)
        var failures: [String] = []
        var files = 0, values = 0
        for name in netCDFFiles(in: dir) {
            let path = dir.appendingPathComponent(name).path
            let library = try await NetCDFFile.$nativeMetadata.withValue(false) { try await NetCDFFile.open(path) }
            let stored: NetCDFFile
            do { stored = try await NetCDFFile.open(store: store, key: name, name: name) } catch {
                if !declinable.contains(name) { failures.append("\(name): \(error)") }
                continue
            }
            files += 1
            failures += stored.metadataDifferences(from: library).map { "\(name): \($0)" }
            for (gpath, g) in library.groups.sorted(by: { $0.key < $1.key }) {
                for v in g.variables {
                    guard let w = stored.groups[gpath]?.variables.first(where: { $0.name == v.name }) else { continue }
                    let what = "\(name) \(gpath) \(v.name)"
                    do {
                        if v.dtype == nil {
                            let a = try await NetCDFArray.readText(path: path, variable: v)
                            let b = try await NetCDFArray.readText(file: stored, variable: w)
                            if a.shape != b.shape || a.scalars.map(\.description) != b.scalars.map(\.description) {
                                failures.append("\(what): text \(b.scalars.prefix(8)) vs \(a.scalars.prefix(8))")
                            }
                            values += 1
                            continue
                        }
                        let mine = try NetCDFArray(file: stored, variable: w)
                        let theirs = try NetCDFArray(path: path, variable: v)
                        for region in regions(v.shape) {
                            let a = try await theirs.read(region: region)
                            let b = try await mine.read(region: region)
                            values += 1
                            if a.shape != b.shape || a.dtype != b.dtype || a.scalars.map(\.description) != b.scalars.map(\.description) {
                                failures.append("\(what) \(region): \(b.scalars.prefix(6)) vs \(a.scalars.prefix(6))")
                            }
                        }
                    } catch {
                        failures.append("\(what): \(error)")
                    }
                }
            }
        }
        return (failures, files, values)
    }

    @Test("every file of the netCDF interop matrix (netCDF-3 classic, 64-bit offset, CDF-5, netCDF-4)")
    func matrix() async throws {
        let dir = try Interop.generate("netcdf_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (failures, files, values) = try await Self.compare(in: dir)
        #expect(files >= 20, "files read by range: \(files)")
        #expect(values >= 200, "values compared: \(values)")
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.prefix(40).joined(separator: "\n"))")
    }

    @Test("dense attributes, nested groups, other HDF5 format versions")
    func hardCases() async throws {
        let dir = try Interop.generate("netcdf_native_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (failures, files, _) = try await Self.compare(in: dir, declinable: ["noncoord.nc"])
        #expect(files >= 2, "files read by range: \(files)")
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
