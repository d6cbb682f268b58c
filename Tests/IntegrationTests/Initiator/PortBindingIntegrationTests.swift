// Port binding against a real tgtd on loopback: a connection from a chosen source address
// (127.0.0.0/8 all reaches lo) is the I_T nexus tgt lists, an interface bound with
// SO_BINDTODEVICE works without privileges, and a bad source fails at once, naming the
// source and the portal.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(3)))
struct PortBindingIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:binding"
    static let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 4 << 20)])

    /// The initiator addresses tgt lists under the target's I_T nexuses.
    static func initiatorAddresses(_ tgt: TgtTarget) async throws -> [String] {
        let shown = try await tgt.tgtadm(["--lld", "iscsi", "--op", "show", "--mode", "target"])
        return shown.stdout.split(separator: "\n").compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("IP Address:") else { return nil }
            return text.dropFirst("IP Address:".count).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test func theNativeEngineConnectsFromTheSourceAddressItBinds() async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            var offer = InitiatorOffer()
            offer.source = try ConnectionSource(address: "127.0.0.2")
            let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1), offer: offer)
            let data = TestPattern.bytes(seed: 3, count: device.geometry.blockSize)
            try await device.write(data, at: 5)
            #expect(try await device.read(at: 5, blockCount: 1) == data)
            let addresses = try await Self.initiatorAddresses(tgt)
            #expect(addresses == ["127.0.0.2"], "tgt lists \(addresses)")
            try await device.close()
        }
    }

    /// Session recovery logs in again from the same source.
    @Test func aReconnectionLeavesFromTheSameSource() async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let url = try ISCSITargetURL(parsing: tgt.url(Self.iqn, lun: 1))
            var configuration = ISCSISessionConfiguration(portal: url.portal, targetName: url.targetName)
            configuration.source = try ConnectionSource(address: "127.0.0.4")
            configuration.recoveryTimeout = .seconds(20)
            let lun = try await ISCSILUN.connect(url, configuration: configuration)
            _ = try await lun.read(at: 0, blockCount: 1)
            let tid = try #require(tgt.tid(of: Self.iqn))
            #expect(try await tgt.dropConnections(tid: tid) == 1)
            // The next command meets the dropped connection and waits for the new login.
            _ = try await lun.read(at: 0, blockCount: 1)
            #expect(lun.reconnections >= 1)
            #expect(try await Self.initiatorAddresses(tgt) == ["127.0.0.4"])
            try await lun.close()
        }
    }

    /// As deployed: vdiskctl as an unprivileged user binds an interface (SO_BINDTODEVICE,
    /// allowed without CAP_NET_RAW since Linux 5.7) and an address, on both engines where
    /// each can.
    @Test(arguments: InitiatorEngine.allCases)
    func anUnprivilegedUserBindsAnInterface(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
            var arguments = ["target", "capacity", tgt.url(Self.iqn, lun: 1), "--engine", engine.rawValue, "--source-interface", "lo"]
            if engine == .native { arguments += ["--source-address", "127.0.0.3"] }
            let shown = try await UnprivilegedUser.standard.run(vdiskctl, arguments, timeout: .seconds(60))
            #expect(shown.status.isSuccess, "\(shown)")
            #expect(shown.stdout.contains("4194304") || shown.stdout.contains("8192"), "\(shown.stdout)")
        }
    }

    /// vdiskctl refuses a malformed source, and an address on libiscsi, before connecting.
    @Test(arguments: [
        (["--source-address", "10.0.1"], "is not an IPv4 or IPv6 address"),
        (["--source-interface", "eth0,eth1"], "is not an interface name"),
        (["--engine", "libiscsi", "--source-address", "127.0.0.2"], "--source-address needs --engine native"),
    ])
    func vdiskctlRefusesABadSource(options: [String], message: String) async throws {
        let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
        let refused = try await UnprivilegedUser.standard.run(
            vdiskctl,
            ["target", "capacity", "iscsi://127.0.0.1:9/iqn.2026-11.org.vdiskd.test:none/1"] + options,
            timeout: .seconds(30)
        )
        #expect(refused.status == .exited(64), "\(refused)")
        #expect(refused.stderr.contains(message), "\(refused.stderr)")
    }

    /// The interface binding decides the route, for an unprivileged user. In a network
    /// namespace the test makes (lo and a veth pair), a connection to 127.0.0.1 bound to lo
    /// reaches the stack and is refused at once (nothing listens on port 9), while one bound
    /// to the veth end leaves through it, where 127.0.0.1 is never answered, and times out.
    @Test(arguments: InitiatorEngine.allCases)
    func theBoundInterfaceDecidesTheRoute(engine: InitiatorEngine) async throws {
        let ip = try ExternalTool.ip.path()
        let namespace = "vd-bind-\(getpid())-\(engine)"
        func inNamespace(_ arguments: [String]) async throws {
            _ = try await ExternalCommand.run(executable: ip, ["-n", namespace] + arguments, timeout: .seconds(10)).check()
        }
        _ = try await ExternalCommand.run(executable: ip, ["netns", "add", namespace], timeout: .seconds(10)).check()
        do {
            try await inNamespace(["link", "set", "lo", "up"])
            try await inNamespace(["link", "add", "vd-a", "type", "veth", "peer", "name", "vd-b"])
            try await inNamespace(["address", "add", "10.91.0.1/24", "dev", "vd-a"])
            try await inNamespace(["link", "set", "vd-a", "up"])
            try await inNamespace(["link", "set", "vd-b", "up"])
            let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
            func attempt(_ interface: String) async throws -> (CommandResult, Duration) {
                let line = try UnprivilegedUser.standard.commandLine(vdiskctl, [
                    "target", "capacity", "iscsi://127.0.0.1:9/iqn.2026-11.org.vdiskd.test:none/1",
                    "--engine", engine.rawValue, "--source-interface", interface, "--login-timeout", "2",
                ])
                let started = ContinuousClock.now
                let result = try await ExternalCommand.run(executable: ip, ["netns", "exec", namespace] + line, timeout: .seconds(30))
                return (result, ContinuousClock.now - started)
            }
            let (throughLo, loTook) = try await attempt("lo")
            let (throughVeth, vethTook) = try await attempt("vd-a")
            print("\(engine): bound to lo: \(loTook), \(throughLo.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); bound to vd-a: \(vethTook), \(throughVeth.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            #expect(!throughLo.status.isSuccess && !throughVeth.status.isSuccess)
            #expect(throughLo.stderr.localizedCaseInsensitiveContains("refused"), "\(engine) through lo: \(throughLo.stderr)")
            #expect(!throughVeth.stderr.localizedCaseInsensitiveContains("refused"), "\(engine) through vd-a: \(throughVeth.stderr)")
            #expect(throughVeth.stderr.contains("time"), "\(engine) through vd-a: \(throughVeth.stderr)")
            #expect(loTook < .seconds(2) && vethTook >= .seconds(2), "lo \(loTook), vd-a \(vethTook)")
        } catch {
            _ = try? await ExternalCommand.run(executable: ip, ["netns", "delete", namespace], timeout: .seconds(10))
            throw error
        }
        _ = try await ExternalCommand.run(executable: ip, ["netns", "delete", namespace], timeout: .seconds(10)).check()
    }

    @Test(arguments: InitiatorEngine.allCases)
    func aMissingInterfaceIsRefusedBeforeConnecting(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            var offer = InitiatorOffer()
            offer.source = try ConnectionSource(interface: "vdnosuch0")
            let started = ContinuousClock.now
            do {
                let device = try await engine.open(tgt.url(Self.iqn, lun: 1), offer: offer)
                try? await device.close()
                Issue.record("\(engine): a login bound to a missing interface succeeded")
            } catch {
                let text = "\(error)"
                #expect(text.contains("vdnosuch0") && text.contains("no network interface"), "\(engine): \(text)")
                #expect(text.contains("127.0.0.1:\(tgt.portal.port)"), "\(engine): the message names no portal: \(text)")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    /// A source that is not this host's, and one of the wrong family: the login fails at
    /// once with an error naming the source and the portal.
    @Test(arguments: [
        ("192.0.2.7", "not an address of this host"),
        ("::1", "is IPv6 but the portal 127.0.0.1 is IPv4"),
    ])
    func aBadSourceAddressFailsTheLoginAtOnce(address: String, reason: String) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            var offer = InitiatorOffer()
            offer.source = try ConnectionSource(address: address)
            let started = ContinuousClock.now
            do {
                let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1), offer: offer)
                try? await device.close()
                Issue.record("a login from \(address) succeeded")
            } catch {
                let text = "\(error)"
                #expect(text.contains("from address \(address)") && text.contains("127.0.0.1:\(tgt.portal.port)"), "\(text)")
                #expect(text.contains(reason), "\(text)")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(try await Self.initiatorAddresses(tgt).isEmpty)
        }
    }

    @Test func libiscsiRefusesASourceAddressItCannotBind() async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            var offer = InitiatorOffer()
            offer.source = try ConnectionSource(address: "127.0.0.2")
            await #expect {
                _ = try await InitiatorEngine.libiscsi.open(tgt.url(Self.iqn, lun: 1), offer: offer)
            } throws: { error in
                (error as? BlockDeviceError)?.code == .invalidArgument && "\(error)".contains("cannot bind a source address")
            }
        }
    }
}
}
