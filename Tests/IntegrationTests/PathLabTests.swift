// Proves TestSupport's path lab (two namespaces, two links, tgtd on a portal per link and a
// shared portal) with libiscsi's own clients run as an ordinary user in the host namespace:
// both portals serve the LUN, a cut link silences its portal until restored, byte counters
// follow the traffic, the shared portal is routed by source address, a deleted LUN answers
// LOGICAL UNIT NOT SUPPORTED, the two targets' LUNs have distinct identities, and nothing of a
// lab (or of a killed run's lab) is left behind.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(2)))
struct PathLabTests {
    @Test func eachPortalServesTheLUNAndACutLinkSilencesOnlyItsOwn() async throws {
        try await Self.withCheckedLab { lab in
            for link in lab.links.indices {
                let answer = try await Self.inquiry(lab, link: link)
                #expect(answer.succeeded, "portal \(lab.targetPortal(link: link)): \(answer)")
                #expect(answer.output.contains("Peripheral Device Type:DIRECT_ACCESS"))
            }

            try await lab.cut(link: 0)
            #expect(try await !lab.isUp(link: 0))
            let silenced = try await Self.inquiry(lab, link: 0, timeout: .seconds(20))
            #expect(!silenced.succeeded, "portal 0 still answers with link 0 cut: \(silenced)")
            let other = try await Self.inquiry(lab, link: 1)
            #expect(other.succeeded, "portal 1 must not depend on link 0: \(other)")

            try await lab.restore(link: 0)
            #expect(try await lab.isUp(link: 0))
            // Neighbour entries come back with the first packet; give it a few tries.
            let answersAgain = try await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(200)) {
                try await Self.inquiry(lab, link: 0).succeeded
            }
            #expect(answersAgain, "portal 0 did not answer within 15 s of restoring link 0")
        }
    }

    @Test func aTargetSideCutIsSilentToAnOpenSessionWhichResumesWhenRestored() async throws {
        try await Self.withCheckedLab { lab in
            // iscsi-perf prints a progress line (-l: one per line) at most once a second and only
            // when a command completes; it sends a NOP-Out every 5 s and reconnects after three
            // unanswered ones, so a 3 s cut is within what it waits through.
            let output = lab.directory.file("iscsi-perf.log")
            let url = lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: 0))
            let load = try await lab.spawnInHost(try ExternalTool.iscsiPerf.path(), ["-l", "-m", "8", "-r", url], stdoutPath: output)
            defer { load.send(signal: SIGKILL) }
            let running = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(100)) {
                Self.progressLines(in: output) >= 2
            }
            try #require(running, "iscsi-perf did not report I/O within 15 s: \(load.outputTail())")
            let connections = try await lab.targetConnections()
            #expect(connections.map(\.portal) == [lab.targetPortal(link: 0)], "\(connections)")
            #expect(connections.map(\.hostAddress) == [lab.hostAddress(link: 0)], "\(connections)")

            try await lab.cut(link: 0)
            let atCut = Self.progressLines(in: output)
            try await Task.sleep(for: .seconds(3))
            let duringCut = Self.progressLines(in: output) - atCut
            // One line may have been on its way when the link went down; then nothing completes.
            #expect(duringCut <= 1, "\(duringCut) progress lines while link 0 was cut: \(load.outputTail())")
            #expect(load.isRunning, "iscsi-perf ended during a 3 s cut: \(load.outputTail())")
            #expect(!Self.text(of: output).contains("failed"), "the cut surfaced as an error: \(load.outputTail())")

            try await lab.restore(link: 0)
            let afterRestore = Self.progressLines(in: output)
            let resumed = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(100)) {
                Self.progressLines(in: output) >= afterRestore + 2
            }
            #expect(resumed, "I/O did not resume within 15 s of restoring link 0: \(load.outputTail())")
            #expect(!Self.text(of: output).contains("failed"), "\(load.outputTail())")
            await load.terminate(gracePeriod: .zero)
        }
    }

    @Test func trafficThroughAPortalMovesOnlyItsOwnLinksCounters() async throws {
        try await Self.withCheckedLab { lab in
            for link in lab.links.indices {
                let other = 1 - link
                let before = (try await lab.byteCounters(link: link), try await lab.byteCounters(link: other))
                let size = try await lab.runInHost(
                    .iscsiReadCapacity16,
                    [lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: link))]
                )
                #expect(size.succeeded, "\(size)")
                #expect(size.stdout.contains("Total size:\(64 << 20)"), "\(size.stdout)")
                let grown = try await lab.byteCounters(link: link).growth(since: before.0)
                let idle = try await lab.byteCounters(link: other).growth(since: before.1)
                // A login, TEST UNIT READY and READ CAPACITY are a few kilobytes both ways; the
                // other link carries nothing (IPv6 is off, so no neighbour discovery either).
                #expect(grown.transmittedBytes > 500 && grown.receivedBytes > 500, "link \(link) carried only \(grown)")
                #expect(idle.totalBytes < 300, "link \(other) carried \(idle) while traffic went through portal \(link)")
            }
        }
    }

    @Test func theSharedPortalIsReachedOverTheLinkOfTheSourceAddress() async throws {
        try await Self.withCheckedLab { lab in
            let shared = lab.sharedPortal
            for link in lab.links {
                let route = try await lab.route(to: shared.host, from: link.hostAddress)
                #expect(route.interface == link.hostInterface, "from \(link.hostAddress) the shared portal goes via \(route.interface)")
            }
            // Without a source address there is no route: a path must bind one.
            await #expect(throws: TestSupportError.self) { try await lab.route(to: shared.host) }

            // A real connection, bound the way an initiator's port binding binds it: only the
            // bound link's counters move.
            for link in lab.links {
                let other = lab.links[1 - link.index]
                let before = (try await lab.byteCounters(link: link.index), try await lab.byteCounters(link: other.index))
                let connected = try await lab.runInHost(Self.python, ["-c", Self.boundConnect, shared.host, String(shared.port), link.hostAddress])
                #expect(connected.succeeded, "\(connected)")
                let grown = try await lab.byteCounters(link: link.index).growth(since: before.0)
                let idle = try await lab.byteCounters(link: other.index).growth(since: before.1)
                #expect(grown.transmittedPackets >= 3 && grown.receivedPackets >= 2, "a connection from \(link.hostAddress) did not go over \(link): \(grown)")
                #expect(idle.totalBytes < 300, "\(other) carried \(idle) for a connection bound to \(link.hostAddress)")
            }
        }
    }

    @Test func cuttingTheHostSideWithdrawsTheRouteAndRestorePutsItBack() async throws {
        try await Self.withCheckedLab { lab in
            let link = lab.links[1]
            try await lab.cut(link: 1, at: .host)
            await #expect(throws: TestSupportError.self) { try await lab.route(to: lab.sharedPortal.host, from: link.hostAddress) }
            let unreachable = try await Self.inquiry(lab, link: 1, timeout: .seconds(20))
            #expect(!unreachable.succeeded, "\(unreachable)")
            try await lab.restore(link: 1)
            #expect(try await lab.route(to: lab.sharedPortal.host, from: link.hostAddress).interface == link.hostInterface)
            let answer = try await Self.inquiry(lab, link: 1)
            #expect(answer.succeeded, "\(answer)")

            // All paths down, at the host side: neither portal answers; all back: both do.
            try await lab.cutAll(at: .host)
            for index in lab.links.indices {
                #expect(try await !lab.isUp(link: index))
                #expect(!(try await Self.inquiry(lab, link: index)).succeeded)
            }
            await lab.restoreAll()
            for index in lab.links.indices {
                #expect(try await Self.inquiry(lab, link: index).succeeded)
            }
        }
    }

    @Test func aDeletedLUNAnswersLogicalUnitNotSupportedOnEveryPortalUntilRecreated() async throws {
        try await Self.withCheckedLab { lab in
            #expect(try await Self.inquiry(lab, link: 0).succeeded)
            let paused = try await lab.deleteLUN(PathLab.primaryIQN, lun: 1)
            #expect(paused == .zero, "an idle LUN is deleted without cutting links")
            for link in lab.links.indices {
                let gone = try await Self.inquiry(lab, link: link)
                #expect(!gone.succeeded)
                // libiscsi's login ends with TEST UNIT READY; tgt answers ILLEGAL REQUEST 25h/00h.
                #expect(gone.output.contains("ILLEGAL_REQUEST"), "\(gone)")
                #expect(gone.output.contains("LOGICAL_UNIT_NOT_SUPPORTED(0x2500)"), "\(gone)")
            }
            // REPORT LUNS no longer lists it; the other target is untouched.
            #expect(try await Self.reportedLUNs(lab, of: PathLab.primaryIQN) == [0])
            #expect(try await Self.reportedLUNs(lab, of: PathLab.otherIQN) == [0, 1])
            let other = try await lab.runInHost(.iscsiInq, [lab.url(PathLab.otherIQN, lun: 1, through: lab.targetPortal(link: 0))])
            #expect(other.succeeded, "\(other)")

            try await lab.recreateLUN(PathLab.primaryIQN, lun: 1)
            let back = try await Self.inquiry(lab, link: 1)
            #expect(back.succeeded, "\(back)")
        }
    }

    @Test func aLUNUnderQueueDepth32LoadIsDeletedAndItsCommandsFailWithLogicalUnitNotSupported() async throws {
        try await Self.withCheckedLab { lab in
            let url = lab.url(PathLab.otherIQN, lun: 1, through: lab.targetPortal(link: 1))
            let output = lab.directory.file("iscsi-perf.log")
            let load = try await lab.spawnInHost(try ExternalTool.iscsiPerf.path(), ["-m", "32", "-r", url], stdoutPath: output)
            defer { load.send(signal: SIGKILL) }
            let running = await BoundedWait.until(timeout: .seconds(15), interval: .milliseconds(100)) {
                Self.text(of: output).contains("iops current")
            }
            try #require(running, "iscsi-perf did not report I/O within 15 s: \(load.outputTail())")

            let clock = ContinuousClock()
            let start = clock.now
            let paused = try await lab.deleteLUN(PathLab.otherIQN, lun: 1)
            #expect(paused < .seconds(5))
            let failed = await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) {
                Self.text(of: output).contains("LOGICAL_UNIT_NOT_SUPPORTED")
            }
            #expect(failed, "the load saw no LOGICAL UNIT NOT SUPPORTED within \(clock.now - start) of the delete: \(load.outputTail())")
            await load.terminate(gracePeriod: .zero)
        }
    }

    @Test func theSecondTargetsLUNHasAnotherIdentity() async throws {
        try await Self.withCheckedLab { lab in
            var identities: [[String]] = []
            for iqn in [PathLab.primaryIQN, PathLab.otherIQN] {
                // iscsi-inq reads the page code as a decimal number: 131 is page 83h.
                let page = try await lab.runInHost(.iscsiInq, ["-e", "1", "-c", "131", lab.url(iqn, lun: 1, through: lab.targetPortal(link: 0))])
                #expect(page.succeeded, "\(page)")
                #expect(page.stdout.contains("DEVICE_IDENTIFICATION"), "\(page.stdout)")
                identities.append(Self.textDesignators(page.stdout))
            }
            #expect(identities.allSatisfy { !$0.isEmpty }, "no T10 vendor ID designator in page 83h: \(identities)")
            #expect(identities[0] != identities[1], "both LUNs have the identity \(identities[0])")
            // Each LUN is the same LUN through either portal.
            let again = try await lab.runInHost(.iscsiInq, ["-e", "1", "-c", "131", lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: 1))])
            #expect(Self.textDesignators(again.stdout) == identities[0])
        }
    }

    @Test func theProductsCLIRunsAsTheOrdinaryUserInTheHostNamespaceAndSeesEachLUNsOwnIdentity() async throws {
        let vdiskctl = try UnprivilegedUser.executable("vdiskctl", overriddenBy: "VDISKCTL")
        try await Self.withCheckedLab { lab in
            var seen: [String: Set<String>] = [:]
            for iqn in [PathLab.primaryIQN, PathLab.otherIQN] {
                for link in lab.links.indices {
                    let shown = try await lab.runInHost(vdiskctl, ["target", "inquiry", lab.url(iqn, lun: 1, through: lab.targetPortal(link: link))])
                    #expect(shown.succeeded, "\(shown)")
                    let designators = Set(shown.stdout.split(separator: "\n").filter { $0.hasPrefix("designator ") }.map(String.init))
                    #expect(designators.contains { $0.hasPrefix("designator NAA ") }, "\(shown.stdout)")
                    // The same LUN through either portal.
                    #expect(seen[iqn].map { $0 == designators } ?? true, "\(iqn) shows \(designators) through portal \(link), \(seen[iqn] ?? []) through the other")
                    seen[iqn] = designators
                }
            }
            let primary = seen[PathLab.primaryIQN] ?? []
            let other = seen[PathLab.otherIQN] ?? []
            #expect(primary.isDisjoint(with: other), "the two LUNs share designators: \(primary.intersection(other))")

            // Data written into the backing file is read through portal 1 into a folder of the user's.
            let backing = try #require(lab.tgt.target(PathLab.primaryIQN)?.lun(1)?.backingFile)
            let pattern = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
            let handle = try #require(FileHandle(forWritingAtPath: backing))
            try handle.write(contentsOf: pattern)
            try handle.close()
            let copy = try lab.folder("client") + "/read.bin"
            let read = try await lab.runInHost(vdiskctl, ["target", "read", lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: 1)), "--lba", "0", "--blocks", "8", "--out", copy])
            #expect(read.succeeded, "\(read)")
            #expect(FileManager.default.contents(atPath: copy) == pattern)
        }
    }

    @Test func aFlapCutsAndRestoresWithinItsBoundsAndLeavesTheLinkUp() async throws {
        try await Self.withCheckedLab { lab in
            let clock = ContinuousClock()
            let start = clock.now
            let cuts = try await lab.flap(link: 0, period: .milliseconds(100), duration: .seconds(1)).finished()
            let took = clock.now - start
            // At most one cut per down-and-up cycle: 5 in 1 s, plus the one begun at the start.
            #expect((1...6).contains(cuts), "a 1 s flap at 100 ms made \(cuts) cuts")
            #expect(took < .seconds(10), "a 1 s flap took \(took)")
            #expect(try await lab.isUp(link: 0))

            let refused = #expect(throws: TestSupportError.self) { try lab.flap(link: 1, period: .zero, duration: .seconds(1)) }
            #expect(refused?.message.contains("positive period") == true, "\(String(describing: refused))")

            let long = try lab.flap(link: 1, period: .milliseconds(100), duration: .seconds(30))
            try await Task.sleep(for: .milliseconds(300))
            let stopStart = clock.now
            let stoppedCuts = await long.stop()
            #expect(stoppedCuts >= 1)
            #expect(clock.now - stopStart < .seconds(5), "stopping a flap took \(clock.now - stopStart)")
            #expect(try await lab.isUp(link: 1))
            #expect(try await Self.inquiry(lab, link: 1).succeeded)
        }
    }

    @Test func theSweepRemovesANamespaceOfADeadProcessAndWhatRunsInIt() async throws {
        guard getuid() == 0 else {
            Issue.record("the sweep test makes network namespaces and needs root")
            return
        }
        // The process's own first sweep is done before the leftover is made.
        await PathLab.sweepLeftovers()
        // A PID that was ours and is gone.
        let scratch = try ScratchDirectory(prefix: "pathlab-sweep")
        defer { scratch.remove() }
        let ended = try await ChildProcess.spawn(executable: try ExternalTool.bash.path(), arguments: ["-c", "exit 0"], stdoutPath: scratch.file("ended.log"))
        _ = await ended.waitForExit(timeout: .seconds(10))
        let orphan = "\(PathLab.namePrefix)\(ended.pid)-1-host"
        let ours = "\(PathLab.namePrefix)\(getpid())-sweep-host"
        // Should the test fail half-way, the next run's sweep removes both: their PIDs are gone then.
        _ = try await ExternalCommand.run(.ip, ["netns", "add", orphan]).check()
        _ = try await ExternalCommand.run(.ip, ["netns", "add", ours]).check()
        // Something a killed run left running in its namespace.
        let leftover = try await ChildProcess.spawn(
            executable: try ExternalTool.ip.path(),
            arguments: ["netns", "exec", orphan, try ExternalTool.bash.path(), "-c", "sleep 60"],
            stdoutPath: scratch.file("leftover.log")
        )
        let inside = try await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) {
            try await ExternalCommand.run(.ip, ["netns", "pids", orphan]).stdout.contains(String(leftover.pid))
        }
        #expect(inside)

        await PathLab.sweepLeftovers()

        #expect(await leftover.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
        let listed = try await Self.namespaces()
        #expect(!listed.contains(orphan), "the sweep left \(orphan): \(listed)")
        #expect(listed.contains(ours), "the sweep removed a namespace of a live process: \(listed)")
        _ = try await ExternalCommand.run(.ip, ["netns", "delete", ours]).check()
    }

    @Test func aProgramLeftRunningInTheHostNamespaceIsKilledAtTeardown() async throws {
        let leftover = try await PathLab.with { lab in
            let process = try await lab.spawnInHost("/bin/sleep", ["60"], stdoutPath: lab.directory.file("sleep.log"))
            let inside = try await BoundedWait.until(timeout: .seconds(10), interval: .milliseconds(50)) {
                try await ExternalCommand.run(.ip, ["netns", "pids", lab.hostNamespace]).stdout
                    .split(separator: "\n").contains(Substring(String(process.pid)))
            }
            #expect(inside, "sleep \(process.pid) is not in \(lab.hostNamespace)")
            return process
        }
        #expect(await leftover.waitForExit(timeout: .seconds(10)) == .signalled(SIGKILL))
    }

    @Test func aCrashedTgtdRestartsInTheTargetNamespaceOnEveryPortal() async throws {
        try await Self.withCheckedLab { lab in
            let first = lab.tgt.pid
            await lab.tgt.crash()
            #expect(ProcessProbe.isGone(first))
            #expect(!(try await Self.inquiry(lab, link: 0)).succeeded)
            try await lab.tgt.restart()
            #expect(lab.tgt.pid != first)
            for link in lab.links.indices {
                #expect(try await Self.inquiry(lab, link: link).succeeded)
            }
            let shared = lab.sharedPortal
            #expect(LoopbackPort.isListening(pid: lab.tgt.pid, address: shared.host, port: shared.port))
        }
    }

    @Test func aPlacementTgtdCannotServeIsRefusedBeforeAnythingStarts() async throws {
        let targets = [TgtTargetSpec(iqn: PathLab.primaryIQN, luns: [.null(1)])]
        let cases: [(TgtNetworkPlacement, String)] = [
            (TgtNetworkPlacement(namespace: "vdpl-unused", addresses: ["fd00::1"]), "fd00::1"),
            (TgtNetworkPlacement(namespace: "vdpl-unused", addresses: ["10.231.0.1", "10.231.0.1"]), "an address twice"),
            (TgtNetworkPlacement(namespace: "vdpl-unused", addresses: []), "at least one address"),
            (TgtNetworkPlacement(namespace: "vdpl-unused", addresses: ["10.231.0.1"], port: 0), "port 0"),
        ]
        for (placement, named) in cases {
            let error = await #expect(throws: TestSupportError.self) {
                try await withTgt(TgtConfiguration(targets: targets, placement: placement)) { _ in }
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(named) == true, "\(String(describing: error))")
        }
    }

    // MARK: Helpers

    /// Runs `body` in a lab, then checks that nothing of it is left: no namespace, no tgtd, no folder.
    private static func withCheckedLab(_ body: (PathLab) async throws -> Void) async throws {
        let (names, tgtd, folders) = try await PathLab.with { lab in
            try await body(lab)
            return ([lab.hostNamespace, lab.targetNamespace], lab.tgt.pid, [lab.directory.path, lab.tgt.directory.path])
        }
        let listed = try await Self.namespaces()
        #expect(listed.isDisjoint(with: names), "the lab's namespaces are still there: \(listed.intersection(names))")
        #expect(ProcessProbe.isGone(tgtd), "tgtd \(tgtd) still runs")
        for folder in folders {
            #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) is still there")
        }
    }

    /// The names `ip netns list` prints (each line is "NAME" or "NAME (id: N)").
    private static func namespaces() async throws -> Set<String> {
        let listed = try await ExternalCommand.run(.ip, ["netns", "list"]).check().stdout
        return Set(listed.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    /// `iscsi-inq` of the primary LUN through `link`'s portal, as the ordinary user in the host
    /// namespace. A client that hangs on a cut link is killed at `timeout` and counts as no answer.
    private static func inquiry(_ lab: PathLab, link: Int, timeout: Duration = .seconds(20)) async throws -> Answer {
        let url = lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: link))
        do {
            let result = try await lab.runInHost(.iscsiInq, [url], timeout: timeout)
            return Answer(succeeded: result.succeeded, output: result.output, description: result.description)
        } catch let error as TestSupportError where error.code == .commandTimedOut {
            return Answer(succeeded: false, output: "", description: error.message)
        }
    }

    private struct Answer: CustomStringConvertible {
        let succeeded: Bool
        let output: String
        let description: String
    }

    /// iscsi-perf's progress lines ("… iops current N …") so far.
    private static func progressLines(in file: String) -> Int {
        text(of: file).split(separator: "\n").filter { $0.contains("iops current") }.count
    }

    /// The LUNs `iscsi-ls -s` (REPORT LUNS) lists for `iqn` through portal 0.
    private static func reportedLUNs(_ lab: PathLab, of iqn: String) async throws -> [Int] {
        let listing = try await lab.runInHost(.iscsiLs, ["-s", lab.targetPortal(link: 0).discoveryURL]).check().stdout
        var luns: [Int] = []
        var inTarget = false
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("Target:") {
                inTarget = line.hasPrefix("Target:\(iqn) ")
            } else if inTarget, line.hasPrefix("Lun:"), let number = Int(line.dropFirst("Lun:".count).prefix { $0.isNumber }) {
                luns.append(number)
            }
        }
        return luns
    }

    private static func text(of file: String) -> String {
        String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
    }

    /// The ASCII designators iscsi-inq prints for page 83h (it prints binary ones as raw bytes).
    private static func textDesignators(_ page: String) -> [String] {
        let lines = page.split(separator: "\n").map(String.init)
        var designators: [String] = []
        for (index, line) in lines.enumerated() where line.hasPrefix("Code Set:(2)") {
            if let value = lines[index...].first(where: { $0.hasPrefix("Designator:[") }) {
                designators.append(value)
            }
        }
        return designators
    }

    /// Debian's python3 (Scripts/install-deps installs it): one the unprivileged user may run,
    /// unlike an interpreter under root's home that PATH may name first.
    private static let python = "/usr/bin/python3"

    /// Python connects to argv[1]:argv[2] from source address argv[3], then closes.
    private static let boundConnect = """
        import socket, sys
        connection = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10, source_address=(sys.argv[3], 0))
        connection.close()
        """
}
