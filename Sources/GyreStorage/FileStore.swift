import Foundation

/// A store in a local directory: keys are relative paths under the root. Writes go to a
/// temporary file in the same directory and are renamed into place, so a killed writer never
/// leaves a truncated value that reads as valid. Blocking file calls run on a dedicated queue,
/// never on Swift's cooperative thread pool.
public final class FileStore: WritableStore, ListableStore {
    public let root: URL
    public let name: String
    private let queue = DispatchQueue(label: "gyre.filestore", qos: .userInitiated, attributes: .concurrent)

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

    /// Runs blocking work off the cooperative pool.
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async {
                do { c.resume(returning: try work()) } catch { c.resume(throwing: error) }
            }
        }
    }

    public func get(_ key: String, range: ByteRange) async throws -> [UInt8]? {
        let p = try path(for: key)
        let storeName = name
        return try await blocking {
            let fd = open(p, O_RDONLY)
            if fd < 0 {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw GyreStorageError(.io, "\(storeName): cannot open '\(key)': \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                throw GyreStorageError(.io, "\(storeName): cannot stat '\(key)': \(String(cString: strerror(errno)))")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { return nil }
            let r = try range.resolve(size: Int(st.st_size), key: key, store: storeName)
            let count = r.count
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
                var done = 0
                while done < count {
                    let n = pread(fd, buf.baseAddress! + done, count - done, off_t(r.lowerBound + done))
                    if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                    if n == 0 { break }
                    done += n
                }
                initialized = done
            }
            if failure != 0 {
                throw GyreStorageError(.io, "\(storeName): cannot read '\(key)': \(String(cString: strerror(failure)))")
            }
            guard bytes.count == count else {
                throw GyreStorageError(.io, "\(storeName): '\(key)' ended after \(bytes.count) of \(count) bytes (changed while reading?)")
            }
            return bytes
        }
    }

    public func set(_ key: String, _ value: [UInt8]) async throws {
        let p = try path(for: key)
        let storeName = name
        try await blocking {
            let dir = (p as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let tmp = dir + "/.\((p as NSString).lastPathComponent).tmp-\(UUID().uuidString)"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else {
                throw GyreStorageError(.io, "\(storeName): cannot create a temporary file for '\(key)': \(String(cString: strerror(errno)))")
            }
            var written = 0
            let ok = value.withUnsafeBytes { raw -> Bool in
                while written < raw.count {
                    let n = write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    written += n
                }
                return true
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

    public func delete(_ key: String) async throws {
        let p = try path(for: key)
        let storeName = name
        try await blocking {
            if unlink(p) != 0 && errno != ENOENT {
                throw GyreStorageError(.io, "\(storeName): cannot delete '\(key)': \(String(cString: strerror(errno)))")
            }
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let rootPath = root.path
        return try await blocking {
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
