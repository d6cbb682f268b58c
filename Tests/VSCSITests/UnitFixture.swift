// A logical unit over a sparse image file, with helpers to send CDBs as two nexuses.

import BlockDevice
import Foundation
import NIOCore
import SCSI
@testable import VSCSI
import TestSupport

/// One unit on a fresh temporary image; `a` and `b` are two I_T nexuses.
struct UnitFixture: Sendable {
    static let a = Nexus(initiatorPortName: "iqn.2024-01.test:a,i,0x000000000001", relativeTargetPort: 1)
    static let b = Nexus(initiatorPortName: "iqn.2024-01.test:b,i,0x000000000002", relativeTargetPort: 2)
    static let blockCount: UInt64 = 8192

    let directory: TemporaryDirectory
    let device: FileBlockDevice
    let unit: LogicalUnit

    init(
        blockSize: Int = 512,
        blockCount: UInt64 = UnitFixture.blockCount,
        options: LogicalUnitOptions = LogicalUnitOptions(thinProvisioned: true),
        registry: LogicalUnitRegistry? = nil,
        uuid: UUID = UUID(uuidString: "6F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0")!,
        directory: TemporaryDirectory = TemporaryDirectory(),
        statistics: IOStatistics? = nil
    ) throws {
        self.directory = directory
        device = try FileBlockDevice.create(
            path: directory.file("\(uuid.uuidString).img"), byteCount: blockCount * UInt64(blockSize), blockSize: blockSize
        )
        unit = LogicalUnit(
            device: device,
            identity: LogicalUnitIdentity(uuid: uuid, name: "test disk"),
            options: options,
            registry: registry,
            reportedLUNs: { [LUN(number: 0)!, LUN(number: 3)!] },
            statistics: statistics
        )
    }

    var blockSize: Int { device.geometry.blockSize }

    /// Sends a command; the default expected length lets all Data-In through.
    @discardableResult
    func run(
        _ cdb: [UInt8], data: [UInt8] = [], expected: Int = 1 << 24, nexus: Nexus = UnitFixture.a
    ) async -> SCSICommandResponse {
        await unit.execute(SCSICommandRequest(
            cdb: cdb, dataOut: ByteBuffer(bytes: data), expectedDataInLength: expected, nexus: nexus
        ))
    }

    /// Sends TEST UNIT READY until no unit attention is left for `nexus`.
    func clearUnitAttentions(_ nexus: Nexus = UnitFixture.a) async {
        for _ in 0..<16 {
            let response = await run(CDB.testUnitReady(), nexus: nexus)
            if response.senseData?.senseKey != .unitAttention { return }
        }
    }

    /// A block-sized pattern that differs per seed.
    func pattern(_ seed: UInt8, blocks: Int = 1) -> [UInt8] {
        (0..<(blocks * blockSize)).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0 &* 7) }
    }
}

extension SCSICommandResponse {
    var bytes: [UInt8] { Array(dataIn.readableBytesView) }
    var senseKey: SenseKey? { senseData?.senseKey }
    var asc: AdditionalSenseCode? { senseData?.additionalSenseCode }
    var fieldPointer: SenseKeySpecific? { senseData?.senseKeySpecific }
}
