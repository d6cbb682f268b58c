// A target's paths in the config: portals or paths, the policy and its settings, and every
// mistake located at its key and line.

import Daemon
import ISCSIAddress
import Paths
import Testing

struct PathConfigTests {
    static func target(_ lines: String) -> String {
        ConfigFixtures.minimal.replacingOccurrences(of: "portal = \"127.0.0.1:3260\"\n", with: lines.hasSuffix("\n") ? lines : lines + "\n")
    }

    @Test func portalsMakeAMultipathTargetWithItsSettings() throws {
        let config = try ConfigFixtures.parse(Self.target("""
            portals = ["10.0.0.2:3260", "10.0.1.2"]
            path_policy = "round_robin"
            round_robin_ios = 8
            round_robin_bytes = 65536
            probe_interval_seconds = 3
            apd_timeout_seconds = 20
            nop_interval_seconds = 1
            nop_timeout_seconds = 1
            """))
        let target = try #require(config.targets.first)
        #expect(target.isMultipath)
        #expect(target.paths.map(\.name) == ["path0", "path1"])
        #expect(target.paths.map(\.portal) == [ISCSIEndpoint(host: "10.0.0.2", port: 3260), ISCSIEndpoint(host: "10.0.1.2", port: 3260)])
        #expect(target.pathPolicy == .roundRobin(ios: 8, bytes: 65536))
        #expect(target.probeIntervalSeconds == 3)
        #expect(target.apdTimeoutSeconds == 20)
        #expect(target.nopIntervalSeconds == 1 && target.nopTimeoutSeconds == 1)
        #expect(target.portal == ISCSIEndpoint(host: "10.0.0.2", port: 3260))
    }

    @Test func pathsTakeASourceAndANameAndTheFixedPolicyAPreferredPath() throws {
        let config = try ConfigFixtures.parse(Self.target("""
            paths = [{ portal = "10.9.9.9:3260", source = "10.0.0.1", name = "nic0" }, { portal = "10.9.9.9:3260", source = "10.0.1.1", name = "nic1" }]
            path_policy = "fixed"
            path_preferred = "nic1"
            """))
        let target = try #require(config.targets.first)
        #expect(target.paths == [
            PathSettings(name: "nic0", portal: ISCSIEndpoint(host: "10.9.9.9", port: 3260), source: "10.0.0.1"),
            PathSettings(name: "nic1", portal: ISCSIEndpoint(host: "10.9.9.9", port: 3260), source: "10.0.1.1"),
        ])
        #expect(target.pathPolicy == .fixed(preferred: "nic1"))
        // Defaults.
        #expect(target.apdTimeoutSeconds == 140)
        #expect(target.probeIntervalSeconds == 2)
    }

    @Test func aSinglePortalThatDiscoversItsPathsIsMultipath() throws {
        let config = try ConfigFixtures.parse(ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\ndiscover_paths = true\napd_timeout_seconds = 30"))
        let target = try #require(config.targets.first)
        #expect(target.isMultipath && target.discoverPaths && target.paths.isEmpty)
        #expect(target.configuredPaths == [PathSettings(name: "path0", portal: ISCSIEndpoint(host: "127.0.0.1", port: 3260))])
        #expect(target.apdTimeoutSeconds == 30)
    }

    @Test func theSamePortalTwiceIsALocatedError() {
        let errors = ConfigFixtures.errors(Self.target("portals = [\"10.0.0.2:3260\", \"10.0.0.2\"]"))
        #expect(errors.map(\.key) == ["target[1].portals"], "\(errors)")
        #expect(errors.first?.message.contains("10.0.0.2:3260 twice") == true, "\(errors)")
        #expect(errors.first?.line == 7)
    }

    @Test func anUnknownPolicyIsALocatedErrorNamingTheChoices() {
        let errors = ConfigFixtures.errors(Self.target("portals = [\"10.0.0.2\", \"10.0.1.2\"]\npath_policy = \"fastest\""))
        #expect(errors.map(\.key) == ["target[1].path_policy"], "\(errors)")
        #expect(errors.first?.message.contains("fixed, mru, round_robin") == true)
        #expect(errors.first?.line == 8)
    }

    @Test func aZeroProbeIntervalIsALocatedError() {
        let errors = ConfigFixtures.errors(Self.target("portals = [\"10.0.0.2\", \"10.0.1.2\"]\nprobe_interval_seconds = 0"))
        #expect(errors.map(\.key) == ["target[1].probe_interval_seconds"], "\(errors)")
        #expect(errors.first?.message == "0 is out of range: expected 1...3600")
    }

    @Test func mixedOrMisplacedPathKeysAreRefused() {
        let both = ConfigFixtures.errors(ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\nportals = [\"10.0.0.2\"]"))
        #expect(both.map(\.key) == ["target[1].portal"], "\(both)")
        let single = ConfigFixtures.errors(ConfigFixtures.minimal.replacingOccurrences(of: "lun = 1", with: "lun = 1\napd_timeout_seconds = 5"))
        #expect(single.map(\.key) == ["target[1].apd_timeout_seconds"], "\(single)")
        let badPath = ConfigFixtures.errors(Self.target("paths = [{ portal = \"10.0.0.2\", sauce = \"x\" }, { source = \"10.0.0.1\" }]"))
        #expect(badPath.map(\.key) == ["target[1].paths[1].sauce", "target[1].paths[2].portal"], "\(badPath)")
        let preferred = ConfigFixtures.errors(Self.target("portals = [\"10.0.0.2\", \"10.0.1.2\"]\npath_policy = \"fixed\"\npath_preferred = \"nic9\""))
        #expect(preferred.map(\.key) == ["target[1].path_preferred"], "\(preferred)")
        let recovery = ConfigFixtures.errors(Self.target("portals = [\"10.0.0.2\", \"10.0.1.2\"]\nrecovery_timeout_seconds = 30"))
        #expect(recovery.map(\.key) == ["target[1].recovery_timeout_seconds"], "\(recovery)")
    }
}
