import ArgumentParser
import Foundation
import Gyre

/// `gyre refs`: kerchunk references (virtual Zarr stores over netCDF files and Zarr stores).
struct Refs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refs",
        abstract: "Kerchunk references: read netCDF archives as one Zarr store without copying them.",
        subcommands: [RefsCreate.self])
}

/// `gyre refs create SRC... -o refs.json`.
struct RefsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write kerchunk references (version 1 JSON) for netCDF-3, netCDF-4/HDF5 files and Zarr stores, combined along a dimension when there are several.")

    @Argument(help: "Sources: netCDF files, Zarr stores, references files, or quoted globs (\"sst/*.nc\", \"s3://bucket/sst/*.nc\"); local, http(s):// or s3://.")
    var sources: [String]
    @Option(name: .shortAndLong, help: "The references file to write (refused if it exists, unless --overwrite).") var output: String
    @Option(help: "Dimension to combine the sources along (default: the one coordinate whose values differ between them).") var concatDim: String?
    @Option(help: "Chunks smaller than this many bytes are inlined, base64 (kerchunk's inline_threshold).") var inlineThreshold = 500
    @Flag(help: "Replace the output if it exists.") var overwrite = false
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        let storageOptions = try storage.options()
        if FileManager.default.fileExists(atPath: output) && !overwrite {
            throw CLIError("\(output) already exists; pass --overwrite to replace it")
        }
        guard inlineThreshold >= 0 else { throw ValidationError("--inline-threshold must be 0 or more") }
        do {
            var expanded: [String] = []
            for s in sources {
                if s.contains(where: { "*?[".contains($0) }) {
                    expanded += StoreResolver.scheme(s) == nil ? try Dataset.glob(s) : try await StoreResolver.glob(s, options: storageOptions)
                } else {
                    expanded.append(s)
                }
            }
            var options = ReferenceOptions(inlineThreshold: inlineThreshold, storageOptions: storageOptions)
            options.maxConcurrency = 16
            let tty = isatty(STDERR_FILENO) == 1
            let refs = try await References.create(expanded, concatDim: concatDim, options: options) { done, total in
                if tty { FileHandle.standardError.write(Data("\rread \(done)/\(total) sources".utf8)) }
            }
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            let bytes = refs.document()
            // Written under a temporary name and renamed: never a half-written file.
            let tmp = output + ".tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes)) else { throw CLIError("\(output): cannot write") }
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: tmp, toPath: output)
            print("\(output): \(refs.entries.count) references to \(refs.urls.count) files from \(expanded.count) sources")
        } catch let e as ValidationError {
            throw e
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("\(error)")
        }
    }
}
