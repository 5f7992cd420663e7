import Foundation
import Gyre

/// The command line's spellings of codecs and sizes (`--codec`, `--chunks`, `--shards`).
enum Specs {
    /// `zstd:LEVEL`, `blosc:CNAME:LEVEL[:shuffle|bitshuffle|noshuffle]`, `zlib:LEVEL`,
    /// `gzip:LEVEL`, `lz4`, `none`.
    static func compressors(_ spec: String) throws -> [any BytesToBytesCodec] {
        let parts = spec.split(separator: ":").map(String.init)
        func level(_ i: Int, _ d: Int32, _ range: ClosedRange<Int32>) throws -> Int32 {
            guard parts.count > i else { return d }
            guard let l = Int32(parts[i]), range.contains(l) else {
                throw CLIError("codec '\(spec)': level '\(parts[i])' is not in \(range)")
            }
            return l
        }
        switch parts.first ?? "" {
        case "none": return []
        case "zstd": return [ZstdCodec(level: try level(1, 3, -7...22))]
        case "zlib": return [ZlibCodec(level: try level(1, 1, 0...9), format: .zlib)]
        case "gzip": return [ZlibCodec(level: try level(1, 5, 0...9), format: .gzip)]
        case "lz4": return [LZ4Codec()]
        case "blosc":
            guard parts.count >= 2 else { throw CLIError("codec '\(spec)': blosc needs a compressor name, e.g. blosc:lz4:5") }
            let shuffle = parts.count > 3 ? BloscCodec.Shuffle(rawValue: parts[3]) : .shuffle
            guard let shuffle else { throw CLIError("codec '\(spec)': shuffle must be shuffle, bitshuffle or noshuffle") }
            do { return [try BloscCodec(cname: parts[1], clevel: try level(2, 5, 0...9), shuffle: shuffle, typesize: 1)] } catch let e as GyreCodecsError {
                throw CLIError("codec '\(spec)': \(e.message)")
            }
        default:
            throw CLIError("unknown codec '\(spec)'; use zstd:LEVEL, blosc:CNAME:LEVEL[:SHUFFLE], zlib:LEVEL, gzip:LEVEL, lz4 or none")
        }
    }

    /// `DIM=N,DIM=N` with positive N.
    static func sizes(_ spec: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for item in spec.split(separator: ",") where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[0].isEmpty, let n = Int(kv[1]), n > 0 else {
                throw CLIError("'\(item)' is not DIM=N with a positive N")
            }
            out[kv[0]] = n
        }
        return out
    }
}
