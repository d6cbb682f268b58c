// The `[daemon]` section: how the process itself runs.

import Control
import ISCSIAddress
import Logging

/// Process-wide settings from `[daemon]`.
public struct DaemonSettings: Sendable, Hashable {
    public var logLevel: Logger.Level = .info
    public var controlSocket: String = ControlSocket.defaultPath
    /// The group the socket file belongs to: its members may connect and read. Nil: the daemon's own group.
    public var socketGroup: String? = nil
    /// The group whose members may call mutating control methods; root always may. Nil: root only.
    public var controlGroup: String? = nil
    /// The secrets file CHAP secrets are looked up in; nil when no section uses CHAP.
    public var secretsFile: String? = nil
    /// `host:port` of the Prometheus listener on loopback; nil keeps it off (the default).
    public var metricsListen: ISCSIEndpoint? = nil
    /// Where the daemon keeps what must outlive it: the live changes made through the control
    /// socket (`LiveChangeRecord`). systemd's StateDirectory=vdiskd makes the default.
    public var stateDirectory: String = "/var/lib/vdiskd"
    /// How long SIGTERM may take before the daemon gives up waiting and exits.
    public var shutdownTimeoutSeconds: Int = 30

    public init() {}
}
