// Logging in to LIO (the Linux kernel target, in the suite's QEMU guest) on both engines: no
// authentication, one-way and mutual CHAP, explicit ACLs, the refusals, and SendTargets
// discovery through a forwarded port.

import BlockDevice
import ISCSI
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(10)))
struct LIOLoginIntegrationTests {
    /// Each target of the guest logs in with its own credentials and moves verified data.
    @Test(arguments: InitiatorEngine.allCases)
    func noneOneWayAndMutualCHAP(engine: InitiatorEngine) async throws {
        try await LIOSuiteGuest.with { lio in
            for (index, name) in ["plain", "chap", "mutual"].enumerated() {
                let iqn = LIOSuiteGuest.iqn(name)
                let device = try await engine.open(lio.url(iqn, lun: 0))
                let data = TestPattern.bytes(seed: 31 + UInt64(index) + (engine == .native ? 0 : 10), count: 8192)
                let lba: UInt64 = engine == .native ? 64 : 128
                try await device.write(data, at: lba)
                #expect(try await device.read(at: lba, blockCount: 16) == data, "\(engine), \(name)")
                try await device.close()
                try VerifiedIO.expectOnDisk([(lba, data)], in: try #require(lio.target(iqn)?.lun(0)?.backingFile), context: "\(engine), \(name)")
            }
        }
    }

    @Test(arguments: InitiatorEngine.allCases)
    func refusals(engine: InitiatorEngine) async throws {
        try await LIOSuiteGuest.with { lio in
            let chap = LIOSuiteGuest.iqn("chap")
            let mutual = LIOSuiteGuest.iqn("mutual")
            let wrongSecret = CHAPAuthentication.oneWay(user: "alice", secret: "not-the-secret-00")
            await expectRefused(engine, "wrong secret", naming: "authentication") {
                try await engine.open(lio.portal.libiscsiURL(target: chap, lun: 0, chap: wrongSecret))
            }
            await expectRefused(engine, "no credentials for a CHAP target", naming: "authentication") {
                try await engine.open(lio.portal.libiscsiURL(target: chap, lun: 0))
            }
            let wrongTarget = CHAPAuthentication.mutual(user: "alice", secret: "alice-secret-1234", targetUser: "lio-target", targetSecret: "a-wrong-secret-00")
            await expectRefused(engine, "target proves a different secret", naming: "authentication") {
                try await engine.open(lio.portal.libiscsiURL(target: mutual, lun: 0, chap: wrongTarget))
            }
            // LIO answers a TargetName it does not serve with 0x0301 (service unavailable), not
            // 0x0203 (not found) as tgt and istgt do; the error must still point at the name.
            do {
                let device = try await engine.open(lio.portal.libiscsiURL(target: LIOSuiteGuest.iqn("nobody"), lun: 0))
                try? await device.close()
                Issue.record("\(engine): an unknown target name must be refused")
            } catch {
                switch engine {
                case .native:
                    #expect((error as? ISCSIError)?.code == .serviceUnavailable, "\(error)")
                    #expect("\(error)".contains("check the target name") && "\(error)".contains(LIOSuiteGuest.iqn("nobody")), "\(error)")
                case .libiscsi:
                    #expect((error as? BlockDeviceError)?.code == .transport, "\(error)")
                    #expect("\(error)".contains("Service unavailable") && "\(error)".contains(LIOSuiteGuest.iqn("nobody")), "\(error)")
                }
            }
        }
    }

    /// The `acl` target admits one initiator name: that name logs in, any other is refused
    /// as unauthorized (LIO's 0x0202), not as a failed authentication.
    @Test func explicitACLAdmitsOnlyItsInitiator() async throws {
        try await LIOSuiteGuest.with { lio in
            let iqn = LIOSuiteGuest.iqn("acl")
            func configuration(_ initiator: String) -> ISCSISessionConfiguration {
                ISCSISessionConfiguration(
                    portal: TargetPortal(host: lio.portal.host, port: lio.portal.port),
                    targetName: iqn,
                    initiatorName: initiator,
                    loginTimeout: .seconds(20)
                )
            }
            let session = try await ISCSISession.connect(configuration(LIOSuiteGuest.allowedInitiator))
            let lun = try await ISCSILUN.open(session: session, lun: 0)
            #expect(lun.geometry.byteCount == 16 << 20)
            try await session.logout()
            do {
                let refused = try await ISCSISession.connect(configuration("iqn.2026-12.org.vdiskd.test:stranger"))
                try? await refused.logout()
                Issue.record("an initiator outside the ACL must be refused")
            } catch let error as ISCSIError {
                #expect(error.code == .authorizationFailed, "\(error)")
            }
        }
    }

    /// LIO lists each target at the address the discovery connection arrived on, which is the
    /// guest's own 10.0.2.15: unreachable from here. The initiator must log in through the
    /// portal it dialled, and discovery itself needs the discovery CHAP account.
    @Test func sendTargetsThroughAForwardedPort() async throws {
        try await LIOSuiteGuest.with { lio in
            let dialled = TargetPortal(host: lio.portal.host, port: lio.portal.port)
            var configuration = ISCSISessionConfiguration(portal: dialled, targetName: nil, loginTimeout: .seconds(20))
            configuration.authentication = .chap(CHAPCredentials(user: LIOSuiteGuest.discoveryCHAP.user, secret: LIOSuiteGuest.discoveryCHAP.secret), mutual: nil)
            let found = try await ISCSIDiscovery.sendTargets(configuration)
            #expect(Set(found.map(\.name)) == Set(LIOSuiteGuest.configuration.targets.map(\.iqn)))
            let plain = try #require(found.first { $0.name == LIOSuiteGuest.iqn("plain") })
            #expect(plain.portals.contains { $0.host == "10.0.2.15" && $0.port == 3260 }, "\(plain.portals)")
            let portals = plain.loginPortals(dialled: dialled)
            #expect(portals.first?.host == dialled.host && portals.first?.port == dialled.port, "\(portals)")
            #expect(portals.first?.portalGroupTag == 1, "\(portals)")
            let session = try await ISCSISession.connect(ISCSISessionConfiguration(portal: try #require(portals.first), targetName: plain.name, loginTimeout: .seconds(20)))
            try await session.logout()

            var anonymous = configuration
            anonymous.authentication = .none
            do {
                _ = try await ISCSIDiscovery.sendTargets(anonymous)
                Issue.record("discovery without the discovery CHAP account must be refused")
            } catch let error as ISCSIError {
                #expect(error.code == .authenticationFailed, "\(error)")
            }
        }
    }

    private func expectRefused(
        _ engine: InitiatorEngine,
        _ context: String,
        naming word: String,
        _ open: () async throws -> any BlockDevice
    ) async {
        do {
            let device = try await open()
            try? await device.close()
            Issue.record("\(engine), \(context): the login should have been refused")
        } catch {
            #expect("\(error)".lowercased().contains(word), "\(engine), \(context): \(error)")
            if engine == .native {
                #expect((error as? ISCSIError)?.code == .authenticationFailed, "\(context): \(error)")
            }
        }
    }
}
}
