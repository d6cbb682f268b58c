// A two-path SAN made for one test: a host namespace (the initiator's machine, two network
// cards) and a target namespace (the array: tgtd listening on a portal per link and on a
// shared portal), joined by two veth pairs, each its own /24. Links can be cut, restored and
// flapped; their byte counters show which one carried traffic. Every name the lab makes carries
// the test process's PID, so a later run removes what a killed run left behind.
//
//      host namespace vdpl<pid>-<n>-host              target namespace vdpl<pid>-<n>-tgt
//      nic0 10.231.0.2/24  ───── link 0 ─────  tgt0 10.231.0.1/24  portal 10.231.0.1:3260
//      nic1 10.231.1.2/24  ───── link 1 ─────  tgt1 10.231.1.1/24  portal 10.231.1.1:3260
//      from 10.231.0.2 → table 100 → shared via link 0        lo 10.231.200.1/32  shared portal
//      from 10.231.1.2 → table 101 → shared via link 1        tgtd: two IQNs, one LUN each

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

public final class PathLab: Sendable {
    /// Every lab's names start with this and the owner's PID: "vdpl1234-1-host".
    public static let namePrefix = "vdpl"
    /// The target every lab serves first: the LUN whose paths a test exercises.
    public static let primaryIQN = "iqn.2026-12.vdiskd.pathlab:primary"
    /// A second target on the same tgtd and portals with a LUN of its own (another identity):
    /// a path configured to it leads to the wrong LUN.
    public static let otherIQN = "iqn.2026-12.vdiskd.pathlab:other"
    /// The targets a lab serves unless a test gives its own: LUN 1 of 64 MiB on `primaryIQN`,
    /// LUN 1 of 16 MiB on `otherIQN`, both files in tgtd's scratch directory.
    public static let defaultTargets = [
        TgtTargetSpec(iqn: primaryIQN, luns: [.file(1, size: 64 << 20)]),
        TgtTargetSpec(iqn: otherIQN, luns: [.file(1, size: 16 << 20)]),
    ]
    /// The target's address on its loopback, reachable from the host only from a link's own
    /// source address (policy routing): two cards, one portal.
    public static let sharedAddress = "10.231.200.1"
    /// The iSCSI port; the namespaces are the lab's own, so the standard port is free.
    public static let port = 3260

    /// "vdpl<pid>-<n>".
    public let name: String
    /// Where the initiator side runs (`runInHost`, `spawnInHost`).
    public let hostNamespace: String
    /// Where tgtd runs.
    public let targetNamespace: String
    /// Link 0 and link 1.
    public let links: [PathLabLink]
    /// The lab's own folder for the test's files (configs, logs of host-side programs).
    public let directory: ScratchDirectory
    /// The running tgtd (its tgtadm works from the test process: the control socket is a path).
    public let tgt: TgtTarget

    /// Namespaces made so far, deleted at teardown in reverse.
    private let namespaces: NIOLockedValueBox<[String]>
    private let flaps = NIOLockedValueBox<[PathLabFlap]>([])
    private let tornDown = NIOLockedValueBox(false)

    private static let sequence = NIOLockedValueBox(0)

    /// Runs `body` with a new lab serving `targets`, and tears the lab down however `body` ends
    /// (an error, a cancellation): flaps stopped, tgtd killed by PID, both namespaces and every
    /// process left in them gone, the lab's folders removed. Needs root, as every namespace test.
    public static func with<Result>(
        targets: [TgtTargetSpec] = defaultTargets,
        _ body: (PathLab) async throws -> Result
    ) async throws -> Result {
        try await TargetSlots.with {
            let lab = try await PathLab.make(targets: targets)
            do {
                let result = try await body(lab)
                await lab.tearDownShielded()
                return result
            } catch {
                await lab.tearDownShielded()
                throw error
            }
        }
    }

    private init(
        name: String,
        directory: ScratchDirectory,
        namespaces: NIOLockedValueBox<[String]>,
        tgt: TgtTarget
    ) {
        self.name = name
        self.hostNamespace = "\(name)-host"
        self.targetNamespace = "\(name)-tgt"
        self.links = [PathLabLink(index: 0), PathLabLink(index: 1)]
        self.directory = directory
        self.namespaces = namespaces
        self.tgt = tgt
    }

    private static func make(targets: [TgtTargetSpec]) async throws -> PathLab {
        guard getuid() == 0 else {
            throw TestSupportError(.invalidConfiguration, "a path lab makes network namespaces, which needs root; run the tests as root (Scripts/test does)")
        }
        await PathLabLeftovers.swept.value
        let number = sequence.withLockedValue { value in
            value += 1
            return value
        }
        let name = "\(namePrefix)\(getpid())-\(number)"
        let directory = try ScratchDirectory(prefix: "pathlab")
        let namespaces = NIOLockedValueBox<[String]>([])
        let hostNamespace = "\(name)-host"
        let targetNamespace = "\(name)-tgt"
        let links = [PathLabLink(index: 0), PathLabLink(index: 1)]
        do {
            for namespace in [hostNamespace, targetNamespace] {
                try await ip(["netns", "add", namespace])
                namespaces.withLockedValue { $0.append(namespace) }
                try await quietIPv6(in: namespace)
                try await ip(["-n", namespace, "link", "set", "lo", "up"])
            }
            for link in links {
                try await ip(["-n", hostNamespace, "link", "add", link.hostInterface, "type", "veth", "peer", "name", link.targetInterface, "netns", targetNamespace])
                try await ip(["-n", hostNamespace, "addr", "add", "\(link.hostAddress)/\(PathLabLink.prefixLength)", "dev", link.hostInterface])
                try await ip(["-n", targetNamespace, "addr", "add", "\(link.targetAddress)/\(PathLabLink.prefixLength)", "dev", link.targetInterface])
                try await ip(["-n", hostNamespace, "link", "set", link.hostInterface, "up"])
                try await ip(["-n", targetNamespace, "link", "set", link.targetInterface, "up"])
                try await ip(["-n", hostNamespace, "rule", "add", "from", link.hostAddress, "table", String(link.routingTable), "priority", String(1000 + link.index)])
                try await addSharedRoute(link, in: hostNamespace)
            }
            try await ip(["-n", targetNamespace, "addr", "add", "\(sharedAddress)/32", "dev", "lo"])
            let placement = TgtNetworkPlacement(namespace: targetNamespace, addresses: links.map(\.targetAddress) + [sharedAddress], port: port)
            let tgt = try await TgtTarget.start(TgtConfiguration(targets: targets, placement: placement))
            return PathLab(name: name, directory: directory, namespaces: namespaces, tgt: tgt)
        } catch {
            await deleteNamespaces(namespaces.withLockedValue { $0 })
            directory.remove()
            throw error
        }
    }

    // MARK: Addresses

    /// The host's source address on `link`.
    public func hostAddress(link: Int) -> String {
        self.link(link).hostAddress
    }

    /// The target's portal reached over `link` alone.
    public func targetPortal(link: Int) -> Portal {
        Portal(host: self.link(link).targetAddress, port: Self.port)
    }

    /// The portal on the target's loopback: over link k for a connection from `hostAddress(link: k)`,
    /// unreachable ("Network is unreachable") for a connection that binds no source address.
    public var sharedPortal: Portal {
        Portal(host: Self.sharedAddress, port: Self.port)
    }

    /// A libiscsi URL for `lun` of `iqn` through `portal` (with the target's CHAP, if any).
    public func url(_ iqn: String, lun: Int, through portal: Portal) -> String {
        portal.libiscsiURL(target: iqn, lun: lun, chap: tgt.target(iqn)?.chap)
    }

    func link(_ index: Int) -> PathLabLink {
        precondition(links.indices.contains(index), "a path lab has links 0 and 1, not \(index)")
        return links[index]
    }

    // MARK: Teardown

    /// Stops every flap, stops tgtd (SIGKILL by PID if it does not exit), kills whatever still
    /// runs in the lab's namespaces, deletes them (and with them the veth pairs) and the lab's
    /// folder. Never throws; safe to call twice.
    public func tearDown() async {
        let first = tornDown.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first else {
            return
        }
        for flap in flaps.withLockedValue({ $0 }) {
            _ = await flap.stop()
        }
        await tgt.stop()
        await Self.deleteNamespaces(namespaces.withLockedValue { $0 })
        directory.remove()
    }

    /// Removes the namespaces of path labs whose test process is gone (the first lab of a process
    /// does this by itself); returns their names.
    @discardableResult
    public static func sweepLeftovers() async -> [String] {
        // After the automatic sweep, so the two never race over one namespace.
        await PathLabLeftovers.swept.value
        return await PathLabLeftovers.sweep()
    }

    /// `tearDown()` in a task of its own, so a cancelled test still waits for every step.
    private func tearDownShielded() async {
        await Task { await self.tearDown() }.value
    }

    func register(_ flap: PathLabFlap) {
        flaps.withLockedValue { $0.append(flap) }
    }

    /// Kills by PID every process still in each namespace (a daemon the test left running),
    /// then deletes the namespaces, last made first; in a task of its own, since a cancelled
    /// task's commands are killed before they run.
    static func deleteNamespaces(_ namespaces: [String]) async {
        await Task {
            for namespace in namespaces.reversed() {
                await killProcesses(in: namespace)
                _ = try? await ExternalCommand.run(.ip, ["netns", "delete", namespace], timeout: .seconds(30))
            }
        }.value
    }

    /// `ip netns pids` lists the processes whose network namespace it is; each gets SIGKILL.
    static func killProcesses(in namespace: String) async {
        guard let listed = try? await ExternalCommand.run(.ip, ["netns", "pids", namespace], timeout: .seconds(30)) else {
            return
        }
        for pid in listed.stdout.split(separator: "\n").compactMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) }) where pid > 1 && pid != getpid() {
            _ = kill(pid, SIGKILL)
        }
    }

    // MARK: Commands

    /// Runs `ip` with `arguments` and throws, naming the command and its output, unless it succeeds.
    @discardableResult
    static func ip(_ arguments: [String]) async throws -> CommandResult {
        try await ExternalCommand.run(.ip, arguments, timeout: .seconds(30)).check()
    }

    /// Turns IPv6 off in a new namespace before it has interfaces, so no router or neighbour
    /// solicitation moves a link's byte counters: what they count is the test's own traffic.
    /// (A kernel without IPv6 has no such file and nothing to quiet.)
    private static func quietIPv6(in namespace: String) async throws {
        let script = "for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ ! -e $f ] || echo 1 > $f || exit 1; done"
        try await ip(["netns", "exec", namespace, "sh", "-c", script])
    }

    /// The route in `link`'s table that takes the shared portal over that link. The kernel drops
    /// it with the interface when the host side goes down, so `restore` puts it back.
    static func addSharedRoute(_ link: PathLabLink, in hostNamespace: String) async throws {
        try await ip(["-n", hostNamespace, "route", "replace", "\(sharedAddress)/32", "via", link.targetAddress, "dev", link.hostInterface, "table", String(link.routingTable)])
    }
}
