// InitiatorConnectionStateMachine: a write's data-out phase across burst limits — immediate data,
// unsolicited Data-Out up to FirstBurstLength, R2T-driven bursts up to MaxBurstLength (RFC 7143 §3.2.4.2).

import NIOCore
import Testing

@testable import ISCSI

@Suite struct ConnectionMachineDataOutTests {
    private static func write(_ data: ByteBuffer, lun: UInt64 = 0) -> SCSITaskRequest {
        let blocks = data.readableBytes / 512
        return SCSITaskRequest(
            lun: lun,
            cdb: [0x2A, 0, 0, 0, 0, 0, 0, UInt8(blocks >> 8), UInt8(blocks & 0xFF), 0],
            dataOut: data,
            operationName: "WRITE(10)"
        )
    }

    private static func r2t(tag: UInt32, ttt: UInt32, r2tSN: UInt32, offset: UInt32, length: UInt32, statSN: UInt32) -> ISCSIPDU {
        .readyToTransfer(ReadyToTransfer(
            initiatorTaskTag: tag,
            targetTransferTag: ttt,
            statSN: statSN,
            expCmdSN: Fixture.cmdSN + 1,
            maxCmdSN: Fixture.cmdSN + 32,
            r2tSN: r2tSN,
            bufferOffset: offset,
            desiredDataTransferLength: length
        ))
    }

    /// ImmediateData=Yes, InitialR2T=No: 8192 bytes ride in the command (the target's
    /// MaxRecvDataSegmentLength), Data-Out carries the rest of FirstBurstLength=20000, and an R2T
    /// asks for the remaining 30000 in segments of 8192.
    @Test func immediateThenUnsolicitedThenR2TDrivenData() throws {
        var harness = try ConnectionMachineHarness(answers: [
            "MaxRecvDataSegmentLength": "8192", "FirstBurstLength": "20000", "MaxBurstLength": "32768",
        ])
        let data = pattern(50000)
        let write = harness.execute(Self.write(data, lun: 2))
        let command = try #require(writtenCommand(write.action))
        #expect(command.write && !command.read)
        #expect(!command.final, "unsolicited Data-Out follows, so the command's F bit is clear")
        #expect(command.expectedDataTransferLength == 50000)
        #expect(command.data == data.getSlice(at: 0, length: 8192))

        let unsolicited = dataOuts(write.action)
        #expect(shape(unsolicited) == [
            DataOutShape(offset: 8192, length: 8192, final: false, dataSN: 0),
            DataOutShape(offset: 16384, length: 3616, final: true, dataSN: 1),
        ])
        for dataOut in unsolicited {
            #expect(dataOut.data == data.getSlice(at: Int(dataOut.bufferOffset), length: dataOut.data.readableBytes))
            #expect(dataOut.initiatorTaskTag == command.initiatorTaskTag)
            #expect(dataOut.lun == ISCSIPDU.encodeLUN(2))
            #expect(dataOut.expStatSN == ConnectionMachineHarness.loginStatSN + 1)
        }

        let answer = harness.receive(Self.r2t(
            tag: command.initiatorTaskTag, ttt: 0x1234, r2tSN: 0, offset: 20000, length: 30000, statSN: harness.statSN
        ))
        let solicited = dataOuts(answer)
        #expect(shape(solicited) == [
            DataOutShape(offset: 20000, length: 8192, final: false, dataSN: 0, ttt: 0x1234),
            DataOutShape(offset: 28192, length: 8192, final: false, dataSN: 1, ttt: 0x1234),
            DataOutShape(offset: 36384, length: 8192, final: false, dataSN: 2, ttt: 0x1234),
            DataOutShape(offset: 44576, length: 5424, final: true, dataSN: 3, ttt: 0x1234),
        ])
        for dataOut in solicited {
            #expect(dataOut.data == data.getSlice(at: Int(dataOut.bufferOffset), length: dataOut.data.readableBytes))
        }

        // A second R2T that does not move R2TSN on breaks the protocol.
        let repeated = harness.receive(Self.r2t(
            tag: command.initiatorTaskTag, ttt: 0x1235, r2tSN: 0, offset: 20000, length: 100, statSN: harness.statSN
        ))
        let ended = try #require(closure(repeated))
        expectISCSIError(ended.error, .protocolViolation, .connection, "has R2TSN 0 after 0")
        #expect(failsExactly(ended.failed, commands: [write.promise]))
    }

    /// InitialR2T=Yes, ImmediateData=No: the command carries nothing, each R2T gets its own
    /// sequence with DataSN from 0, and MaxBurstLength=16384 caps what an R2T may ask.
    @Test func everyByteWaitsForAnR2TWhenInitialR2TIsRequired() throws {
        var harness = try ConnectionMachineHarness(answers: [
            "MaxRecvDataSegmentLength": "8192", "InitialR2T": "Yes", "ImmediateData": "No",
            "FirstBurstLength": "16384", "MaxBurstLength": "16384",
        ])
        let data = pattern(32768, seed: 7)
        let write = harness.execute(Self.write(data))
        let command = try #require(writtenCommand(write.action))
        #expect(command.final && command.data.readableBytes == 0)
        #expect(written(write.action).count == 1)

        let first = harness.receive(Self.r2t(tag: command.initiatorTaskTag, ttt: 0xA, r2tSN: 0, offset: 0, length: 16384, statSN: harness.statSN))
        #expect(shape(dataOuts(first)) == [
            DataOutShape(offset: 0, length: 8192, final: false, dataSN: 0, ttt: 0xA),
            DataOutShape(offset: 8192, length: 8192, final: true, dataSN: 1, ttt: 0xA),
        ])
        let second = harness.receive(Self.r2t(tag: command.initiatorTaskTag, ttt: 0xB, r2tSN: 1, offset: 16384, length: 16384, statSN: harness.statSN))
        let secondBurst = dataOuts(second)
        #expect(shape(secondBurst) == [
            DataOutShape(offset: 16384, length: 8192, final: false, dataSN: 0, ttt: 0xB),
            DataOutShape(offset: 24576, length: 8192, final: true, dataSN: 1, ttt: 0xB),
        ])
        #expect(secondBurst.last?.data == data.getSlice(at: 24576, length: 8192))

        let done = harness.receive(harness.response(to: command.initiatorTaskTag, expCmdSN: Fixture.cmdSN + 1))
        guard case .succeedCommand(let promise, let result) = done else {
            Issue.record("the write did not complete: \(done)")
            return
        }
        #expect(promise == write.promise)
        #expect(result.status == 0 && result.data.readableBytes == 0)
    }

    @Test func anR2TBeyondMaxBurstLengthEndsTheConnection() throws {
        var harness = try ConnectionMachineHarness(answers: ["MaxBurstLength": "16384", "FirstBurstLength": "8192"])
        let write = harness.execute(Self.write(pattern(65536)))
        let command = try #require(writtenCommand(write.action))
        let action = harness.receive(Self.r2t(tag: command.initiatorTaskTag, ttt: 1, r2tSN: 0, offset: 8192, length: 16385, statSN: harness.statSN))
        let ended = try #require(closure(action))
        expectISCSIError(ended.error, .protocolViolation, .connection, "asks for 16385 bytes, more than MaxBurstLength 16384")
        #expect(ended.reportsLoss && ended.closesChannel)
    }

    /// ImmediateData=Yes with InitialR2T=Yes: only the immediate part goes unasked.
    @Test func immediateDataAloneWhenInitialR2TIsRequired() throws {
        var harness = try ConnectionMachineHarness(answers: ["MaxRecvDataSegmentLength": "8192", "InitialR2T": "Yes"])
        let data = pattern(12288)
        let write = harness.execute(Self.write(data))
        let command = try #require(writtenCommand(write.action))
        #expect(command.final)
        #expect(command.data == data.getSlice(at: 0, length: 8192))
        #expect(written(write.action).count == 1)
        let rest = harness.receive(Self.r2t(tag: command.initiatorTaskTag, ttt: 9, r2tSN: 0, offset: 8192, length: 4096, statSN: harness.statSN))
        #expect(shape(dataOuts(rest)) == [DataOutShape(offset: 8192, length: 4096, final: true, dataSN: 0, ttt: 9)])
    }

    @Test func anR2TForACommandWithoutDataEndsTheConnection() throws {
        var harness = try ConnectionMachineHarness()
        let read = harness.execute(.read(blocks: 1))
        let command = try #require(writtenCommand(read.action))
        let action = harness.receive(Self.r2t(tag: command.initiatorTaskTag, ttt: 1, r2tSN: 0, offset: 0, length: 512, statSN: harness.statSN))
        let ended = try #require(closure(action))
        expectISCSIError(ended.error, .protocolViolation, .connection, "sent an R2T for task 0x\(String(command.initiatorTaskTag, radix: 16)), which has no data to write")
        #expect(failsExactly(ended.failed, commands: [read.promise]))
    }
}
