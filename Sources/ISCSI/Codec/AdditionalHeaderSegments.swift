// The Additional Header Segments a SCSI Command may carry (RFC 7143 §11.2.2, §11.3.x): Extended CDB and Bidirectional Read Length.

import NIOCore

/// What the AHS area of one PDU held, after its structure was checked.
struct AdditionalHeaderSegments {
    /// AHSType codes (§11.2.2.2); the top two bits of the type byte are reserved.
    enum Kind: UInt8 {
        case extendedCDB = 1
        case bidirectionalReadLength = 2
    }

    /// CDB bytes 16 and on (the AHS's reserved byte already skipped).
    var extendedCDB: ByteBuffer?
    /// Bidirectional Read Expected Data Transfer Length.
    var bidirectionalReadDataLength: UInt32?

    init(extendedCDB: ByteBuffer? = nil, bidirectionalReadDataLength: UInt32? = nil) {
        self.extendedCDB = extendedCDB
        self.bidirectionalReadDataLength = bidirectionalReadDataLength
    }

    /// AHSLength of the bidirectional AHS: the reserved byte plus the 4-byte length (§11.2.2.4).
    static let bidirectionalAHSLength: UInt16 = 5

    /// Wire bytes an Extended CDB AHS takes for a CDB of `cdbLength` bytes (0 when the BHS holds it all).
    static func extendedCDBWireLength(cdbLength: Int) -> Int {
        guard cdbLength > 16 else { return 0 }
        // AHSLength(2) + AHSType(1) + reserved(1) + the bytes past 16, padded to a word.
        let length = 4 + (cdbLength - 16)
        return length + ISCSIFraming.padding(for: length)
    }

    /// Wire bytes of the Bidirectional Read Length AHS.
    static let bidirectionalWireLength = 8
}
