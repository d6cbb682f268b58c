// What a session needs to log in and stay up: where, who, how to authenticate, and its timers.

import ISCSIAddress
import NIOCore

/// Settings for one iSCSI session (normal or discovery).
///
/// Defaults follow open-iscsi: 15 s login timeout, a NOP-Out every 5 s that
/// must be answered within 5 s.
public struct ISCSISessionConfiguration: Sendable {
    public var portal: TargetPortal
    /// The target to log in to; nil opens a discovery session.
    public var targetName: String?
    public var initiatorName: String
    public var initiatorAlias: String?
    public var authentication: LoginAuthentication
    public var proposal: OperationalProposal
    public var connectTimeout: TimeAmount
    public var loginTimeout: TimeAmount
    /// nil turns the NOP-Out keepalive off.
    public var keepaliveInterval: TimeAmount?
    public var keepaliveTimeout: TimeAmount
    /// How many login redirections to follow before giving up.
    public var maximumRedirects: Int
    /// The ISID; by default a random one (RFC 7143 §11.12.5, type "random").
    public var isid: UInt64
    /// How long a LUN that owns the session (`ISCSILUN.connect`) tries to log in again after
    /// the connection is lost before it fails; zero turns recovery off. open-iscsi's
    /// `replacement_timeout` (120 s) by default.
    public var recoveryTimeout: TimeAmount
    /// How long a command may go unanswered before it is aborted (ABORT TASK) and fails
    /// with `.timeout`; an ABORT TASK unanswered as long again ends the connection.
    /// nil waits for ever (the keepalive still notices a dead target).
    public var commandTimeout: TimeAmount?
    /// Where the connection leaves from (iSCSI port binding): a local address bound before
    /// connecting and/or an interface bound with SO_BINDTODEVICE; used for the login and
    /// every reconnection. nil lets the kernel choose by its routes.
    public var source: ConnectionSource?

    public init(
        portal: TargetPortal,
        targetName: String?,
        initiatorName: String = ISCSISessionConfiguration.defaultInitiatorName,
        initiatorAlias: String? = nil,
        authentication: LoginAuthentication = .none,
        proposal: OperationalProposal = OperationalProposal(),
        connectTimeout: TimeAmount = .seconds(10),
        loginTimeout: TimeAmount = .seconds(15),
        keepaliveInterval: TimeAmount? = .seconds(5),
        keepaliveTimeout: TimeAmount = .seconds(5),
        maximumRedirects: Int = 4,
        isid: UInt64 = ISCSISessionConfiguration.randomISID(),
        recoveryTimeout: TimeAmount = .seconds(120),
        commandTimeout: TimeAmount? = nil,
        source: ConnectionSource? = nil
    ) {
        self.portal = portal
        self.targetName = targetName
        self.initiatorName = initiatorName
        self.initiatorAlias = initiatorAlias
        self.authentication = authentication
        self.proposal = proposal
        self.connectTimeout = connectTimeout
        self.loginTimeout = loginTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.maximumRedirects = maximumRedirects
        self.isid = isid
        self.recoveryTimeout = recoveryTimeout
        self.commandTimeout = commandTimeout
        self.source = source
    }

    /// The initiator name used when none is configured.
    public static let defaultInitiatorName = "iqn.2026-11.org.vdiskd:initiator"

    /// A random ISID: type 10b (random) in the top two bits, 22 random bits, then a 16-bit qualifier.
    public static func randomISID() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        let random = UInt64.random(in: 0...0x3F_FFFF_FFFF, using: &generator)
        return (0b10 << 46) | random
    }

    /// The login state machine's inputs for one connection of this session.
    func loginConfiguration() -> LoginConfiguration {
        LoginConfiguration(
            initiatorName: initiatorName,
            initiatorAlias: initiatorAlias,
            targetName: targetName,
            isid: isid,
            authentication: authentication,
            proposal: proposal,
            timeout: loginTimeout
        )
    }
}
