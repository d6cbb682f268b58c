// A small network of systemd-nspawn containers made for one test: a network namespace holding a
// bridge (where the test's own clients run), and a container per machine, each booting systemd in
// a network namespace of its own joined to the bridge by a veth pair. Everything the lab makes
// carries its owner's PID in its name, so a later run can tell what a killed run left behind.

import Foundation
import NIOConcurrencyHelpers
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

final class ContainerLab: Sendable {
    /// The subnet every lab uses inside its own bridge namespace; labs never see each other's.
    static let subnetPrefix = "10.213.0"
    static let bridgeAddress = "\(subnetPrefix).1"

    let name: String
    let directory: String
    /// The namespace holding the bridge; the test's clients run in it (`client(_:)`).
    let bridgeNamespace: String
    private let containers = NIOLockedValueBox<[Container]>([])
    private let namespaces = NIOLockedValueBox<[String]>([])

    private static let sequence = NIOLockedValueBox(0)

    /// Runs `body` with a new lab, and tears the lab down however `body` ends.
    static func with<Result: Sendable>(_ body: (ContainerLab) async throws -> Result) async throws -> Result {
        let lab = try await ContainerLab()
        do {
            let result = try await body(lab)
            await lab.tearDown()
            return result
        } catch {
            await lab.tearDown()
            throw error
        }
    }

    private init() async throws {
        try await ContainerLeftovers.swept.value
        let number = Self.sequence.withLockedValue { value in
            value += 1
            return value
        }
        name = "\(ContainerLeftovers.prefix)\(getpid())-\(number)"
        directory = "\(ContainerLeftovers.baseDirectory)/\(name)"
        bridgeNamespace = "\(name)-br"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await addNamespace(bridgeNamespace)
        try await Self.run("ip", ["-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
        try await Self.run("ip", ["-n", bridgeNamespace, "addr", "add", "\(Self.bridgeAddress)/24", "dev", "br0"])
        try await Self.run("ip", ["-n", bridgeNamespace, "link", "set", "br0", "up"])
        try await Self.run("ip", ["-n", bridgeNamespace, "link", "set", "lo", "up"])
    }

    /// Boots a container `machine` (a short name: letters and digits) at `subnetPrefix.host`,
    /// after `prepare` has written its files into the container's tree (a path on the host).
    func boot(_ machine: String, host: Int, prepare: (String) throws -> Void = { _ in }) async throws -> Container {
        precondition(machine.count <= 10 && machine.allSatisfy { $0.isLetter || $0.isNumber }, "machine names are short")
        let namespace = "\(name)-\(machine)"
        try await addNamespace(namespace)
        // One end in the bridge namespace, the other in the machine's as eth0.
        let link = "v\(machine)"
        try await Self.run("ip", ["-n", bridgeNamespace, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try await Self.run("ip", ["-n", bridgeNamespace, "link", "set", link, "master", "br0", "up"])
        try await Self.run("ip", ["-n", namespace, "addr", "add", "\(Self.subnetPrefix).\(host)/24", "dev", "eth0"])
        try await Self.run("ip", ["-n", namespace, "link", "set", "eth0", "up"])
        try await Self.run("ip", ["-n", namespace, "link", "set", "lo", "up"])

        let container = try await Container.mount(
            machine: machine,
            address: "\(Self.subnetPrefix).\(host)",
            directory: "\(directory)/\(machine)",
            lowerDirectories: try await ContainerImage.shared.layers()
        )
        containers.withLockedValue { $0.append(container) }
        try prepare(container.root)
        try await container.boot(networkNamespace: namespace, bridgeLink: link, bridgeNamespace: bridgeNamespace)
        return container
    }

    /// Runs a command in the bridge namespace: a client outside every container.
    func client(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await ExternalCommand.run(
            executable: try Self.tool("ip"),
            ["netns", "exec", bridgeNamespace, executable] + arguments,
            timeout: timeout
        )
    }

    /// Stops every container (a clean poweroff, SIGKILL after a bound), unmounts their trees and
    /// deletes every namespace and the lab's folder. Never throws: it is the last thing a test does.
    func tearDown() async {
        let booted = containers.withLockedValue { $0 }
        await withTaskGroup(of: Void.self) { group in
            for container in booted {
                group.addTask { await container.stop() }
            }
        }
        for namespace in namespaces.withLockedValue({ $0 }).reversed() {
            _ = try? await Self.run("ip", ["netns", "delete", namespace], check: false)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func addNamespace(_ namespace: String) async throws {
        try await Self.run("ip", ["netns", "add", namespace])
        namespaces.withLockedValue { $0.append(namespace) }
    }

    /// Runs a host tool and, unless `check` is false, requires it to succeed.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], timeout: Duration = .seconds(60), check: Bool = true) async throws -> CommandResult {
        let result = try await ExternalCommand.run(executable: try Self.tool(tool), arguments, timeout: timeout)
        return check ? try result.check() : result
    }

    /// A host program by name, from the system folders (a test's PATH may lack sbin).
    static func tool(_ name: String) throws -> String {
        for folder in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        throw TestSupportError(.toolMissing, "\(name) is not installed; Scripts/install-deps installs what the container tests need")
    }
}
