// Connection sources (port binding) as the engines, the CLI and the Paths layer take them:
// the forms accepted, each refusal naming what was wrong, and the family check against a portal.

import ISCSIAddress
import Testing

@Suite struct ConnectionSourceTests {
    @Test func addressesInterfacesAndBoth() throws {
        let v4 = try ConnectionSource(address: "10.0.1.5")
        #expect(v4.family == .ipv4 && v4.interface == nil && v4.description == "address 10.0.1.5")
        let v6 = try ConnectionSource(address: "fd00::5")
        #expect(v6.family == .ipv6)
        let device = try ConnectionSource(interface: "veth-a")
        #expect(device.family == nil && device.description == "interface veth-a")
        let both = try ConnectionSource(address: "10.0.1.5", interface: "eth1")
        #expect(both.description == "address 10.0.1.5 on interface eth1")
    }

    @Test(arguments: [
        (String?.none, String?.none, "give a source address, an interface, or both"),
        ("10.0.1", nil, "is not an IPv4 or IPv6 address"),
        ("[::1]", nil, "write IPv6 without brackets"),
        ("host.example", nil, "is not an IPv4 or IPv6 address"),
        (nil, "", "1 to 15 bytes"),
        (nil, "an-interface-name-too-long", "1 to 15 bytes"),
        (nil, "eth0,eth1", "is not an interface name"),
        (nil, "eth 0", "is not an interface name"),
    ])
    func badSourcesAreRefusedNamingWhy(address: String?, interface: String?, reason: String) {
        #expect {
            try ConnectionSource(address: address, interface: interface)
        } throws: { error in
            guard let error = error as? ISCSIAddressError else { return false }
            return error.part == .source && error.reason.contains(reason) && "\(error)".contains("connection source")
        }
    }

    @Test func aSourceOfTheOtherFamilyThanAnAddressPortalIsNamed() throws {
        let v4 = try ConnectionSource(address: "127.0.0.2")
        #expect(v4.familyConflict(withPortalHost: "127.0.0.1") == nil)
        // A host name resolves later; nothing can be said yet.
        #expect(v4.familyConflict(withPortalHost: "san.example") == nil)
        let conflict = try #require(v4.familyConflict(withPortalHost: "fd00::1"))
        #expect(conflict.contains("127.0.0.2 is IPv4") && conflict.contains("fd00::1 is IPv6"))
        #expect(try ConnectionSource(interface: "eth1").familyConflict(withPortalHost: "fd00::1") == nil)
    }
}
