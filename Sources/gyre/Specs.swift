import Foundation
import Gyre

/// The command line's spellings of codecs and sizes (`--codec`, `--chunks`, `--shards`).
enum Specs {
    /// `zstd:LEVEL`, `blosc:CNAME:LEVEL[:shuffle|bitshuffle|noshuffle]`, `zlib:LEVEL`,
    /// `gzip:LEVEL`, `lz4`, `none`.
    static func compressors(_ spec: String) throws -> [any BytesToBytesCodec] {
        do { return try CodecRegistry.compressors(spec: spec) } catch let e as GyreCodecsError { throw CLIError(e.message) }
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

    /// `A,B,C,...`: finite numbers, `count` of them when given.
    static func numbers(_ spec: String, option: String, count: Int? = nil) throws -> [Double] {
        let parts = spec.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = try parts.map { part -> Double in
            guard let d = Double(part), d.isFinite else { throw CLIError("\(option): \"\(part)\" is not a number") }
            return d
        }
        if let count, values.count != count { throw CLIError("\(option): \(count) numbers, comma-separated (got \(values.count))") }
        return values
    }
}
