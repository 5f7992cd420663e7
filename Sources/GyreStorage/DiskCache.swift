import Crypto
import Foundation
import GyreCore
import NIOHTTP1

/// The on-disk cache of network reads (`--cache DIR`, the storage option `cache`): each answer
/// to a GET with an ETag is kept under a name made from the URL without its query string (a
/// token that changes does not empty the cache) and the Range asked, with the ETag it came with.
/// The next read of the same bytes asks again with `If-None-Match`; a 304 is answered from the
/// disk (no body travels), anything else replaces the entry. An entry is written body first and
/// its description last, each by a rename, so a killed writer leaves no entry that reads.
package struct DiskCache: Sendable {
    package let directory: String

    package init(_ directory: String) { self.directory = directory }

    struct Entry: Sendable { var etag: String; var status: Int; var contentRange: String?; var bodyPath: String }

    func name(_ url: String, _ range: String?) -> String {
        let shown = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        return SigV4.sha256Hex(Array((shown + "\n" + (range ?? "")).utf8))
    }

    func lookup(_ url: String, _ range: String?) -> Entry? {
        let base = directory + "/" + name(url, range)
        guard let data = FileManager.default.contents(atPath: base + ".meta"), let meta = try? JSON.parse([UInt8](data)),
              let etag = meta["etag"]?.string, let status = meta["status"]?.number, let size = meta["size"]?.number,
              let attributes = try? FileManager.default.attributesOfItem(atPath: base + ".body"),
              (attributes[.size] as? Int) == Int(size) else { return nil }
        return Entry(etag: etag, status: Int(status), contentRange: meta["contentRange"]?.string, bodyPath: base + ".body")
    }

    func save(_ url: String, _ range: String?, _ reply: HTTPReply) {
        guard let etag = reply.header("ETag"), reply.status == 200 || reply.status == 206 else { return }
        let base = directory + "/" + name(url, range)
        let bytes = reply.stored?.array ?? reply.body
        var meta: JSONObject = ["etag": .string(etag), "status": .int(Int64(reply.status)), "size": .int(Int64(bytes.count))]
        if let cr = reply.header("Content-Range") { meta["contentRange"] = .string(cr) }
        let tmp = "\(base).\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, base + ".body")
            try Data(JSON.object(meta).serialized).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, base + ".meta")
        } catch {
            // A cache that cannot be written only costs the next read a download.
            try? FileManager.default.removeItem(atPath: tmp)
        }
    }

    /// `fetch` with the cache in front: its extra headers are the validator, if any.
    package func get(_ url: String, range: String?, stored: Bool,
                     fetch: @Sendable ([(String, String)]) async throws -> HTTPReply) async throws -> HTTPReply {
        let entry = lookup(url, range)
        let reply = try await fetch(entry.map { [("If-None-Match", $0.etag)] } ?? [])
        if reply.status == 304, let entry, let data = FileManager.default.contents(atPath: entry.bodyPath) {
            var headers = HTTPHeaders([("ETag", entry.etag), ("Content-Length", String(data.count))])
            if let cr = entry.contentRange { headers.add(name: "Content-Range", value: cr) }
            let bytes = [UInt8](data)
            return HTTPReply(status: entry.status, headers: headers, body: stored ? [] : bytes, stored: stored ? StoredBytes(copying: bytes) : nil)
        }
        if reply.status == 304 {
            // Answered "not modified" for an entry that has gone meanwhile: ask plainly.
            return try await fetch([])
        }
        save(url, range, reply)
        return reply
    }
}
