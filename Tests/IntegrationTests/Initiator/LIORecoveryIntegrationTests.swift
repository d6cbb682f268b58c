// A LIO guest rebooted under a verified write load, on a guest of its own (the suite's shared
// guest must not go away under the other tests): the LUN recovers on its own within the
// recovery timeout and no acknowledged write is lost.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(15)))
struct LIORecoveryIntegrationTests {
    static let iqn = "iqn.2026-12.org.vdiskd.test.lio-reboot:recovery"
    /// A saturated 2-core machine boots the guest in about 90 s; an idle one in under 10 s.
    static let recoveryTimeout: TimeAmount = .seconds(400)

    @Test func rebootUnderLoadLosesNoAcknowledgedWrite() async throws {
        let spec = LIOTargetSpec(iqn: Self.iqn, luns: [.file(0, size: 64 << 20)])
        var guestPID: pid_t = 0
        try await withLIO(LIOConfiguration(targets: [spec])) { lio in
            guestPID = lio.pid
            var configuration = ISCSISessionConfiguration(
                portal: TargetPortal(host: lio.portal.host, port: lio.portal.port),
                targetName: Self.iqn,
                loginTimeout: .seconds(20),
                recoveryTimeout: Self.recoveryTimeout
            )
            configuration.connectTimeout = .seconds(10)
            let lun = try await ISCSILUN.connect(try ISCSITargetURL(parsing: lio.url(Self.iqn, lun: 0)), configuration: configuration)

            // The writer: 4 KiB stamped blocks at rising LBAs, bounded in count; each index is
            // recorded only after its write returned (acknowledged).
            let acknowledged = NIOLockedValueBox<[Int]>([])
            let stop = NIOLockedValueBox(false)
            @Sendable func block(_ index: Int) -> ByteBuffer { TestPattern.bytes(seed: 5000 + UInt64(index), count: 4096) }
            let writer = Task {
                for index in 0..<20_000 where !stop.withLockedValue({ $0 }) {
                    try await lun.write(block(index), at: UInt64(index) * 8)
                    acknowledged.withLockedValue { $0.append(index) }
                }
            }
            func count() -> Int { acknowledged.withLockedValue { $0.count } }
            func waitFor(_ wanted: Int, within limit: Duration) async -> Bool {
                let deadline = ContinuousClock.now.advanced(by: limit)
                while count() < wanted, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return count() >= wanted
            }
            #expect(await waitFor(20, within: .seconds(60)), "the load never started")
            let rebootStarted = ContinuousClock.now
            try await lio.reboot()
            let beforeRecovery = count()
            // The LUN finds the rebooted target by itself and the load goes on.
            let resumed = await waitFor(beforeRecovery + 20, within: .seconds(Int64(Self.recoveryTimeout.nanoseconds / 1_000_000_000)))
            stop.withLockedValue { $0 = true }
            try await writer.value
            #expect(resumed, "the load did not resume after the reboot")
            #expect(ContinuousClock.now - rebootStarted < .seconds(Int64(Self.recoveryTimeout.nanoseconds / 1_000_000_000)))
            #expect(lun.reconnections >= 1, "the LUN never noticed the reboot")

            let written = acknowledged.withLockedValue { $0 }
            for index in written {
                #expect(try await lun.read(at: UInt64(index) * 8, blockCount: 8) == block(index), "acknowledged write \(index) lost")
            }
            try VerifiedIO.expectOnDisk(written.map { (UInt64($0) * 8, block($0)) }, in: try #require(lio.target(Self.iqn)?.lun(0)?.backingFile), context: "after the reboot")
            try await lun.close()
        }
        // withLIO stopped QEMU by PID.
        #expect(kill(guestPID, 0) == -1 && errno == ESRCH, "QEMU \(guestPID) still runs")
    }
}
}
