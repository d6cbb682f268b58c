// MODE SENSE(10) (SPC-5 §6.14) and REPORT SUPPORTED OPERATION CODES (SPC-5 §6.36),
// the commands the initiator probes a target's features with.

extension CDB {
    /// The MODE SENSE page code asking for every page.
    public static let allModePages: UInt8 = 0x3F

    /// MODE SENSE(10). `disableBlockDescriptors` (DBD) leaves block descriptors
    /// out; `longLBAAccepted` (LLBAA) allows 16-byte ones.
    /// - Precondition: `page` fits the 6-bit PAGE CODE field.
    public static func modeSense10(
        page: UInt8,
        subpage: UInt8 = 0,
        pageControl: ModePageControl = .current,
        disableBlockDescriptors: Bool = true,
        longLBAAccepted: Bool = false,
        allocationLength: UInt16 = 4096
    ) -> [UInt8] {
        precondition(page <= 0x3F, "MODE SENSE page code 0x\(page.hexDigits) does not fit in 6 bits")
        var cdb = blank(.modeSense10, length: 10)
        cdb[1] = (longLBAAccepted ? 0x10 : 0) | (disableBlockDescriptors ? 0x08 : 0)
        cdb[2] = pageControl.rawValue << 6 | page
        cdb[3] = subpage
        cdb.storeBigEndian(allocationLength, at: 7)
        return cdb
    }

    /// REPORT SUPPORTED OPERATION CODES for all commands (REPORTING OPTIONS 000b).
    /// With `includeTimeouts` (RCTD) each descriptor carries command timeouts.
    public static func reportSupportedOperationCodes(
        includeTimeouts: Bool = false,
        allocationLength: UInt32 = 8192
    ) -> [UInt8] {
        reportSupportedOperationCodes(
            reportingOptions: 0,
            operationCode: 0,
            serviceAction: 0,
            includeTimeouts: includeTimeouts,
            allocationLength: allocationLength
        )
    }

    /// REPORT SUPPORTED OPERATION CODES for one command: by opcode alone
    /// (REPORTING OPTIONS 001b) or, with `serviceAction`, by opcode and service
    /// action (010b).
    public static func reportSupportedOperationCode(
        _ operationCode: UInt8,
        serviceAction: UInt16? = nil,
        includeTimeouts: Bool = false,
        allocationLength: UInt32 = 512
    ) -> [UInt8] {
        reportSupportedOperationCodes(
            reportingOptions: serviceAction == nil ? 0b001 : 0b010,
            operationCode: operationCode,
            serviceAction: serviceAction ?? 0,
            includeTimeouts: includeTimeouts,
            allocationLength: allocationLength
        )
    }

    private static func reportSupportedOperationCodes(
        reportingOptions: UInt8,
        operationCode: UInt8,
        serviceAction: UInt16,
        includeTimeouts: Bool,
        allocationLength: UInt32
    ) -> [UInt8] {
        var cdb = blank(.maintenanceIn, length: 12)
        cdb[1] = 0x0C
        cdb[2] = (includeTimeouts ? 0x80 : 0) | reportingOptions
        cdb[3] = operationCode
        cdb.storeBigEndian(serviceAction, at: 4)
        cdb.storeBigEndian(allocationLength, at: 6)
        return cdb
    }
}
