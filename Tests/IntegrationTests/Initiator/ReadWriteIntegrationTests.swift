// Verified writes and reads through real targets on both engines: sizes across the burst limits
// under every ImmediateData/InitialR2T combination, digests, queue depths 1 to 256, tgt and istgt.

import BlockDevice
import ISCSI
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(4)))
struct ReadWriteIntegrationTests {
    static let lunSize: UInt64 = 64 << 20

    /// Target-side limits matching `InitiatorOffer.smallBursts`: FirstBurstLength 64 KiB,
    /// MaxBurstLength 256 KiB, 64 KiB data segments.
    static let burstParameters: [TgtTargetParameter] = [
        .firstBurstLength(65536), .maxBurstLength(262_144), .maxRecvDataSegmentLength(65536),
    ]

    static let immediateDataInitialR2T = [(true, false), (true, true), (false, false), (false, true)]

    /// One tgtd with a target per combination, each forcing it on the target side; the
    /// engine offers the same. ImmediateData is AND-ed and InitialR2T OR-ed, so with both
    /// sides agreeing the result is exact whatever the engine would offer by default.
    @Test(arguments: InitiatorEngine.allCases)
    func sizesAcrossBurstsInEveryImmediateDataInitialR2TCombination(engine: InitiatorEngine) async throws {
        let specs = Self.immediateDataInitialR2T.map { immediateData, initialR2T in
            TgtTargetSpec(
                iqn: Self.iqn(immediateData: immediateData, initialR2T: initialR2T),
                luns: [.file(1, size: Self.lunSize)],
                parameters: Self.burstParameters + [.immediateData(immediateData), .initialR2T(initialR2T)]
            )
        }
        try await withTgt(TgtConfiguration(targets: specs)) { tgt in
            for (immediateData, initialR2T) in Self.immediateDataInitialR2T {
                let iqn = Self.iqn(immediateData: immediateData, initialR2T: initialR2T)
                let context = "\(engine), ImmediateData=\(immediateData), InitialR2T=\(initialR2T)"
                let offer = InitiatorOffer(immediateData: immediateData, initialR2T: initialR2T, bursts: InitiatorOffer.smallBursts)
                let device = try await engine.open(tgt.url(iqn, lun: 1), offer: offer)
                if let negotiated = engine.negotiated(device) {
                    #expect(negotiated.immediateData == immediateData, "\(context)")
                    #expect(negotiated.initialR2T == initialR2T, "\(context)")
                    #expect(negotiated.firstBurstLength == 65536, "\(context)")
                    #expect(negotiated.maxBurstLength == 262_144, "\(context)")
                }
                try await VerifiedIO.writeAndVerifySizes(
                    device,
                    backingFile: tgt.target(iqn)?.lun(1)?.backingFile,
                    context: context
                )
                try await device.close()
            }
        }
    }

    static func iqn(immediateData: Bool, initialR2T: Bool) -> String {
        "iqn.2026-11.org.vdiskd.test:rw-id\(immediateData ? 1 : 0)-ir2t\(initialR2T ? 1 : 0)"
    }

    /// Header and data digests as far as the engine has them (libiscsi: header only),
    /// each forced by its own target so that only the digested login can succeed.
    @Test(arguments: InitiatorEngine.allCases)
    func digests(engine: InitiatorEngine) async throws {
        let combinations = [(false, false), (true, false), (false, true), (true, true)]
            .filter { _, data in !data || engine.supportsDataDigest }
        let specs = combinations.map { header, data in
            var parameters: [TgtTargetParameter] = []
            if header { parameters.append(.headerDigest(.crc32c)) }
            if data { parameters.append(.dataDigest(.crc32c)) }
            return TgtTargetSpec(iqn: Self.iqn(header: header, data: data), luns: [.file(1, size: 16 << 20)], parameters: parameters)
        }
        try await withTgt(TgtConfiguration(targets: specs)) { tgt in
            for (header, data) in combinations {
                let context = "\(engine), header digest \(header), data digest \(data)"
                let device = try await engine.open(
                    tgt.url(Self.iqn(header: header, data: data), lun: 1),
                    offer: InitiatorOffer(headerDigest: header, dataDigest: data)
                )
                if let negotiated = engine.negotiated(device) {
                    #expect(negotiated.headerDigest == (header ? .crc32c : .none), "\(context)")
                    #expect(negotiated.dataDigest == (data ? .crc32c : .none), "\(context)")
                }
                let payload = TestPattern.bytes(seed: 5, count: 3 << 20)
                try await device.write(payload, at: 2048)
                #expect(try await device.read(at: 2048, blockCount: (3 << 20) / 512) == payload, "\(context)")
                try await device.close()
            }
        }
    }

    static func iqn(header: Bool, data: Bool) -> String {
        "iqn.2026-11.org.vdiskd.test:digest-h\(header ? 1 : 0)-d\(data ? 1 : 0)"
    }

    static let queueDepths = [1, 8, 64, 256]
    static let ioCount = 512
    static let slot = 32 << 10
    /// 4 KiB to 32 KiB, so a deep queue mixes sizes.
    static func ioSize(_ index: Int) -> Int { 4096 * (1 + index % 8) }
    /// One pattern for every depth, cut into one slot per I/O; each depth gets a region of its own,
    /// so no data written at another depth, or at another slot, can pass for the right one.
    static let depthPattern = TestPattern.bytes(seed: 77, count: ioCount * slot)

    /// `ioCount` I/Os at distinct offsets, `depth` at a time, for each depth on one session:
    /// writes first, then reads verified against what was written.
    @Test(arguments: InitiatorEngine.allCases, TargetKind.allCases)
    func queueDepths(engine: InitiatorEngine, kind: TargetKind) async throws {
        let iqn = "iqn.2026-11.org.vdiskd.test:qd"
        let region = UInt64(Self.ioCount * Self.slot / 512)
        try await kind.with([(iqn, nil)], lunSize: region * 512 * UInt64(Self.queueDepths.count)) { daemon in
            let offer = kind == .tgt ? InitiatorOffer(bursts: InitiatorOffer.smallBursts) : InitiatorOffer()
            let device = try await engine.open(daemon.url(iqn, lun: kind.lun), offer: offer)
            for (depthIndex, depth) in Self.queueDepths.enumerated() {
                @Sendable func lba(_ index: Int) -> UInt64 { region * UInt64(depthIndex) + UInt64(index * Self.slot / 512) }
                @Sendable func data(_ index: Int) -> ByteBuffer {
                    Self.depthPattern.getSlice(at: index * Self.slot, length: Self.ioSize(index))!
                }
                try await VerifiedIO.runBounded(count: Self.ioCount, depth: depth) { index in
                    try await device.write(data(index), at: lba(index))
                }
                try await VerifiedIO.runBounded(count: Self.ioCount, depth: depth) { index in
                    let back = try await device.read(at: lba(index), blockCount: Self.ioSize(index) / 512)
                    #expect(back == data(index), "\(engine) on \(kind), depth \(depth), I/O \(index)")
                }
            }
            try await device.close()
        }
    }

    /// istgt's own limits (256 KiB FirstBurstLength, 1 MiB MaxBurstLength) with the
    /// same sizes; istgt also has COMPARE AND WRITE, which both engines must find.
    @Test(arguments: InitiatorEngine.allCases)
    func istgtSizes(engine: InitiatorEngine) async throws {
        let iqn = "iqn.2026-11.org.vdiskd.test:istgt-rw"
        try await TargetKind.istgt.with([(iqn, nil)], lunSize: Self.lunSize) { istgt in
            let device = try await engine.open(istgt.url(iqn, lun: 0))
            #expect(device.capabilities.contains(.compareAndWrite))
            try await VerifiedIO.writeAndVerifySizes(
                device,
                backingFile: istgt.target(iqn)?.lun(0)?.backingFile,
                context: "\(engine) on istgt"
            )
            try await device.close()
        }
    }
}
}
