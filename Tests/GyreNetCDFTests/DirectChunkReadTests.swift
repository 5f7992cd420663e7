import Foundation
import GyreArrays
import GyreNetCDF
import GyreStorage
import Testing

/// Chunks read straight from the HDF5 file (pread, inflate, unshuffle on every core) must give
/// exactly what netcdf-c gives for the same regions.
@Suite("netCDF-4 chunks read directly")
struct DirectChunkReadTests {
    struct Case: Sendable {
        let name: String
        let dtype: DType
        let shape: [Int]
        let storage: NetCDFWriter.Storage
        /// The region written (nil: all); chunks outside it are never written.
        let written: [Int]?
    }

    static let cases: [Case] = [
        Case(name: "shuffle_deflate", dtype: .float32, shape: [7, 9, 11], storage: .init(chunks: [3, 4, 5], zlibLevel: 1, shuffle: true), written: nil),
        Case(name: "deflate", dtype: .int16, shape: [10, 6], storage: .init(chunks: [4, 4], zlibLevel: 6, shuffle: false), written: nil),
        Case(name: "plain", dtype: .uint32, shape: [6, 7], storage: .init(chunks: [4, 3], zlibLevel: nil, shuffle: false), written: nil),
        Case(name: "doubles", dtype: .float64, shape: [5, 8], storage: .init(chunks: [2, 3], zlibLevel: 2, shuffle: true), written: nil),
        Case(name: "partly_written", dtype: .float32, shape: [8, 8], storage: .init(chunks: [4, 4], zlibLevel: 1, shuffle: true), written: [4, 4]),
    ]

    static func values(_ c: Case) throws -> AnyNDArray {
        let shape = c.written ?? c.shape
        let n = shape.reduce(1, *)
        // Smooth plus noise-like, so that shuffle and deflate have real work to do.
        var doubles: [Double] = []
        for i in 0..<n {
            let smooth = Double(i % 97) * 1.5 - 40
            // Sevenths fill every mantissa byte of the floats (integers leave the low bytes 0).
            doubles.append(smooth + Double((i * 7919) % 13) / 7)
        }
        return try AnyNDArray.float64(NDArray(shape: shape, doubles)).astype(c.dtype)
    }

    static func write(_ path: String) async throws {
        let w = try await NetCDFWriter.create(path)
        var dims: [String: Int] = [:]
        for c in cases {
            var names: [String] = []
            for (i, n) in c.shape.enumerated() {
                let name = "\(c.name)_d\(i)"
                if dims[name] == nil { try await w.defineDimension(name, length: n); dims[name] = n }
                names.append(name)
            }
            try await w.defineVariable(c.name, dtype: c.dtype, dims: names, storage: c.storage, fill: .int(-7))
        }
        try await w.endDefinitions()
        for c in cases { try await w.write(c.name, try values(c)) }
        try await w.close()
    }

    static var regions: [[Slice]] {
        [
            [.all, .all, .all],
            [Slice(1, 6), Slice(3, 9), Slice(4, 11)],
            [Slice(2, 3), Slice(0, 1), Slice(10, 11)],
            [Slice(6, 0, step: -2), Slice(1, 8, step: 3), .all],
            [Slice(0, 0), .all, .all],
        ]
    }

    @Test("every filter combination, edge chunks, unwritten chunks and any region equal netcdf-c's reads")
    func directEqualsLibrary() async throws {
        let path = NetCDFRoundTripTests.tempPath("direct.nc")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.write(path)
        let root = try await NetCDFFile.open(path).group("/")
        for c in Self.cases {
            let meta = try #require(root.variables.first { $0.name == c.name })
            let array = try NetCDFArray(path: path, variable: meta)
            #expect(try await array.readsChunksDirectly(), "\(c.name) should be read directly")
            for region in Self.regions {
                let r = Array(region.prefix(c.shape.count))
                let direct = try await NetCDFArray.$directReadMinBytes.withValue(0) { try await array.read(region: r) }
                let library = try await NetCDFArray.$directReads.withValue(false) { try await array.read(region: r) }
                #expect(direct.dtype == c.dtype && direct.shape == library.shape, "\(c.name) \(r)")
                #expect(direct.doubles() == library.doubles(), "\(c.name) \(r)")
            }
            // The written values (and netcdf-c's fill where nothing was written) come back.
            let all = try await NetCDFArray.$directReadMinBytes.withValue(0) { try await array.read(region: c.shape.map { _ in .all }) }
            let expected = try Self.values(c)
            if let w = c.written {
                let head = try all.index(w.map { .slice(Slice(0, $0)) })
                #expect(head.doubles() == expected.doubles())
                let tail = try all.index([.slice(Slice(w[0], nil)), .slice(.all)])
                try #require(tail.shape == [c.shape[0] - w[0], c.shape[1]], "\(c.name): tail \(tail.shape)")
                let tailValues = try #require(tail.doubles())
                #expect(tailValues.count == (c.shape[0] - w[0]) * c.shape[1] && tailValues.allSatisfy { $0 == -7 },
                        "unwritten chunks read as the fill value: \(tailValues)")
                // Beside the written block, in its rows: chunks never written either.
                let side = try all.index([.slice(Slice(0, w[0])), .slice(Slice(w[1], nil))])
                try #require(side.shape == [w[0], c.shape[1] - w[1]], "\(c.name): side \(side.shape)")
                let sideValues = try #require(side.doubles())
                #expect(!sideValues.isEmpty && sideValues.allSatisfy { $0 == -7 }, "unwritten chunks read as the fill value: \(sideValues)")
            } else {
                #expect(all.doubles() == expected.doubles(), "\(c.name)")
            }
        }
    }

    @Test("a region read lands in a strided destination (one slab of a larger buffer)")
    func readIntoDestination() async throws {
        let path = NetCDFRoundTripTests.tempPath("dest.nc")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.write(path)
        let meta = try #require(try await NetCDFFile.open(path).group("/").variables.first { $0.name == "shuffle_deflate" })
        let array = try NetCDFArray(path: path, variable: meta)
        // A (7, 12, 11) buffer of -1; the region (7, 9, 11) goes to rows 2..<11 of axis 1.
        let count = 7 * 12 * 11
        let raw = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { raw.deallocate() }
        raw.initialize(repeating: -1)
        let dst = ReadDestination(base: UnsafeMutableRawPointer(raw.baseAddress!), shape: [7, 12, 11], strides: [132, 11, 1], dtype: .float32)
            .block(origin: [0, 2, 0], shape: [7, 9, 11])
        try await NetCDFArray.$directReadMinBytes.withValue(0) { try await array.read(region: [.all, .all, .all], into: dst) }
        let big = Array(raw)
        let expected = try Self.values(Self.cases[0]).doubles()!
        for t in 0..<7 {
            for y in 0..<12 {
                for x in 0..<11 {
                    let got = Double(big[t * 132 + y * 11 + x])
                    let want = (2..<11).contains(y) ? expected[t * 99 + (y - 2) * 11 + x] : -1
                    #expect(got == want, "element \(t), \(y), \(x)")
                }
            }
        }
    }

    @Test("a corrupt chunk fails the read that touches it, naming the file, variable and chunk")
    func corruptChunk() async throws {
        let path = NetCDFRoundTripTests.tempPath("corrupt.nc")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.write(path)
        let meta = try #require(try await NetCDFFile.open(path).group("/").variables.first { $0.name == "shuffle_deflate" })
        let array = try NetCDFArray(path: path, variable: meta)
        let (_, locations) = try #require(try await array.direct!.locate([[1, 1, 1]]))
        let at = try #require(locations[0])
        // Overwrite the middle of the stored (deflated) chunk.
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        try h.seek(toOffset: at.address + UInt64(at.size / 2))
        try h.write(contentsOf: Data(repeating: 0xFF, count: Swift.min(8, at.size / 2)))
        try h.close()
        let fresh = try NetCDFArray(path: path, variable: meta)
        do {
            _ = try await NetCDFArray.$directReadMinBytes.withValue(0) { try await fresh.read(region: [Slice(3, 6), Slice(4, 8), Slice(5, 10)]) }
            Issue.record("reading a corrupt chunk succeeded")
        } catch let e as GyreNetCDFError {
            #expect(e.message.contains(path) && e.message.contains("shuffle_deflate") && e.message.contains("[1, 1, 1]"), "\(e.message)")
        }
        // Regions that do not touch the chunk still read.
        let ok = try await NetCDFArray.$directReadMinBytes.withValue(0) { try await fresh.read(region: [Slice(0, 3), Slice(0, 4), Slice(0, 5)]) }
        #expect(ok.shape == [3, 4, 5])
    }
}

/// A store that records every request (key and range) made through it.
final class RecordingStore: ReadableStore, @unchecked Sendable {
    let inner: FileStore
    private let lock = NSLock()
    private var log: [String] = []
    init(_ inner: FileStore) { self.inner = inner }
    var name: String { inner.name }
    var requests: [String] { lock.withLock { log } }
    func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        lock.withLock { log.append("\(key) \(range)") }
        return try await inner.get(key, range: range)
    }
    func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        lock.withLock { log.append("\(key) \(range)") }
        return try await inner.getStored(key, range: range)
    }
}

@Suite("netCDF-4 chunks read by range")
struct StoredChunkReadTests {
    @Test("reads that start together read the chunk index once and no byte range twice, with netcdf-c's values")
    func concurrentReadsShareTheIndex() async throws {
        let path = NetCDFRoundTripTests.tempPath("shared-index.nc")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 160 chunks of 16 KiB: the chunk index outgrows one B-tree node, and its later
        // nodes lie past the first MiB that opening the file reads.
        let shape = [160, 64, 64], chunk = [1, 64, 64]
        let w = try await NetCDFWriter.create(path)
        for (i, n) in shape.enumerated() { try await w.defineDimension("d\(i)", length: n) }
        try await w.defineVariable("v", dtype: .float32, dims: ["d0", "d1", "d2"], storage: .init(chunks: chunk, zlibLevel: nil, shuffle: false), fill: .int(-7))
        try await w.endDefinitions()
        let n = shape.reduce(1, *)
        try await w.write("v", AnyNDArray.float32(try NDArray(shape: shape, (0..<n).map { Float(($0 &* 2654435761) % 100_003) })))
        try await w.close()
        let url = URL(fileURLWithPath: path)
        let store = RecordingStore(FileStore(root: url.deletingLastPathComponent()))
        let file = try await NetCDFFile.open(store: store, key: url.lastPathComponent, name: path)
        let v = try #require(file.groups["/"]?.variables.first { $0.name == "v" })
        let array = try NetCDFArray(file: file, variable: v)
        let reference = try NetCDFArray(path: path, variable: try #require(try await NetCDFFile.open(path).groups["/"]?.variables.first { $0.name == "v" }))
        let before = store.requests.count
        // Eight blocks of rows, all at once.
        let rows = stride(from: 0, to: 160, by: 20).map { Slice($0, $0 + 20) }
        let parts = try await withThrowingTaskGroup(of: (Int, AnyNDArray).self) { group in
            for (i, r) in rows.enumerated() { group.addTask { (i, try await array.read(region: [r, .all, .all])) } }
            var out: [Int: AnyNDArray] = [:]
            for try await (i, a) in group { out[i] = a }
            return out
        }
        for (i, r) in rows.enumerated() {
            #expect(parts[i]?.doubles() == (try await reference.read(region: [r, .all, .all])).doubles(), "rows \(r)")
        }
        let made = Array(store.requests[before...])
        #expect(Set(made).count == made.count, "requests repeated: \(made)")
        #expect(made.count > rows.count, "the index's pages were read by range: \(made)")
    }
}
