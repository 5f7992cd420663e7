import GyreCodecs
import GyreCore
import GyreData
import GyreStorage
import GyreZarr
import NIOCore
import Synchronization

/// A dataset seen as a Zarr store over HTTP: the v2 and v3 keys side by side, as they never
/// clash (`.zmetadata` and `0.0` against `zarr.json` and `c/0/0`).
public struct ZarrView: Sendable {
    let v2: DatasetZarrStore
    let v3: DatasetZarrStore

    /// The views of `dataset`: their chunks are those the variables were read with (lazy
    /// ones) or `chunks` (length by dimension; a dimension not named is one chunk), compressed
    /// with `compressors`. `label` names the dataset in errors.
    init(_ dataset: Dataset, label: String, chunks: [String: Int] = [:], compressors: [any BytesToBytesCodec] = [ZstdCodec(level: 1)]) async throws {
        v2 = try await DatasetZarrStore(dataset, name: label, options: ZarrWriteOptions(format: .v2, chunks: chunks, compressors: compressors))
        v3 = try await DatasetZarrStore(dataset, name: label, options: ZarrWriteOptions(format: .v3, chunks: chunks, compressors: compressors))
    }

    /// A key of the view: v2's keys, then v3's.
    func zarrKey(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        if let b = try await v2.get(key, range: range) { return b }
        return try await v3.get(key, range: range)
    }

    /// The whole value of a key, in the buffer it is sent from, and its ETag; nil when missing.
    /// A chunk passed through from a local Zarr store is read from its file straight into the
    /// buffer, its ETag made from the file's modification time, size and inode as nginx makes
    /// one (no pass over the bytes); other values' ETags hash their bytes.
    func zarrValue(_ key: String) async throws -> (bytes: ByteBuffer, etag: String)? {
        if let (store, k) = try v2.storedLocation(key) ?? v3.storedLocation(key), let files = store as? FileStore {
            guard let (b, version) = try await files.getBuffer(k, range: .full) else { return nil }
            return (b, "\"f\(version)\"")
        }
        guard let b = try await zarrKey(key, range: .full) else { return nil }
        return (ByteBuffer(bytes: b), Self.etag(b))
    }

    /// An ETag for a value: its length and a 64-bit hash of its bytes (four lanes of
    /// multiply-rotate over 8-byte words, then the tail), computed at several GB/s, so a chunk
    /// of megabytes costs well under a millisecond. Not a cryptographic digest: it tells
    /// versions of one key apart, which is all a cache validator is for.
    static func etag(_ b: [UInt8]) -> String { b.withUnsafeBytes { etag($0) } }

    static func etag(_ raw: UnsafeRawBufferPointer) -> String {
        let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F, p3: UInt64 = 0x1656_67B1_9E37_79F9
        func round(_ acc: UInt64, _ x: UInt64) -> UInt64 {
            let a = acc &+ x &* p2
            return ((a << 31) | (a >> 33)) &* p1
        }
        var h: UInt64 = UInt64(truncatingIfNeeded: raw.count) &* p3
        do {
            let words = raw.count / 8
            var v0 = p1 &+ p2, v1 = p2, v2: UInt64 = 0, v3 = 0 &- p1
            var i = 0
            while i + 4 <= words {
                v0 = round(v0, raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                v1 = round(v1, raw.loadUnaligned(fromByteOffset: (i + 1) * 8, as: UInt64.self))
                v2 = round(v2, raw.loadUnaligned(fromByteOffset: (i + 2) * 8, as: UInt64.self))
                v3 = round(v3, raw.loadUnaligned(fromByteOffset: (i + 3) * 8, as: UInt64.self))
                i += 4
            }
            h ^= ((v0 << 1) | (v0 >> 63)) &+ ((v1 << 7) | (v1 >> 57)) &+ ((v2 << 12) | (v2 >> 52)) &+ ((v3 << 18) | (v3 >> 46))
            while i < words {
                h = round(h, raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                i += 1
            }
            for j in (words * 8)..<raw.count { h = (h ^ UInt64(raw[j])) &* p1 }
        }
        h ^= h >> 33; h = h &* p2; h ^= h >> 29; h = h &* p3; h ^= h >> 32
        return "\"\(String(raw.count, radix: 16))-\(String(h, radix: 16))\""
    }

}

/// A dataset the server serves: what it was opened from, its Zarr view, and the views of
/// results computed from it (`/datasets/{name}/eval/{token}/zarr/`).
public struct ServedDataset: Sendable {
    public let name: String
    /// What it was opened from (a path or URL), for the listing.
    public let source: String
    public let description: String
    public let dataset: Dataset
    let view: ZarrView
    /// The dataset as an EDR collection, or why it is not one.
    let edrGrid: Result<EDRGrid, GyreServerError>
    /// Zarr views of computed results, by expression, the most recently used kept.
    let evalViews = EvalViews(capacity: 32)
    /// Map tiles drawn of it (`/tiles/{name}/...`), the most recently used kept.
    let tiles = TileCache()
    /// Where a dataset without a grid keeps its points (1-D longitude and latitude), if it does.
    let pointLayout: PointLayout?
    /// A point dataset's points in Web Mercator, for its tiles.
    let points = ProjectedPoints()
    /// Registered through the API (`POST /datasets`) and kept in the catalog database, so it can
    /// be removed (`DELETE /datasets/{name}`).
    public let registered: Bool

    /// Names are path segments of the API: letters, digits, `.`, `_` and `-`, starting with a
    /// letter or digit, at most 128.
    public static func checkName(_ name: String) throws {
        let ok = !name.isEmpty && name.count <= 128 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            && name.first!.isASCII && (name.first!.isLetter || name.first!.isNumber)
        guard ok else {
            throw GyreServerError(.badRequest, "dataset name '\(name.prefix(80))' must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// Prepares a dataset for serving (see `ZarrView` for `chunks` and `compressors`).
    public init(name: String, source: String, description: String = "", dataset: Dataset, chunks: [String: Int] = [:],
                compressors: [any BytesToBytesCodec] = [ZstdCodec(level: 1)], registered: Bool = false) async throws {
        try Self.checkName(name)
        self.registered = registered
        self.name = name
        self.source = source
        self.description = description
        self.dataset = dataset
        view = try await ZarrView(dataset, label: "dataset '\(name)'", chunks: chunks, compressors: compressors)
        edrGrid = Result { () throws(GyreServerError) in try EDRGrid(dataset, name: name) }
        pointLayout = (try? edrGrid.get()) == nil ? PointLayout.find(dataset) : nil
    }

    /// The metadata in xarray's `to_dict(data=False)` form (with each variable's chunks and
    /// encoding), as `gyre info --json` prints it.
    public var json: JSON { dataset.summaryJSON }
}

/// The datasets a server serves, by name, in the order they were added.
public final class ServedDatasets: Sendable {
    private let served: Mutex<[ServedDataset]>
    /// What a computation over a dataset (`/datasets/{name}/eval`) may cost.
    public let limits: EvalLimits

    public init(limits: EvalLimits = EvalLimits()) {
        served = Mutex([])
        self.limits = limits
    }

    public convenience init(_ datasets: [ServedDataset], limits: EvalLimits = EvalLimits()) throws {
        self.init(limits: limits)
        for d in datasets { try add(d) }
    }

    /// Adds a dataset; a name already served is an error.
    public func add(_ d: ServedDataset) throws {
        try served.withLock { all in
            guard !all.contains(where: { $0.name == d.name }) else { throw GyreServerError(.conflict, "a dataset named '\(d.name)' is already served") }
            all.append(d)
        }
    }

    /// Stops serving a dataset; the one removed, or nil.
    @discardableResult public func remove(_ name: String) -> ServedDataset? {
        served.withLock { all in all.firstIndex { $0.name == name }.map { all.remove(at: $0) } }
    }

    public var all: [ServedDataset] { served.withLock { $0 } }

    public subscript(name: String) -> ServedDataset? { served.withLock { $0.first { $0.name == name } } }
}
