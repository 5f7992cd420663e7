import ArgumentParser
import Gyre

/// The program: tunes the allocator before anything allocates, then runs the command line. (A
/// root command's `init()` is not run when a subcommand is chosen, so it cannot do this.)
@main
enum Entry {
    static func main() async {
        GyreRuntime.tuneAllocatorForLargeBuffers()
        await GyreCommand.main()
    }
}

struct GyreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gyre",
        abstract: "Gyre: labeled N-d arrays, chunked storage and catalogs for big-data geoscience.",
        version: "0.1.0",
        subcommands: [Demo.self, Info.self, Convert.self, Eval.self, STAC.self, Serve.self])
}
