// The config schema: what is accepted, and how each kind of mistake is refused and located.

import Daemon
import Foundation
import ISCSIAddress
import Testing

@Suite struct ConfigLoaderTests {
    @Test func shippedExampleIsValid() throws {
        let path = "\(ConfigFixtures.repositoryRoot)/Config/vdiskd.toml"
        let config = try ConfigLoader.load(path: path)
        #expect(config.targets.map(\.name) == ["lun1"])
        #expect(config.targets.first?.engine == .native)
        #expect(config.datastores.first?.heartbeatLeaseSeconds == 16)
        #expect(config.disks.first?.reference == "ds1/vm1")
        #expect(config.exports.first?.listen == [ISCSIEndpoint(host: "127.0.0.1", port: 3261)])
        #expect(config.daemon.metricsListen == nil)
        #expect(config.daemon.controlSocket == "/run/vdiskd/control.sock")
        // The example sets no host_uuid: each machine that keeps it is a host of its own.
        #expect(config.datastores.first?.hostUUID == (try MachineHostID.derive()))
    }

    @Test func minimalConfigGetsDefaults() throws {
        let config = try ConfigFixtures.parse(ConfigFixtures.minimal)
        let target = try #require(config.targets.first)
        #expect(target.engine == .native)
        #expect(target.loginTimeoutSeconds == 10)
        #expect(target.commandTimeoutSeconds == 30)
        #expect(target.recoveryTimeoutSeconds == 120)
        #expect(config.disks.first?.mode == .exclusive)
        #expect(config.exports.first?.readOnly == false)
    }

    @Test func recoveryTimeoutIsReadAndBounded() throws {
        let off = try ConfigFixtures.parse(ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\nrecovery_timeout_seconds = 0"))
        #expect(off.targets.first?.recoveryTimeoutSeconds == 0)
        let errors = ConfigFixtures.errors(ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\nrecovery_timeout_seconds = -5"))
        #expect(errors.map(\.key) == ["target[1].recovery_timeout_seconds"])
        #expect(errors.first?.message == "-5 is out of range: expected 0...86400")
    }

    @Test func unknownKeyIsRefusedWithItsLine() {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\nengin = \"native\"")
        let errors = ConfigFixtures.errors(text)
        #expect(errors.count == 1)
        #expect(errors.first?.key == "target[1].engin")
        #expect(errors.first?.line == 10)
        #expect(errors.first?.description == "/etc/vdiskd/test.toml:10: target[1].engin: unknown key")
    }

    @Test func unknownSectionIsRefusedAtItsHeader() {
        let errors = ConfigFixtures.errors(ConfigFixtures.minimal + "\n\n[[targets]]\nname = \"x\"\n")
        #expect(errors.map(\.key) == ["targets"])
        #expect(errors.first?.line == 26)
        #expect(errors.first?.message == "unknown key")
    }

    @Test func wrongTypeIsRefusedWithItsLine() {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = \"one\"")
        let errors = ConfigFixtures.errors(text)
        #expect(errors.count == 1)
        #expect(errors.first?.key == "target[1].lun")
        #expect(errors.first?.line == 9)
        #expect(errors.first?.message == "wrong type: expected an integer, found string")
    }

    @Test func missingTargetIsRefusedAtTheReference() {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "target = \"lun1\"", with: "target = \"lun9\"")
        let errors = ConfigFixtures.errors(text)
        #expect(errors.map(\.key).first == "datastore[1].target")
        #expect(errors.first?.line == 13)
        #expect(errors.first?.message == "no [[target]] is named \"lun9\"")
    }

    @Test func missingDiskAndDatastoreReferencesAreRefused() {
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "datastore = \"ds1\"", with: "datastore = \"ds2\"")
        let errors = ConfigFixtures.errors(text)
        // The export's "ds1/vm1" is now no [[disk]] either: a second, real mistake.
        #expect(errors.map(\.key) == ["disk[1].datastore", "export[1].disks"])
        #expect(errors.map(\.line) == [17, 24])
        #expect(errors.first?.message == "no [[datastore]] is named \"ds2\"")
        let exportText = ConfigFixtures.minimal.replacingOccurrences(of: "disks = [\"ds1/vm1\"]", with: "disks = [\"ds1/vm2\"]")
        let exportErrors = ConfigFixtures.errors(exportText)
        #expect(exportErrors.map(\.key) == ["export[1].disks"])
        #expect(exportErrors.map(\.line) == [24])
    }

    @Test func badValuesAreRefused() {
        let text = ConfigFixtures.minimal
            .replacingOccurrences(of: "log_level = \"info\"", with: "log_level = \"loud\"")
            .replacingOccurrences(of: "lun = 1", with: "lun = 1\nengine = \"kernel\"")
            .replacingOccurrences(of: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"", with: "host_uuid = \"nope\"")
        let errors = ConfigFixtures.errors(text)
        #expect(errors.map(\.key) == ["daemon.log_level", "target[1].engine", "datastore[1].host_uuid"])
        #expect(errors[1].message == "\"kernel\" is not one of \"native\", \"libiscsi\"")
    }

    @Test func missingRequiredKeyIsRefusedAtItsSection() {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "iqn = \"iqn.2026-11.example:lun1\"\n", with: "")
        let errors = ConfigFixtures.errors(text)
        #expect(errors.first?.key == "target[1].iqn")
        #expect(errors.first?.line == 5)
        #expect(errors.first?.message == "missing required key")
    }

    @Test func parseErrorCarriesTOMLKitsLine() {
        let errors = ConfigFixtures.errors("[daemon]\nlog_level = \"info\"\ncontrol_socket = \n")
        #expect(errors.count == 1)
        #expect(errors.first?.line == 3)
        #expect(errors.first?.message.hasPrefix("not valid TOML") == true)
    }

    @Test func unreadableConfigFileIsNamed() {
        #expect(throws: ConfigInvalid.self) { try ConfigLoader.load(path: "/nonexistent/vdiskd.toml") }
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/vdiskd.toml")
        } catch {
            #expect(error.description == "/nonexistent/vdiskd.toml: cannot read the config file (no such file)")
        }
    }

    /// The minimal config plus a second export of disk ds1/vm1 listening on `port`.
    private static func secondExport(port: Int) -> String {
        ConfigFixtures.minimal + """

            [[export]]
            name = "again"
            iqn = "iqn.2026-11.example.vdiskd:again"
            listen = ["127.0.0.1:\(port)"]
            disks = ["ds1/vm1"]
            """
    }

    @Test func aDiskWrittenByTwoExportsIsRefused() {
        let text = Self.secondExport(port: 3262)
        let errors = ConfigFixtures.errors(text)
        #expect(errors.map(\.key) == ["export[2].disks"])
        #expect(errors.first?.message.hasPrefix("disk ds1/vm1 is already presented writable by export vm1;") == true)
        // A read-only export beside the writable one is fine: it cannot race its writes.
        let readOnly = text + "\nread_only = true\n"
        #expect(ConfigFixtures.errors(readOnly).isEmpty)
    }

    @Test func duplicateListenPortsAcrossExportsAreRefused() {
        let errors = ConfigFixtures.errors(Self.secondExport(port: 3261))
        #expect(errors.map(\.key) == ["export[2].listen"])
        #expect(errors.first?.line == 28)
    }
}
