// What a test asks an engine to offer at login, in one engine-neutral form; each
// engine maps it onto its own settings and ignores what it cannot offer.

import ISCSI
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
        LibISCSIConfiguration(
            headerDigest: headerDigest ? .crc32c : nil,
            immediateData: immediateData,
            initialR2T: initialR2T,
            loginTimeout: loginTimeout
        )
    }
}
