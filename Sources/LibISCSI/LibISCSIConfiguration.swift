// Settings of one libiscsi-backed device: identity, credentials, digests,
// timeouts and keepalive. Defaults follow open-iscsi and QEMU (docs/LIBISCSI.md).

import ISCSIAddress
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How a `LibISCSIDevice` logs in and watches its connection.
public struct LibISCSIConfiguration: Sendable, Hashable {
    /// The HeaderDigest key libiscsi offers at login (RFC 7143 §13.1).
    /// libiscsi 1.19 has no DataDigest support, so only header digests can be asked for.
    public enum HeaderDigest: Sendable, Hashable {
        case none
        case crc32c
        /// Offer "CRC32C,None": the target chooses, preferring CRC32C.
        case crc32cOrNone
        /// Offer "None,CRC32C": the target chooses, preferring none.
        case noneOrCRC32C

        /// The offer a URL's `?header_digest=` names.
        public init(_ offer: ISCSITargetURL.HeaderDigestOffer) {
            switch offer {
            case .none: self = .none
            case .crc32c: self = .crc32c
            case .crc32cOrNone: self = .crc32cOrNone
            case .noneOrCRC32C: self = .noneOrCRC32C
            }
        }
    }

    /// CHAP credentials (RFC 7143 §12.1.3). With `targetUser`/`targetSecret` the
    /// target must prove itself too (mutual CHAP).
    public struct CHAP: Sendable, Hashable, CustomStringConvertible {
        public var user: String
        public var secret: String
        public var targetUser: String?
        public var targetSecret: String?

        public init(user: String, secret: String, targetUser: String? = nil, targetSecret: String? = nil) {
            self.user = user
            self.secret = secret
            self.targetUser = targetUser
            self.targetSecret = targetSecret
        }

        public var isMutual: Bool { targetUser != nil && targetSecret != nil }

        /// Names only: secrets never reach a log line.
        public var description: String {
            isMutual ? "mutual CHAP as \(user), target \(targetUser ?? "")" : "CHAP as \(user)"
        }
    }

    /// Our iSCSI name (InitiatorName); targets with ACLs check it.
    public var initiatorName: String
    /// CHAP from here wins over credentials in the URL.
    public var chap: CHAP?
    /// Nil leaves the choice to the URL's `header_digest`, else none.
    public var headerDigest: HeaderDigest?
    /// The ImmediateData key we offer (RFC 7143 §13.11); nil keeps libiscsi's Yes.
    /// The target's answer is AND-ed with it, and libiscsi does not tell us the result.
    public var immediateData: Bool?
    /// The InitialR2T key we offer (RFC 7143 §13.10); nil keeps libiscsi's No.
    /// The target's answer is OR-ed with it.
    public var initialR2T: Bool?
    /// TCP connect plus login plus the first TEST UNIT READY must finish within this.
    public var loginTimeout: TimeAmount
    /// A command not completed within this fails with `.timeout`, also while
    /// libiscsi is reconnecting (when its own timeouts cannot fire). Whole seconds
    /// are handed to libiscsi; the engine enforces the exact value itself.
    public var commandTimeout: TimeAmount
    /// A NOP-Out is sent this often while logged in; nil turns keepalive off.
    public var nopInterval: TimeAmount?
    /// A NOP-Out still unanswered after this long means the connection is lost: reconnected
    /// with `autoReconnect`, else every command in flight fails with `.transport`. Checked on
    /// every tick, so a silent loss (no FIN, no RST) is seen within about
    /// `nopInterval + nopTimeout + tickInterval`.
    public var nopTimeout: TimeAmount
    /// How many failed reconnect attempts libiscsi makes before giving up and
    /// failing every queued command; nil retries forever (libiscsi's default).
    public var reconnectMaximumRetries: Int?
    /// true (libiscsi's default): a lost connection is logged in again inside libiscsi and the
    /// commands in flight are re-sent, so callers see a stall rather than an error. false
    /// fails fast: a lost connection (keepalive timeout, FIN, RST, socket error) fails every
    /// command in flight and every later one at once with `.transport`, and the device stays
    /// failed until it is closed; for a layer that retries on another path and reopens.
    public var autoReconnect: Bool
    /// Where the connection leaves from. libiscsi binds an interface only (SO_BINDTODEVICE,
    /// `iscsi_set_bind_interfaces`); a source address is refused at connect, since libiscsi
    /// has no way to bind one.
    public var source: ConnectionSource?
    /// How often the engine calls `iscsi_service(ctx, 0)` so libiscsi's timers
    /// run and our deadlines are checked. Also bounds wake-ups while idle.
    public var tickInterval: TimeAmount
    /// libiscsi's own debug log level (1 errors ... 10 everything), written to
    /// stderr; nil reads `VDISK_LIBISCSI_DEBUG` from the environment, else off.
    public var libiscsiLogLevel: Int?

    public init(
        initiatorName: String = "iqn.2026-01.org.vdiskd:libiscsi",
        chap: CHAP? = nil,
        headerDigest: HeaderDigest? = nil,
        immediateData: Bool? = nil,
        initialR2T: Bool? = nil,
        loginTimeout: TimeAmount = .seconds(15),
        commandTimeout: TimeAmount = .seconds(30),
        nopInterval: TimeAmount? = .seconds(5),
        nopTimeout: TimeAmount = .seconds(10),
        reconnectMaximumRetries: Int? = nil,
        tickInterval: TimeAmount = .milliseconds(250),
        libiscsiLogLevel: Int? = nil,
        autoReconnect: Bool = true,
        source: ConnectionSource? = nil
    ) {
        precondition(nopTimeout > .zero, "a NOP-Out must be given some time to be answered")
        precondition(tickInterval > .zero, "the service tick must be positive")
        self.initiatorName = initiatorName
        self.chap = chap
        self.headerDigest = headerDigest
        self.immediateData = immediateData
        self.initialR2T = initialR2T
        self.loginTimeout = loginTimeout
        self.commandTimeout = commandTimeout
        self.nopInterval = nopInterval
        self.nopTimeout = nopTimeout
        self.autoReconnect = autoReconnect
        self.source = source
        self.reconnectMaximumRetries = reconnectMaximumRetries
        self.tickInterval = tickInterval
        self.libiscsiLogLevel = libiscsiLogLevel ?? getenv("VDISK_LIBISCSI_DEBUG").flatMap { Int(String(cString: $0)) }
    }
}
