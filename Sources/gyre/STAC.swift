import GyreCore
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Gyre

/// `gyre stac ...`: STAC catalogs from the command line.
struct STAC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stac",
        abstract: "Ingest STAC documents into a catalog, validate them, search a STAC API, generate samples.",
        subcommands: [Ingest.self, Validate.self, Search.self, Sample.self])

    /// `gyre stac ingest SRC... --catalog FILE.db`
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load collections and items into a catalog (re-ingesting updates them).",
            discussion: """
                SRC is a Collection or Catalog file (its child and item links are followed), an ItemCollection, \
                an Item, or newline-delimited items (.ndjson). Collections are written before items; an item \
                whose collection is neither in the catalog nor among the sources is refused, naming both.
                """)

        @Argument(help: "STAC files to ingest.") var sources: [String]
        @Option(help: "The SQLite catalog file (created if it does not exist).") var catalog: String?
        @Option(help: "A PostgreSQL catalog instead: postgresql://user:password@host:port/database (PostGIS is created if missing).") var postgres: String?
        @Option(help: "Items written per transaction.") var batch: Int = 10_000
        @Option(help: "Threads parsing and checking items (default: one per core but one, which the database writer needs).") var parallelism: Int?

        func validate() throws {
            guard (catalog == nil) != (postgres == nil) else { throw ValidationError("give one of --catalog FILE.db and --postgres URL") }
        }

        func run() async throws {
            guard batch > 0 else { throw CLIError("--batch must be positive") }
            // Documents first (collections before items); NDJSON files are streamed in batches
            // afterwards, so a file of millions of items never sits in memory whole.
            let documents = sources.filter { !StaticCatalog.isNDJSON($0) }, streams = sources.filter(StaticCatalog.isNDJSON)
            let contents: StaticCatalog.Contents
            do { contents = try StaticCatalog.read(documents) } catch { throw CLIError("\(error)") }
            do {
                let db: any CatalogBackend
                if let postgres { db = try await PostgresCatalog(url: postgres) } else { db = try SQLiteCatalog(path: catalog!) }
                let target = catalog ?? postgres.map { $0.replacingOccurrences(of: #":[^:@/]*@"#, with: "@", options: .regularExpression) } ?? ""
                for (_, c) in contents.collections { try await db.putCollection(c) }
                let items = contents.items.map(\.item)
                try await db.putItems(items, batch: batch)
                // Newline-delimited files stream in batches, each parsed on all cores while the
                // one before is written; a file of millions of items never sits in memory whole.
                var count = items.count
                do { count += try await CatalogIngest.ndjson(streams, into: db, batch: batch, parallelism: max(1, parallelism ?? CatalogIngest.defaultParallelism)) } catch let e as any GyreErrorProtocol {
                    throw CLIError(e.message)
                }
                print("\(target): \(contents.collections.count) collections, \(count) items ingested")
            } catch let e as GyreCatalogError {
                throw CLIError(e.message)
            }
        }
    }

    /// `gyre stac validate PATH...`
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check STAC documents against what the spec requires; report every problem, naming the file, object and field.",
            discussion: "Catalogs and collections are followed through their child and item links. Exit status 1 when anything is wrong.")

        @Argument(help: "STAC files (JSON or .ndjson).") var paths: [String]

        func run() async throws {
            let contents: StaticCatalog.Contents
            do { contents = try StaticCatalog.read(paths, stopAtFirst: false) } catch { throw CLIError("\(error)") }
            for p in contents.problems { print("invalid: \(p)") }
            let counts = "\(contents.catalogs.count) catalogs, \(contents.collections.count) collections, \(contents.items.count) items"
            if contents.problems.isEmpty {
                print("valid: \(counts)")
            } else {
                print("\(contents.problems.count) problem\(contents.problems.count == 1 ? "" : "s"); valid: \(counts)")
                throw ExitCode(1)
            }
        }
    }

    /// `gyre stac sample DIR --items N`
    struct Sample: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write generated Sentinel-2-like and Landsat-like collections and items (for demos, tests and benchmarks).",
            discussion: "DIR gets one Collection file per collection and items.ndjson; `gyre stac ingest DIR/*.json DIR/items.ndjson` loads them.")

        @Argument(help: "A new directory to write into.") var directory: String
        @Option(help: "How many items.") var items = 1000
        @Option(help: "Random seed (the same seed gives the same items).") var seed: UInt64 = 1

        func run() async throws {
            guard items >= 0 && items <= 50_000_000 else { throw CLIError("--items must be in 0...50000000") }
            let fm = FileManager.default
            guard !fm.fileExists(atPath: directory) else { throw CLIError("\(directory) exists; sample writes into a new directory") }
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for c in SampleCatalog.collections() {
                try Data(c.json.serialized).write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(c.id).json"))
            }
            let path = URL(fileURLWithPath: directory).appendingPathComponent("items.ndjson").path
            guard fm.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
                throw CLIError("cannot create \(path)")
            }
            defer { try? out.close() }
            var done = 0
            while done < items {
                let n = min(100_000, items - done)
                // Chunks of a long run use seeds derived from the first, so ids stay unique.
                let chunk = SampleCatalog.items(count: n, seed: seed &+ UInt64(done), startIndex: done)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(n * 1500)
                for i in chunk { i.json.write(into: &bytes); bytes.append(0x0A) }
                try out.write(contentsOf: bytes)
                done += n
            }
            print("\(directory): \(SampleCatalog.collections().count) collections, \(items) items (items.ndjson)")
        }
    }

    /// `gyre stac search URL ...`: item search against any STAC API, paged to the end.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search a STAC API and print the matching items (following next links).",
            discussion: """
                Prints one line per item (collection, id, datetime, eo:cloud_cover), or with --json one \
                ItemCollection. Example: gyre stac search http://127.0.0.1:8080 --collections sentinel-2-l2a \
                --bbox 5,45,15,55 --datetime 2020-01-01T00:00:00Z/2020-12-31T23:59:59Z --filter "eo:cloud_cover < 25"
                """)

        @Argument(help: "The API's root URL.") var url: String
        @Option(help: "west,south,east,north") var bbox: String?
        @Option(help: "A file holding a GeoJSON geometry the items must intersect.") var intersects: String?
        @Option(help: "An RFC 3339 instant or start/end interval (.. for an open end).") var datetime: String?
        @Option(help: "Collection ids, comma-separated.") var collections: String?
        @Option(help: "Item ids, comma-separated.") var ids: String?
        @Option(help: "A CQL2 text filter, e.g. \"eo:cloud_cover < 25\".") var filter: String?
        @Option(help: "Sort keys, comma-separated, each with + or -, e.g. -properties.datetime.") var sortby: String?
        @Option(help: "Items per page.") var limit = 100
        @Option(help: "Stop after this many items.") var maxItems: Int?
        @Flag(help: "Print one ItemCollection as JSON.") var json = false

        func run() async throws {
            var search = STACSearch()
            search.limit = limit
            search.maxItems = maxItems
            search.datetime = datetime
            search.filter = filter
            search.collections = collections?.split(separator: ",").map(String.init)
            search.ids = ids?.split(separator: ",").map(String.init)
            search.sortby = sortby?.split(separator: ",").map(String.init)
            do {
                if let bbox { search.bbox = try Specs.numbers(bbox, option: "--bbox") }
                if let intersects {
                    let data = try Data(contentsOf: URL(fileURLWithPath: intersects))
                    search.intersects = try Geometry(json: try JSON.parse(data, source: intersects), path: intersects)
                }
            } catch let e as any GyreErrorProtocol { throw CLIError(e.message) }
            let (features, pages): ([JSON], Int)
            do {
                (features, pages) = try await search.run(url) { page in
                    if !json { for f in page { print(line(f)) } }
                }
            } catch let e as GyreCubeError { throw CLIError(e.message) }
            if json {
                let fc: JSON = ["type": "FeatureCollection", "features": .array(features), "numberReturned": .int(Int64(features.count))]
                print(fc.text)
            } else {
                FileHandle.standardError.write(Data("\(features.count) items in \(pages) page\(pages == 1 ? "" : "s")\n".utf8))
            }
        }

        func line(_ f: JSON) -> String {
            let p = f["properties"]
            let cloud = p?["eo:cloud_cover"]?.number.map { String(format: "%6.2f", $0) } ?? "     -"
            return "\(f["collection"]?.string ?? "-")\t\(f["id"]?.string ?? "-")\t\(p?["datetime"]?.string ?? "-")\t\(cloud)"
        }
    }
}
