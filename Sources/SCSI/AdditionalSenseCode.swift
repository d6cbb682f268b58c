// The ASC/ASCQ pair of sense data: the precise reason behind a sense key, with
// its SPC-5 Annex F name (see AdditionalSenseCode+Assignments.swift).

/// An ADDITIONAL SENSE CODE and its QUALIFIER.
public struct AdditionalSenseCode: Sendable, Hashable, CustomStringConvertible {
    public var asc: UInt8
    public var ascq: UInt8

    public init(asc: UInt8, ascq: UInt8) {
        self.asc = asc
        self.ascq = ascq
    }

    /// The pair as one number, ASC in the high byte; the table's key.
    public var combined: UInt16 { UInt16(asc) << 8 | UInt16(ascq) }

    /// The Annex F name, or a description of the range an unassigned code falls in.
    public var name: String {
        if let known = AdditionalSenseCode.namesByCode[combined] { return known }
        switch (asc, ascq) {
        case (0x40, 0x80...):
            return "DIAGNOSTIC FAILURE ON COMPONENT 0x\(ascq.hexDigits)"
        case (0x4D, _):
            return "TAGGED OVERLAPPED COMMANDS (TASK TAG 0x\(ascq.hexDigits))"
        case (0x70, _):
            return "DECOMPRESSION EXCEPTION SHORT ALGORITHM ID OF 0x\(ascq.hexDigits)"
        case (0x80..., _):
            return "VENDOR SPECIFIC ADDITIONAL SENSE CODE"
        case (_, 0x80...):
            return "VENDOR SPECIFIC QUALIFIER OF ASC 0x\(asc.hexDigits)"
        default:
            return "UNKNOWN ADDITIONAL SENSE CODE"
        }
    }

    /// Whether Annex F (as far as this table carries it) assigns this exact pair.
    public var isKnown: Bool { AdditionalSenseCode.namesByCode[combined] != nil }

    /// e.g. "LOGICAL BLOCK ADDRESS OUT OF RANGE (ASC 0x21, ASCQ 0x00)".
    public var description: String {
        "\(name) (ASC 0x\(asc.hexDigits), ASCQ 0x\(ascq.hexDigits))"
    }

    static let namesByCode: [UInt16: String] = Dictionary(
        assignments.map { (UInt16($0.asc) << 8 | UInt16($0.ascq), $0.name) },
        // A duplicate would be a typo in the table; the test suite rejects it, and
        // at run time the first entry wins rather than trapping.
        uniquingKeysWith: { first, _ in first }
    )

    /// Every pair the table names, in table order.
    public static var allKnown: [AdditionalSenseCode] {
        assignments.map { AdditionalSenseCode(asc: $0.asc, ascq: $0.ascq) }
    }
}
