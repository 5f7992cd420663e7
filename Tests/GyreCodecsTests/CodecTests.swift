import GyreCore
import Testing
@testable import GyreArrays
@testable import GyreCodecs

@Suite("Codecs")
struct CodecTests {
    static let sample = AnyNDArray.float32(try! NDArray(shape: [10, 37], (0..<370).map { Float($0 % 23) * 0.5 }))

    static func bytesCodecs() throws -> [any BytesToBytesCodec] {
        var all: [any BytesToBytesCodec] = [ZstdCodec(level: 3), ZstdCodec(level: 1, checksum: true), ZlibCodec(level: 6), ZlibCodec(level: 1, format: .gzip),
                                            LZ4Codec(), CRC32CCodec(), ShuffleCodec(elementSize: 4)]
        for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] {
            for s in [BloscCodec.Shuffle.noshuffle, .shuffle, .bitshuffle] { all.append(try BloscCodec(cname: cname, clevel: 5, shuffle: s, typesize: 4)) }
        }
        return all
    }

    @Test("every bytes codec round-trips, empty input included")
    func roundTrips() throws {
        let raw = try Self.sample.rawBytes()
        for c in try Self.bytesCodecs() {
            #expect(try c.decode(try c.encode(raw)) == raw, "\(c.v3Configuration)")
            #expect(try c.decode(try c.encode([])) == [], "\(c.name) on empty input")
        }
    }

    @Test("pipelines: transpose + bytes (big-endian) + zstd + crc32c; delta; vlen-utf8")
    func pipelines() throws {
        let p = CodecPipeline(arrayToArray: [try TransposeCodec(order: [1, 0])], arrayToBytes: BytesCodec(bigEndian: true),
                              bytesToBytes: [ZstdCodec(level: 5), CRC32CCodec()])
        let back = try p.decode(try p.encode(Self.sample), shape: [10, 37], dtype: .float32)
        #expect(back.scalars == Self.sample.scalars)
        let ints = AnyNDArray.int32(NDArray([5, 7, 7, 3, -100, 2000]))
        let d = CodecPipeline(arrayToArray: [DeltaCodec(dtype: .int32, astype: .int16)])
        #expect(try d.decode(try d.encode(ints), shape: [6], dtype: .int32).scalars == ints.scalars)
        let s = AnyNDArray.string(NDArray(["", "zarr", "ünïcødé"]), .variable)
        let v = CodecPipeline(arrayToBytes: VLenUTF8Codec(), bytesToBytes: [ZstdCodec()])
        #expect(try v.decode(try v.encode(s), shape: [3], dtype: .string(.variable)).scalars == s.scalars)
    }

    @Test("blosc item gather (lz4, byte shuffle, split streams): a few items anywhere, every type size, raw and compressed streams, short last blocks, equal a whole decode; corrupt streams are errors")
    func bloscGather() throws {
        var rng = SplitMix64(seed: 3)
        for typesize in [2, 4, 8] {
            // Half noise (raw streams), half smooth (compressed ones); 300,001 items: a short last block.
            let count = 300_001 * typesize
            var bytes = [UInt8](repeating: 0, count: count)
            for i in 0..<count { bytes[i] = i % typesize < typesize / 2 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8((i / 4096) % 7) }
            for blocksize in [0, 65536, 4096 * typesize] {
                let codec = try BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: typesize, blocksize: blocksize)
                let encoded = try codec.encode(bytes)
                var ranges: [Range<Int>] = [0..<typesize, (count - typesize)..<count, (count - 16 * typesize)..<count]
                for _ in 0..<200 {
                    let n = Int(rng.next() % 16) + 1
                    let start = Int(rng.next() % UInt64(count / typesize - n)) * typesize
                    ranges.append(start..<(start + n * typesize))
                }
                for r in ranges {
                    var out = [UInt8](repeating: 0, count: r.count)
                    let ok = try out.withUnsafeMutableBytes { try codec.decode(encoded, range: r, decodedCount: count, into: $0) }
                    #expect(ok && out == Array(bytes[r]), "typesize \(typesize) blocksize \(blocksize) \(r)")
                }
                // The gather path itself answered (not blosc's) for an item inside the first block.
                let direct = try encoded.withUnsafeBytes { raw in
                    try [UInt8](repeating: 0, count: typesize).withUnsafeBytes { _ in
                        var one = [UInt8](repeating: 0, count: typesize)
                        let done = try one.withUnsafeMutableBytes { try BloscCodec.gatherItems(raw, range: typesize..<(2 * typesize), into: $0) }
                        return done == true ? one : nil
                    }
                }
                #expect(direct == Array(bytes[typesize..<(2 * typesize)]), "typesize \(typesize) blocksize \(blocksize): gathered")
                // A stream size that runs past the buffer is an error, not a read outside it.
                var bad = encoded
                let firstBlock = Int(bad[16]) | Int(bad[17]) << 8 | Int(bad[18]) << 16 | Int(bad[19]) << 24
                bad[firstBlock] = 0xff; bad[firstBlock + 1] = 0xff; bad[firstBlock + 2] = 0xff; bad[firstBlock + 3] = 0x7f
                var out = [UInt8](repeating: 0, count: typesize)
                #expect(throws: GyreCodecsError.self) { _ = try out.withUnsafeMutableBytes { try codec.decode(bad, range: 0..<typesize, decodedCount: count, into: $0) } }
            }
        }
    }

    @Test("blosc range decode: any item range of any stream equals the same bytes of a whole decode; bad offsets are errors")
    func bloscRanges() throws {
        var state: UInt64 = 7
        let values = (0..<50_000).map { i -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(i % 300) + Float(state >> 40) / Float(1 << 24)
        }
        let bytes = values.withUnsafeBytes { Array($0) }
        for cname in ["lz4", "zstd", "blosclz"] {
            for shuffle in [BloscCodec.Shuffle.noshuffle, .shuffle, .bitshuffle] {
                for blocksize in [0, 4096] {
                    let codec = try BloscCodec(cname: cname, clevel: 5, shuffle: shuffle, typesize: 4, blocksize: blocksize)
                    let encoded = try codec.encode(bytes)
                    for range in [0..<4, 0..<bytes.count, 4096..<12_288, 40_000..<199_996, 199_996..<200_000, 777 * 4..<(777 * 4 + 4 * 5000), 8..<8] {
                        var out = [UInt8](repeating: 0, count: range.count)
                        let ok = try out.withUnsafeMutableBytes { try codec.decode(encoded, range: range, decodedCount: bytes.count, into: $0) }
                        #expect(ok && out == Array(bytes[range]), "\(cname) \(shuffle) \(blocksize) \(range)")
                    }
                }
            }
        }
        // Ranges that are not whole items of the stream's type size are declined, not misread.
        let codec = try BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 4)
        let encoded = try codec.encode(bytes)
        var two = [UInt8](repeating: 0, count: 2)
        #expect(try two.withUnsafeMutableBytes { try codec.decode(encoded, range: 2..<4, decodedCount: bytes.count, into: $0) } == false)
        // A block offset pointing outside the buffer, and a wrong decoded size, are errors.
        var bad = encoded
        bad[16] = 0xff; bad[17] = 0xff; bad[18] = 0xff; bad[19] = 0x7f
        var out = [UInt8](repeating: 0, count: 400)
        #expect(throws: GyreCodecsError.self) { _ = try out.withUnsafeMutableBytes { try codec.decode(bad, range: 0..<400, decodedCount: bytes.count, into: $0) } }
        #expect(throws: GyreCodecsError.self) { _ = try out.withUnsafeMutableBytes { try codec.decode(encoded, range: 0..<400, decodedCount: bytes.count - 4, into: $0) } }
        #expect(throws: GyreCodecsError.self) { _ = try out.withUnsafeMutableBytes { try codec.decode(Array(encoded.prefix(10)), range: 0..<400, decodedCount: bytes.count, into: $0) } }
    }

    @Test("CRC-32C matches the known check value")
    func crcValue() {
        #expect(CRC32CCodec.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("corrupt input gives errors, never a crash")
    func corrupt() throws {
        let raw = try Self.sample.rawBytes()
        for c in try Self.bytesCodecs() where !(c is ShuffleCodec) {
            let enc = try c.encode(raw)
            #expect(throws: GyreCodecsError.self, "\(c.name) truncated") { _ = try c.decode(Array(enc.prefix(enc.count / 2))) }
        }
        #expect(throws: GyreCodecsError.self) { _ = try ZstdCodec().decode([1, 2, 3, 4, 5, 6, 7, 8]) }
        #expect(throws: GyreCodecsError.self) { _ = try LZ4Codec().decode([0xFF, 0xFF, 0xFF, 0x7F, 1, 2]) }
        var flipped = try CRC32CCodec().encode(raw)
        flipped[3] ^= 1
        #expect(throws: GyreCodecsError.self) { _ = try CRC32CCodec().decode(flipped) }
        #expect(throws: GyreCodecsError.self) { _ = try VLenUTF8Codec().decode([2, 0, 0, 0, 9, 0, 0, 0, 65], shape: [2], dtype: .string(.variable)) }
        #expect(throws: GyreCodecsError.self) { _ = try BytesCodec().decode([1, 2, 3], shape: [1], dtype: .float32) }
    }

    @Test("registry: v3 and numcodecs forms; unknown codecs are named")
    func registry() throws {
        if case .bytesToBytes(let z) = try CodecRegistry.v3(["name": "zstd", "configuration": ["level": 7, "checksum": true]], dtype: .float32) {
            #expect((z as? ZstdCodec)?.level == 7)
        } else { Issue.record("zstd should be bytes-to-bytes") }
        if case .bytesToBytes(let b) = try CodecRegistry.numcodecs(["id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": -1], dtype: .uint8) {
            #expect((b as? BloscCodec)?.shuffle == .bitshuffle)  // AUTOSHUFFLE on 1-byte types
        } else { Issue.record("blosc should be bytes-to-bytes") }
        do { _ = try CodecRegistry.v3(["name": "snappy-magic"], dtype: .int8); Issue.record("must fail") } catch let e as GyreCodecsError {
            #expect(e.code == .unknownCodec && e.message.contains("snappy-magic"))
        }
        #expect(throws: GyreCodecsError.self) { _ = try BloscCodec(cname: "nonesuch") }
    }
}
