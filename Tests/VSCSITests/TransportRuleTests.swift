// The SCSI rules a transport applies before a logical unit runs a command: fitting a
// write to the Data-Out that arrived, COMPARE AND WRITE's exact length, REPORT LUNS
// answered for the target, and the answers for a LUN with no unit.

import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct TransportRuleTests {
    static let nexus = Nexus(initiatorPortName: "iqn.2024-01.test:a,i,0x000000000001")

    func request(_ cdb: [UInt8], dataOut bytes: Int) -> SCSICommandRequest {
        SCSICommandRequest(cdb: cdb, dataOut: ByteBuffer(repeating: 1, count: bytes), expectedDataInLength: 0, nexus: Self.nexus)
    }

    @Test func aWriteFollowsTheShorterOfItsDataOutAndItsCDB() throws {
        let twoBlocks: [UInt8] = [0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0]
        guard case .fitted(let short, let shortWanted) = request(twoBlocks, dataOut: 700).fittingDataOut(blockSize: 512) else {
            Issue.record("a short WRITE(10) was not fitted")
            return
        }
        #expect(short.cdb[8] == 1 && short.dataOut.readableBytes == 512 && shortWanted == 1024)
        guard case .fitted(let long, let longWanted) = request(twoBlocks, dataOut: 4096).fittingDataOut(blockSize: 512) else {
            Issue.record("a long WRITE(10) was not fitted")
            return
        }
        #expect(long.cdb == twoBlocks && long.dataOut.readableBytes == 1024 && longWanted == 1024)
        guard case .unchanged = request(twoBlocks, dataOut: 1024).fittingDataOut(blockSize: 512) else {
            Issue.record("a WRITE(10) with exactly its data was changed")
            return
        }
        guard case .unchanged = request([0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0], dataOut: 0).fittingDataOut(blockSize: 512) else {
            Issue.record("a READ(10) was changed")
            return
        }
    }

    @Test(arguments: [
        ([UInt8]([0xAA, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]), 9),
        ([UInt8]([0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]), 13),
        ([UInt8]([0x2E, 0x02, 0, 0, 0, 0, 0, 0, 3, 0]), 8),
    ])
    func theTransferLengthIsRewrittenWhereEachWriteKeepsIt(cdb: [UInt8], lastLengthByte: Int) {
        guard case .fitted(let fitted, let wanted) = request(cdb, dataOut: 1024 + 100).fittingDataOut(blockSize: 512) else {
            Issue.record("opcode \(cdb[0]) was not fitted")
            return
        }
        #expect(wanted == 3 * 512)
        #expect(fitted.cdb[lastLengthByte] == 2 && fitted.dataOut.readableBytes == 1024)
        var others = fitted.cdb
        others[lastLengthByte] = cdb[lastLengthByte]
        #expect(others == cdb)
    }

    @Test func writeAndVerifyWithoutWriteDataAndWrite6AreLeftAlone() {
        // BYTCHK 2 is reserved and 3 sends one block for all: the CDB's count is not the Data-Out's.
        guard case .unchanged = request([0x2E, 0x06, 0, 0, 0, 0, 0, 0, 3, 0], dataOut: 512).fittingDataOut(blockSize: 512) else {
            Issue.record("WRITE AND VERIFY with BYTCHK 3 was fitted")
            return
        }
        guard case .unchanged = request([0x0A, 0, 0, 0, 0, 0], dataOut: 512).fittingDataOut(blockSize: 512) else {
            Issue.record("WRITE(6) was fitted")
            return
        }
    }

    @Test func compareAndWriteNeedsExactlyTwiceItsBlocks() {
        let caw: [UInt8] = [0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]
        guard case .unchanged = request(caw, dataOut: 2048).fittingDataOut(blockSize: 512) else {
            Issue.record("a COMPARE AND WRITE with its data was refused")
            return
        }
        guard case .refused(let response) = request(caw, dataOut: 4096).fittingDataOut(blockSize: 512) else {
            Issue.record("a COMPARE AND WRITE with too much data ran")
            return
        }
        // CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN CDB, field pointer at byte 13, fixed format.
        #expect(response.status == .checkCondition && response.transferLength == 4096)
        #expect(response.sense == [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0xC0, 0, 13])
        // A count that wrapped to 0 does not match 256 blocks of data.
        var wrapped = caw
        wrapped[13] = 0
        guard case .refused = request(wrapped, dataOut: 256 * 1024).fittingDataOut(blockSize: 512) else {
            Issue.record("a COMPARE AND WRITE of 0 blocks with data ran")
            return
        }
    }

    @Test func reportLUNsIsTheOnlyCommandAddressedToTheTarget() {
        #expect(SCSICommandRequest.isAddressedToTarget(cdb: CDB.reportLUNs(allocationLength: 64)))
        #expect(!SCSICommandRequest.isAddressedToTarget(cdb: [0x12, 0, 0, 0, 36, 0]))
        #expect(!SCSICommandRequest.isAddressedToTarget(cdb: []))
    }

    @Test func aLUNWithoutAUnitAnswersInquiryWithNoDeviceAndTheRestWithNotSupported() {
        let inquiry = SCSICommandResponse.unknownLUN(cdb: [0x12, 0, 0, 0, 96, 0], expectedDataInLength: 20)
        #expect(inquiry.status == .good && inquiry.transferLength == 36)
        #expect(inquiry.dataIn.readableBytes == 20 && inquiry.dataIn.getInteger(at: 0, as: UInt8.self) == 0x7F)
        let read = SCSICommandResponse.unknownLUN(cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], expectedDataInLength: 512)
        #expect(read.status == .checkCondition && read.transferLength == 0)
        #expect(read.sense == [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x25, 0, 0, 0, 0, 0])
        // An INQUIRY for a VPD page is not the standard data: it fails like any other command.
        #expect(SCSICommandResponse.unknownLUN(cdb: [0x12, 1, 0x80, 0, 96, 0], expectedDataInLength: 96).status == .checkCondition)
    }
}
