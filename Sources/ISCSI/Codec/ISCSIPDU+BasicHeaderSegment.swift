// Where every field of every PDU sits in the Basic Header Segment (RFC 7143 §11.3-§11.19), in both directions.

import NIOCore

// Byte 1 flag masks, named by the letters RFC 7143 §11 gives them.
private let finalBit: UInt8 = 0x80  // F; also the fixed 1 in byte 1 of PDUs without an F bit
private let readBit: UInt8 = 0x40  // R (SCSI Command)
private let writeBit: UInt8 = 0x20  // W (SCSI Command)
private let continueBit: UInt8 = 0x40  // C (Text, Login)
private let transitBit: UInt8 = 0x80  // T (Login)
private let acknowledgeBit: UInt8 = 0x40  // A (Data-In)
private let bidiOverflowBit: UInt8 = 0x10  // o (SCSI Response)
private let bidiUnderflowBit: UInt8 = 0x08  // u (SCSI Response)
private let overflowBit: UInt8 = 0x04  // O (SCSI Response, Data-In)
private let underflowBit: UInt8 = 0x02  // U (SCSI Response, Data-In)
private let statusBit: UInt8 = 0x01  // S (Data-In)
private let immediateBit: UInt8 = 0x40  // I, in byte 0

@inline(__always)
private func bit(_ value: Bool, _ mask: UInt8) -> UInt8 { value ? mask : 0 }

// MARK: - Encoding

extension ISCSIPDU {
    /// The BHS for this PDU; TotalAHSLength and DataSegmentLength come from the encoder, which knows what follows.
    func basicHeaderSegment(totalAHSLength: UInt8, dataSegmentLength: UInt32) -> BasicHeaderSegment {
        var header: BasicHeaderSegment
        switch self {
        case .nopOut(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.nopOut.rawValue | bit(p.immediate, immediateBit),
                flags: finalBit,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.cmdSN,
                field28: p.expStatSN
            )
        case .scsiCommand(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.scsiCommand.rawValue | bit(p.immediate, immediateBit),
                flags: bit(p.final, finalBit) | bit(p.read, readBit) | bit(p.write, writeBit) | p.attribute.rawValue,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.expectedDataTransferLength,
                field24: p.cmdSN,
                field28: p.expStatSN,
                field32: p.cdb.bigEndianWord(at: 0),
                field36: p.cdb.bigEndianWord(at: 4),
                field40: p.cdb.bigEndianWord(at: 8),
                field44: p.cdb.bigEndianWord(at: 12)
            )
        case .taskManagementRequest(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.taskManagementRequest.rawValue | bit(p.immediate, immediateBit),
                flags: finalBit | p.function.rawValue,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.referencedTaskTag,
                field24: p.cmdSN,
                field28: p.expStatSN,
                field32: p.refCmdSN,
                field36: p.expDataSN
            )
        case .loginRequest(let p):
            // The I bit is always 1 on a Login Request (§11.12).
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.loginRequest.rawValue | immediateBit,
                flags: Self.loginFlags(p.transit, p.continue, p.currentStage, p.nextStage),
                byte2: p.versionMax,
                byte3: p.versionMin,
                field8: (p.isid & 0xFFFF_FFFF_FFFF) << 16 | UInt64(p.tsih),
                initiatorTaskTag: p.initiatorTaskTag,
                field20: UInt32(p.connectionID) << 16,
                field24: p.cmdSN,
                field28: p.expStatSN
            )
        case .textRequest(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.textRequest.rawValue | bit(p.immediate, immediateBit),
                flags: bit(p.final, finalBit) | bit(p.continue, continueBit),
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.cmdSN,
                field28: p.expStatSN
            )
        case .dataOut(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.dataOut.rawValue,
                flags: bit(p.final, finalBit),
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field28: p.expStatSN,
                field36: p.dataSN,
                field40: p.bufferOffset
            )
        case .logoutRequest(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.logoutRequest.rawValue | bit(p.immediate, immediateBit),
                flags: finalBit | p.reason.rawValue,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: UInt32(p.connectionID) << 16,
                field24: p.cmdSN,
                field28: p.expStatSN
            )
        case .snackRequest(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.snackRequest.rawValue,
                flags: finalBit | (p.type & 0x0F),
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field28: p.expStatSN,
                field40: p.begRun,
                field44: p.runLength
            )
        case .nopIn(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.nopIn.rawValue,
                flags: finalBit,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN
            )
        case .scsiResponse(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.scsiResponse.rawValue,
                flags: finalBit | bit(p.bidirectionalOverflow, bidiOverflowBit)
                    | bit(p.bidirectionalUnderflow, bidiUnderflowBit) | bit(p.residualOverflow, overflowBit)
                    | bit(p.residualUnderflow, underflowBit),
                byte2: p.response,
                byte3: p.status,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.snackTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: p.expDataSN,
                field40: p.bidirectionalReadResidualCount,
                field44: p.residualCount
            )
        case .taskManagementResponse(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.taskManagementResponse.rawValue,
                flags: finalBit,
                byte2: p.response,
                initiatorTaskTag: p.initiatorTaskTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN
            )
        case .loginResponse(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.loginResponse.rawValue,
                flags: Self.loginFlags(p.transit, p.continue, p.currentStage, p.nextStage),
                byte2: p.versionMax,
                byte3: p.versionActive,
                field8: (p.isid & 0xFFFF_FFFF_FFFF) << 16 | UInt64(p.tsih),
                initiatorTaskTag: p.initiatorTaskTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: UInt32(p.statusClass) << 24 | UInt32(p.statusDetail) << 16
            )
        case .textResponse(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.textResponse.rawValue,
                flags: bit(p.final, finalBit) | bit(p.continue, continueBit),
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN
            )
        case .dataIn(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.dataIn.rawValue,
                flags: bit(p.final, finalBit) | bit(p.acknowledge, acknowledgeBit)
                    | bit(p.residualOverflow, overflowBit) | bit(p.residualUnderflow, underflowBit)
                    | bit(p.statusPresent, statusBit),
                byte3: p.status,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: p.dataSN,
                field40: p.bufferOffset,
                field44: p.residualCount
            )
        case .logoutResponse(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.logoutResponse.rawValue,
                flags: finalBit,
                byte2: p.response,
                initiatorTaskTag: p.initiatorTaskTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field40: UInt32(p.time2Wait) << 16 | UInt32(p.time2Retain)
            )
        case .readyToTransfer(let p):
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.readyToTransfer.rawValue,
                flags: finalBit,
                field8: p.lun,
                initiatorTaskTag: p.initiatorTaskTag,
                field20: p.targetTransferTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: p.r2tSN,
                field40: p.bufferOffset,
                field44: p.desiredDataTransferLength
            )
        case .asyncMessage(let p):
            // Bytes 16-19 are 0xffffffff on an Async Message (§11.9).
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.asyncMessage.rawValue,
                flags: finalBit,
                field8: p.lun,
                initiatorTaskTag: reservedTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: UInt32(p.asyncEvent) << 24 | UInt32(p.asyncVCode) << 16 | UInt32(p.parameter1),
                field40: UInt32(p.parameter2) << 16 | UInt32(p.parameter3)
            )
        case .reject(let p):
            // Bytes 16-19 are 0xffffffff on a Reject (§11.17).
            header = BasicHeaderSegment(
                opcodeByte: ISCSIOpcode.reject.rawValue,
                flags: finalBit,
                byte2: p.reason,
                initiatorTaskTag: reservedTag,
                field24: p.statSN,
                field28: p.expCmdSN,
                field32: p.maxCmdSN,
                field36: p.dataSN
            )
        }
        header.totalAHSLength = totalAHSLength
        header.dataSegmentLength = dataSegmentLength
        return header
    }

    private static func loginFlags(_ transit: Bool, _ cont: Bool, _ current: LoginStage, _ next: LoginStage) -> UInt8 {
        bit(transit, transitBit) | bit(cont, continueBit) | current.rawValue << 2 | next.rawValue
    }
}

extension [UInt8] {
    /// Four CDB bytes from `offset` as one big-endian word, zero past the end (short CDBs are zero-padded to 16, §11.3.5).
    fileprivate func bigEndianWord(at offset: Int) -> UInt32 {
        var word: UInt32 = 0
        for index in offset..<(offset + 4) {
            word = word << 8 | UInt32(index < self.count ? self[index] : 0)
        }
        return word
    }

    fileprivate mutating func appendBigEndian(_ word: UInt32) {
        self.append(UInt8(truncatingIfNeeded: word >> 24))
        self.append(UInt8(truncatingIfNeeded: word >> 16))
        self.append(UInt8(truncatingIfNeeded: word >> 8))
        self.append(UInt8(truncatingIfNeeded: word))
    }
}

// MARK: - Decoding

extension ISCSIPDU {
    /// The PDU a header announces, with an empty data segment (the decoder attaches it once it has arrived).
    ///
    /// Checks what RFC 7143 makes mandatory and what the model cannot represent
    /// (reserved enum values); reserved bits and fields are ignored, because
    /// refusing them would only break interoperability with sloppy peers.
    init(header h: BasicHeaderSegment, opcode: ISCSIOpcode, additionalHeaders ahs: AdditionalHeaderSegments) throws {
        let dataLength = Int(h.dataSegmentLength)
        switch opcode {
        case .nopOut:
            // §11.18.1: a NOP-Out that wants no answer (reserved ITT) must be immediate.
            if h.initiatorTaskTag == reservedTag && !h.immediate {
                throw ISCSIError.malformed(opcode, "Initiator Task Tag 0xFFFFFFFF requires the I bit, which is 0")
            }
            self = .nopOut(
                NOPOut(
                    immediate: h.immediate,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    cmdSN: h.field24,
                    expStatSN: h.field28
                )
            )
        case .scsiCommand:
            guard let attribute = TaskAttribute(rawValue: h.flags & 0x07) else {
                throw ISCSIError.malformed(opcode, "task attribute \(h.flags & 0x07) is reserved (0-4 are defined)")
            }
            let cdbLength = 16 + (ahs.extendedCDB?.readableBytes ?? 0)
            // The same ceiling the encoder has, so whatever decodes can be sent on again.
            guard cdbLength <= ISCSIFraming.maximumCDBLength else {
                throw ISCSIError.malformed(
                    opcode,
                    "Extended CDB AHS makes a \(cdbLength)-byte CDB, over the \(ISCSIFraming.maximumCDBLength)-byte maximum"
                )
            }
            var cdb: [UInt8] = []
            cdb.reserveCapacity(cdbLength)
            cdb.appendBigEndian(h.field32)
            cdb.appendBigEndian(h.field36)
            cdb.appendBigEndian(h.field40)
            cdb.appendBigEndian(h.field44)
            if let extended = ahs.extendedCDB {
                cdb.append(contentsOf: extended.readableBytesView)
            }
            self = .scsiCommand(
                SCSICommand(
                    immediate: h.immediate,
                    final: h.flag(finalBit),
                    read: h.flag(readBit),
                    write: h.flag(writeBit),
                    attribute: attribute,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    expectedDataTransferLength: h.field20,
                    cmdSN: h.field24,
                    expStatSN: h.field28,
                    cdb: cdb,
                    bidirectionalReadDataLength: ahs.bidirectionalReadDataLength
                )
            )
        case .taskManagementRequest:
            guard let function = TaskManagementFunction(rawValue: h.flags & 0x7F) else {
                throw ISCSIError.malformed(opcode, "function code \(h.flags & 0x7F) is not defined (1-8 are)")
            }
            try Self.requireNoDataSegment(opcode, dataLength)
            self = .taskManagementRequest(
                TaskManagementRequest(
                    immediate: h.immediate,
                    function: function,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    referencedTaskTag: h.field20,
                    cmdSN: h.field24,
                    expStatSN: h.field28,
                    refCmdSN: h.field32,
                    expDataSN: h.field36
                )
            )
        case .loginRequest:
            let stages = try Self.loginStages(opcode, h.flags)
            self = .loginRequest(
                LoginRequest(
                    transit: stages.transit,
                    continue: stages.continue,
                    currentStage: stages.current,
                    nextStage: stages.next,
                    versionMax: h.byte2,
                    versionMin: h.byte3,
                    isid: h.field8 >> 16,
                    tsih: UInt16(truncatingIfNeeded: h.field8),
                    initiatorTaskTag: h.initiatorTaskTag,
                    connectionID: UInt16(truncatingIfNeeded: h.field20 >> 16),
                    cmdSN: h.field24,
                    expStatSN: h.field28,
                    data: ByteBuffer()
                )
            )
        case .textRequest:
            let (final, cont) = try Self.textFlags(opcode, h.flags)
            self = .textRequest(
                TextRequest(
                    immediate: h.immediate,
                    final: final,
                    continue: cont,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    cmdSN: h.field24,
                    expStatSN: h.field28,
                    data: ByteBuffer()
                )
            )
        case .dataOut:
            self = .dataOut(
                DataOut(
                    final: h.flag(finalBit),
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    expStatSN: h.field28,
                    dataSN: h.field36,
                    bufferOffset: h.field40,
                    data: ByteBuffer()
                )
            )
        case .logoutRequest:
            guard let reason = LogoutReason(rawValue: h.flags & 0x7F) else {
                throw ISCSIError.malformed(opcode, "reason code \(h.flags & 0x7F) is not defined (0-2 are)")
            }
            try Self.requireNoDataSegment(opcode, dataLength)
            self = .logoutRequest(
                LogoutRequest(
                    immediate: h.immediate,
                    reason: reason,
                    initiatorTaskTag: h.initiatorTaskTag,
                    connectionID: UInt16(truncatingIfNeeded: h.field20 >> 16),
                    cmdSN: h.field24,
                    expStatSN: h.field28
                )
            )
        case .snackRequest:
            try Self.requireNoDataSegment(opcode, dataLength)
            self = .snackRequest(
                SNACKRequest(
                    type: h.flags & 0x0F,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    expStatSN: h.field28,
                    begRun: h.field40,
                    runLength: h.field44
                )
            )
        case .nopIn:
            self = .nopIn(
                NOPIn(
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32
                )
            )
        case .scsiResponse:
            try Self.requireExclusive(opcode, h.flags, bidiOverflowBit, bidiUnderflowBit, "o", "u")
            try Self.requireExclusive(opcode, h.flags, overflowBit, underflowBit, "O", "U")
            self = .scsiResponse(
                SCSIResponse(
                    bidirectionalOverflow: h.flag(bidiOverflowBit),
                    bidirectionalUnderflow: h.flag(bidiUnderflowBit),
                    residualOverflow: h.flag(overflowBit),
                    residualUnderflow: h.flag(underflowBit),
                    response: h.byte2,
                    status: h.byte3,
                    initiatorTaskTag: h.initiatorTaskTag,
                    snackTag: h.field20,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    expDataSN: h.field36,
                    bidirectionalReadResidualCount: h.field40,
                    residualCount: h.field44
                )
            )
        case .taskManagementResponse:
            try Self.requireNoDataSegment(opcode, dataLength)
            self = .taskManagementResponse(
                TaskManagementResponse(
                    response: h.byte2,
                    initiatorTaskTag: h.initiatorTaskTag,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32
                )
            )
        case .loginResponse:
            let stages = try Self.loginStages(opcode, h.flags)
            self = .loginResponse(
                LoginResponse(
                    transit: stages.transit,
                    continue: stages.continue,
                    currentStage: stages.current,
                    nextStage: stages.next,
                    versionMax: h.byte2,
                    versionActive: h.byte3,
                    isid: h.field8 >> 16,
                    tsih: UInt16(truncatingIfNeeded: h.field8),
                    initiatorTaskTag: h.initiatorTaskTag,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    statusClass: UInt8(truncatingIfNeeded: h.field36 >> 24),
                    statusDetail: UInt8(truncatingIfNeeded: h.field36 >> 16),
                    data: ByteBuffer()
                )
            )
        case .textResponse:
            let (final, cont) = try Self.textFlags(opcode, h.flags)
            self = .textResponse(
                TextResponse(
                    final: final,
                    continue: cont,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    data: ByteBuffer()
                )
            )
        case .dataIn:
            // §11.7.4: status may only ride on the last Data-In of a sequence.
            if h.flag(statusBit) && !h.flag(finalBit) {
                throw ISCSIError.malformed(opcode, "S bit set without the F bit (flags 0x\(ISCSIError.hex(h.flags)))")
            }
            try Self.requireExclusive(opcode, h.flags, overflowBit, underflowBit, "O", "U")
            self = .dataIn(
                DataIn(
                    final: h.flag(finalBit),
                    acknowledge: h.flag(acknowledgeBit),
                    residualOverflow: h.flag(overflowBit),
                    residualUnderflow: h.flag(underflowBit),
                    statusPresent: h.flag(statusBit),
                    status: h.byte3,
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    dataSN: h.field36,
                    bufferOffset: h.field40,
                    residualCount: h.field44,
                    data: ByteBuffer()
                )
            )
        case .logoutResponse:
            try Self.requireNoDataSegment(opcode, dataLength)
            self = .logoutResponse(
                LogoutResponse(
                    response: h.byte2,
                    initiatorTaskTag: h.initiatorTaskTag,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    time2Wait: UInt16(truncatingIfNeeded: h.field40 >> 16),
                    time2Retain: UInt16(truncatingIfNeeded: h.field40)
                )
            )
        case .readyToTransfer:
            try Self.requireNoDataSegment(opcode, dataLength)
            // §11.8.4 and §11.8.5 make both of these MUSTs for the target.
            guard h.field20 != reservedTag else {
                throw ISCSIError.malformed(opcode, "Target Transfer Tag is the reserved 0xFFFFFFFF (ITT 0x\(ISCSIError.hex(h.initiatorTaskTag)))")
            }
            guard h.field44 != 0 else {
                throw ISCSIError.malformed(opcode, "Desired Data Transfer Length is 0 (ITT 0x\(ISCSIError.hex(h.initiatorTaskTag)))")
            }
            self = .readyToTransfer(
                ReadyToTransfer(
                    lun: h.field8,
                    initiatorTaskTag: h.initiatorTaskTag,
                    targetTransferTag: h.field20,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    r2tSN: h.field36,
                    bufferOffset: h.field40,
                    desiredDataTransferLength: h.field44
                )
            )
        case .asyncMessage:
            self = .asyncMessage(
                AsyncMessage(
                    lun: h.field8,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    asyncEvent: UInt8(truncatingIfNeeded: h.field36 >> 24),
                    asyncVCode: UInt8(truncatingIfNeeded: h.field36 >> 16),
                    parameter1: UInt16(truncatingIfNeeded: h.field36),
                    parameter2: UInt16(truncatingIfNeeded: h.field40 >> 16),
                    parameter3: UInt16(truncatingIfNeeded: h.field40)
                )
            )
        case .reject:
            self = .reject(
                Reject(
                    reason: h.byte2,
                    statSN: h.field24,
                    expCmdSN: h.field28,
                    maxCmdSN: h.field32,
                    dataSN: h.field36,
                    data: ByteBuffer()
                )
            )
        }
    }

    /// §11.5, §11.6, §11.8, §11.14-§11.16 fix DataSegmentLength at 0 for these opcodes.
    private static func requireNoDataSegment(_ opcode: ISCSIOpcode, _ length: Int) throws {
        guard length == 0 else {
            throw ISCSIError.malformed(opcode, "DataSegmentLength is \(length), must be 0 for this opcode")
        }
    }

    private static func requireExclusive(
        _ opcode: ISCSIOpcode,
        _ flags: UInt8,
        _ first: UInt8,
        _ second: UInt8,
        _ firstName: String,
        _ secondName: String
    ) throws {
        guard flags & first == 0 || flags & second == 0 else {
            throw ISCSIError.malformed(
                opcode,
                "\(firstName) and \(secondName) bits are both set (flags 0x\(ISCSIError.hex(flags))); they are mutually exclusive"
            )
        }
    }

    /// F and C of Text Request/Response: "C set, F must be 0" (§11.10.2, §11.11.2).
    private static func textFlags(_ opcode: ISCSIOpcode, _ flags: UInt8) throws -> (final: Bool, continue: Bool) {
        let final = flags & finalBit != 0
        let cont = flags & continueBit != 0
        if final && cont {
            throw ISCSIError.malformed(opcode, "F and C bits are both set (flags 0x\(ISCSIError.hex(flags)))")
        }
        return (final, cont)
    }

    /// T, C, CSG and NSG of Login Request/Response (§11.12.1-§11.12.3).
    ///
    /// Stage 2 is reserved. NSG only means something with T set; a peer that
    /// leaves garbage there while T is 0 is tolerated, and the stage reported
    /// is then the current one.
    private static func loginStages(
        _ opcode: ISCSIOpcode,
        _ flags: UInt8
    ) throws -> (transit: Bool, continue: Bool, current: LoginStage, next: LoginStage) {
        let transit = flags & transitBit != 0
        let cont = flags & continueBit != 0
        if transit && cont {
            throw ISCSIError.malformed(opcode, "T and C bits are both set (flags 0x\(ISCSIError.hex(flags)))")
        }
        guard let current = LoginStage(rawValue: (flags >> 2) & 0x03) else {
            throw ISCSIError.malformed(opcode, "CSG \((flags >> 2) & 0x03) is reserved (0, 1 and 3 are defined)")
        }
        let next: LoginStage
        if let stage = LoginStage(rawValue: flags & 0x03) {
            next = stage
        } else if transit {
            throw ISCSIError.malformed(opcode, "NSG \(flags & 0x03) is reserved with the T bit set (0, 1 and 3 are defined)")
        } else {
            next = current
        }
        return (transit, cont, current, next)
    }
}
