import CGyreSupport
import Foundation
import GyreCore
@_spi(CustomByteBufferAllocator) import NIOCore

/// A store in a local directory: keys are relative paths under the root. Writes go to a
/// temporary file in the same directory and are renamed into place, so a killed writer never
/// leaves a truncated value that reads as valid. Blocking file calls run on a dedicated queue,
/// never on Swift's cooperative thread pool.
public final class FileStore: WritableStore, ListableStore {
    public let root: URL
    public let name: String

    /// A store rooted at `root`; the directory is created on the first write.
    public init(root: URL) {
        self.root = root.standardizedFileURL
        self.name = self.root.path
    }

    public convenience init(path: String) { self.init(root: URL(fileURLWithPath: path)) }

    func path(for key: String) throws -> String {
        try validateKey(key, store: name)
        return root.appendingPathComponent(key).path
    }

    /// Opens a value's file and gives its size; nil when there is no such value (a missing file,
    /// or a directory). The caller closes the descriptor.
    private static func openForReading(_ p: String, key: String, store: String) throws -> (fd: Int32, stat: stat)? {
        let fd = open(p, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw GyreStorageError(.io, "\(store): cannot open '\(key)': \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw GyreStorageError(.io, "\(store): cannot stat '\(key)': \(String(cString: strerror(e)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { close(fd); return nil }
        return (fd, st)
    }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        let p = try path(for: key)
        let storeName = name
        return try await BlockingIO.run {
            guard let (fd, st) = try Self.openForReading(p, key: key, store: storeName) else { return nil }
            defer { close(fd) }
            let r = try range.resolve(size: Int(st.st_size), key: key, store: storeName)
            let bytes = try [UInt8](unsafeUninitializedCapacity: r.count) { buf, initialized in
                initialized = try Self.readFully(fd, into: buf.baseAddress, range: r, key: key, store: storeName)
            }
            return bytes
        }
    }

    /// The file, or a range of it, read straight into a reusable large block.
    public func getStored(_ key: String, range: ByteRange) async throws -> StoredBytes? {
        let p = try path(for: key)
        let storeName = name
        return try await BlockingIO.run {
            guard let (fd, st) = try Self.openForReading(p, key: key, store: storeName) else { return nil }
            defer { close(fd) }
            let r = try range.resolve(size: Int(st.st_size), key: key, store: storeName)
            return try StoredBytes(capacity: r.count) { buf in
                try Self.readFully(fd, into: buf.baseAddress, range: r, key: key, store: storeName)
            }
        }
    }

    /// Ranges of the file read straight into `buffer`, each at its own offset, with one open.
    package func read(_ key: String, ranges: [Range<Int>], into buffer: StoredBytes) async throws -> Bool {
        let p = try path(for: key)
        let storeName = name
        return try await BlockingIO.run {
            guard let (fd, st) = try Self.openForReading(p, key: key, store: storeName) else { return false }
            defer { close(fd) }
            for r in ranges {
                guard r.lowerBound >= 0, r.upperBound <= Int(st.st_size) else {
                    throw GyreStorageError(.invalidRange, "\(storeName): bytes \(r.lowerBound)..<\(r.upperBound) of '\(key)' are outside its \(st.st_size) bytes")
                }
                precondition(r.upperBound <= buffer.count, "FileStore.read: range \(r) past a \(buffer.count)-byte buffer")
                _ = try buffer.withUnsafeMutableBytes { try Self.readFully(fd, into: $0.baseAddress! + r.lowerBound, range: r, key: key, store: storeName) }
            }
            return true
        }
    }

    /// Reads `range` of an open file into memory, all of it or an error (a read error, or a
    /// file that ended first). Returns the count read.
    private static func readFully(_ fd: Int32, into base: UnsafeMutableRawPointer?, range r: Range<Int>, key: String, store: String) throws -> Int {
        var done = 0
        while done < r.count {
            let n = pread(fd, base! + done, r.count - done, off_t(r.lowerBound + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw GyreStorageError(.io, "\(store): cannot read '\(key)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
        guard done == r.count else {
            throw GyreStorageError(.io, "\(store): '\(key)' ended after \(done) of \(r.count) bytes (changed while reading?)")
        }
        return done
    }

    /// Response buffers from the large-block cache (`gyre_buffer_alloc`): a chunk-sized buffer
    /// reuses resident pages instead of faulting in fresh ones for every response (perf of the
    /// serving benchmark: page faults and page clearing under the reads into fresh buffers).
    static let responseAllocator = ByteBufferAllocator(allocate: { gyre_buffer_alloc($0) }, reallocate: { gyre_buffer_realloc($0, $1, $2) },
                                                       deallocate: { gyre_buffer_free($0) }, copy: { gyre_buffer_copy($0, $1, $2) })

    /// The file, or a range of it, read straight into a NIO buffer (what a server sends from),
    /// with no intermediate copy, and a validator for it as static file servers make one
    /// (nginx's ETag: the file's modification time and size, here with its inode too).
    package func getBuffer(_ key: String, range: ByteRange) async throws -> (bytes: ByteBuffer, version: String)? {
        let p = try path(for: key)
        let storeName = name
        return try await BlockingIO.run {
            guard let (fd, st) = try Self.openForReading(p, key: key, store: storeName) else { return nil }
            defer { close(fd) }
            let version = "\(String(st.st_mtim.tv_sec, radix: 16)).\(String(st.st_mtim.tv_nsec, radix: 16))-\(String(st.st_size, radix: 16))-\(String(st.st_ino, radix: 16))"
            let r = try range.resolve(size: Int(st.st_size), key: key, store: storeName)
            var buffer = Self.responseAllocator.buffer(capacity: r.count)
            _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: r.count) { raw in
                try Self.readFully(fd, into: raw.baseAddress, range: r, key: key, store: storeName)
            }
            return (buffer, version)
        }
    }

    public func set(_ key: String, _ value: [UInt8]) async throws {
        let p = try path(for: key)
        let storeName = name
        try await BlockingIO.run {
            let dir = (p as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let tmp = dir + "/.\((p as NSString).lastPathComponent).tmp-\(UUID().uuidString)"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else {
                throw GyreStorageError(.io, "\(storeName): cannot create a temporary file for '\(key)': \(String(cString: strerror(errno)))")
            }
            var ok = false
            if value.count >= Self.directWriteMinBytes, Self.writeDirect(fd: fd, tmp, value) {
                ok = true
            } else {
                var written = 0
                ok = value.withUnsafeBytes { raw -> Bool in
                    while written < raw.count {
                        let n = write(fd, raw.baseAddress! + written, raw.count - written)
                        if n < 0 { if errno == EINTR { continue }; return false }
                        written += n
                    }
                    return true
                }
            }
            let err = errno
            close(fd)
            guard ok else {
                unlink(tmp)
                throw GyreStorageError(.io, "\(storeName): cannot write '\(key)': \(String(cString: strerror(err)))")
            }
            guard rename(tmp, p) == 0 else {
                let e = errno
                unlink(tmp)
                throw GyreStorageError(.io, "\(storeName): cannot move '\(key)' into place: \(String(cString: strerror(e)))")
            }
        }
    }

    /// Values at least this large are written with O_DIRECT: they go from a reused aligned
    /// buffer to the disk without the kernel copying them into fresh page-cache pages, which on
    /// the benchmark machine cost more than compressing them.
    static let directWriteMinBytes = Int(GYRE_LARGE_BLOCK)

    /// Writes `value` to the new, empty file `fd` with O_DIRECT (padded to whole 4 KiB blocks,
    /// then truncated to its length). False when the file system refuses O_DIRECT or a write
    /// fails: the file is then emptied and the caller writes it the ordinary way.
    static func writeDirect(fd: Int32, _ path: String, _ value: [UInt8]) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | gyre_o_direct_flag()) == 0 else { return false }
        let padded = (value.count + 4095) & ~4095
        guard let block = gyre_large_alloc(padded + 4096) else { _ = fcntl(fd, F_SETFL, flags); return false }
        defer { gyre_large_free(block, padded + 4096) }
        let buffer = block + (4096 - Int(bitPattern: block) % 4096) % 4096
        var ok = true
        do {
            value.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: value.count) }
            memset(buffer + value.count, 0, padded - value.count)
            var written = 0
            while written < padded {
                let n = pwrite(fd, buffer + written, padded - written, off_t(written))
                if n < 0, errno == EINTR { continue }
                guard n > 0, n % 4096 == 0 else { ok = false; break }
                written += n
            }
        }
        _ = fcntl(fd, F_SETFL, flags)
        if ok, ftruncate(fd, off_t(value.count)) == 0 { return true }
        _ = ftruncate(fd, 0)
        return false
    }

    public func delete(_ key: String) async throws {
        let p = try path(for: key)
        let storeName = name
        try await BlockingIO.run {
            if unlink(p) != 0 && errno != ENOENT {
                throw GyreStorageError(.io, "\(storeName): cannot delete '\(key)': \(String(cString: strerror(errno)))")
            }
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let rootPath = root.path
        return try await BlockingIO.run {
            guard let e = FileManager.default.enumerator(atPath: rootPath) else { return [] }
            var keys: [String] = []
            while let rel = e.nextObject() as? String {
                let name = (rel as NSString).lastPathComponent
                if name.hasPrefix(".") && name.contains(".tmp-") { continue }  // an unfinished write
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: rootPath + "/" + rel, isDirectory: &isDir), !isDir.boolValue,
                   rel.hasPrefix(prefix) {
                    keys.append(rel)
                }
            }
            return keys.sorted()
        }
    }

    /// Whether the root exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: root.path) }
}

extension FileStore: RangesIntoBuffer {}
