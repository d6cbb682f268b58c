// How an export server runs: its targets, the portals it listens on, the limits it
// negotiates and the keepalive that drops dead clients.

import ISCSI
import NIOCore

/// Everything an `ExportServer` needs besides its logical units.
public struct ExportConfiguration: Sendable {
    /// Addresses to listen on (loopback in tests), each "host" and port.
    public var portals: [ExportPortal]
    public var limits: TargetOperationalLimits
    /// CmdSN window per session.
    public var commandWindow: UInt32
    /// NOP-In after this much silence; nil turns pings off.
    public var pingInterval: TimeAmount?
    /// A ping unanswered this long drops the connection.
    public var pingTimeout: TimeAmount
    /// Login must finish within this, or the connection is dropped.
    public var loginTimeout: TimeAmount
    /// How long shutdown waits for commands in flight before closing connections.
    public var drainTimeout: TimeAmount
    /// Largest EDTL a command may announce.
    public var maximumTransferLength: Int
    public var maximumSessions: Int

    public init(
        portals: [ExportPortal],
        limits: TargetOperationalLimits = TargetOperationalLimits(),
        commandWindow: UInt32 = 64,
        pingInterval: TimeAmount? = .seconds(15),
        pingTimeout: TimeAmount = .seconds(10),
        loginTimeout: TimeAmount = .seconds(30),
        drainTimeout: TimeAmount = .seconds(10),
        maximumTransferLength: Int = 64 << 20,
        maximumSessions: Int = 1024
    ) {
        self.portals = portals
        self.limits = limits
        self.commandWindow = commandWindow
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.loginTimeout = loginTimeout
        self.drainTimeout = drainTimeout
        self.maximumTransferLength = maximumTransferLength
        self.maximumSessions = maximumSessions
    }
}
