// How an export server runs: its targets, the portals it listens on, the limits it
// negotiates and the keepalive that drops dead clients.

import ISCSI
import ISCSIAddress
import NIOCore

/// Everything an `ExportServer` needs besides its logical units.
public struct ExportConfiguration: Sendable {
    /// Addresses to listen on (loopback in tests), each "host" and port.
    public var portals: [ISCSIEndpoint]
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
    /// Write data one connection may buffer at once, counted as the most each write's
    /// buffer can grow to (its EDTL rounded up to a power of two); past it new writes get
    /// TASK SET FULL. A write that finds nothing charged passes whatever its size, so a
    /// budget below `maximumTransferLength` slows the largest writes but never refuses them for ever.
    public var connectionWriteBudget: Int
    /// Write data the whole export may buffer at once, counted the same way; past it new
    /// writes get BUSY (with the same exception for a write that finds nothing charged).
    public var exportWriteBudget: Int
    /// A write whose Data-Out stops arriving for this long fails with ABORTED COMMAND,
    /// INITIATOR RESPONSE TIMEOUT and its buffer is freed; nil waits for ever.
    public var dataPhaseTimeout: TimeAmount?
    /// Failed logins (authentication failures) one source address may have within
    /// `failedLoginWindow`; past them its logins are refused with 0x0301 until the window ends.
    public var maximumFailedLogins: Int
    public var failedLoginWindow: TimeAmount
    /// The authentication discovery sessions need.
    public var discovery: DiscoveryAccess
    /// Discovery sessions open at once, apart from `maximumSessions`; past it 0x0302.
    public var maximumDiscoverySessions: Int
    /// A discovery session that sends no request for this long is closed; nil: never.
    public var discoveryIdleTimeout: TimeAmount?
    /// Connections that have not logged in yet, across the export; one past it is closed at once.
    public var maximumPendingLogins: Int
    /// Connections not logged in yet from one source address; one past it is closed at once.
    public var maximumPendingLoginsPerSource: Int
    /// Sessions (normal and discovery) one initiator name may hold; past it 0x0302.
    public var maximumSessionsPerInitiator: Int
    /// Descriptors below RLIMIT_NOFILE that client connections must leave free for the rest
    /// of the process (its target sessions, control socket, files); a connection accepted
    /// with fewer free is closed at once. 0 turns the check off.
    public var descriptorReserve: Int

    public init(
        portals: [ISCSIEndpoint],
        limits: TargetOperationalLimits = TargetOperationalLimits(),
        commandWindow: UInt32 = 64,
        pingInterval: TimeAmount? = .seconds(15),
        pingTimeout: TimeAmount = .seconds(10),
        loginTimeout: TimeAmount = .seconds(15),
        drainTimeout: TimeAmount = .seconds(10),
        maximumTransferLength: Int = 64 << 20,
        maximumSessions: Int = 1024,
        connectionWriteBudget: Int = 128 << 20,
        exportWriteBudget: Int = 512 << 20,
        dataPhaseTimeout: TimeAmount? = .seconds(20),
        maximumFailedLogins: Int = 5,
        failedLoginWindow: TimeAmount = .seconds(60),
        discovery: DiscoveryAccess = .automatic,
        maximumDiscoverySessions: Int = 16,
        discoveryIdleTimeout: TimeAmount? = .seconds(30),
        maximumPendingLogins: Int = 64,
        maximumPendingLoginsPerSource: Int = 16,
        maximumSessionsPerInitiator: Int = 32,
        descriptorReserve: Int = 64
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
        self.connectionWriteBudget = max(0, connectionWriteBudget)
        self.exportWriteBudget = max(0, exportWriteBudget)
        self.dataPhaseTimeout = dataPhaseTimeout
        self.maximumFailedLogins = max(1, maximumFailedLogins)
        self.failedLoginWindow = failedLoginWindow
        self.discovery = discovery
        self.maximumDiscoverySessions = max(1, maximumDiscoverySessions)
        self.discoveryIdleTimeout = discoveryIdleTimeout
        self.maximumPendingLogins = max(1, maximumPendingLogins)
        self.maximumPendingLoginsPerSource = max(1, maximumPendingLoginsPerSource)
        self.maximumSessionsPerInitiator = max(1, maximumSessionsPerInitiator)
        self.descriptorReserve = max(0, descriptorReserve)
    }
}
