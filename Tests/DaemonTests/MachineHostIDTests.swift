// The default host id: derived from /etc/machine-id as systemd derives application-specific
// ids, and refused with the reason when the machine has no usable id.

import Daemon
import Foundation
import Testing
import TestSupport

@Suite struct MachineHostIDTests {
    /// `systemd-id128 -a 3b26735fd56f42c4849ede6ea004f788 machine-id -u` (systemd 252) on a
    /// machine whose /etc/machine-id holds this id, and Python's hmac module, both print this.
    static let machineID = "3d1219c7c4c5404aaa1f6d2a48adfda4"
    static let hostID = UUID(uuidString: "742bddf4-5c8d-4bf5-a595-0dcc1f6c9ebe")!

    @Test func theHostIDIsSystemdsApplicationSpecificID() throws {
        #expect(try MachineHostID.derive(machineID: Self.machineID) == Self.hostID)
        // As machine-id(5) writes it: one line; upper-case digits are the same id.
        let directory = TemporaryDirectory("machine-id")
        let path = directory.file("machine-id")
        try "\(Self.machineID.uppercased())\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try MachineHostID.derive(machineIDAt: path) == Self.hostID)
        // Another machine, another id; never the machine id itself.
        let other = try MachineHostID.derive(machineID: "0123456789abcdef0123456789abcdef")
        #expect(other != Self.hostID)
        #expect(!other.uuidString.lowercased().replacingOccurrences(of: "-", with: "").hasPrefix("0123456789abcdef"))
    }

    @Test(arguments: [
        ("", "holds no machine id yet (empty)"),
        ("uninitialized", "holds no machine id yet (uninitialized)"),
        ("3d1219c7c4c5404aaa1f6d2a48adfd", "does not hold a machine id"),
        ("3d1219c7c4c5404aaa1f6d2a48adfdz4", "does not hold a machine id"),
        ("00000000000000000000000000000000", "does not hold a machine id"),
    ])
    func aMachineWithoutAUsableIDIsRefusedSayingWhy(text: String, reason: String) {
        #expect { try MachineHostID.derive(machineID: text, source: "/etc/machine-id") } throws: { error in
            "\(error)".hasPrefix("/etc/machine-id ") && "\(error)".contains(reason)
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect { try MachineHostID.derive(machineIDAt: "/nonexistent/machine-id") } throws: { error in
            "\(error)" == "/nonexistent/machine-id does not exist"
        }
    }

    static let withoutHostUUID = ConfigFixtures.minimal.replacingOccurrences(of: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"\n", with: "")

    @Test func aDatastoreWithoutHostUUIDTakesTheMachinesID() throws {
        #expect(Self.withoutHostUUID != ConfigFixtures.minimal)
        let config = try ConfigLoader.parse(text: Self.withoutHostUUID, path: "/etc/vdiskd/test.toml", loadSecrets: SecretsFile.load(path:)) { () throws(MachineHostID.Unavailable) in
            try MachineHostID.derive(machineID: Self.machineID)
        }
        #expect(config.datastores.first?.hostUUID == Self.hostID)
        // A host_uuid written in the config wins.
        let explicit = try ConfigFixtures.parse(ConfigFixtures.minimal)
        #expect(explicit.datastores.first?.hostUUID == UUID(uuidString: "4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40"))
    }

    @Test func noHostUUIDAndNoMachineIDIsRefusedAtTheKey() {
        #expect { try ConfigLoader.parse(text: Self.withoutHostUUID, path: "/etc/vdiskd/test.toml", loadSecrets: SecretsFile.load(path:)) { () throws(MachineHostID.Unavailable) in
            try MachineHostID.derive(machineID: "", source: "/etc/machine-id")
        } } throws: { error in
            guard let invalid = error as? ConfigInvalid, invalid.errors.count == 1, let only = invalid.errors.first else { return false }
            return only.key == "datastore[1].host_uuid"
                && only.message == "is not set, and no host id can be derived from the machine id: /etc/machine-id holds no machine id yet (empty); set host_uuid (uuidgen makes one)"
        }
    }
}
