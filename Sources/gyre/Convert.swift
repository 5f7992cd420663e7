import ArgumentParser
import Foundation
import Gyre

/// `gyre convert SRC DST`: rewrites a dataset into a new Zarr store or netCDF file.
struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a dataset (Zarr, netCDF, or a glob of files) as a new Zarr store, or a netCDF-4 file when DST ends in .nc; streamed block by block in bounded memory.")

    @Argument(help: "Source: a Zarr store, a netCDF file, or a quoted glob such as \"sst/*.nc\".") var src: String
    @Argument(help: "Destination store, or a .nc file (refused if it exists, unless --overwrite).") var dst: String
    @Option(help: "zarr2 or zarr3 (default: the source's for Zarr, zarr3 otherwise).") var format: String?
    @Option(help: "Dimension to combine the files of a glob along (default: inferred from the coordinates).") var concatDim: String?
    @Option(help: "Chunk lengths, DIM=N,... (default: the source's).") var chunks: String?
    @Option(help: "Shard lengths, DIM=N,... (Zarr v3).") var shards: String?
    @Option(help: "zstd:LEVEL | blosc:CNAME:LEVEL[:shuffle|bitshuffle|noshuffle] | zlib:LEVEL | gzip:LEVEL | lz4 | none (netCDF output: zlib:LEVEL or none)") var codec: String?
    @Flag(help: "Replace DST if it exists.") var overwrite = false
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        var options = ConvertOptions(overwrite: overwrite)
        options.format = try OutputFlags.zarrFormat(format)
        do {
            if let chunks { options.chunks = try Specs.sizes(chunks) }
            if let shards { options.shards = try Specs.sizes(shards) }
            if let codec, !dst.hasSuffix(".nc") { options.compressors = try Specs.compressors(codec) }
        } catch { throw ValidationError("\(error)") }
        if options.format == .v2 && !options.shards.isEmpty { throw ValidationError("--shards needs --format zarr3") }
        let storageOptions = try storage.options()
        if FileManager.default.fileExists(atPath: dst) && !overwrite {
            throw CLIError("\(dst) already exists; pass --overwrite to replace it")
        }
        let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
        defer { bar.finish() }
        do {
            if dst.hasSuffix(".nc") {
                let nc = NetCDFWriteOptions(chunks: options.chunks.isEmpty ? nil : options.chunks,
                                            zlibLevel: try OutputFlags.netCDFZlibLevel(codec), overwrite: overwrite)
                if format != nil || !options.shards.isEmpty { throw ValidationError("--format and --shards apply to Zarr output, not .nc") }
                let ds = try await Dataset.open(src, concatDim: concatDim, storageOptions: storageOptions)
                try await ds.writeNetCDF(to: dst, options: nc) { bar.update($0) }
            } else if isZarrStore(src) || (StoreResolver.isRemote(src) && !Dataset.hasNetCDFName(src) && !src.contains(where: { "*?[".contains($0) })) {
                // Zarr to Zarr: stored values are copied as they are (no decoding round trip).
                // (A URL not named as netCDF and not a glob is taken for a Zarr store.)
                try await ZarrConverter.convert(from: StoreResolver.store(for: src, options: storageOptions),
                                                to: Dataset.writableStore(dst, storageOptions: storageOptions), options: options) { bar.update($0) }
            } else {
                let ds = try await Dataset.open(src, concatDim: concatDim, storageOptions: storageOptions)
                var z = ZarrWriteOptions(format: options.format ?? .v3, chunks: options.chunks, shards: options.shards, overwrite: overwrite)
                if let c = options.compressors { z.compressors = c }
                try await ds.writeZarr(to: Dataset.writableStore(dst, storageOptions: storageOptions), options: z) { bar.update($0) }
            }
        } catch let e as ValidationError {
            throw e
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// `--storage-option KEY=VALUE`, repeatable: fsspec's storage options for URLs
/// (`StoreResolver`: endpoint_url, anon, region, profile, key, secret, header.NAME, ...).
struct StorageFlags: ParsableArguments {
    @Option(name: .customLong("storage-option"), help: ArgumentHelp("A storage option for s3:// and http(s):// locations, KEY=VALUE (repeatable): endpoint_url, anon, region, profile, key, secret, token, addressing, header.NAME, attempts, timeout, deadline.", valueName: "key=value"))
    var storageOption: [String] = []
    @Option(help: ArgumentHelp("Keep what is read over the network in this directory, checked with the server by ETag on the next read.", valueName: "dir"))
    var cache: String?

    func options() throws -> [String: String] {
        var out: [String: String] = [:]
        if let cache { out["cache"] = cache }
        for o in storageOption {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw ValidationError("--storage-option \(o): expected KEY=VALUE") }
            out[String(o[..<eq])] = String(o[o.index(after: eq)...])
        }
        return out
    }
}

/// The output flags `convert` and `eval` share.
enum OutputFlags {
    /// `--format zarr2 | zarr3` (nil: not given).
    static func zarrFormat(_ format: String?) throws -> ZarrArrayMetadata.Format? {
        switch format {
        case nil: return nil
        case "zarr2"?: return .v2
        case "zarr3"?: return .v3
        case let f?: throw ValidationError("--format must be zarr2 or zarr3, not '\(f)'")
        }
    }

    /// `--codec` for a netCDF output: `zlib:LEVEL` (1...9) or `none`.
    static func netCDFZlibLevel(_ codec: String?) throws -> Int? {
        switch codec {
        case nil, "none"?: return nil
        case let c? where c.hasPrefix("zlib"):
            let level = c.split(separator: ":").dropFirst().first.flatMap { Int($0) } ?? 1
            guard (1...9).contains(level) else { throw ValidationError("--codec \(c): netCDF zlib levels are 1...9") }
            return level
        case let c?: throw ValidationError("--codec \(c): netCDF output takes zlib:LEVEL or none")
        }
    }
}

/// A one-line progress bar on a terminal: bytes, rate, ETA. Silent when not on a terminal.
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    let start = Date()
    var last = Date.distantPast
    let lock = NSLock()

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: ConvertProgress) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 || p.bytesDone == p.bytesTotal else { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(p.bytesDone) / elapsed : 0
        let frac = p.bytesTotal > 0 ? Double(p.bytesDone) / Double(p.bytesTotal) : 1
        let eta = rate > 0 ? Double(p.bytesTotal - p.bytesDone) / rate : 0
        let width = 30
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\r[%@] %5.1f%% %@/%@ %@/s ETA %.0fs  %@", bar, frac * 100, mb(p.bytesDone), mb(p.bytesTotal), mb(Int(rate)), eta, p.array)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func mb(_ b: Int) -> String { String(format: "%.1fMB", Double(b) / 1e6) }
}
