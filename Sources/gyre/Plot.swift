import ArgumentParser
import Foundation
import Gyre
import GyreRender

/// `gyre plot SRC... EXPR -o out.png|out.svg`: a quick look at an expression's result, as
/// hvPlot draws it: a 2-D result as an image with axes, labels, a title and a colorbar, a 1-D
/// result as a line.
struct PlotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot an expression's 1-D or 2-D result (PNG or SVG), with axes, labels and a colorbar.",
        discussion: """
            The expression is gyre eval's (ds and each variable by name). Dimensions of length 1 are \
            dropped and named in the title. PNG text is drawn with FreeType and DejaVu Sans \
            (fonts-dejavu-core; GYRE_FONT picks another .ttf); SVG text is SVG text.
            Examples:
              gyre plot sst.zarr "sst.isel(time=0)" -o sst.png
              gyre plot sst.zarr "sst.mean('time')" --cmap fire --range 0,30 -o mean.svg
              gyre plot sst.zarr "sst.sel(lat=10, lon=200, method='nearest')" -o series.png
            """)

    @Argument(help: "One or more datasets (Zarr, netCDF, URLs), then the expression.") var arguments: [String]
    @Option(name: .shortAndLong, help: "The file to write: .png or .svg.") var output: String
    @Option(help: "Colormap of a 2-D plot (default viridis, or coolwarm for data around zero).") var cmap: String?
    @Option(parsing: .unconditional, help: "Colour range of a 2-D plot, or the value axis of a 1-D one: MIN,MAX.") var range: String?
    @Option(help: "Figure width in pixels.") var width = 800
    @Option(help: "Figure height in pixels.") var height = 500
    @Option(help: "Title (default: the result's name, units and selected coordinates).") var title: String?
    @Option(help: "Dimension to combine several netCDF files along (default: inferred).") var concatDim: String?
    @Flag(help: "Replace the output if it exists.") var overwrite = false
    @OptionGroup var storage: StorageFlags

    func run() async throws {
        guard arguments.count >= 2 else { throw ValidationError("give at least one source and an expression") }
        let svg = output.lowercased().hasSuffix(".svg")
        guard svg || output.lowercased().hasSuffix(".png") else { throw ValidationError("--output must end in .png or .svg, not '\(output)'") }
        if FileManager.default.fileExists(atPath: output) && !overwrite { throw CLIError("\(output) already exists; pass --overwrite to replace it") }
        guard (16...8192).contains(width), (16...8192).contains(height) else { throw ValidationError("--width and --height must be in 16...8192") }
        var options = PlotOptions(width: width, height: height, title: title)
        do { options.cmap = try cmap.map { try Colormap.named($0) } } catch { throw ValidationError("--cmap: \(error)") }
        options.range = try range.map { try Render.range($0, "--range") }
        // A PNG needs the font before anything is read.
        let font: Font?
        do { font = svg ? nil : try Font.standard() } catch { throw CLIError("\(error)") }
        let expression = arguments.last!
        let sources = Array(arguments.dropLast())
        let value = try await Eval.evaluate(expression, sources: sources, concatDim: concatDim, storageOptions: try storage.options())
        let figure: Figure
        do {
            switch value {
            case .array(let a): figure = try await Plot.figure(a, options: options, font: font)
            case .dataset(let d): figure = try await Plot.figure(d, variable: nil, options: options, font: font)
            default: throw CLIError("'\(expression)' is \(Eval.describe(value)), not an array; plot draws 1-D and 2-D results")
            }
        } catch let e as GyreRenderError { throw CLIError("\(e)") }
        let bytes: Data
        if svg { bytes = Data(try figure.svg().utf8) } else { bytes = Data(try PNG.encode(figure.raster(font: font!))) }
        try bytes.write(to: URL(fileURLWithPath: output), options: .atomic)
        print("\(output): \(figure.width)x\(figure.height) \(svg ? "SVG" : "PNG"), \(bytes.count) bytes")
    }
}
