// Write planning (immediate, unsolicited, R2T bursts), read assembly, the task table and keepalive timing.

import ISCSI
import NIOCore
import Testing

@Suite struct TransferPlanningTests {
    private func limits(immediate: Bool, initialR2T: Bool, first: Int = 65536, burst: Int = 262_144, segment: Int = 8192)
        -> TransferLimits
    {
        TransferLimits(
            immediateData: immediate,
            initialR2T: initialR2T,
            firstBurstLength: first,
            maxBurstLength: burst,
            maxSendDataSegmentLength: segment,
            maxRecvDataSegmentLength: 262_144,
            maxOutstandingR2T: 1
        )
    }

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func everyImmediateDataInitialR2TCombination(immediate: Bool, initialR2T: Bool) {
        let plan = WriteTransfer(totalLength: 100_000, limits: limits(immediate: immediate, initialR2T: initialR2T))
        #expect(plan.immediateLength == (immediate ? 8192 : 0))
        #expect(plan.unsolicitedEnd == (initialR2T ? plan.immediateLength : 65536))
        #expect(plan.commandIsFinal == (plan.unsolicitedEnd == plan.immediateLength))
        let segments = Array(plan.unsolicitedSegments)
        #expect(segments.map(\.length).reduce(0, +) == plan.unsolicitedEnd - plan.immediateLength)
        #expect(segments.allSatisfy { $0.length <= 8192 && $0.targetTransferTag == reservedTag })
        #expect(segments.map(\.dataSN) == Array(0..<UInt32(segments.count)))
        #expect(segments.last.map(\.final) ?? true)
        #expect(segments.dropLast().allSatisfy { !$0.final })
    }

    @Test func smallWriteFitsInTheCommand() {
        let plan = WriteTransfer(totalLength: 4096, limits: limits(immediate: true, initialR2T: false))
        #expect(plan.immediateLength == 4096)
        #expect(plan.unsolicitedEnd == 4096)
        #expect(plan.commandIsFinal)
        #expect(Array(plan.unsolicitedSegments).isEmpty)
    }

    @Test func r2tAnswersAreCutToTheSegmentLimit() throws {
        var plan = WriteTransfer(totalLength: 1 << 20, limits: limits(immediate: true, initialR2T: true))
        let r2t = ReadyToTransfer(
            initiatorTaskTag: 7, targetTransferTag: 0x55, statSN: 0, expCmdSN: 0, maxCmdSN: 0,
            r2tSN: 0, bufferOffset: 8192, desiredDataTransferLength: 20_000
        )
        let segments = Array(try plan.answer(r2t))
        #expect(segments.map(\.length) == [8192, 8192, 3616])
        #expect(segments.map(\.bufferOffset) == [8192, 16384, 24576])
        #expect(segments.map(\.final) == [false, false, true])
        #expect(segments.allSatisfy { $0.targetTransferTag == 0x55 })
        #expect(segments.map(\.dataSN) == [0, 1, 2])
    }

    @Test func badR2TsAreProtocolViolations() {
        var plan = WriteTransfer(totalLength: 65536, limits: limits(immediate: false, initialR2T: true))
        func r2t(_ sn: UInt32, _ offset: UInt32, _ length: UInt32) -> ReadyToTransfer {
            ReadyToTransfer(
                initiatorTaskTag: 1, targetTransferTag: 2, statSN: 0, expCmdSN: 0, maxCmdSN: 0,
                r2tSN: sn, bufferOffset: offset, desiredDataTransferLength: length
            )
        }
        #expect(violation(&plan, r2t(0, 60000, 10000)) == .protocolViolation)  // past the end
        #expect(violation(&plan, r2t(0, 0, 0)) == .protocolViolation)  // empty
        var big = WriteTransfer(totalLength: 1 << 20, limits: limits(immediate: false, initialR2T: true))
        #expect(violation(&big, r2t(0, 0, 300_000)) == .protocolViolation)  // over MaxBurstLength
        #expect(violation(&plan, r2t(3, 0, 4096)) == nil)
        #expect(violation(&plan, r2t(3, 4096, 4096)) == .protocolViolation)  // R2TSN not advancing
    }

    private func violation(_ plan: inout WriteTransfer, _ r2t: ReadyToTransfer) -> ISCSIError.Code? {
        do {
            _ = try plan.answer(r2t)
            return nil
        } catch {
            return error.code
        }
    }

    private func dataIn(_ sn: UInt32, offset: UInt32, _ bytes: [UInt8]) -> DataIn {
        DataIn(
            final: false, initiatorTaskTag: 9, expCmdSN: 0, maxCmdSN: 0, dataSN: sn,
            bufferOffset: offset, data: ByteBuffer(bytes: bytes)
        )
    }

    @Test func readAssemblyJoinsPiecesInOrder() throws {
        var read = ReadAssembly(expectedLength: 10)
        try read.append(dataIn(0, offset: 0, [1, 2, 3, 4]), allocator: .init())
        try read.append(dataIn(1, offset: 4, [5, 6, 7, 8, 9, 10]), allocator: .init())
        #expect(read.receivedBytes == 10)
        #expect(Array(read.finish(length: 10).readableBytesView) == Array(1...10))
        #expect(Array(read.finish(length: 6).readableBytesView) == Array(1...6))
    }

    @Test func readAssemblyRejectsGapsOverrunsAndBadDataSN() {
        #expect(appendFails(expected: 8, dataIn(0, offset: 2, [1])))  // gap
        #expect(appendFails(expected: 4, dataIn(0, offset: 0, [1, 2, 3, 4, 5])))  // overrun
        #expect(appendFails(expected: 8, dataIn(1, offset: 0, [1])))  // DataSN skipped
        #expect(!appendFails(expected: 8, dataIn(0, offset: 0, [1])))
    }

    private func appendFails(expected: Int, _ pdu: DataIn) -> Bool {
        var read = ReadAssembly(expectedLength: expected)
        do {
            try read.append(pdu, allocator: .init())
            return false
        } catch {
            return error.code == .protocolViolation
        }
    }

    @Test func taskTableReusesSlotsWithNewGenerations() throws {
        var table = TaskTable<String>()
        let insertedA = table.insert("a")
        let insertedB = table.insert("b")
        let a = try #require(insertedA)
        let b = try #require(insertedB)
        #expect(table[a] == "a" && table[b] == "b")
        #expect(table.remove(a) == "a")
        #expect(table[a] == nil)
        let insertedC = table.insert("c")
        let c = try #require(insertedC)
        #expect(c & 0xFFFF == a & 0xFFFF)  // same slot
        #expect(c != a)  // different tag
        #expect(table[a] == nil)  // the stale tag finds nothing
        table.modify(c) { $0 += "!" }
        #expect(table[c] == "c!")
        #expect(table.count == 2)
        #expect(table.removeAll().count == 2)
        #expect(table.count == 0)
    }

    @Test func keepalivePingsWhenIdleAndTimesOutWhenSilent() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var keepalive = KeepaliveStateMachine(interval: .seconds(5), timeout: .seconds(5), now: start)
        #expect(keepalive.tick(now: start + .seconds(1)) == .wait(until: start + .seconds(5)))
        #expect(keepalive.tick(now: start + .seconds(5)) == .sendPing(thenWaitUntil: start + .seconds(10)))
        #expect(keepalive.tick(now: start + .seconds(7)) == .wait(until: start + .seconds(10)))
        #expect(keepalive.tick(now: start + .seconds(10)) == .timedOut(silentFor: .seconds(10)))
    }

    @Test func anyTrafficKeepsTheConnectionAlive() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var keepalive = KeepaliveStateMachine(interval: .seconds(5), timeout: .seconds(5), now: start)
        #expect(keepalive.tick(now: start + .seconds(5)) == .sendPing(thenWaitUntil: start + .seconds(10)))
        keepalive.received(now: start + .seconds(6))
        #expect(keepalive.tick(now: start + .seconds(10)) == .wait(until: start + .seconds(11)))
        #expect(keepalive.tick(now: start + .seconds(11)) == .sendPing(thenWaitUntil: start + .seconds(16)))
    }
}
