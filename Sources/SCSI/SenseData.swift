// Sense data returned with CHECK CONDITION, in either the fixed or the descriptor
// format (SPC-5 §4.4), as one value; parsing and building live in extensions.

/// What a device server reported about a failed (or partly failed) command.
///
/// The same value can be carried in either format. Fixed format holds only a
/// 32-bit INFORMATION and COMMAND-SPECIFIC INFORMATION field; the descriptor
/// format holds 64 bits and any number of further descriptors.
public struct SenseData: Sendable, Hashable, CustomStringConvertible {
    public enum Format: Sendable, Hashable {
        /// Response codes 0x70 (current) and 0x71 (deferred).
        case fixed
        /// Response codes 0x72 (current) and 0x73 (deferred).
        case descriptor
    }

    public var format: Format
    /// A deferred error belongs to an earlier command that had already reported GOOD.
    public var isDeferred: Bool
    public var senseKey: SenseKey
    public var additionalSenseCode: AdditionalSenseCode
    /// The INFORMATION field (fixed format with VALID set) or descriptor; for
    /// COMPARE AND WRITE, the offset of the first miscompared byte.
    public var information: UInt64?
    /// COMMAND-SPECIFIC INFORMATION; in fixed format a field of zero reads as nil.
    public var commandSpecificInformation: UInt64?
    public var senseKeySpecific: SenseKeySpecific?
    /// FIELD REPLACEABLE UNIT CODE; zero ("none") reads as nil.
    public var fieldReplaceableUnitCode: UInt8?
    public var filemark: Bool
    public var endOfMedium: Bool
    /// ILI: the requested length did not match the logical block length.
    public var incorrectLengthIndicator: Bool
    /// SDAT_OVFL: the device had more sense data than fit.
    public var senseDataOverflow: Bool
    /// Descriptors of types this module does not decode (descriptor format only).
    public var otherDescriptors: [SenseDescriptor]

    public init(
        format: Format = .fixed,
        isDeferred: Bool = false,
        senseKey: SenseKey,
        additionalSenseCode: AdditionalSenseCode,
        information: UInt64? = nil,
        commandSpecificInformation: UInt64? = nil,
        senseKeySpecific: SenseKeySpecific? = nil,
        fieldReplaceableUnitCode: UInt8? = nil,
        filemark: Bool = false,
        endOfMedium: Bool = false,
        incorrectLengthIndicator: Bool = false,
        senseDataOverflow: Bool = false,
        otherDescriptors: [SenseDescriptor] = []
    ) {
        self.format = format
        self.isDeferred = isDeferred
        self.senseKey = senseKey
        self.additionalSenseCode = additionalSenseCode
        self.information = information
        self.commandSpecificInformation = commandSpecificInformation
        self.senseKeySpecific = senseKeySpecific
        self.fieldReplaceableUnitCode = fieldReplaceableUnitCode
        self.filemark = filemark
        self.endOfMedium = endOfMedium
        self.incorrectLengthIndicator = incorrectLengthIndicator
        self.senseDataOverflow = senseDataOverflow
        self.otherDescriptors = otherDescriptors
    }

    /// For a MISCOMPARE from COMPARE AND WRITE: the offset of the first differing byte.
    public var miscompareOffset: UInt64? {
        senseKey == .miscompare ? information : nil
    }

    /// e.g. "ILLEGAL REQUEST: LOGICAL BLOCK ADDRESS OUT OF RANGE (ASC 0x21, ASCQ 0x00)".
    public var description: String {
        let text = "\(senseKey.name): \(additionalSenseCode)"
        return isDeferred ? "deferred \(text)" : text
    }
}
