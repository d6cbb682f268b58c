// The three SENSE KEY SPECIFIC bytes (SPC-5 §4.4.2.5): what they mean depends
// on the sense key, so they are decoded against it.

/// The decoded SENSE KEY SPECIFIC field, present only when its SKSV bit is set.
public enum SenseKeySpecific: Sendable, Hashable, CustomStringConvertible {
    /// ILLEGAL REQUEST: which byte (and bit) of the CDB or parameter list was wrong.
    case fieldPointer(inCDB: Bool, byte: UInt16, bit: UInt8?)
    /// RECOVERED ERROR, MEDIUM ERROR, HARDWARE ERROR: how often the device retried.
    case actualRetryCount(UInt16)
    /// NO SENSE, NOT READY: how far a long operation (format, sanitize) has come, in 1/65536.
    case progressIndication(UInt16)
    /// COPY ABORTED: the offending byte in a segment descriptor or the parameter list.
    case segmentPointer(inSegmentDescriptor: Bool, byte: UInt16, bit: UInt8?)
    /// UNIT ATTENTION: some unit attention conditions were lost for lack of room.
    case unitAttentionConditionQueueOverflow(Bool)
    /// Any other sense key: the bytes as they came, SKSV bit removed.
    case raw(byte0: UInt8, byte1: UInt8, byte2: UInt8)

    /// Decodes the three bytes for `senseKey`; nil when SKSV is clear.
    public init?(_ byte0: UInt8, _ byte1: UInt8, _ byte2: UInt8, senseKey: SenseKey) {
        guard byte0 & 0x80 != 0 else { return nil }
        let value = UInt16(byte1) << 8 | UInt16(byte2)
        let bitPointer: UInt8? = byte0 & 0x08 != 0 ? byte0 & 0x07 : nil
        switch senseKey {
        case .illegalRequest:
            self = .fieldPointer(inCDB: byte0 & 0x40 != 0, byte: value, bit: bitPointer)
        case .recoveredError, .mediumError, .hardwareError:
            self = .actualRetryCount(value)
        case .noSense, .notReady:
            self = .progressIndication(value)
        case .copyAborted:
            self = .segmentPointer(inSegmentDescriptor: byte0 & 0x20 != 0, byte: value, bit: bitPointer)
        case .unitAttention:
            self = .unitAttentionConditionQueueOverflow(byte0 & 0x01 != 0)
        case .dataProtect, .blankCheck, .vendorSpecific, .abortedCommand, .reserved, .volumeOverflow,
             .miscompare, .completed:
            self = .raw(byte0: byte0 & 0x7F, byte1: byte1, byte2: byte2)
        }
    }

    /// The three bytes with SKSV set.
    public var bytes: [UInt8] {
        switch self {
        case .fieldPointer(let inCDB, let byte, let bit):
            return [0x80 | (inCDB ? 0x40 : 0) | Self.bitPointerBits(bit), UInt8(byte >> 8), UInt8(byte & 0xFF)]
        case .actualRetryCount(let value), .progressIndication(let value):
            return [0x80, UInt8(value >> 8), UInt8(value & 0xFF)]
        case .segmentPointer(let inSegmentDescriptor, let byte, let bit):
            return [
                0x80 | (inSegmentDescriptor ? 0x20 : 0) | Self.bitPointerBits(bit),
                UInt8(byte >> 8), UInt8(byte & 0xFF),
            ]
        case .unitAttentionConditionQueueOverflow(let overflow):
            return [0x80 | (overflow ? 0x01 : 0), 0, 0]
        case .raw(let byte0, let byte1, let byte2):
            return [0x80 | byte0, byte1, byte2]
        }
    }

    /// BPV plus the 3-bit BIT POINTER; a pointer above 7 cannot be expressed and is left out.
    private static func bitPointerBits(_ bit: UInt8?) -> UInt8 {
        guard let bit, bit < 8 else { return 0 }
        return 0x08 | bit
    }

    public var description: String {
        switch self {
        case .fieldPointer(let inCDB, let byte, let bit):
            let place = inCDB ? "CDB" : "parameter list"
            return bit.map { "\(place) byte \(byte) bit \($0)" } ?? "\(place) byte \(byte)"
        case .actualRetryCount(let count):
            return "\(count) retries"
        case .progressIndication(let value):
            // Whole percent is all a log line needs; integer math avoids Foundation.
            return "progress \(Int(value) * 100 / 65536)%"
        case .segmentPointer(let inSegmentDescriptor, let byte, let bit):
            let place = inSegmentDescriptor ? "segment descriptor" : "parameter list"
            return bit.map { "\(place) byte \(byte) bit \($0)" } ?? "\(place) byte \(byte)"
        case .unitAttentionConditionQueueOverflow(let overflow):
            return overflow ? "unit attention queue overflowed" : "no unit attention overflow"
        case .raw(let byte0, let byte1, let byte2):
            return "sense key specific 0x\(byte0.hexDigits)\(byte1.hexDigits)\(byte2.hexDigits)"
        }
    }
}
