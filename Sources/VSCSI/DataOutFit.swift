// What a transport does with a command whose Data-Out and CDB disagree, decided
// before the logical unit runs it (RFC 7143 §11.4.5.1, SBC-4 §5.3).

/// The outcome of `SCSICommandRequest.fittingDataOut(blockSize:)`.
public enum DataOutFit: Sendable {
    /// Run the request as it came.
    case unchanged
    /// Run `request` instead: the CDB rewritten to the whole blocks that arrived and the
    /// Data-Out cut to them. The residual counts from `wantedBytes`, what the CDB asked for.
    case fitted(SCSICommandRequest, wantedBytes: Int)
    /// Do not run it; answer with `response` at once.
    case refused(SCSICommandResponse)
}
