// Verified writes and reads through LIO on both engines (the libiscsi engine is the
// cross-check): 512 B to 16 MiB under each ImmediateData/InitialR2T setting LIO forces,
// header and data digests, and queue depths 1 to 64.

import BlockDevice
import ISCSI
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(10)))
struct LIOReadWriteIntegrationTests {
    /// Each `rw-…` target forces one combination in its TPG parameters, and the engine offers the
    /// same, so the negotiated result is exact. The two engines use separate halves of the LUN.
    @Test(arguments: InitiatorEngine.allCases)
    func sizesInEveryImmediateDataInitialR2TCombination(engine: InitiatorEngine) async throws {
        try await LIOSuiteGuest.with { lio in
            for (immediateData, initialR2T) in LIOSuiteGuest.immediateDataInitialR2T {
                let iqn = LIOSuiteGuest.iqn(LIOSuiteGuest.rwName(immediateData: immediateData, initialR2T: initialR2T))
                let context = "\(engine) on LIO, ImmediateData=\(immediateData), InitialR2T=\(initialR2T)"
                let offer = InitiatorOffer(immediateData: immediateData, initialR2T: initialR2T, bursts: InitiatorOffer.smallBursts)
                let device = try await engine.open(lio.url(iqn, lun: 0), offer: offer)
                if let negotiated = engine.negotiated(device) {
                    #expect(negotiated.immediateData == immediateData, "\(context)")
                    #expect(negotiated.initialR2T == initialR2T, "\(context)")
                    #expect(negotiated.firstBurstLength == 65536, "\(context)")
                    #expect(negotiated.maxBurstLength == 262_144, "\(context)")
                }
                try await VerifiedIO.writeAndVerifySizes(
                    device,
                    firstLBA: engine == .native ? 0 : (24 << 20) / 512,
                    backingFile: lio.target(iqn)?.lun(0)?.backingFile,
                    context: context
                )
                try await device.close()
            }
        }
    }

    /// Each `digest-…` target forces its digests, so only a login that digests can succeed.
    @Test(arguments: InitiatorEngine.allCases)
    func digests(engine: InitiatorEngine) async throws {
        try await LIOSuiteGuest.with { lio in
            for (header, data) in LIOSuiteGuest.digestCombinations where !data || engine.supportsDataDigest {
                let iqn = LIOSuiteGuest.iqn(LIOSuiteGuest.digestName(header: header, data: data))
                let context = "\(engine) on LIO, header digest \(header), data digest \(data)"
                let device = try await engine.open(lio.url(iqn, lun: 0), offer: InitiatorOffer(headerDigest: header, dataDigest: data))
                if let negotiated = engine.negotiated(device) {
                    #expect(negotiated.headerDigest == (header ? .crc32c : .none), "\(context)")
                    #expect(negotiated.dataDigest == (data ? .crc32c : .none), "\(context)")
                }
                let payload = TestPattern.bytes(seed: 9, count: 3 << 20)
                let lba: UInt64 = engine == .native ? 0 : (8 << 20) / 512
                try await device.write(payload, at: lba)
                #expect(try await device.read(at: lba, blockCount: (3 << 20) / 512) == payload, "\(context)")
                try await device.close()
            }
        }
    }

    static let queueDepths = [1, 8, 64]
    static let ioCount = 256
    static let slot = 32 << 10
    static func ioSize(_ index: Int) -> Int { 4096 * (1 + index % 8) }
    static let depthPattern = TestPattern.bytes(seed: 78, count: ioCount * slot)

    /// `ioCount` I/Os at distinct offsets, `depth` at a time, writes then verified reads, for
    /// each depth on one session; each engine and depth has a region of its own.
    @Test(arguments: InitiatorEngine.allCases)
    func queueDepths(engine: InitiatorEngine) async throws {
        try await LIOSuiteGuest.with { lio in
            let iqn = LIOSuiteGuest.iqn("qd")
            let region = UInt64(Self.ioCount * Self.slot / 512)
            let base = engine == .native ? 0 : region * UInt64(Self.queueDepths.count)
            let device = try await engine.open(lio.url(iqn, lun: 0), offer: InitiatorOffer(bursts: InitiatorOffer.smallBursts))
            for (depthIndex, depth) in Self.queueDepths.enumerated() {
                @Sendable func lba(_ index: Int) -> UInt64 { base + region * UInt64(depthIndex) + UInt64(index * Self.slot / 512) }
                @Sendable func data(_ index: Int) -> ByteBuffer {
                    Self.depthPattern.getSlice(at: index * Self.slot, length: Self.ioSize(index))!
                }
                try await VerifiedIO.runBounded(count: Self.ioCount, depth: depth) { index in
                    try await device.write(data(index), at: lba(index))
                }
                try await VerifiedIO.runBounded(count: Self.ioCount, depth: depth) { index in
                    let back = try await device.read(at: lba(index), blockCount: Self.ioSize(index) / 512)
                    #expect(back == data(index), "\(engine) on LIO, depth \(depth), I/O \(index)")
                }
            }
            try await device.close()
        }
    }
}
}
