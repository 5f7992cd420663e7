import GyreCatalog
import Hummingbird
import Logging

extension STACService {
    /// Serves the API on `host:port` until the task is cancelled or the process is signalled.
    /// With port 0 the system picks one; `onListening` gets the base URL once bound (and the
    /// service's links use it).
    public func run(host: String = "127.0.0.1", port: Int = 8080, fixedBaseURL: Bool = false,
                    onListening: @escaping @Sendable (String) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "gyre.server")
        logger.logLevel = .warning
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "gyre"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
                let url = "http://\(shownHost.contains(":") ? "[\(shownHost)]" : shownHost):\(bound)"
                if !fixedBaseURL { self.setBaseURL(url) }
                await onListening(url)
            },
            logger: logger)
        try await app.runService()
    }
}
