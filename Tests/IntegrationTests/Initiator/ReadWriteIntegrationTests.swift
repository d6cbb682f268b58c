// Verified writes and reads through real targets: sizes across the burst limits, every
// ImmediateData/InitialR2T combination, deep queues, digests, and istgt.

import BlockDevice
import Foundation
import ISCSI
import NIOCore
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(4)))
struct ReadWriteIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:rw"
    static let lunSize: UInt64 = 96 << 20
    /// Small bursts so that modest sizes cross them: FirstBurstLength 64 KiB, MaxBurstLength 256 KiB,
    /// and a 64 KiB data segment limit on both sides.
    static let burstParameters: [TgtTargetParameter] = [
        .firstBurstLength(65536), .maxBurstLength(262_144), .maxRecvDataSegmentLength(65536),
    ]
    /// Sizes in bytes: one block, around FirstBurstLength, around MaxBurstLength, up to 16 MiB.
    static let sizes = [512, 4096, 65024, 65536, 66048, 262_144, 266_240, 1 << 20, 3 << 20 + 512, 16 << 20]

    private func proposal(segment: Int = 65536) -> OperationalProposal {
        var proposal = OperationalProposal()
        proposal.maxRecvDataSegmentLength = segment
        proposal.firstBurstLength = 65536
        proposal.maxBurstLength = 262_144
        return proposal
    }

    /// Writes each size at its own LBA, reads everything back, and checks the backing file too.
    private func writeAndVerifySizes(_ device: any BlockDevice, backingFile: String?, seed: UInt64) async throws {
        var lba: UInt64 = 0
        var placed: [(UInt64, ByteBuffer)] = []
        for (index, size) in Self.sizes.enumerated() {
            let data = TestPattern.bytes(seed: seed + UInt64(index), count: size)
            try await device.write(data, at: lba)
            placed.append((lba, data))
            lba += UInt64(size / 512) + 8
        }
        for (lba, data) in placed {
            let back = try await device.read(at: lba, blockCount: data.readableBytes / 512)
            #expect(back == data, "read back \(data.readableBytes) bytes at LBA \(lba)")
        }
        if let backingFile {
            let handle = try #require(FileHandle(forReadingAtPath: backingFile))
            defer { try? handle.close() }
            for (lba, data) in placed {
                try handle.seek(toOffset: lba * 512)
                let onDisk = try #require(try handle.read(upToCount: data.readableBytes))
                #expect(Array(onDisk) == Array(data.readableBytesView), "backing file at LBA \(lba)")
            }
        }
    }

    @Test(arguments: [(true, false), (true, true), (false, false), (false, true)])
    func everyImmediateDataInitialR2TCombination(immediateData: Bool, initialR2T: Bool) async throws {
        let spec = TgtTargetSpec(
            iqn: Self.iqn,
            luns: [.file(1, size: Self.lunSize)],
            parameters: Self.burstParameters + [.immediateData(immediateData), .initialR2T(initialR2T)]
        )
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            var ours = proposal()
            ours.immediateData = immediateData
            ours.initialR2T = initialR2T
            let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1), proposal: ours)
            let lun = try #require(device as? ISCSILUN)
            let negotiated = lun.session.negotiated
            // ImmediateData is AND-ed, InitialR2T OR-ed: both sides agree here, so the result is exact.
            #expect(negotiated.immediateData == immediateData)
            #expect(negotiated.initialR2T == initialR2T)
            #expect(negotiated.firstBurstLength == 65536)
            #expect(negotiated.maxBurstLength == 262_144)
            try await writeAndVerifySizes(device, backingFile: tgt.target(Self.iqn)?.lun(1)?.backingFile, seed: 100)
            try await device.close()
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func digests(header: Bool, data: Bool) async throws {
        var parameters: [TgtTargetParameter] = []
        if header { parameters.append(.headerDigest(.crc32c)) }
        if data { parameters.append(.dataDigest(.crc32c)) }
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 32 << 20)], parameters: parameters)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            var ours = OperationalProposal()
            if header { ours.headerDigests = [.crc32c] }
            if data { ours.dataDigests = [.crc32c] }
            let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1), proposal: ours)
            let lun = try #require(device as? ISCSILUN)
            #expect(lun.session.negotiated.headerDigest == (header ? .crc32c : .none))
            #expect(lun.session.negotiated.dataDigest == (data ? .crc32c : .none))
            let payload = TestPattern.bytes(seed: 5, count: 3 << 20)
            try await device.write(payload, at: 2048)
            #expect(try await device.read(at: 2048, blockCount: (3 << 20) / 512) == payload)
            try await device.close()
        }
    }

    @Test(arguments: [1, 8, 64, 256])
    func queueDepth(_ depth: Int) async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: Self.lunSize)], parameters: Self.burstParameters)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1), proposal: proposal())
            // 512 I/Os of 4 KiB to 64 KiB at distinct offsets, `depth` at a time.
            let count = 512
            let slot = 64 << 10
            @Sendable func size(_ index: Int) -> Int { 4096 * (1 + index % 16) }
            try await runBounded(count: count, depth: depth) { index in
                try await device.write(TestPattern.bytes(seed: UInt64(depth * 10_000 + index), count: size(index)), at: UInt64(index * slot / 512))
            }
            try await runBounded(count: count, depth: depth) { index in
                let back = try await device.read(at: UInt64(index * slot / 512), blockCount: size(index) / 512)
                #expect(back == TestPattern.bytes(seed: UInt64(depth * 10_000 + index), count: size(index)), "I/O \(index)")
            }
            try await device.close()
        }
    }

    /// Runs `body(0..<count)` with at most `depth` calls in flight.
    private func runBounded(count: Int, depth: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(depth, count) {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            while try await group.next() != nil {
                if next < count {
                    let index = next
                    group.addTask { try await body(index) }
                    next += 1
                }
            }
        }
    }

    @Test func istgtVerifiedReadWrite() async throws {
        let iqn = "iqn.2026-11.org.vdiskd.test:istgt-rw"
        let spec = IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: Self.lunSize)])
        try await withIstgt(IstgtConfiguration(targets: [spec])) { istgt in
            let device = try await InitiatorEngine.native.open(istgt.url(iqn, lun: 0))
            #expect(device.capabilities.contains(.compareAndWrite))
            try await writeAndVerifySizes(device, backingFile: istgt.target(iqn)?.lun(0)?.backingFile, seed: 300)
            try await device.close()
        }
    }
}
