import Foundation
import GyreArrays
import GyreChunks
import GyreCore
import GyreStorage

/// Decodes one HDF5 chunk (shuffle and deflate, as its filter mask says) into native bytes.
struct HDF5ChunkDecoder: ChunkDecoder {
    let filters: [HDF5ChunkIndex.Filter]
    let mask: UInt32
    let itemSize: Int
    let bigEndian: Bool
    let name: String
    let chunk: [Int]

    func decode(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
        try HDF5ChunkIndex.decode(stored, filters: filters, mask: mask, into: destination, what: "\(name): chunk \(chunk)")
        if bigEndian { ByteOrder.swapInPlace(destination, itemSize: itemSize) }
    }
}

/// A chunked netCDF-4 variable as the chunk engine sees it: chunk grid positions located
/// through the file's chunk index (the B-tree read by range, or HDF5 for a local file), each
/// a byte range of the file. Chunks the index does not list were never written: the fill value.
struct NetCDFChunkLocator: ChunkLocator {
    let name: String
    let shape: [Int]
    let chunkShape: [Int]
    let itemSize: Int
    let fillElement: [UInt8]
    let concurrency: Int
    let store: any ReadableStore
    let key: String
    let filters: [HDF5ChunkIndex.Filter]
    let bigEndian: Bool
    /// Where chunks lie, asked for all the chunks of a read at once.
    let index: @Sendable ([[Int]]) async throws -> [HDF5ChunkIndex.Location?]

    var groupShape: [Int]? { nil }

    func locate(_ chunks: [[Int]]) async throws -> [ChunkLocation?] {
        let chunkBytes = chunkShape.reduce(itemSize, *)
        return try await zip(chunks, index(chunks)).map { c, l in
            guard let l else { return nil }
            guard l.size <= Swift.max(chunkBytes * 2 + 4096, 1 << 20), l.address < UInt64(Int.max >> 1) else {
                throw GyreNetCDFError(.read, "\(name): chunk \(c): \(l.size) stored bytes at \(l.address) for a chunk of \(chunkBytes) (corrupt file?)")
            }
            let decoder = HDF5ChunkDecoder(filters: filters, mask: l.mask, itemSize: itemSize, bigEndian: bigEndian, name: name, chunk: c)
            return ChunkLocation(.range(store, key: key, Int(l.address)..<(Int(l.address) + l.size)), decoder: decoder)
        }
    }

    func failure(chunk: [Int], _ message: String, cause: (any Error & Sendable)?) -> any Error {
        GyreNetCDFError(.read, "\(name): chunk \(chunk): \(message)", cause: cause)
    }
}
