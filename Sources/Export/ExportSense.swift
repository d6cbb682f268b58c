// Fixed-format sense data (SPC-5 §4.4.3) for the few answers the transport gives itself,
// before or instead of a logical unit.

import SCSI

enum ExportSense {
    /// CHECK CONDITION sense with `key`, `code`, and optionally a CDB field pointer (SKSV, C/D set).
    static func fixed(_ key: SenseKey, _ code: AdditionalSenseCode, cdbByte: Int? = nil) -> [UInt8] {
        var sense: [UInt8] = [0x70, 0, key.rawValue, 0, 0, 0, 0, 10, 0, 0, 0, 0, code.asc, code.ascq, 0, 0, 0, 0]
        if let cdbByte {
            sense[15] = 0xC0
            sense[16] = UInt8(truncatingIfNeeded: cdbByte >> 8)
            sense[17] = UInt8(truncatingIfNeeded: cdbByte)
        }
        return sense
    }
}
