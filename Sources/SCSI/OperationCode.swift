// The OPERATION CODE byte of every SPC-5 and SBC-4 command a disk may see,
// named as the standards name them so messages read like the specification.

/// The first byte of a CDB. Commands that share an opcode are told apart by a
/// service action; `name(serviceAction:)` gives the full command name.
public enum OperationCode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case testUnitReady = 0x00
    case requestSense = 0x03
    case formatUnit = 0x04
    case reassignBlocks = 0x07
    case read6 = 0x08
    case write6 = 0x0A
    case inquiry = 0x12
    case modeSelect6 = 0x15
    case reserve6 = 0x16
    case release6 = 0x17
    case modeSense6 = 0x1A
    case startStopUnit = 0x1B
    case receiveDiagnosticResults = 0x1C
    case sendDiagnostic = 0x1D
    case preventAllowMediumRemoval = 0x1E
    case readCapacity10 = 0x25
    case read10 = 0x28
    case write10 = 0x2A
    case writeAndVerify10 = 0x2E
    case verify10 = 0x2F
    case preFetch10 = 0x34
    case synchronizeCache10 = 0x35
    case readDefectData10 = 0x37
    case writeBuffer = 0x3B
    case readBuffer10 = 0x3C
    case readLong10 = 0x3E
    case writeLong10 = 0x3F
    case writeSame10 = 0x41
    case unmap = 0x42
    case sanitize = 0x48
    case logSelect = 0x4C
    case logSense = 0x4D
    case modeSelect10 = 0x55
    case reserve10 = 0x56
    case release10 = 0x57
    case modeSense10 = 0x5A
    case persistentReserveIn = 0x5E
    case persistentReserveOut = 0x5F
    /// 32-byte CDBs (READ(32), WRITE(32), ...), told apart by a 16-bit service action.
    case variableLength = 0x7F
    /// EXTENDED COPY and the token-based copy commands.
    case thirdPartyCopyOut = 0x83
    /// RECEIVE COPY RESULTS and friends.
    case thirdPartyCopyIn = 0x84
    case ataPassThrough16 = 0x85
    case accessControlIn = 0x86
    case accessControlOut = 0x87
    case read16 = 0x88
    case compareAndWrite = 0x89
    case write16 = 0x8A
    case orWrite16 = 0x8B
    case readAttribute = 0x8C
    case writeAttribute = 0x8D
    case writeAndVerify16 = 0x8E
    case verify16 = 0x8F
    case preFetch16 = 0x90
    case synchronizeCache16 = 0x91
    case writeSame16 = 0x93
    case writeStream16 = 0x9A
    case readBuffer16 = 0x9B
    case writeAtomic16 = 0x9C
    case serviceActionBidirectional = 0x9D
    /// READ CAPACITY(16), GET LBA STATUS, REPORT REFERRALS, ...
    case serviceActionIn16 = 0x9E
    case serviceActionOut16 = 0x9F
    case reportLUNs = 0xA0
    case ataPassThrough12 = 0xA1
    case securityProtocolIn = 0xA2
    /// REPORT SUPPORTED OPERATION CODES, REPORT TARGET PORT GROUPS, ...
    case maintenanceIn = 0xA3
    case maintenanceOut = 0xA4
    case read12 = 0xA8
    case serviceActionOut12 = 0xA9
    case write12 = 0xAA
    case serviceActionIn12 = 0xAB
    case writeAndVerify12 = 0xAE
    case verify12 = 0xAF
    case securityProtocolOut = 0xB5
    case readDefectData12 = 0xB7

    /// The command name as SPC-5 and SBC-4 print it.
    public var name: String {
        switch self {
        case .testUnitReady: "TEST UNIT READY"
        case .requestSense: "REQUEST SENSE"
        case .formatUnit: "FORMAT UNIT"
        case .reassignBlocks: "REASSIGN BLOCKS"
        case .read6: "READ(6)"
        case .write6: "WRITE(6)"
        case .inquiry: "INQUIRY"
        case .modeSelect6: "MODE SELECT(6)"
        case .reserve6: "RESERVE(6)"
        case .release6: "RELEASE(6)"
        case .modeSense6: "MODE SENSE(6)"
        case .startStopUnit: "START STOP UNIT"
        case .receiveDiagnosticResults: "RECEIVE DIAGNOSTIC RESULTS"
        case .sendDiagnostic: "SEND DIAGNOSTIC"
        case .preventAllowMediumRemoval: "PREVENT ALLOW MEDIUM REMOVAL"
        case .readCapacity10: "READ CAPACITY(10)"
        case .read10: "READ(10)"
        case .write10: "WRITE(10)"
        case .writeAndVerify10: "WRITE AND VERIFY(10)"
        case .verify10: "VERIFY(10)"
        case .preFetch10: "PRE-FETCH(10)"
        case .synchronizeCache10: "SYNCHRONIZE CACHE(10)"
        case .readDefectData10: "READ DEFECT DATA(10)"
        case .writeBuffer: "WRITE BUFFER"
        case .readBuffer10: "READ BUFFER(10)"
        case .readLong10: "READ LONG(10)"
        case .writeLong10: "WRITE LONG(10)"
        case .writeSame10: "WRITE SAME(10)"
        case .unmap: "UNMAP"
        case .sanitize: "SANITIZE"
        case .logSelect: "LOG SELECT"
        case .logSense: "LOG SENSE"
        case .modeSelect10: "MODE SELECT(10)"
        case .reserve10: "RESERVE(10)"
        case .release10: "RELEASE(10)"
        case .modeSense10: "MODE SENSE(10)"
        case .persistentReserveIn: "PERSISTENT RESERVE IN"
        case .persistentReserveOut: "PERSISTENT RESERVE OUT"
        case .variableLength: "VARIABLE LENGTH"
        case .thirdPartyCopyOut: "THIRD-PARTY COPY OUT"
        case .thirdPartyCopyIn: "THIRD-PARTY COPY IN"
        case .ataPassThrough16: "ATA PASS-THROUGH(16)"
        case .accessControlIn: "ACCESS CONTROL IN"
        case .accessControlOut: "ACCESS CONTROL OUT"
        case .read16: "READ(16)"
        case .compareAndWrite: "COMPARE AND WRITE"
        case .write16: "WRITE(16)"
        case .orWrite16: "ORWRITE(16)"
        case .readAttribute: "READ ATTRIBUTE"
        case .writeAttribute: "WRITE ATTRIBUTE"
        case .writeAndVerify16: "WRITE AND VERIFY(16)"
        case .verify16: "VERIFY(16)"
        case .preFetch16: "PRE-FETCH(16)"
        case .synchronizeCache16: "SYNCHRONIZE CACHE(16)"
        case .writeSame16: "WRITE SAME(16)"
        case .writeStream16: "WRITE STREAM(16)"
        case .readBuffer16: "READ BUFFER(16)"
        case .writeAtomic16: "WRITE ATOMIC(16)"
        case .serviceActionBidirectional: "SERVICE ACTION BIDIRECTIONAL"
        case .serviceActionIn16: "SERVICE ACTION IN(16)"
        case .serviceActionOut16: "SERVICE ACTION OUT(16)"
        case .reportLUNs: "REPORT LUNS"
        case .ataPassThrough12: "ATA PASS-THROUGH(12)"
        case .securityProtocolIn: "SECURITY PROTOCOL IN"
        case .maintenanceIn: "MAINTENANCE IN"
        case .maintenanceOut: "MAINTENANCE OUT"
        case .read12: "READ(12)"
        case .serviceActionOut12: "SERVICE ACTION OUT(12)"
        case .write12: "WRITE(12)"
        case .serviceActionIn12: "SERVICE ACTION IN(12)"
        case .writeAndVerify12: "WRITE AND VERIFY(12)"
        case .verify12: "VERIFY(12)"
        case .securityProtocolOut: "SECURITY PROTOCOL OUT"
        case .readDefectData12: "READ DEFECT DATA(12)"
        }
    }

    public var description: String { name }
}
