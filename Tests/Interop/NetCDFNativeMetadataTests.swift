import Foundation
import Testing
import Gyre
import GyreNetCDF

/// Gyre's own HDF5 metadata reader against netcdf-c: on every netCDF-4 file of the interop
/// matrix (and those files rewritten by h5repack with other HDF5 format versions), the native
/// reader gives exactly netcdf-c's groups, dimensions, variables, attributes, chunking and
/// dimension-coordinate values, or declines the file (and netcdf-c reads it).
@Suite("Interop: netCDF-4 metadata read natively equals netcdf-c's", .enabled(if: Interop.enabled))
struct NetCDFNativeMetadataTests {
    static func hdf5Files(in dir: URL) -> [String] {
        let all = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return all.filter { $0.hasSuffix(".nc") }.sorted().map { dir.appendingPathComponent($0).path }.filter { path in
            guard let h = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? h.close() }
            return (try? h.read(upToCount: 4)) == Data([0x89, 0x48, 0x44, 0x46])
        }
    }

    /// Compares the two readers on every HDF5 file under `dir`; `declinable` files may be left
    /// to netcdf-c (any other refusal is a failure).
    static func compareReaders(in dir: URL, declinable: Set<String> = []) async throws -> (failures: [String], native: Int) {
        let files = hdf5Files(in: dir)
        var failures: [String] = []
        var native = 0
        for path in files {
            let name = String(path.dropFirst(dir.path.count + 1))
            let library = try await NetCDFFile.$nativeMetadata.withValue(false) { try await NetCDFFile.open(path) }
            do {
                let file = try NetCDFFile.readNativeMetadata(path)
                native += 1
                failures += file.metadataDifferences(from: library).map { "\(name): \($0)" }
                // Every dimension coordinate netcdf-c preloads, the native reader preloads too.
                for key in library.dimensionCoordinates.keys.sorted() where file.dimensionCoordinates[key] == nil {
                    failures.append("\(name): \(key) not preloaded natively")
                }
                if declinable.contains(name) { failures.append("\(name): read natively, but netcdf-c was expected") }
            } catch {
                if !declinable.contains(name) { failures.append("\(name): declined: \(error)") }
            }
        }
        return (failures, native)
    }

    @Test("every netCDF-4 file of the interop matrix reads natively as netcdf-c reads it")
    func matrix() async throws {
        let dir = try Interop.generate("netcdf_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (failures, native) = try await Self.compareReaders(in: dir)
        #expect(native >= 10, "netCDF-4 files read natively: \(native)")
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.joined(separator: "\n"))")
    }

    @Test("dense links and attributes, every attribute type, nested groups, other HDF5 format versions")
    func hardCases() async throws {
        let dir = try Interop.generate("netcdf_native_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A variable named after a dimension it does not index is left to netcdf-c.
        let (failures, native) = try await Self.compareReaders(in: dir, declinable: ["noncoord.nc"])
        #expect(native >= 2, "files read natively: \(native)")
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.joined(separator: "\n"))")
    }
}
