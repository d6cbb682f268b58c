// Names of the commands that hide behind a shared opcode and a service action,
// so an error about READ CAPACITY(16) does not read "SERVICE ACTION IN(16)".

extension OperationCode {
    /// Whether the CDB's byte 1 (bits 4-0) carries a service action that picks the command.
    public var hasServiceAction: Bool {
        switch self {
        case .persistentReserveIn, .persistentReserveOut, .serviceActionIn16, .serviceActionOut16,
             .serviceActionIn12, .serviceActionOut12, .maintenanceIn, .maintenanceOut,
             .thirdPartyCopyIn, .thirdPartyCopyOut, .serviceActionBidirectional:
            true
        case .testUnitReady, .requestSense, .formatUnit, .reassignBlocks, .read6, .write6, .inquiry,
             .modeSelect6, .reserve6, .release6, .modeSense6, .startStopUnit, .receiveDiagnosticResults,
             .sendDiagnostic, .preventAllowMediumRemoval, .readCapacity10, .read10, .write10,
             .writeAndVerify10, .verify10, .preFetch10, .synchronizeCache10, .readDefectData10,
             .writeBuffer, .readBuffer10, .readLong10, .writeLong10, .writeSame10, .unmap, .sanitize,
             .logSelect, .logSense, .modeSelect10, .reserve10, .release10, .modeSense10,
             .ataPassThrough16, .accessControlIn, .accessControlOut, .read16, .compareAndWrite,
             .write16, .orWrite16, .readAttribute, .writeAttribute, .writeAndVerify16, .verify16,
             .preFetch16, .synchronizeCache16, .writeSame16, .writeStream16, .readBuffer16,
             .writeAtomic16, .reportLUNs, .ataPassThrough12, .securityProtocolIn, .read12, .write12,
             .writeAndVerify12, .verify12, .securityProtocolOut, .readDefectData12:
            false
        case .variableLength:
            // Its service action is two bytes at offset 8, not in byte 1.
            false
        }
    }

    /// The full command name, e.g. "READ CAPACITY(16)" for SERVICE ACTION IN(16) / 0x10.
    /// Unknown service actions fall back to the opcode's name with the action in hex.
    public func name(serviceAction: UInt16) -> String {
        if let known = commandName(serviceAction: serviceAction) { return known }
        let digits = serviceAction <= 0xFF ? UInt8(serviceAction).hexDigits : serviceAction.hexDigits
        return "\(name) (service action 0x\(digits))"
    }

    private func commandName(serviceAction: UInt16) -> String? {
        switch (self, serviceAction) {
        case (.persistentReserveIn, 0x00): "PERSISTENT RESERVE IN (READ KEYS)"
        case (.persistentReserveIn, 0x01): "PERSISTENT RESERVE IN (READ RESERVATION)"
        case (.persistentReserveIn, 0x02): "PERSISTENT RESERVE IN (REPORT CAPABILITIES)"
        case (.persistentReserveIn, 0x03): "PERSISTENT RESERVE IN (READ FULL STATUS)"
        case (.persistentReserveOut, 0x00): "PERSISTENT RESERVE OUT (REGISTER)"
        case (.persistentReserveOut, 0x01): "PERSISTENT RESERVE OUT (RESERVE)"
        case (.persistentReserveOut, 0x02): "PERSISTENT RESERVE OUT (RELEASE)"
        case (.persistentReserveOut, 0x03): "PERSISTENT RESERVE OUT (CLEAR)"
        case (.persistentReserveOut, 0x04): "PERSISTENT RESERVE OUT (PREEMPT)"
        case (.persistentReserveOut, 0x05): "PERSISTENT RESERVE OUT (PREEMPT AND ABORT)"
        case (.persistentReserveOut, 0x06): "PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)"
        case (.persistentReserveOut, 0x07): "PERSISTENT RESERVE OUT (REGISTER AND MOVE)"
        case (.serviceActionIn16, 0x10): "READ CAPACITY(16)"
        case (.serviceActionIn16, 0x11): "READ LONG(16)"
        case (.serviceActionIn16, 0x12): "GET LBA STATUS"
        case (.serviceActionIn16, 0x13): "REPORT REFERRALS"
        case (.serviceActionIn16, 0x16): "GET STREAM STATUS"
        case (.serviceActionOut16, 0x11): "WRITE LONG(16)"
        case (.maintenanceIn, 0x05): "REPORT IDENTIFYING INFORMATION"
        case (.maintenanceIn, 0x0A): "REPORT TARGET PORT GROUPS"
        case (.maintenanceIn, 0x0B): "REPORT ALIASES"
        case (.maintenanceIn, 0x0C): "REPORT SUPPORTED OPERATION CODES"
        case (.maintenanceIn, 0x0D): "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS"
        case (.maintenanceIn, 0x0E): "REPORT PRIORITY"
        case (.maintenanceIn, 0x0F): "REPORT TIMESTAMP"
        case (.maintenanceOut, 0x06): "SET IDENTIFYING INFORMATION"
        case (.maintenanceOut, 0x0A): "SET TARGET PORT GROUPS"
        case (.maintenanceOut, 0x0B): "CHANGE ALIASES"
        case (.maintenanceOut, 0x0E): "SET PRIORITY"
        case (.maintenanceOut, 0x0F): "SET TIMESTAMP"
        case (.thirdPartyCopyOut, 0x00): "EXTENDED COPY(LID1)"
        case (.thirdPartyCopyOut, 0x01): "EXTENDED COPY(LID4)"
        case (.thirdPartyCopyOut, 0x10): "POPULATE TOKEN"
        case (.thirdPartyCopyOut, 0x11): "WRITE USING TOKEN"
        case (.thirdPartyCopyIn, 0x00): "RECEIVE COPY STATUS(LID1)"
        case (.thirdPartyCopyIn, 0x03): "RECEIVE COPY OPERATING PARAMETERS"
        case (.thirdPartyCopyIn, 0x07): "RECEIVE ROD TOKEN INFORMATION"
        case (.thirdPartyCopyIn, 0x08): "REPORT ALL ROD TOKENS"
        case (.variableLength, 0x0009): "READ(32)"
        case (.variableLength, 0x000A): "VERIFY(32)"
        case (.variableLength, 0x000B): "WRITE(32)"
        case (.variableLength, 0x000C): "WRITE AND VERIFY(32)"
        case (.variableLength, 0x000D): "WRITE SAME(32)"
        case (.variableLength, 0x000E): "ORWRITE(32)"
        default: nil
        }
    }

    /// The command name a CDB carries, service action included; for an opcode
    /// this table does not know, "OPERATION CODE 0xNN".
    public static func commandName(of cdb: [UInt8]) -> String {
        guard let first = cdb.first else { return "empty CDB" }
        guard let code = OperationCode(rawValue: first) else {
            return "OPERATION CODE 0x\(first.hexDigits)"
        }
        if code == .variableLength, cdb.count >= 10 {
            return code.name(serviceAction: UInt16(cdb[8]) << 8 | UInt16(cdb[9]))
        }
        if code.hasServiceAction, cdb.count >= 2 {
            return code.name(serviceAction: UInt16(cdb[1] & 0x1F))
        }
        return code.name
    }
}
