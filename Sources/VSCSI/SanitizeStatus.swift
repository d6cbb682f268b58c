// Where a logical unit stands with SANITIZE (SBC-4 §4.11): idle, running with a
// progress indication, or failed until EXIT FAILURE MODE or a successful sanitize.

enum SanitizeStatus: Sendable, Equatable {
    case idle
    /// PROGRESS INDICATION: done so far, in 1/65536ths.
    case running(progress: UInt16)
    case failed
}
