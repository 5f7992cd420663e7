import ArgumentParser
import Foundation
import Gyre

/// `gyre info PATH [--json]`: describes a dataset from its metadata.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a dataset (Zarr v2 or v3) like xarray's repr, or as JSON.")

    @Argument(help: "A Zarr store (a directory).") var path: String
    @Flag(help: "Print JSON in the layout of xarray's Dataset.to_dict(data=False), plus chunks and encoding.") var json = false

    func run() async throws {
        let store = try openStore(path)
        do {
            let summary = try await ZarrSummary.load(store)
            if json {
                print(String(decoding: summary.json.serialized(), as: UTF8.self))
            } else {
                print(summary.text)
            }
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}

/// Opens a local path as a store, with an error naming it when it is not there.
func openStore(_ path: String) throws -> FileStore {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("\(path): no such file or directory") }
    guard isDir.boolValue else { throw CLIError("\(path): not a Zarr store (a directory); netCDF input comes with issue 4") }
    return FileStore(path: path)
}

/// An error printed as "gyre: MESSAGE" with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
