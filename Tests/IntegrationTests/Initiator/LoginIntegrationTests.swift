// Logging in to real targets on both engines: no authentication, one-way and mutual
// CHAP on tgt and istgt, and the refusals (wrong secrets, unknown target, no listener).

import BlockDevice
import ISCSI
import NIOCore
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(2)))
struct LoginIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:login"

    /// The session API under the native LUN; libiscsi's engine offers no session without a LUN.
    @Test func nativeSessionWithoutAuthentication() async throws {
        try await withTgt(TgtConfiguration(targets: [TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)])])) { tgt in
            let session = try await ISCSISession.connect(ISCSISessionConfiguration(
                portal: TargetPortal(host: tgt.portal.host, port: tgt.portal.port),
                targetName: Self.iqn,
                loginTimeout: .seconds(10)
            ))
            #expect(session.negotiated.maxRecvDataSegmentLength > 0)
            let result = try await session.execute(SCSITaskRequest(lun: 1, cdb: [0, 0, 0, 0, 0, 0], operationName: "TEST UNIT READY"))
            // The first command after login may report the power-on unit attention.
            #expect(result.status == 0 || result.status == 2)
            try await session.logout()
        }
    }

    static let oneWayIQN = "iqn.2026-11.org.vdiskd.test:chap-oneway"
    static let mutualIQN = "iqn.2026-11.org.vdiskd.test:chap-mutual"
    static let oneWay = CHAPAuthentication.oneWay(user: "alice", secret: "alice-secret-12")
    static let mutual = CHAPAuthentication.mutual(user: "alice", secret: "alice-secret-12", targetUser: "target", targetSecret: "target-secret-1")

    /// One daemon with a one-way and a mutual CHAP target: both log in and move
    /// verified data; a wrong secret, missing credentials and a target that cannot
    /// prove the secret we expect are all refused as authentication failures.
    @Test(arguments: InitiatorEngine.allCases, TargetKind.allCases)
    func chap(engine: InitiatorEngine, kind: TargetKind) async throws {
        let offer = InitiatorOffer(chapAlgorithms: kind.chapAlgorithms)
        try await kind.with([(Self.oneWayIQN, Self.oneWay), (Self.mutualIQN, Self.mutual)], lunSize: 8 << 20) { daemon in
            for (index, iqn) in [Self.oneWayIQN, Self.mutualIQN].enumerated() {
                let device = try await engine.open(daemon.url(iqn, lun: kind.lun), offer: offer)
                let data = TestPattern.bytes(seed: 7 + UInt64(index), count: 4096)
                try await device.write(data, at: 8)
                #expect(try await device.read(at: 8, blockCount: 8) == data, "\(engine) on \(kind), \(iqn)")
                try await device.close()
            }

            let wrongSecret = CHAPAuthentication.oneWay(user: "alice", secret: "not-the-secret")
            await expectAuthenticationRefused(engine, "\(kind): wrong secret") {
                try await engine.open(daemon.portal.libiscsiURL(target: Self.oneWayIQN, lun: kind.lun, chap: wrongSecret), offer: offer)
            }
            await expectAuthenticationRefused(engine, "\(kind): no credentials for a CHAP target") {
                try await engine.open(daemon.portal.libiscsiURL(target: Self.oneWayIQN, lun: kind.lun))
            }
            let wrongTarget = CHAPAuthentication.mutual(user: "alice", secret: "alice-secret-12", targetUser: "target", targetSecret: "a-wrong-secret!")
            await expectAuthenticationRefused(engine, "\(kind): target proves a different secret") {
                try await engine.open(daemon.portal.libiscsiURL(target: Self.mutualIQN, lun: kind.lun, chap: wrongTarget), offer: offer)
            }
        }
    }

    /// tgt 1.0.85 offered SHA-256 first picks it and refuses even the right answer. The
    /// login fails as an authentication failure and is not retried with MD5 behind the
    /// user's back (a rogue target could fish for an MD5 answer that way); the same
    /// credentials with MD5 configured log in.
    @Test func tgtOfferedSHA256FailsAndIsNotDowngraded() async throws {
        try await TargetKind.tgt.with([(Self.oneWayIQN, Self.oneWay)], lunSize: 8 << 20) { daemon in
            let url = daemon.url(Self.oneWayIQN, lun: TargetKind.tgt.lun)
            await expectAuthenticationRefused(.native, "tgt offered SHA-256 then MD5") {
                try await InitiatorEngine.native.open(url, offer: InitiatorOffer(chapAlgorithms: [.sha256, .md5]))
            }
            let device = try await InitiatorEngine.native.open(url, offer: InitiatorOffer(chapAlgorithms: [.md5]))
            #expect(device.geometry.blockCount > 0)
            try await device.close()
        }
    }

    /// Each engine has its own login error type (the native `ISCSIError` with a code and
    /// scope; libiscsi's `BlockDeviceError(.transport)`), but both must name authentication.
    private func expectAuthenticationRefused(
        _ engine: InitiatorEngine,
        _ context: String,
        _ open: () async throws -> any BlockDevice
    ) async {
        do {
            let device = try await open()
            try? await device.close()
            Issue.record("\(engine), \(context): the login should have been refused")
        } catch {
            #expect("\(error)".lowercased().contains("authentication"), "\(engine), \(context): \(error)")
            switch engine {
            case .native:
                let iscsi = error as? ISCSIError
                #expect(iscsi?.code == .authenticationFailed, "\(context): \(error)")
                #expect(iscsi?.scope == .session, "\(context): \(error)")
            case .libiscsi:
                #expect((error as? BlockDeviceError)?.code == .transport, "\(context): \(error)")
            }
        }
    }

    @Test(arguments: InitiatorEngine.allCases)
    func unknownTargetNameIsRefused(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)])])) { tgt in
            do {
                let device = try await engine.open(tgt.portal.libiscsiURL(target: "iqn.2026-11.org.vdiskd.test:nobody", lun: 1))
                try? await device.close()
                Issue.record("\(engine): an unknown target name must be refused")
            } catch {
                switch engine {
                case .native:
                    #expect((error as? ISCSIError)?.code == .targetNotFound, "\(error)")
                    #expect("\(error)".contains("not found"))
                case .libiscsi:
                    #expect((error as? BlockDeviceError)?.code == .transport, "\(error)")
                    #expect("\(error)".contains("does not exist"))
                }
            }
        }
    }

    @Test(arguments: InitiatorEngine.allCases)
    func nothingListeningFailsPromptly(engine: InitiatorEngine) async throws {
        let port = try LoopbackPort.reserve()
        let started = ContinuousClock.now
        do {
            let device = try await engine.open(
                "iscsi://127.0.0.1:\(port)/\(Self.iqn)/1",
                offer: InitiatorOffer(loginTimeout: .seconds(3))
            )
            try? await device.close()
            Issue.record("\(engine): connecting to a closed port should fail")
        } catch {
            #expect(ContinuousClock.now - started < .seconds(5), "\(engine) took \(ContinuousClock.now - started)")
            switch engine {
            case .native:
                #expect((error as? ISCSIError)?.code == .connectFailed, "\(error)")
                #expect("\(error)".contains("127.0.0.1:\(port)"))
            case .libiscsi:
                let code = (error as? BlockDeviceError)?.code
                #expect(code == .transport || code == .timeout, "\(error)")
                #expect("\(error)".contains("127.0.0.1:\(port)"))
            }
        }
    }
}
}
