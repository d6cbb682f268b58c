// Proves TestSupport's LIO guest harness: what libiscsi's own clients see of the suite guest
// (sizes, identity, thin provisioning, every target), the cached image outside the clone, the
// configfs request channel and its refusals, and the bounded failures: a guest that cannot
// boot in time, and a target whose port never answers a login.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(10)))
struct LIOHarnessTests {
    @Test func suiteGuestServesEveryTargetAsConfigured() async throws {
        try await LIOSuiteGuest.with { lio in
            let plain = LIOSuiteGuest.iqn("plain")
            let inquiry = try await LibISCSIClient.inquiry(lio.url(plain, lun: 0))
            #expect(inquiry.succeeded, "\(inquiry)")
            #expect(inquiry.stdout.contains("Vendor:LIO-ORG"), "\(inquiry.stdout)")
            #expect(try await LibISCSIClient.capacity(lio.url(plain, lun: 0)) == 64 << 20)
            let pool = LIOSuiteGuest.iqn(LIOSuiteGuest.datastoreTarget)
            #expect(try await LibISCSIClient.capacity(lio.url(pool, lun: LIOSuiteGuest.datastoreLUNs - 1)) == LIOSuiteGuest.datastoreLUNSize)

            // The image lives in the cache, not in the clone or the scratch directory.
            #expect(FileManager.default.fileExists(atPath: lio.image.kernel))
            #expect(!lio.image.kernel.hasPrefix(lio.directory.path))
            #expect(!lio.image.kernel.hasPrefix(FileManager.default.currentDirectoryPath))
            #expect(lio.image.kernelVersion.hasSuffix("-amd64"), "\(lio.image.kernelVersion)")

            // Every LUN sits on its own sparse file in the scratch directory.
            for target in lio.targets {
                for lun in target.luns {
                    let file = try #require(lun.backingFile)
                    #expect(file.hasPrefix(lio.directory.path))
                }
            }
            // The configured serial and thin provisioning are what LIO reports.
            let backstore = "core/iblock_0/t1-lun0"
            #expect(try await lio.readConfigfs("\(backstore)/attrib/emulate_tpu") == "1")
            #expect(try await lio.readConfigfs("\(backstore)/wwn/vpd_unit_serial").contains(LIOTarget.unitSerial(iqn: plain, lun: 0)))
        }
    }

    /// A refused configfs change names the path and what the kernel said; the guest goes on
    /// serving requests afterwards.
    @Test func refusedConfigfsChangesAreClearErrors() async throws {
        try await LIOSuiteGuest.with { lio in
            let path = "iscsi/\(LIOSuiteGuest.iqn("plain"))/tpgt_1/attrib/authentication"
            let refused = await #expect(throws: TestSupportError.self) { try await lio.writeConfigfs("banana", to: path) }
            #expect(refused?.message.contains(path) == true, "\(String(describing: refused))")
            #expect(refused?.message.contains("failed") == true)
            let missing = await #expect(throws: TestSupportError.self) { try await lio.readConfigfs("core/no-such-hba/attrib") }
            #expect(missing?.message.contains("core/no-such-hba/attrib") == true, "\(String(describing: missing))")
            let outside = await #expect(throws: TestSupportError.self) { try await lio.readConfigfs("../../../etc/passwd") }
            #expect(outside?.message.contains("leaves configfs") == true, "\(String(describing: outside))")
            let unchanged = try await lio.readConfigfs(path)
            #expect(unchanged == "0")
        }
    }

    /// A boot that cannot finish in time ends in one error naming the boot, QEMU by PID gone.
    @Test func aGuestThatDoesNotBootInTimeFailsPromptly() async throws {
        let spec = LIOTargetSpec(iqn: "iqn.2026-12.org.vdiskd.test.lio-harness:slow", luns: [.file(0, size: 1 << 20)])
        let started = ContinuousClock.now
        let error = await #expect(throws: TestSupportError.self) {
            try await withLIO(LIOConfiguration(targets: [spec], bootTimeout: .seconds(1))) { _ in }
        }
        #expect(error?.code == .startFailed)
        #expect(error?.message.contains("did not boot") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(90), "the failure took \(ContinuousClock.now - started)")
    }

    /// A target with no network portal: the guest boots and takes its configuration, but no
    /// login through the forwarded port ever answers; the harness says so within its bound.
    @Test func aPortThatNeverAnswersALoginFailsWithinTheBound() async throws {
        let spec = LIOTargetSpec(iqn: "iqn.2026-12.org.vdiskd.test.lio-harness:deaf", luns: [.file(0, size: 1 << 20)], listens: false)
        let error = await #expect(throws: TestSupportError.self) {
            try await withLIO(LIOConfiguration(targets: [spec], loginTimeout: .seconds(8))) { _ in }
        }
        #expect(error?.code == .startFailed)
        #expect(error?.message.contains("no login") == true, "\(String(describing: error))")
        #expect(error?.message.contains("within 8") == true, "\(String(describing: error))")
    }

    @Test func invalidConfigurationsAreRefusedBeforeBooting() async throws {
        let mixedCase = LIOTargetSpec(iqn: "iqn.2026-12.org.vdiskd.test:MixedCase", luns: [.file(0, size: 1 << 20)])
        let error = await #expect(throws: TestSupportError.self) { try await LIOTarget.start(LIOConfiguration(targets: [mixedCase])) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("lower-case") == true)
        let noLUN = LIOTargetSpec(iqn: "iqn.2026-12.org.vdiskd.test:empty", luns: [])
        await #expect(throws: TestSupportError.self) { try await LIOTarget.start(LIOConfiguration(targets: [noLUN])) }
    }
}
