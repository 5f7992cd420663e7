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

    @Test("every netCDF-4 file netCDF4-python writes reads natively as netcdf-c reads it")
    func matrix() async throws {
        let dir = try Interop.generate("netcdf_cases.py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = Self.hdf5Files(in: dir)
        #expect(files.count >= 10, "netCDF-4 files in the matrix: \(files.count)")
        var failures: [String] = []
        for path in files {
            let name = String(path.dropFirst(dir.path.count + 1))
            let library = try await NetCDFFile.$nativeMetadata.withValue(false) { try await NetCDFFile.open(path) }
            do {
                let native = try NetCDFFile.readNativeMetadata(path)
                failures += native.metadataDifferences(from: library).map { "\(name): \($0)" }
                // Every dimension coordinate netcdf-c preloads, the native reader preloads too.
                for key in library.dimensionCoordinates.keys where native.dimensionCoordinates[key] == nil {
                    failures.append("\(name): \(key) not preloaded natively")
                }
            } catch {
                failures.append("\(name): declined: \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differences:\n\(failures.joined(separator: "\n"))")
    }
}
