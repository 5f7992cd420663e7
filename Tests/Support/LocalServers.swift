import Foundation

/// The real servers the network stores are tested against (a target the test targets share), each started on a free loopback
/// port by the test that needs it and stopped when that test ends: moto's S3 server (from the
/// test venv) and nginx (from Debian) serving a directory. scripts/setup installs both.
package enum LocalServers {
    package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package struct Failure: Error, CustomStringConvertible { package let description: String }

    /// A port no one listens on now (the kernel's choice for a socket bound to port 0).
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw Failure(description: "bind() to a free port failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts connections on the port.
    package static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A server process, stopped (SIGTERM, then SIGKILL) by `stop` or when released.
    package final class Server: @unchecked Sendable {
        package let process: Process
        package let port: Int
        package let log: URL
        package var url: String { "http://127.0.0.1:\(port)" }
        /// nginx's access log (the status, request line and Range of each request), beside `log`.
        package var accessLog: [String] {
            let text = (try? String(contentsOf: log.deletingLastPathComponent().appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init)
        }

        /// The access log once it holds at least `count` lines (nginx writes a line after the
        /// response has gone, so a loaded machine can read the log before it), or as it is after
        /// `seconds`.
        package func accessLog(atLeast count: Int, seconds: Double = 5) -> [String] {
            let deadline = Date().addingTimeInterval(seconds)
            var lines = accessLog
            while lines.count < count && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
                lines = accessLog
            }
            return lines
        }

        init(_ executable: String, _ arguments: [String], port: Int, environment: [String: String] = [:], log: URL) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            self.port = port
            self.log = log
            try process.run()
            let start = Date()
            while !LocalServers.listening(port) {
                guard process.isRunning, Date().timeIntervalSince(start) < 60 else {
                    stop()
                    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    throw Failure(description: "\(executable) did not listen on \(port) within 60 s: \(text.suffix(2000))")
                }
                usleep(50_000)
            }
        }

        package func stop() {
            guard process.isRunning else { return }
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    package static func scratch(_ what: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-\(what)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// moto's S3 server (`moto_server` in the test venv).
    package static func moto() throws -> Server {
        let exe = root.appendingPathComponent(".venv/bin/moto_server").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw Failure(description: "moto's server is missing at \(exe): run scripts/setup first")
        }
        let port = try freePort()
        let dir = try scratch("moto")
        return try Server(exe, ["-H", "127.0.0.1", "-p", String(port)], port: port, log: dir.appendingPathComponent("moto.log"))
    }

    /// nginx serving `directory` as it serves static files (Range honored), in the foreground
    /// with one process and every path of its own in a scratch directory. `locations` is
    /// inserted in the server block as it is.
    package static func nginx(serving directory: URL, locations: String = "") throws -> Server {
        let exe = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let exe else { throw Failure(description: "nginx is missing: run scripts/setup first") }
        let port = try freePort()
        let dir = try scratch("nginx")
        let p = dir.path
        let conf = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(p)/nginx.pid;
            error_log \(p)/error.log;
            events { worker_connections 1024; }
            http {
                log_format ranges '$status $request $http_range';
                access_log \(p)/access.log ranges;
                client_body_temp_path \(p)/body;
                proxy_temp_path \(p)/proxy;
                fastcgi_temp_path \(p)/fastcgi;
                uwsgi_temp_path \(p)/uwsgi;
                scgi_temp_path \(p)/scgi;
                default_type application/octet-stream;
                keepalive_requests 100000;
                server {
                    listen 127.0.0.1:\(port);
                    root \(directory.path);
                    \(locations)
                }
            }
            """
        try conf.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        return try Server(exe, ["-c", dir.appendingPathComponent("nginx.conf").path, "-p", p, "-e", "\(p)/error.log"], port: port,
                          log: dir.appendingPathComponent("out.log"))
    }

    /// The fault-injecting proxy (`fault_proxy.py`) in front of `upstream`: a seeded share
    /// `rate` of requests answered with a fault (500, 503, a reset, a 503 after the upstream did
    /// the work, a truncated body, a slow answer); paths with "always-fail" always fail.
    package static func faultProxy(upstream: String, rate: Double, seed: Int) throws -> Server {
        let port = try freePort()
        let dir = try scratch("proxy")
        return try Server(root.appendingPathComponent(".venv/bin/python").path,
                          [root.appendingPathComponent("Tests/Support/fault_proxy.py").path, String(port), upstream, String(rate), String(seed)],
                          port: port, log: dir.appendingPathComponent("proxy.log"))
    }

    /// Gyre's native library for Dask workers, as the tests built it (`GYRE_LIBRARY` overrides).
    package static var workerLibrary: String {
        ProcessInfo.processInfo.environment["GYRE_LIBRARY"] ?? root.appendingPathComponent(".build/debug/libGyreWorker.so").path
    }

    /// A Dask cluster on loopback: `dask scheduler` and workers of one thread each (no nanny,
    /// so a killed worker stays dead), from the test venv. Stopped by `stop` or when released.
    package final class DaskCluster: @unchecked Sendable {
        package let scheduler: Server
        package private(set) var workers: [Server] = []
        package let dir: URL
        package var address: String { "tcp://127.0.0.1:\(scheduler.port)" }

        /// Starts the scheduler and `workers` workers; `library` is the GYRE_LIBRARY they get
        /// ("" for workers without Gyre).
        package init(workers n: Int, library: String = LocalServers.workerLibrary) throws {
            let dask = root.appendingPathComponent(".venv/bin/dask").path
            guard FileManager.default.isExecutableFile(atPath: dask) else {
                throw Failure(description: "dask is missing at \(dask): run scripts/setup first")
            }
            dir = try scratch("dask")
            let port = try freePort()
            scheduler = try Server(dask, ["scheduler", "--host", "127.0.0.1", "--port", String(port), "--no-dashboard"], port: port,
                                   log: dir.appendingPathComponent("scheduler.log"))
            for _ in 0..<n { try addWorker(library: library) }
        }

        /// Starts one more worker and waits until the scheduler has it.
        @discardableResult
        package func addWorker(library: String = LocalServers.workerLibrary) throws -> Server {
            let dask = root.appendingPathComponent(".venv/bin/dask").path
            let port = try freePort()
            let log = dir.appendingPathComponent("worker-\(workers.count).log")
            let w = try Server(dask, ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                      "--worker-port", String(port), "--local-directory", dir.path],
                               port: port, environment: ["GYRE_LIBRARY": library], log: log)
            let start = Date()
            while !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("Registered to") {
                guard Date().timeIntervalSince(start) < 60 else { throw Failure(description: "a Dask worker did not register within 60 s") }
                usleep(50_000)
            }
            workers.append(w)
            return w
        }

        /// Kills worker `i` at once (SIGKILL), as a machine that dies.
        package func kill(worker i: Int) {
            Foundation.kill(workers[i].process.processIdentifier, SIGKILL)
            workers[i].process.waitUntilExit()
        }

        package func stop() {
            for w in workers { w.stop() }
            scheduler.stop()
        }

        deinit { stop() }
    }

    /// Runs Python code with the test venv's interpreter and gives its stdout.
    package static func python(_ code: String, _ args: [String] = [], stdin: String = "") throws -> String {
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.arguments = ["-c", code] + args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure(description: "python failed: \(String(decoding: errors, as: UTF8.self))") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension LocalServers {
    /// Every file under a directory by its relative path, with its bytes: stores compared
    /// byte for byte.
    package static func fileTree(_ root: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for case let p as String in FileManager.default.enumerator(atPath: root.path) ?? FileManager.DirectoryEnumerator() {
            var isDir: ObjCBool = false
            let full = root.appendingPathComponent(p).path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out[p] = try Data(contentsOf: URL(fileURLWithPath: full)) }
        }
        return out
    }
}
