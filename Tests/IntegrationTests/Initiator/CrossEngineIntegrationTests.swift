// The engines checked against each other: data written through one reads back identical
// through the other, and the same SCSI failure gives the same BlockDeviceError code.

import BlockDevice
import NIOCore
import SCSI
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(2)))
struct CrossEngineIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:cross"
    static let sizes = [4096, 1 << 20 + 512, 16 << 20]
    static let directions: [(writer: InitiatorEngine, reader: InitiatorEngine)] = [(.native, .libiscsi), (.libiscsi, .native)]

    /// Both directions on one daemon: the writer writes every size (FUA) and closes; the
    /// reader opens a new session and must read the same bytes, as must the backing file.
    @Test(arguments: TargetKind.allCases)
    func writeThroughOneEngineReadsBackThroughTheOther(kind: TargetKind) async throws {
        try await kind.with([(Self.iqn, nil)], lunSize: 64 << 20) { daemon in
            let url = daemon.url(Self.iqn, lun: kind.lun)
            var lba: UInt64 = 0
            for (index, direction) in Self.directions.enumerated() {
                let context = "\(kind): written by \(direction.writer), read by \(direction.reader)"
                var placed: [(UInt64, ByteBuffer)] = []
                let writer = try await direction.writer.open(url)
                for (sizeIndex, size) in Self.sizes.enumerated() {
                    let data = TestPattern.bytes(seed: UInt64(1000 * (index + 1) + sizeIndex), count: size)
                    try await writer.write(data, at: lba, fua: true)
                    placed.append((lba, data))
                    lba += UInt64(size / 512) + 8
                }
                try await writer.close()

                let reader = try await direction.reader.open(url)
                for (at, data) in placed {
                    let back = try await reader.read(at: at, blockCount: data.readableBytes / 512)
                    #expect(back == data, "\(context): \(data.readableBytes) bytes at LBA \(at)")
                }
                try await reader.close()
                if let file = daemon.target(Self.iqn)?.lun(kind.lun)?.backingFile {
                    try VerifiedIO.expectOnDisk(placed, in: file, context: context)
                }
            }
        }
    }

    /// Raw commands the target itself refuses, sent through each engine's passthrough
    /// (so no range check of ours intervenes): the codes must agree and be the expected ones.
    @Test(arguments: TargetKind.allCases)
    func sameSCSIFailureGivesTheSameCodeOnBothEngines(kind: TargetKind) async throws {
        try await kind.with([(Self.iqn, nil)], lunSize: 8 << 20) { daemon in
            let url = daemon.url(Self.iqn, lun: kind.lun)
            var devices: [(InitiatorEngine, any SCSIPassthrough)] = []
            for engine in InitiatorEngine.allCases {
                let device = try #require(try await engine.open(url) as? any SCSIPassthrough, "\(engine) has a passthrough")
                devices.append((engine, device))
            }
            let end = devices[0].1.geometry.blockCount
            // istgt 0.4 answers a READ past the end with CHECK CONDITION but no sense data, which
            // leaves nothing to classify by: both engines must then agree on `.deviceError`.
            let failures: [(what: String, cdb: [UInt8], dataIn: Int, expected: BlockDeviceError.Code, senseKey: SenseKey?)] = [
                ("READ(16) past the end", CDB.read16(lba: end, blockCount: 1), 512, kind == .tgt ? .outOfRange : .deviceError, kind == .tgt ? .illegalRequest : nil),
                ("an opcode nobody implements", [0xFE, 0, 0, 0, 0, 0], 0, .notSupported, .illegalRequest),
            ]
            for failure in failures {
                var codes: [InitiatorEngine: BlockDeviceError.Code] = [:]
                for (engine, device) in devices {
                    let context = "\(engine) on \(kind), \(failure.what)"
                    do {
                        _ = try await device.passthrough(failure.cdb, name: failure.what, dataOut: nil, dataInLength: failure.dataIn)
                        Issue.record("\(context) must fail")
                    } catch let error as BlockDeviceError {
                        codes[engine] = error.code
                        let scsi = error.underlying as? SCSICommandError
                        #expect(scsi?.status == .checkCondition, "\(context): \(error)")
                        #expect(scsi?.senseKey == failure.senseKey, "\(context): \(error)")
                    }
                }
                #expect(codes[.native] == failure.expected, "\(kind): \(failure.what) on native")
                #expect(
                    codes[.native] == codes[.libiscsi],
                    "\(kind): \(failure.what): native \(String(describing: codes[.native])), libiscsi \(String(describing: codes[.libiscsi]))"
                )
            }
            // A good command through the same path returns its data on both.
            for (engine, device) in devices {
                let inquiry = try await device.passthrough(CDB.inquiry(allocationLength: 96), name: "INQUIRY", dataOut: nil, dataInLength: 96)
                #expect(try StandardInquiryData(parsing: Array(inquiry.readableBytesView)).peripheralDeviceType == .directAccessBlock, "\(engine) on \(kind)")
                try await device.close()
            }
        }
    }
}
}
