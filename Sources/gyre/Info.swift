import ArgumentParser
import Foundation
import Gyre

/// `gyre info PATH [--json]`: describes a dataset from its metadata.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a dataset (Zarr v2/v3, netCDF, or a glob of files) like xarray's repr, or as JSON.")

    @Argument(help: "A Zarr store, a netCDF file, or a quoted glob such as \"sst/*.nc\".") var path: String
    @Option(help: "Dimension to combine the files of a glob along (default: inferred from the coordinates).") var concatDim: String?
    @Option(help: "A netCDF group path, such as ocean/deep.") var group: String = "/"
    @Flag(help: "Print JSON in the layout of xarray's Dataset.to_dict(data=False), plus chunks and encoding.") var json = false
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        let storageOptions = try storage.options()
        // A single Zarr store: from its consolidated metadata alone (the fastest path).
        // A URL is tried as a Zarr store first, then as a netCDF file (unless its name says
        // netCDF).
        let netCDFName = Dataset.hasNetCDFName(path)
        let remote = StoreResolver.isRemote(path)
        if (isZarrStore(path) || (remote && !netCDFName)) && group == "/" && !path.contains(where: { "*?[".contains($0) }) {
            do {
                let summary = try await ZarrSummary.load(StoreResolver.store(for: path, options: storageOptions))
                print(json ? String(decoding: summary.json.serialized(indent: 2, sortedKeys: true), as: UTF8.self) : summary.text)
                return
            } catch {
                if !remote { throw CLIError("\(path): \(error)") }
            }
        }
        let ds: Dataset
        do { ds = try await Dataset.open(path, group: group, concatDim: concatDim, storageOptions: storageOptions) } catch { throw CLIError("\(error)") }
        print(json ? String(decoding: ds.summaryJSON.serialized(indent: 2, sortedKeys: true), as: UTF8.self) : ds.description)
    }
}

/// Whether a path is a Zarr store directory.
func isZarrStore(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return false }
    return ["zarr.json", ".zgroup", ".zmetadata"].contains { FileManager.default.fileExists(atPath: path + "/" + $0) }
}

/// An error printed as "gyre: MESSAGE" with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
