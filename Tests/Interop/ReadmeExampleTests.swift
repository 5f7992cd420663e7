import Testing
import Gyre

/// The README's library example, kept compiling and correct.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the import Gyre example runs and gives what the README says")
    func example() throws {
        // --- README example start
        let ds = try SampleData.sst(days: 60, resolution: 5)       // generated, no download
        let sst = try ds.dataArray("sst")
        let feb = try sst.sel(["time": "2001-02"]).mean("time")     // a monthly mean map
        let weights = try ds.dataArray("lat").unary(.deg2rad).unary(.cos)
        let global = try (sst * weights).sum("lat", "lon") / (sst.notnull().astype(.float64) * weights).sum("lat", "lon")
        print(feb.dims, try global.isel(["time": .at(0)]).data)
        // --- README example end
        #expect(feb.dims == ["lat", "lon"])
        let g = try global.doubles()
        #expect(g.count == 60 && g.allSatisfy { $0 > 10 && $0 < 25 })
    }
}
