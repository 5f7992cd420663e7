import GyreCore
import Testing

enum TestDomain: Sendable {}
typealias TestError = GyreError<TestDomain>
enum OtherDomain: Sendable {}
typealias OtherError = GyreError<OtherDomain>

extension GyreError.Code where Domain == TestDomain {
    static var broken: Self { Self("broken") }
}
extension GyreError.Code where Domain == OtherDomain {
    static var lower: Self { Self("lower") }
}

struct PlainError: Error, CustomStringConvertible { var description: String { "disk on fire" } }

@Suite("GyreError: one description, one cause chain")
struct ErrorTests {
    @Test("code and message; a cause whose message is new is printed once, after it")
    func description() {
        #expect(TestError(.broken, "chunk 'a/0.0' of sst").description == "broken: chunk 'a/0.0' of sst")
        let low = OtherError(.lower, "zstd frame ends early")
        let e = TestError(.broken, "reading sst", cause: low)
        #expect(e.description == "broken: reading sst; caused by lower: zstd frame ends early")
        #expect(e.causes.count == 1 && e.underlying(OtherError.self)?.code == .lower)
        #expect(e.underlying(TestError.self)?.message == "reading sst")
        #expect(e.underlying(PlainError.self) == nil)
    }

    @Test("a message that already carries its cause's message does not repeat it, however deep the wrapping")
    func onceOnly() {
        let root = OtherError(.lower, "level 99 is not in -7...22")
        let mid = TestError(.broken, "codec 'zstd:99'", wrapping: root)
        #expect(mid.message == "codec 'zstd:99': level 99 is not in -7...22")
        let top = TestError(.broken, "converting 'sst'", wrapping: mid)
        #expect(top.description == "broken: converting 'sst': codec 'zstd:99': level 99 is not in -7...22")
        #expect(top.description.components(separatedBy: "level 99").count == 2)
        #expect(top.causes.count == 2)
        // A foreign error at the bottom is printed by its description, once.
        let foreign = TestError(.broken, "writing", cause: OtherError(.lower, "rename failed", cause: PlainError()))
        #expect(foreign.description == "broken: writing; caused by lower: rename failed; caused by disk on fire")
    }

    @Test("context puts a prefix in front and keeps the code and the cause")
    func context() {
        let e = TestError(.broken, "bad", cause: PlainError()).context("sst.zarr/sst")
        #expect(e.code == .broken && e.message == "sst.zarr/sst: bad" && e.cause is PlainError)
    }

    @Test("errors of different domains are different types")
    func domains() {
        let e: any Error = TestError(.broken, "x")
        #expect(e is TestError && !(e is OtherError))
        #expect((e as? any GyreErrorProtocol)?.message == "x")
    }
}
