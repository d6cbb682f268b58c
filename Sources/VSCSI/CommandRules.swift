// Per-command rules the dispatcher applies before a handler runs.

/// What the generic admission steps must check for one command.
struct CommandRules: OptionSet, Sendable, Hashable {
    let rawValue: UInt8

    /// Reported without first reporting a pending unit attention (INQUIRY, REPORT LUNS, REQUEST SENSE).
    static let ignoresUnitAttention = CommandRules(rawValue: 1 << 0)
    /// Runs while a SANITIZE is in progress.
    static let allowedDuringSanitize = CommandRules(rawValue: 1 << 1)
    /// Accesses the medium: NOT READY while the unit is stopped or failed a sanitize.
    static let needsMedium = CommandRules(rawValue: 1 << 2)
    /// Changes the medium: DATA PROTECT when the unit is write-protected.
    static let modifiesMedium = CommandRules(rawValue: 1 << 3)
    /// Offered only by a thin logical unit.
    static let thinOnly = CommandRules(rawValue: 1 << 4)
}
