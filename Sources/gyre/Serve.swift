import GyreCore
import ArgumentParser
import Foundation
import Gyre
import GyreServer

/// `gyre serve`: the STAC API over a SQLite catalog, and datasets beside it.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a catalog as a STAC API (search, filter, sort, fields, transactions, /search/stream).",
        discussion: """
            With no --catalog the catalog is gyre-catalog.db in the working directory (created if missing); \
            --postgres serves a PostgreSQL/PostGIS catalog instead (its schema is created if missing). \
            --demo loads generated Sentinel-2-like and Landsat-like collections and items first (re-loading \
            them is harmless: ingest updates). Writes (POST/PUT/PATCH/DELETE) need --api-key, sent as \
            Authorization: Bearer KEY; without it the server is read-only. \
            --dataset NAME=PATH-OR-URL (repeatable) serves a dataset beside the catalog: anything gyre eval \
            opens (Zarr, netCDF, a glob of files, s3:// and https:// URLs with --storage-option), listed at \
            /datasets and readable by any Zarr client at /datasets/NAME/zarr/ (xarray.open_zarr). --demo also \
            serves a generated sample dataset as 'sst'. /datasets/NAME/eval?expr=EXPR runs a gyre eval expression \
            next to the data and answers JSON, refused (413) when its estimate passes --max-read, --max-memory or \
            --max-result and cancelled (503) past --max-seconds; /datasets/NAME/eval/zarr?expr=EXPR names a \
            Zarr view of the result, computed chunk by chunk. /edr/ answers OGC API EDR position, area and cube \
            queries (CoverageJSON, CSV, netCDF) for datasets with longitude and latitude. \
            /api/sas/v1/token/NAME and /api/sas/v1/sign?href=URL hand out signed access tokens; with \
            --require-signing the data routes need one (or the API key). With --api-key, POST /datasets registers \
            a dataset (kept in the catalog, with a STAC collection of its own; local paths only under \
            --register-root) and DELETE /datasets/NAME removes it. Stop it with Ctrl-C.
            """)

    @Option(help: "The SQLite catalog file (created if it does not exist).") var catalog = "gyre-catalog.db"
    @Option(help: "Serve a PostgreSQL catalog instead: postgresql://user:password@host:port/database.") var postgres: String?
    @Option(help: "With --postgres: how many queries run at once (default: twice this machine's cores).") var postgresConnections: Int?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Key that transactions need (or set GYRE_API_KEY).") var apiKey: String?
    @Option(help: "The URL clients reach the server at, when it is behind a proxy (links are built from it).") var baseURL: String?
    @Flag(help: "Load generated sample collections and items before serving.") var demo = false
    @Option(help: "How many sample items --demo loads.") var demoItems = 2000
    @Option(name: .customLong("dataset"), help: "Serve a dataset: NAME=PATH-OR-URL (repeatable).") var datasets: [String] = []
    @Option(name: .customLong("datasets"), help: "Serve the datasets an intake-style YAML catalog lists (sources: NAME: {description, args: {urlpath, concat_dim, storage_options}, metadata}).")
    var datasetsFile: String?
    @Option(help: "With --dataset: the dimension that joins several files (default: inferred).") var concatDim: String?
    @OptionGroup var storage: StorageFlags
    @Option(help: "Most decoded bytes one /datasets/NAME/eval computation may read, as estimated before it starts (e.g. 4GiB).") var maxRead = "4GiB"
    @Option(help: "Most memory one computation may hold at its peak (e.g. 1GiB).") var maxMemory = "1GiB"
    @Option(help: "Most bytes a computation's result may hold (it is answered as JSON).") var maxResult = "16MiB"
    @Option(help: "Seconds before a computation is cancelled.") var maxSeconds = 60.0
    @Flag(help: "Data routes (/datasets/NAME/zarr, eval, /edr queries) need a token from /api/sas/v1/token/NAME, or the API key.")
    var requireSigning = false
    @Option(help: "A file whose bytes are the secret tokens are signed with (or set GYRE_SIGNING_SECRET); without one, each start draws a new secret.")
    var signingSecretFile: String?
    @Option(help: "Minutes an anonymous token lasts.") var anonymousTokenMinutes = 60
    @Option(help: "Minutes a token asked for with the API key lasts.") var tokenMinutes = 1440
    @Option(help: "Anonymous token requests one client may make per minute (past them: 429).") var anonymousTokensPerMinute = 30
    @Option(help: "A directory POST /datasets may register local paths under (repeatable; URLs are always allowed).") var registerRoot: [String] = []

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard demoItems >= 0 && demoItems <= 10_000_000 else { throw ValidationError("--demo-items must be in 0...10000000") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
        if let n = postgresConnections, !(1...1000).contains(n) { throw ValidationError("--postgres-connections must be in 1...1000") }
        guard (1...525_600).contains(anonymousTokenMinutes), (1...525_600).contains(tokenMinutes) else {
            throw ValidationError("--anonymous-token-minutes and --token-minutes must be in 1...525600")
        }
        guard (1...1_000_000).contains(anonymousTokensPerMinute) else { throw ValidationError("--anonymous-tokens-per-minute must be in 1...1000000") }
    }

    func run() async throws {
        let db: any CatalogBackend
        let name: String
        do {
            if let postgres {
                let pg = try await PostgresCatalog(url: postgres, maxConnections: postgresConnections)
                (db, name) = (pg, pg.location)
            } else {
                db = try SQLiteCatalog(path: catalog)
                name = catalog
            }
        } catch let e as GyreCatalogError { throw CLIError(e.message) }
        if demo {
            let started = Date()
            for c in SampleCatalog.collections() { try await db.putCollection(c) }
            let items = SampleCatalog.items(count: demoItems)
            try await db.putItems(items, batch: 5000)
            FileHandle.standardOutput.write(Data("demo: \(SampleCatalog.collections().count) collections and \(items.count) items in \(name) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n".utf8))
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["GYRE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        guard let read = parseBytes(maxRead), let memory = parseBytes(maxMemory), let result = parseBytes(maxResult) else {
            throw ValidationError("--max-read, --max-memory and --max-result take sizes such as 4GiB, 512MB or 1000000")
        }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive") }
        let served = ServedDatasets(limits: EvalLimits(maxReadBytes: read, maxMemoryBytes: memory, maxResultBytes: result, maxSeconds: maxSeconds))
        let storageOptions = try storage.options()
        for spec in datasets {
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else {
                throw CLIError("--dataset \(spec): expected NAME=PATH-OR-URL")
            }
            let name = String(spec[..<eq]), source = String(spec[spec.index(after: eq)...])
            do {
                let ds = try await Dataset.open(source, concatDim: concatDim, storageOptions: storageOptions)
                try served.add(try await ServedDataset(name: name, source: source, dataset: ds))
            } catch { throw CLIError("--dataset \(name): \(error)") }
        }
        if let datasetsFile {
            for entry in try DatasetCatalogFile.read(datasetsFile) {
                var options = storageOptions
                for (k, v) in entry.storageOptions { options[k] = v }
                do {
                    var ds = try await Dataset.open(entry.source, concatDim: entry.concatDim, storageOptions: options)
                    for (k, v) in entry.metadata { ds.attrs[k] = .string(v) }
                    try served.add(try await ServedDataset(name: entry.name, source: entry.source, description: entry.description, dataset: ds))
                } catch { throw CLIError("\(datasetsFile): source '\(entry.name)' (\(entry.source)): \(error)") }
            }
        }
        if demo && served["sst"] == nil {
            try served.add(try await ServedDataset(name: "sst", source: "generated (SampleData.sst, 365 days at 2 degrees)",
                                                   description: "A generated sea-surface-temperature-like cube", dataset: SampleData.sst(days: 365),
                                                   chunks: ["time": 30]))
        }
        var secret: [UInt8]?
        if let signingSecretFile {
            guard let bytes = FileManager.default.contents(atPath: signingSecretFile), bytes.count >= 16 else {
                throw CLIError("--signing-secret-file \(signingSecretFile): cannot read it, or it holds fewer than 16 bytes")
            }
            secret = Array(bytes)
        } else if let env = ProcessInfo.processInfo.environment["GYRE_SIGNING_SECRET"], !env.isEmpty {
            guard env.utf8.count >= 16 else { throw CLIError("GYRE_SIGNING_SECRET must hold at least 16 bytes") }
            secret = Array(env.utf8)
        }
        let signing = SigningConfiguration(secret: secret, required: requireSigning, anonymousSeconds: anonymousTokenMinutes * 60,
                                           registeredSeconds: tokenMinutes * 60, anonymousPerMinute: anonymousTokensPerMinute)
        let service = STACService(backend: db, configuration: STACServerConfiguration(apiKey: key, signing: signing, registerRoots: registerRoot),
                                  baseURL: baseURL, datasets: served)
        for skipped in try await service.restoreRegisteredDatasets() {
            FileHandle.standardError.write(Data("gyre: a registered dataset is not served, as its source does not open: \(skipped)\n".utf8))
        }
        try await service.run(host: host, port: port, fixedBaseURL: baseURL != nil) { url in
            let base = baseURL ?? url
            var text = "gyre: serving \(name) as a STAC API at \(base) (transactions \(key == nil ? "off: no --api-key" : "on"))\n"
            text += "  explorer: \(base)/ (open it in a browser: catalog search, datasets on the map, time series, plots)\n"
            if requireSigning { text += "  data routes need a token: \(base)/api/sas/v1/token/NAME\n" }
            for d in served.all {
                text += "  dataset \(d.name): \(base)/datasets/\(d.name)/zarr/ (xarray.open_zarr(\"\(base)/datasets/\(d.name)/zarr/\"))\n"
            }
            if demo {
                text += "  try: curl '\(base)/search?collections=\(SampleCatalog.sentinel2)&bbox=-10,35,30,60&datetime=2019-01-01T00:00:00Z/2021-12-31T23:59:59Z&filter=eo:cloud_cover%3C25&limit=3'\n"
                if let d = served.all.first, let v = d.dataset.dataVars.keys.first {
                    text += "  map tiles: \(base)/tiles/\(d.name)/\(v)/{z}/{x}/{y}.png (try \(base)/tiles/\(d.name)/\(v)/1/0/0.png?cmap=coolwarm)\n"
                }
            }
            // Unbuffered, so a parent process reading the pipe sees the URL at once.
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
