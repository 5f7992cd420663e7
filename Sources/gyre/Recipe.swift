import ArgumentParser
import Foundation
import Gyre

/// `gyre recipe run|plan recipe.yaml`: resumable ETL into Zarr.
struct RecipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Run ETL recipes: many netCDF files (local, HTTP, S3) into one chunked Zarr store, resumably.",
        subcommands: [RecipeRun.self, RecipePlanCommand.self])
}

/// The flags `recipe run` and `publish` share.
struct RecipeRunFlags: ParsableArguments {
    @Flag(help: "Finish without the inputs that still fail after their retries (the report lists them).") var skipFailed = false
    @Flag(help: "Add the inputs not yet in the (complete) target, along the dimension.") var append = false
    @Flag(help: "Replace whatever the target holds.") var overwrite = false

    var options: RecipeRunOptions { RecipeRunOptions(skipFailed: skipFailed, append: append, overwrite: overwrite) }

    static func load(_ path: String) throws -> Recipe {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the recipe") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path): not UTF-8 text") }
        return try Recipe.parse(yaml: text, source: path)
    }

    /// Runs the recipe with a progress line (units, bytes, ETA) on a terminal.
    func run(_ recipe: Recipe) async throws -> RecipeReport {
        if append && overwrite { throw ValidationError("--append and --overwrite contradict each other") }
        var o = options
        if isatty(STDERR_FILENO) == 1 {
            o.progress = { p in
                let eta = p.eta.isFinite ? String(format: "%.0fs", p.eta) : "?"
                let line = String(format: "\r%d/%d parts, %.1f/%.1f MB, ETA %@   ", p.unitsDone, p.unitsTotal, Double(p.bytesDone) / 1e6, Double(p.bytesTotal) / 1e6, eta)
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        defer { if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\n".utf8)) } }
        return try await RecipeRunner.run(recipe, options: o)
    }

    static func summary(_ r: RecipeReport, target: String) -> String {
        var lines: [String] = []
        if r.appended && r.read.isEmpty && r.failed.isEmpty {
            lines.append("\(target): nothing new to append (\(r.alreadyThere) inputs already there)")
        } else {
            lines.append("\(target): \(r.read.count) inputs read, \(r.writtenUnits) of \(r.units) parts written\(r.resumedUnits > 0 ? " (\(r.resumedUnits) done before, resumed)" : "")\(r.appended ? ", appended" : ""), \(r.validated) values checked against the sources, \(String(format: "%.2f", r.seconds)) s")
        }
        if !r.failed.isEmpty {
            lines.append("\(r.failed.count) inputs failed and were left out:")
            lines += r.failed.map { "  \($0.input): \($0.error)" }
        }
        return lines.joined(separator: "\n")
    }
}

struct RecipeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recipe: read its inputs in parallel within its memory budget, retry failures, write the target Zarr store (resumable after a kill: a manifest TARGET.recipe.json records finished parts), check it against the sources.")
    @Argument(help: "The recipe (YAML).") var recipe: String
    @OptionGroup var flags: RecipeRunFlags

    func run() async throws {
        do {
            let r = try RecipeRunFlags.load(recipe)
            let report = try await flags.run(r)
            print(RecipeRunFlags.summary(report, target: r.target))
        } catch let e as ValidationError { throw e } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

struct RecipePlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print what a recipe would read and write (its inputs' metadata only is read).")
    @Argument(help: "The recipe (YAML).") var recipe: String

    func run() async throws {
        do {
            let r = try RecipeRunFlags.load(recipe)
            let p = try await RecipeRunner.plan(r)
            print("reads \(p.inputs.count) inputs along '\(p.dim)' (\(p.inputs.reduce(0) { $0 + $1.length }) steps):")
            for (loc, n) in p.inputs.prefix(10) { print("  \(loc)  (\(n))") }
            if p.inputs.count > 10 { print("  ... \(p.inputs.count - 10) more, last \(p.inputs.last!.location)") }
            for (loc, why) in p.failed { print("  cannot read \(loc): \(why)") }
            print("writes \(p.target) (\(String(format: "%.1f", Double(p.bytes) / 1e6)) MB in \(p.units) parts, \(p.concurrency) at a time):")
            for a in p.arrays { print("  \(a.name)\(a.dims)  shape \(a.shape)  chunks \(a.chunks)  \(a.dtype)  \(a.codecs)") }
        } catch let e as ValidationError { throw e } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}

/// `gyre publish recipe.yaml --catalog FILE.db | --postgres URL`.
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe (appending what is new) and create or update its STAC collection in a catalog: a Zarr asset with xarray:open_kwargs, the datacube extension, extents from the data; the dataset is registered for gyre serve.")
    @Argument(help: "The recipe (YAML).") var recipe: String
    @Option(help: "The SQLite catalog (created if missing).") var catalog: String?
    @Option(help: "A PostgreSQL catalog (postgres://...).") var postgres: String?
    @Flag(help: "Finish without the inputs that still fail after their retries.") var skipFailed = false
    @Flag(help: "Rebuild the target.") var overwrite = false

    func run() async throws {
        guard (catalog == nil) != (postgres == nil) else { throw ValidationError("give --catalog FILE.db or --postgres URL") }
        do {
            let r = try RecipeRunFlags.load(recipe)
            let db: any CatalogBackend
            if let postgres { db = try await PostgresCatalog(url: postgres) } else { db = try SQLiteCatalog(path: catalog!) }
            // Up to date: a new target is written, a complete one gets what is new.
            var o = RecipeRunOptions(skipFailed: skipFailed, append: !overwrite, overwrite: overwrite)
            o.progress = nil
            let report = try await RecipeRunner.run(r, options: o)
            print(RecipeRunFlags.summary(report, target: r.target))
            let c = try await RecipePublisher.publish(r, to: db)
            print("collection '\(c.id)' published to \(catalog ?? "PostgreSQL") (dataset '\(c.id)' registered for gyre serve)")
        } catch let e as ValidationError { throw e } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}
