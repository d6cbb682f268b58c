// What a test asks an engine to offer at login, in one engine-neutral form; each
// engine maps it onto its own settings and ignores what it cannot offer.

import ISCSI
import ISCSIAddress
import LibISCSI
import NIOCore

struct InitiatorOffer: Sendable {
    /// FirstBurstLength, MaxBurstLength and our MaxRecvDataSegmentLength.
    struct Bursts: Sendable {
        var firstBurstLength: Int
        var maxBurstLength: Int
        var maxRecvDataSegmentLength: Int
    }

    /// nil keeps the engine's default offer (both engines offer Yes).
    var immediateData: Bool?
    /// nil keeps the engine's default offer (both engines offer No).
    var initialR2T: Bool?
    var headerDigest = false
    /// Native only: libiscsi 1.19 cannot negotiate data digests.
    var dataDigest = false
    /// Native only: libiscsi always offers 256 KiB bursts and segments, so with it
    /// the target's lower limits decide.
    var bursts: Bursts?
    var loginTimeout: TimeAmount = .seconds(10)
    /// Native only: the CHAP algorithms offered (nil: the default offer). libiscsi offers MD5
    /// alone. tgt needs `[.md5]` (`TargetKind.chapAlgorithms`).
    var chapAlgorithms: [CHAPAlgorithm]?
    /// The NOP-Out keepalive: sent after `interval` (native: of silence), a lost connection
    /// after `timeout` more without an answer. nil keeps each engine's default.
    var keepalive: (interval: TimeAmount, timeout: TimeAmount)?
    /// Recovery off, as the Paths layer opens a path: a lost connection fails the device
    /// (native: `recoveryTimeout` 0; libiscsi: `autoReconnect` off).
    var failFast = false
    /// Where the connection leaves from (port binding).
    var source: ConnectionSource?

    /// Bursts small enough that sizes of a few hundred KiB cross them.
    static let smallBursts = Bursts(firstBurstLength: 65536, maxBurstLength: 262_144, maxRecvDataSegmentLength: 65536)

    var nativeProposal: OperationalProposal {
        var proposal = OperationalProposal()
        if let immediateData { proposal.immediateData = immediateData }
        if let initialR2T { proposal.initialR2T = initialR2T }
        if headerDigest { proposal.headerDigests = [.crc32c] }
        if dataDigest { proposal.dataDigests = [.crc32c] }
        if let bursts {
            proposal.firstBurstLength = bursts.firstBurstLength
            proposal.maxBurstLength = bursts.maxBurstLength
            proposal.maxRecvDataSegmentLength = bursts.maxRecvDataSegmentLength
        }
        return proposal
    }

    var libiscsiConfiguration: LibISCSIConfiguration {
        var configuration = LibISCSIConfiguration(
            headerDigest: headerDigest ? .crc32c : nil,
            immediateData: immediateData,
            initialR2T: initialR2T,
            loginTimeout: loginTimeout,
            autoReconnect: !failFast,
            source: source
        )
        if let keepalive {
            configuration.nopInterval = keepalive.interval
            configuration.nopTimeout = keepalive.timeout
            // Ticks well inside the timeout, so the loss is seen close to it.
            configuration.tickInterval = .milliseconds(100)
        }
        return configuration
    }
}
