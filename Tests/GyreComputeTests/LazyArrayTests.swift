@testable import GyreArrays
import GyreCompute
import Synchronization
import Testing

/// A chunked source over an in-memory array that records every region it is asked for.
final class RecordingSource: ChunkedArraySource {
    let array: AnyNDArray
    let chunkShape: [Int]
    let log = Mutex<[[Slice]]>([])
    init(_ array: AnyNDArray, chunks: [Int]) { self.array = array; self.chunkShape = chunks }
    var sourceName: String { "memory://test" }
    var shape: [Int] { array.shape }
    var dtype: DType { array.dtype }
    var chunks: [[Int]] { zip(shape, chunkShape).map { Self.regularChunks(extent: $0, chunk: $1) } }
    func read(region: [Slice]) async throws -> AnyNDArray {
        log.withLock { $0.append(region) }
        for s in region { #expect(s.step > 0, "sources are always asked for positive steps") }
        return try array.index(region.map { .slice($0) }).contiguous()
    }
    var reads: [[Slice]] { log.withLock { $0 } }
}

@Suite struct LazyArrayTests {
    static func cube() -> AnyNDArray {
        .float64(try! NDArray(shape: [6, 5, 4], (0..<(6 * 5 * 4)).map(Double.init)))
    }

    @Test func composedSelectionsMatchEagerIndexing() async throws {
        let eager = Self.cube()
        let cases: [[[AxisIndex]]] = [
            [[.slice(Slice(1, 5))], [.slice(Slice(nil, nil, step: 2))]],
            [[.slice(Slice(nil, nil, step: -1)), .at(2)], [.slice(Slice(1, nil, step: 2))]],
            [[.at(-1), .slice(Slice(4, 0, step: -2))]],
            [[.slice(.all), .slice(.all), .slice(Slice(3, 0, step: -1))], [.at(0)]],
            [[.slice(Slice(2, 2))]],
        ]
        for steps in cases {
            let source = RecordingSource(eager, chunks: [2, 2, 3])
            var lazy = LazyArray(source)
            var ref = eager
            for items in steps { lazy = try lazy.index(items); ref = try ref.index(items) }
            #expect(lazy.shape == ref.shape)
            #expect(source.reads.isEmpty, "building a selection reads nothing")
            let got = try await lazy.read()
            #expect(got.shape == ref.shape)
            #expect(got.doubles() == ref.doubles(), "\(steps)")
        }
    }

    @Test("read(region:into:) lands every selection in a strided destination, as read() gives it")
    func readsIntoDestinations() async throws {
        let eager = Self.cube()
        let cases: [[AxisIndex]] = [
            [.slice(Slice(1, 5)), .at(2)],                       // a window with a point dropped: straight through
            [.at(3), .slice(Slice(1, 4)), .slice(Slice(0, 4, step: 2))],
            [.slice(Slice(nil, nil, step: -1))],                 // reversed: read and copied
        ]
        for items in cases {
            let lazy = try LazyArray(RecordingSource(eager, chunks: [2, 2, 3])).index(items)
            let want = try eager.index(items)
            for extra in [0, 3] {
                // The region lands in the middle of a larger buffer along the last axis.
                var big = want.shape
                big[big.count - 1] += 2 * extra
                let out = try AnyNDArray.full(big, .double(-1), dtype: .float64)
                let strides = NDArray<UInt8>.contiguousStrides(big)
                let dst = ReadDestination(base: out.unsafeRawBase + extra * 8, shape: want.shape, strides: strides, dtype: .float64)
                try await lazy.read(region: want.shape.map { _ in Slice.all }, into: dst)
                var inner: [AxisIndex] = want.shape.map { _ in .slice(.all) }
                inner[inner.count - 1] = .slice(Slice(extra, extra + want.shape.last!))
                #expect(try out.index(inner).doubles() == want.doubles(), "\(items) offset \(extra)")
                if extra > 0 {
                    inner[inner.count - 1] = .slice(Slice(0, extra))
                    #expect(try out.index(inner).doubles()?.allSatisfy { $0 == -1 } == true, "\(items): nothing written outside")
                }
            }
        }
    }

    @Test func takeTransposeAndRegionReads() async throws {
        let eager = Self.cube()
        let source = RecordingSource(eager, chunks: [2, 5, 4])
        let lazy = try LazyArray(source).take([4, 1, 1, 5], axis: 0).transposed([2, 0, 1])
        let ref = try eager.take([4, 1, 1, 5], axis: 0).transposed([2, 0, 1])
        #expect(try await lazy.read().doubles() == ref.doubles())
        let region = [Slice(1, 3), Slice(nil, nil, step: 2), Slice(3, nil)]
        let got = try await lazy.read(region)
        #expect(got.doubles() == (try ref.index(region.map { .slice($0) }).doubles()))
        // Positions 4 and 1 (from taking [4, 1, 1, 5] by step 2): one read over rows 1...4.
        #expect(source.reads.last?[0] == Slice(1, 5))
    }

    @Test func readsOnlyTheRegionAndDerivesChunks() async throws {
        let source = RecordingSource(Self.cube(), chunks: [4, 2, 4])
        let lazy = try LazyArray(source).index([.slice(Slice(3, 6)), .at(1)])
        #expect(lazy.chunks == [[1, 2], [4]])
        _ = try await lazy.read([Slice(0, 1), .all])
        #expect(source.reads == [[Slice(3, 4), Slice(1, 2), Slice(0, 4)]])
        let stepped = try LazyArray(source).index([.slice(Slice(nil, nil, step: 3))])
        #expect(stepped.chunks[0] == [2], "rows 0 and 3 share the first chunk of 4")
    }

    @Test func mapsApplyAfterReading() async throws {
        let lazy = LazyArray(RecordingSource(Self.cube(), chunks: [3, 5, 4]))
            .map(.init(name: "half", dtype: .float32) { try $0.binary(.multiply, .double(0.5)).astype(.float32) })
        #expect(lazy.dtype == .float32)
        let got = try await lazy.index([.at(1)]).read()
        #expect(got.dtype == .float32)
        #expect(got.doubles()?.first == 10)
    }

    @Test func badSelectionsAreErrorsNamingTheSource() throws {
        let lazy = LazyArray(RecordingSource(Self.cube(), chunks: [2, 2, 2]))
        #expect(throws: GyreComputeError.self) { try lazy.index([.at(6)]) }
        #expect(throws: GyreComputeError.self) { try lazy.take([0, -7], axis: 0) }
        #expect(throws: GyreComputeError.self) { try lazy.transposed([0, 0, 1]) }
        let e = try #require(throws: GyreComputeError.self) { try lazy.index([.at(9)]) }
        #expect(e.message.contains("memory://test"), "\(e.message)")
    }

    @Test func concatenatedSourcesReadOnlyThePartsTouched() async throws {
        let whole = Self.cube()
        let a = RecordingSource(try whole.index([.slice(Slice(0, 2))]).contiguous(), chunks: [1, 5, 4])
        let b = RecordingSource(try whole.index([.slice(Slice(2, 3))]).contiguous(), chunks: [1, 5, 4])
        let c = RecordingSource(try whole.index([.slice(Slice(3, 6))]).contiguous(), chunks: [2, 5, 4])
        let cat = try ConcatenatedSource([a, b, c], axis: 0)
        #expect(cat.shape == [6, 5, 4] && cat.chunks[0] == [1, 1, 1, 2, 1])
        for region in [[Slice.all, .all, .all], [Slice(1, 5, step: 3), Slice(0, 2), .all], [Slice(3, 6), .all, Slice(1, 2)], [Slice(2, 2), .all, .all]] {
            let got = try await cat.read(region: region)
            #expect(got.shape == (try whole.index(region.map { .slice($0) }).shape))
            #expect(got.doubles() == (try whole.index(region.map { .slice($0) }).doubles()), "\(region)")
        }
        let before = b.reads.count
        _ = try await LazyArray(cat).index([.slice(Slice(nil, 2, step: -1))]).read()
        #expect(b.reads.count == before, "the middle part is not read for rows 3...5")
        // A lazy array through a selection, concatenated again, still reads the right values.
        let twice = try ConcatenatedSource([LazyArray(cat).index([.slice(Slice(4, 6))]), MemorySource(whole.index([.slice(Slice(0, 1))]))], axis: 0)
        #expect(try await twice.read(region: [.all, .all, .all]).doubles() == (try AnyNDArray.concatenate([whole.index([.slice(Slice(4, 6))]), whole.index([.slice(Slice(0, 1))])], axis: 0).doubles()))
        let fill = FillSource(shape: [2, 3], dtype: .float32, value: .double(.nan))
        let filled = try await fill.read(region: [Slice(1, 2), .all])
        #expect(filled.shape == [1, 3])
        let fillValues = try #require(filled.doubles())
        #expect(fillValues.count == 3 && fillValues.allSatisfy(\.isNaN), "\(fillValues)")
        #expect(throws: GyreComputeError.self) { try ConcatenatedSource([a, RecordingSource(.float64(NDArray([1, 2])), chunks: [1])], axis: 0) }
    }
}
