// COMPARE AND WRITE across a dropped connection, scripted on the fake target acting as a
// tiny disk: the connection drops after the target applied it, or before; the LUN must
// report success once, never a false miscompare, and never apply it twice.

import BlockDevice
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import NIOCore
import SCSI
import Testing

@Suite struct LUNCompareAndWriteRecoveryTests {
    /// When the scripted target drops the connection under the test's COMPARE AND WRITE.
    enum Drop: Sendable {
        /// Applies it, then closes without answering.
        case afterApplying
        /// Closes without applying it.
        case beforeApplying
    }

    /// A 1 MiB disk of 512-byte blocks shared by every connection, that drops one COMPARE AND WRITE.
    final class Disk: Sendable {
        static let blockSize = 512
        let blocks = NIOLockedValueBox([UInt64: [UInt8]]())
        /// COMPARE AND WRITE commands seen (the LUN's open probe sends the first).
        let compareAndWrites = NIOLockedValueBox(0)
        /// Which COMPARE AND WRITE (1-based) to drop, and how.
        let drop: (number: Int, how: Drop)?

        init(drop: (number: Int, how: Drop)?) { self.drop = drop }

        func block(_ lba: UInt64) -> [UInt8] { blocks.withLockedValue { $0[lba] } ?? [UInt8](repeating: 0, count: Self.blockSize) }

        var script: FakeTarget.Script {
            { pdu, connection in
                guard case .scsiCommand(let command) = pdu else { return connection.respondNormally(to: pdu) }
                self.answer(command, on: connection)
            }
        }

        private func answer(_ command: SCSICommand, on connection: FakeTargetConnection) {
            let cdb = command.cdb
            let lba = cdb.count >= 10 ? cdb[2..<10].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : 0
            switch cdb.first {
            case OperationCode.serviceActionIn16.rawValue:
                let capacity = ReadCapacity16Data(blockCount: 2048, blockLength: UInt32(Self.blockSize), provisioningManagementEnabled: false, provisioningReadZeros: false)
                dataIn(command, capacity.encoded(), on: connection)
            case OperationCode.read16.rawValue:
                let count = UInt64(cdb[13]) | UInt64(cdb[12]) << 8 | UInt64(cdb[11]) << 16 | UInt64(cdb[10]) << 24
                dataIn(command, (0..<count).flatMap { block(lba + $0) }, on: connection)
            case OperationCode.compareAndWrite.rawValue:
                let number = compareAndWrites.withLockedValue { count in
                    count += 1
                    return count
                }
                let bytes = Array(command.data.readableBytesView)
                let expected = Array(bytes[0..<Self.blockSize]), replacement = Array(bytes[Self.blockSize...])
                if let drop, drop.number == number {
                    if drop.how == .afterApplying, block(lba) == expected { blocks.withLockedValue { $0[lba] = replacement } }
                    connection.close()
                    return
                }
                guard block(lba) == expected else {
                    return checkCondition(command, SenseData(senseKey: .miscompare, additionalSenseCode: .miscompareDuringVerifyOperation, information: 0), on: connection)
                }
                blocks.withLockedValue { $0[lba] = replacement }
                good(command, on: connection)
            case OperationCode.maintenanceIn.rawValue:
                // No REPORT SUPPORTED OPERATION CODES, as istgt: the LUN probes COMPARE AND WRITE itself.
                checkCondition(command, SenseData(senseKey: .illegalRequest, additionalSenseCode: .invalidCommandOperationCode), on: connection)
            case _ where command.read:
                dataIn(command, [UInt8](repeating: 0, count: Int(command.expectedDataTransferLength)), on: connection)
            default:
                good(command, on: connection)
            }
        }

        private func checkCondition(_ command: SCSICommand, _ sense: SenseData, on connection: FakeTargetConnection) {
            let bytes = sense.encoded()
            var data = ByteBuffer()
            data.writeInteger(UInt16(bytes.count))
            data.writeBytes(bytes)
            connection.send(.scsiResponse(SCSIResponse(status: SCSIStatus.checkCondition.rawValue, initiatorTaskTag: command.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0, data: data)))
        }

        private func good(_ command: SCSICommand, on connection: FakeTargetConnection) {
            connection.send(.scsiResponse(SCSIResponse(status: 0, initiatorTaskTag: command.initiatorTaskTag, statSN: 0, expCmdSN: 0, maxCmdSN: 0)))
        }

        private func dataIn(_ command: SCSICommand, _ bytes: [UInt8], on connection: FakeTargetConnection) {
            connection.send(.dataIn(DataIn(
                final: true, statusPresent: true, status: 0, initiatorTaskTag: command.initiatorTaskTag,
                expCmdSN: 0, maxCmdSN: 0, dataSN: 0, bufferOffset: 0, data: ByteBuffer(bytes: bytes)
            )))
        }
    }

    static let old = ByteBuffer(bytes: [UInt8](repeating: 0xAA, count: Disk.blockSize))
    static let new = ByteBuffer(bytes: [UInt8](repeating: 0x55, count: Disk.blockSize))

    /// Opens the LUN on the fake disk (holding `old` at LBA 5) and runs `body`.
    static func withLUN(_ disk: Disk, _ body: (ISCSILUN) async throws -> Void) async throws {
        disk.blocks.withLockedValue { $0[5] = Array(old.readableBytesView) }
        try await FakeTarget.run(script: disk.script) { fake in
            var settings = fake.configuration()
            settings.recoveryTimeout = .seconds(5)
            let configuration = settings
            let url = ISCSITargetURL(endpoint: ISCSIEndpoint(host: fake.portal.host, port: fake.portal.port), targetName: FakeTarget.targetName, lun: 0)
            let lun = try await BoundedWait.run("opening the LUN", within: BoundedWait.hangGuard) {
                try await ISCSILUN.connect(url, configuration: configuration)
            }
            #expect(lun.capabilities.contains(.compareAndWrite))
            try await body(lun)
            try await lun.close()
        }
    }

    /// Landed before the drop: reported once, not resent (the probe's and the dropped one reach
    /// the target). Lost before it landed: sent again (three reach it). Both succeed exactly once.
    @Test(arguments: [(Drop.afterApplying, 2), (Drop.beforeApplying, 3)])
    func aDroppedCompareAndWriteSucceedsOnce(drop: Drop, commandsAtTarget: Int) async throws {
        let disk = Disk(drop: (number: 2, how: drop))
        try await Self.withLUN(disk) { lun in
            try await BoundedWait.run("the COMPARE AND WRITE", within: BoundedWait.hangGuard) {
                try await lun.compareAndWrite(at: 5, expected: Self.old, replacement: Self.new)
            }
            #expect(lun.reconnections == 1)
            #expect(disk.block(5) == Array(Self.new.readableBytesView))
            #expect(disk.compareAndWrites.withLockedValue { $0 } == commandsAtTarget)
        }
    }

    @Test func aRealMiscompareAcrossTheDropIsStillReported() async throws {
        let disk = Disk(drop: (number: 2, how: .beforeApplying))
        try await Self.withLUN(disk) { lun in
            // Someone else's data is there: neither what we expect nor what we write.
            let other = [UInt8](repeating: 0x77, count: Disk.blockSize)
            disk.blocks.withLockedValue { $0[5] = other }
            let error = try await BoundedWait.error("the COMPARE AND WRITE", within: BoundedWait.hangGuard) {
                try await lun.compareAndWrite(at: 5, expected: Self.old, replacement: Self.new)
            }
            #expect((error as? BlockDeviceError)?.code == .miscompare, "\(error)")
            #expect(disk.block(5) == other)
            #expect(lun.reconnections == 1)
        }
    }
}
