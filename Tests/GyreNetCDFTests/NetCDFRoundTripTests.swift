import Foundation
import GyreArrays
import GyreNetCDF
import Testing

@Suite("netCDF files")
struct NetCDFRoundTripTests {
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gyre-nc-\(UUID().uuidString)-\(name)").path
    }

    @Test("a netCDF-4 file written by Gyre reads back: dims, types, attributes, hyperslabs")
    func roundTrip() async throws {
        let path = Self.tempPath("a.nc")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try await NetCDFWriter.create(path)
        try await w.defineDimension("time", length: 0, unlimited: true)
        try await w.defineDimension("x", length: 5)
        try await w.defineVariable("v", dtype: .float32, dims: ["time", "x"], storage: .init(chunks: [2, 5], zlibLevel: 1), fill: .double(-1))
        try await w.defineVariable("i", dtype: .uint16, dims: ["x"])
        try await w.defineVariable("s", dtype: .string(.variable), dims: ["x"])
        try await w.putAttribute("units", .text("K"), variable: "v")
        try await w.putAttribute("scale", .values(.float64(NDArray([0.5, 2]))), variable: "v")
        try await w.putAttribute("names", .strings(["a", "bé"]))
        try await w.endDefinitions()
        let v = try NDArray<Float>(shape: [3, 5], (0..<15).map(Float.init))
        try await w.write("v", .float32(v))
        try await w.write("i", .uint16(NDArray([1, 2, 3, 65535, 0])))
        try await w.write("s", .string(NDArray(["a", "", "ccc", "d", "é"]), .variable))
        #expect(!FileManager.default.fileExists(atPath: path), "nothing at the path before close")
        try await w.close()

        let f = try await NetCDFFile.open(path)
        #expect(f.format == "NETCDF4")
        let root = try f.group("/")
        #expect(root.dimensions.map(\.name) == ["time", "x"] && root.dimensions[0].isUnlimited && root.dimensions[0].length == 3)
        let meta = try #require(root.variables.first { $0.name == "v" })
        #expect(meta.chunkShape == [2, 5] && meta.deflateLevel == 1 && meta.dtype == .float32)
        #expect(meta.attribute("units") == .text("K"))
        #expect(meta.attribute("_FillValue") == .values(.float32(NDArray([-1]))))
        #expect(root.attributes.first { $0.name == "names" }?.value == .strings(["a", "bé"]))
        let arr = try NetCDFArray(path: path, variable: meta)
        #expect(arr.chunks == [[2, 1], [5]])
        let all = try await arr.read(region: [.all, .all])
        #expect(all.doubles() == (0..<15).map(Double.init))
        let region = [Slice(2, 0, step: -1), Slice(1, nil, step: 2)]
        let part = try await arr.read(region: region)
        #expect(part.doubles() == (try AnyNDArray.float32(v).index(region.map { .slice($0) }).doubles()))
        let i = try await NetCDFArray(path: path, variable: root.variables.first { $0.name == "i" }!).read(region: [.all])
        #expect(i.dtype == .uint16 && i.doubles() == [1, 2, 3, 65535, 0])
        let s = try await NetCDFArray.readText(path: path, variable: root.variables.first { $0.name == "s" }!)
        #expect(s.scalars.map(\.description) == ["a", "", "ccc", "d", "é"])
    }

    @Test("bad files are errors naming the file")
    func badFiles() async throws {
        let dir = Self.tempPath("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = dir + "/text.nc"
        try Data("hello, not netCDF".utf8).write(to: URL(fileURLWithPath: text))
        // A real file cut in half.
        let good = dir + "/good.nc", cut = dir + "/cut.nc"
        let w = try await NetCDFWriter.create(good)
        try await w.defineDimension("x", length: 100_000)
        try await w.defineVariable("v", dtype: .float64, dims: ["x"])
        try await w.endDefinitions()
        try await w.write("v", .float64(NDArray((0..<100_000).map(Double.init))))
        try await w.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        for (p, why) in [(dir + "/missing.nc", "no such file"), (dir, "directory"), (text, "not a netCDF file")] {
            do { _ = try await NetCDFFile.open(p); Issue.record("\(p) opened") } catch let e as GyreNetCDFError {
                #expect(e.message.contains(p) && e.message.contains(why), "\(e)")
            }
        }
        // A truncated file either fails to open or fails to read, naming itself; never crashes.
        do {
            let f = try await NetCDFFile.open(cut)
            let v = try f.group("/").variables[0]
            _ = try await NetCDFArray(path: cut, variable: v).read(region: [.all])
            Issue.record("truncated file read")
        } catch let e as GyreNetCDFError {
            #expect(e.message.contains(cut), "\(e)")
        }
    }
}
