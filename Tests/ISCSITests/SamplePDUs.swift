// One PDU of every opcode (RFC 7143 §11.3-§11.19), with and without AHS and odd data lengths, for codec tests.

import ISCSI
import NIOCore
import TestSupport

enum SamplePDUs {
    static func bytes(_ count: Int, seed: UInt64) -> ByteBuffer {
        var generator = SeededGenerator(seed: seed)
        return ByteBuffer(bytes: generator.bytes(count))
    }

    static func text(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

    static let cdb16: [UInt8] = [0x88, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 8, 0, 0]
    static let cdb32: [UInt8] = [0x7F, 0, 0, 0, 0, 0, 0, 0x18] + (8..<32).map { UInt8($0) }
    static let cdb17: [UInt8] = (0..<17).map { UInt8($0 + 1) }

    /// What an initiator sends; a `.fromInitiator` decoder accepts these.
    static let fromInitiator: [ISCSIPDU] = [
        .nopOut(NOPOut(initiatorTaskTag: 0x10, cmdSN: 7, expStatSN: 9, data: bytes(5, seed: 1))),
        .nopOut(NOPOut(immediate: true, lun: 0x0001_0000_0000_0000, initiatorTaskTag: reservedTag, targetTransferTag: 0x55, cmdSN: 7, expStatSN: 9)),
        .scsiCommand(
            SCSICommand(
                read: true, write: false, lun: 0x0002_0000_0000_0000, initiatorTaskTag: 1,
                expectedDataTransferLength: 4096, cmdSN: 100, expStatSN: 200, cdb: cdb16
            )
        ),
        .scsiCommand(
            SCSICommand(
                immediate: true, final: false, read: false, write: true, attribute: .ordered, lun: 0,
                initiatorTaskTag: 2, expectedDataTransferLength: 8192, cmdSN: 101, expStatSN: 200, cdb: cdb16,
                data: bytes(1021, seed: 2)
            )
        ),
        .scsiCommand(
            SCSICommand(
                read: true, write: true, attribute: .headOfQueue, lun: 3, initiatorTaskTag: 3,
                expectedDataTransferLength: 512, cmdSN: 102, expStatSN: 200, cdb: cdb32,
                bidirectionalReadDataLength: 1024, data: bytes(3, seed: 3)
            )
        ),
        .scsiCommand(
            SCSICommand(
                read: false, write: false, attribute: .acaTask, lun: 3, initiatorTaskTag: 4,
                expectedDataTransferLength: 0, cmdSN: 103, expStatSN: 200, cdb: cdb17
            )
        ),
        .scsiCommand(
            SCSICommand(
                read: true, write: true, attribute: .untagged, lun: 3, initiatorTaskTag: 5,
                expectedDataTransferLength: 7, cmdSN: 104, expStatSN: 200, cdb: cdb16, bidirectionalReadDataLength: 9
            )
        ),
        .taskManagementRequest(
            TaskManagementRequest(
                function: .abortTask, lun: 0x0001_0000_0000_0000, initiatorTaskTag: 0x20, referencedTaskTag: 1,
                cmdSN: 5, expStatSN: 6, refCmdSN: 4, expDataSN: 2
            )
        ),
        .taskManagementRequest(
            TaskManagementRequest(immediate: false, function: .taskReassign, lun: 0, initiatorTaskTag: 0x21, cmdSN: 5, expStatSN: 6)
        ),
        .loginRequest(
            LoginRequest(
                transit: true, currentStage: .securityNegotiation, nextStage: .operationalNegotiation,
                isid: 0x8000_1234_5678, tsih: 0, initiatorTaskTag: 0, connectionID: 1, cmdSN: 1, expStatSN: 0,
                data: text("InitiatorName=iqn.2024-01.dev.vdiskd:host\u{0}SessionType=Normal\u{0}AuthMethod=None\u{0}")
            )
        ),
        .loginRequest(
            LoginRequest(
                transit: false, continue: true, currentStage: .operationalNegotiation, nextStage: .fullFeaturePhase,
                versionMax: 0, versionMin: 0, isid: 0xFFFF_FFFF_FFFF, tsih: 0x1234, initiatorTaskTag: 0xABCD,
                connectionID: 0xFFFF, cmdSN: 0xFFFF_FFFF, expStatSN: 1, data: text("A=B\u{0}")
            )
        ),
        .textRequest(
            TextRequest(initiatorTaskTag: 0x30, cmdSN: 8, expStatSN: 9, data: text("SendTargets=All\u{0}"))
        ),
        .textRequest(
            TextRequest(
                immediate: false, final: false, continue: true, lun: 9, initiatorTaskTag: 0x31,
                targetTransferTag: 0x77, cmdSN: 8, expStatSN: 9, data: ByteBuffer()
            )
        ),
        .dataOut(
            DataOut(
                final: true, lun: 0x0002_0000_0000_0000, initiatorTaskTag: 2, targetTransferTag: 0x99, expStatSN: 201,
                dataSN: 3, bufferOffset: 65536, data: bytes(8192, seed: 4)
            )
        ),
        .dataOut(
            DataOut(final: false, lun: 0, initiatorTaskTag: 2, expStatSN: 201, dataSN: 0, bufferOffset: 0, data: bytes(1, seed: 5))
        ),
        .logoutRequest(
            LogoutRequest(reason: .closeSession, initiatorTaskTag: 0x40, connectionID: 1, cmdSN: 50, expStatSN: 60)
        ),
        .logoutRequest(
            LogoutRequest(
                immediate: false, reason: .removeConnectionForRecovery, initiatorTaskTag: 0x41, connectionID: 2,
                cmdSN: 50, expStatSN: 60
            )
        ),
        .snackRequest(
            SNACKRequest(type: 1, lun: 4, initiatorTaskTag: 0x50, targetTransferTag: 0x51, expStatSN: 70, begRun: 3, runLength: 2)
        ),
    ]

    /// What a target sends; a `.fromTarget` decoder accepts these.
    static let fromTarget: [ISCSIPDU] = [
        .nopIn(NOPIn(initiatorTaskTag: 0x10, statSN: 9, expCmdSN: 8, maxCmdSN: 40, data: bytes(5, seed: 6))),
        .nopIn(NOPIn(lun: 0x0001_0000_0000_0000, initiatorTaskTag: reservedTag, targetTransferTag: 0x1234, statSN: 9, expCmdSN: 8, maxCmdSN: 40)),
        .scsiResponse(
            SCSIResponse(
                status: 0, initiatorTaskTag: 1, statSN: 200, expCmdSN: 101, maxCmdSN: 132
            )
        ),
        .scsiResponse(
            SCSIResponse(
                bidirectionalOverflow: true, residualUnderflow: true, response: 0x01, status: 0x02,
                initiatorTaskTag: 2, snackTag: 7, statSN: 201, expCmdSN: 102, maxCmdSN: 133, expDataSN: 4,
                bidirectionalReadResidualCount: 11, residualCount: 512,
                data: ByteBuffer(bytes: [0, 18, 0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0])
            )
        ),
        .scsiResponse(
            SCSIResponse(
                bidirectionalUnderflow: true, residualOverflow: true, status: 0, initiatorTaskTag: 3, statSN: 202,
                expCmdSN: 102, maxCmdSN: 133
            )
        ),
        .taskManagementResponse(
            TaskManagementResponse(response: 0, initiatorTaskTag: 0x20, statSN: 5, expCmdSN: 6, maxCmdSN: 30)
        ),
        .taskManagementResponse(
            TaskManagementResponse(response: 255, initiatorTaskTag: 0x21, statSN: 5, expCmdSN: 6, maxCmdSN: 30)
        ),
        .loginResponse(
            LoginResponse(
                transit: true, currentStage: .operationalNegotiation, nextStage: .fullFeaturePhase, versionMax: 0,
                versionActive: 0, isid: 0x8000_1234_5678, tsih: 0x0101, initiatorTaskTag: 0, statSN: 1, expCmdSN: 1,
                maxCmdSN: 32, data: text("HeaderDigest=CRC32C\u{0}DataDigest=CRC32C\u{0}MaxRecvDataSegmentLength=262144\u{0}")
            )
        ),
        .loginResponse(
            LoginResponse(
                transit: false, currentStage: .securityNegotiation, nextStage: .securityNegotiation,
                isid: 0x1, tsih: 0, initiatorTaskTag: 0xFFFF_0000, statSN: 0, expCmdSN: 1, maxCmdSN: 1,
                statusClass: 2, statusDetail: 1, data: ByteBuffer()
            )
        ),
        .textResponse(
            TextResponse(
                final: true, initiatorTaskTag: 0x30, statSN: 10, expCmdSN: 9, maxCmdSN: 40,
                data: text("TargetName=iqn.2024-01.dev.vdiskd:disk1\u{0}TargetAddress=127.0.0.1:3260,1\u{0}")
            )
        ),
        .textResponse(
            TextResponse(
                final: false, continue: true, lun: 5, initiatorTaskTag: 0x31, targetTransferTag: 0x44, statSN: 11,
                expCmdSN: 9, maxCmdSN: 40, data: bytes(2, seed: 7)
            )
        ),
        .dataIn(
            DataIn(
                final: false, lun: 0x0002_0000_0000_0000, initiatorTaskTag: 1, expCmdSN: 101, maxCmdSN: 132,
                dataSN: 0, bufferOffset: 0, data: bytes(8192, seed: 8)
            )
        ),
        .dataIn(
            DataIn(
                final: true, acknowledge: true, residualUnderflow: true, statusPresent: true, status: 0, lun: 1,
                initiatorTaskTag: 1, targetTransferTag: 0x66, statSN: 300, expCmdSN: 101, maxCmdSN: 132, dataSN: 1,
                bufferOffset: 8192, residualCount: 3, data: bytes(4093, seed: 9)
            )
        ),
        .dataIn(
            DataIn(
                final: true, residualOverflow: true, initiatorTaskTag: 7, expCmdSN: 1, maxCmdSN: 2, dataSN: 0,
                bufferOffset: 0, data: ByteBuffer()
            )
        ),
        .logoutResponse(
            LogoutResponse(response: 0, initiatorTaskTag: 0x40, statSN: 61, expCmdSN: 51, maxCmdSN: 80, time2Wait: 2, time2Retain: 20)
        ),
        .readyToTransfer(
            ReadyToTransfer(
                lun: 0x0002_0000_0000_0000, initiatorTaskTag: 2, targetTransferTag: 0x99, statSN: 201, expCmdSN: 102,
                maxCmdSN: 133, r2tSN: 0, bufferOffset: 65536, desiredDataTransferLength: 262144
            )
        ),
        .asyncMessage(
            AsyncMessage(
                lun: 0x0001_0000_0000_0000, statSN: 400, expCmdSN: 5, maxCmdSN: 6,
                asyncEvent: AsyncEvent.scsiAsyncEvent.rawValue, data: ByteBuffer(bytes: [0, 3, 0x70, 0, 6])
            )
        ),
        .asyncMessage(
            AsyncMessage(
                statSN: 401, expCmdSN: 5, maxCmdSN: 6, asyncEvent: AsyncEvent.logoutRequested.rawValue,
                asyncVCode: 9, parameter1: 1, parameter2: 2, parameter3: 30
            )
        ),
        .reject(
            Reject(
                reason: RejectReason.protocolError.rawValue, statSN: 500, expCmdSN: 5, maxCmdSN: 6, dataSN: 0,
                data: bytes(48, seed: 10)
            )
        ),
    ]
}
