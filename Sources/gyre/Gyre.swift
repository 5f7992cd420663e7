import ArgumentParser
import Gyre

/// The program. Its allocator is jemalloc, set up by linking CGyreAllocator (`malloc_conf`);
/// `GyreRuntime.tuneAllocatorForLargeBuffers()` tunes glibc's, which this binary does not use.
@main
enum Entry {
    static func main() async {
        await GyreCommand.main()
    }
}

struct GyreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gyre",
        abstract: "Gyre: labeled N-d arrays, chunked storage and catalogs for big-data geoscience.",
        version: "0.1.0",
        subcommands: [Demo.self, Info.self, Convert.self, CubeCommand.self, Eval.self, PlotCommand.self, Refs.self, RecipeCommand.self, Publish.self, Render.self, STAC.self, Serve.self])
}
