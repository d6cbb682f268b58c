// The PC field of MODE SENSE (SPC-5 table 153): which set of values to report.

public enum ModePageControl: UInt8, Sendable, Hashable, CaseIterable {
    case current = 0
    /// A mask of the fields MODE SELECT may change.
    case changeable = 1
    case `default` = 2
    case saved = 3
}
