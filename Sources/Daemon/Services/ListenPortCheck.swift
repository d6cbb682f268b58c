// Checks at start that every port the config will listen on is free, before anything else starts.

import ISCSIAddress
import NIOCore
import NIOPosix

/// Binds each endpoint once and lets it go. The export front end binds for real later; this check
/// exists so a port in use is refused up front with the key that named it, before any datastore is
/// touched, rather than half-way through start-up.
public enum ListenPortCheck {
    public static func check(_ config: DaemonConfig, group: any EventLoopGroup) async -> [ConfigError] {
        var wanted: [(key: String, line: Int?, endpoint: ISCSIEndpoint)] = []
        for (offset, export) in config.exports.enumerated() {
            let line = config.keyLines.line(section: "export", index: offset + 1, key: "listen")
            wanted += export.listen.map { ("export[\(offset + 1)].listen", line, $0) }
        }
        if let metrics = config.daemon.metricsListen {
            wanted.append(("daemon.metrics_listen", config.keyLines.line(section: "daemon", index: nil, key: "metrics_listen"), metrics))
        }
        var errors: [ConfigError] = []
        for (key, line, endpoint) in wanted {
            do {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: endpoint.host, port: endpoint.port)
                    .get()
                try await channel.close()
            } catch {
                errors.append(ConfigError(file: config.path, line: line, key: key, message: "cannot listen on \(endpoint): \(error); stop whatever holds the port or choose another"))
            }
        }
        return errors
    }
}
