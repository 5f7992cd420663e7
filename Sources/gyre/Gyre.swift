import ArgumentParser
import Gyre

@main
struct GyreCommand: AsyncParsableCommand {
    init() { GyreRuntime.tuneAllocatorForLargeBuffers() }
    static let configuration = CommandConfiguration(
        commandName: "gyre",
        abstract: "Gyre: labeled N-d arrays, chunked storage and catalogs for big-data geoscience.",
        version: "0.1.0",
        subcommands: [Demo.self, Info.self, Convert.self, Eval.self])
}
