// What we offer in the operational stage of login (RFC 7143 §6.2, §13): our side of
// every negotiated key, with defaults chosen for the daemon's I/O sizes.

/// Our offers for the operational keys of RFC 7143 §13.
///
/// The defaults follow libiscsi where it is known to work with tgt, istgt and LIO
/// (ImmediateData=Yes, InitialR2T=No, 256 KiB segments and first burst,
/// MaxOutstandingR2T=1, ERL 0, no digests), except `maxBurstLength`: it is 1 MiB,
/// the datastore's file-block size and the largest request it issues, so a
/// 1 MiB write needs a single R2T instead of four (with MaxOutstandingR2T=1 those
/// four would run one after another). Offering more would buy nothing for our
/// I/O sizes, and 16 MiB is not even a legal value (the range ends at 2^24−1).
/// Every key is a minimum/AND/OR negotiation, so a target with smaller limits
/// simply answers lower.
public struct OperationalProposal: Sendable, Hashable {
    /// Acceptable header digests, preferred first (HeaderDigest, §13.1).
    public var headerDigests: [NegotiatedDigest] = [.none]
    /// Acceptable data digests, preferred first (DataDigest, §13.1).
    public var dataDigests: [NegotiatedDigest] = [.none]
    /// ImmediateData (§13.11, AND): send write data with the command.
    public var immediateData = true
    /// InitialR2T (§13.10, OR): false lets us send a first burst unsolicited.
    public var initialR2T = false
    /// What we declare we can receive per PDU (§13.12). 256 KiB keeps a 1 MiB read at four Data-In PDUs.
    public var maxRecvDataSegmentLength = 256 * 1024
    /// MaxBurstLength (§13.13, minimum).
    public var maxBurstLength = 1024 * 1024
    /// FirstBurstLength (§13.14, minimum); must not exceed `maxBurstLength`.
    public var firstBurstLength = 256 * 1024
    /// MaxOutstandingR2T (§13.17, minimum).
    public var maxOutstandingR2T = 1
    /// MaxConnections (§13.2, minimum): the engine runs one connection per session.
    public var maxConnections = 1
    /// DefaultTime2Wait (§13.15, maximum), seconds before a reconnect after a drop.
    public var defaultTime2Wait = 2
    /// DefaultTime2Retain (§13.16, minimum): 0 because at ERL 0 we never reassign
    /// tasks, so the target need not keep them after a connection is lost.
    public var defaultTime2Retain = 0
    /// DataPDUInOrder (§13.18, OR).
    public var dataPDUInOrder = true
    /// DataSequenceInOrder (§13.19, OR).
    public var dataSequenceInOrder = true
    /// ErrorRecoveryLevel (§13.20, minimum): 0, session recovery only.
    public var errorRecoveryLevel = 0
    /// iSCSIProtocolLevel (RFC 7144 §2.1) to offer; nil offers nothing, which
    /// RFC 3720-era targets such as istgt 0.4 prefer. When a target offers the
    /// key we answer at most level 1, the level of RFC 7143 itself.
    public var protocolLevel: Int? = nil

    public init() {}

    /// The first problem with these values, or nil when they can be offered.
    func validationError() -> String? {
        let segment = OperationalKey.segmentRange
        if headerDigests.isEmpty { return "HeaderDigest needs at least one acceptable value" }
        if dataDigests.isEmpty { return "DataDigest needs at least one acceptable value" }
        if !segment.contains(UInt64(clamping: maxRecvDataSegmentLength)) {
            return "MaxRecvDataSegmentLength=\(maxRecvDataSegmentLength) is outside \(segment)"
        }
        if !segment.contains(UInt64(clamping: maxBurstLength)) {
            return "MaxBurstLength=\(maxBurstLength) is outside \(segment)"
        }
        if !segment.contains(UInt64(clamping: firstBurstLength)) {
            return "FirstBurstLength=\(firstBurstLength) is outside \(segment)"
        }
        if firstBurstLength > maxBurstLength {
            return "FirstBurstLength=\(firstBurstLength) exceeds MaxBurstLength=\(maxBurstLength)"
        }
        if !(1...65535).contains(maxOutstandingR2T) { return "MaxOutstandingR2T=\(maxOutstandingR2T) is outside 1...65535" }
        if !(1...65535).contains(maxConnections) { return "MaxConnections=\(maxConnections) is outside 1...65535" }
        if !(0...3600).contains(defaultTime2Wait) { return "DefaultTime2Wait=\(defaultTime2Wait) is outside 0...3600" }
        if !(0...3600).contains(defaultTime2Retain) { return "DefaultTime2Retain=\(defaultTime2Retain) is outside 0...3600" }
        if !(0...2).contains(errorRecoveryLevel) { return "ErrorRecoveryLevel=\(errorRecoveryLevel) is outside 0...2" }
        if let level = protocolLevel, !(0...31).contains(level) { return "iSCSIProtocolLevel=\(level) is outside 0...31" }
        return nil
    }
}
