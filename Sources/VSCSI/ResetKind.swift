// The resets a transport's task management can ask of a logical unit (SAM-5 §7).

/// Which task management function caused a reset.
public enum ResetKind: Sendable, Hashable, CaseIterable {
    /// LOGICAL UNIT RESET.
    case logicalUnit
    /// TARGET WARM RESET.
    case targetWarm
    /// TARGET COLD RESET (also drops the transport's connections, which is its business).
    case targetCold
}
