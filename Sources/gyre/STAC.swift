import ArgumentParser
import Foundation
import Gyre

/// `gyre stac ...`: STAC catalogs from the command line.
struct STAC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stac",
        abstract: "Ingest STAC documents into a catalog, and validate them.",
        subcommands: [Ingest.self, Validate.self])

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
        @Option(help: "The SQLite catalog file (created if it does not exist).") var catalog: String
        @Option(help: "Items written per transaction.") var batch: Int = 5000

        func run() async throws {
            guard batch > 0 else { throw CLIError("--batch must be positive") }
            let contents: StaticCatalog.Contents
            do { contents = try StaticCatalog.read(sources) } catch { throw CLIError("\(error)") }
            do {
                let db = try SQLiteCatalog(path: catalog)
                for (_, c) in contents.collections { try await db.putCollection(c) }
                let items = contents.items.map(\.item)
                var start = 0
                while start < items.count {
                    let end = min(start + batch, items.count)
                    try await db.putItems(Array(items[start..<end]))
                    start = end
                }
                print("\(catalog): \(contents.collections.count) collections, \(items.count) items ingested")
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
}
