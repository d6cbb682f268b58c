// REPORT SUPPORTED OPERATION CODES (SPC-5 §6.36): how the initiator learns which
// optional commands (COMPARE AND WRITE, WRITE SAME, UNMAP) a target really has.

extension CDB {
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
