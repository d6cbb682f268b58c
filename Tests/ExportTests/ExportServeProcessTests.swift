// `vdiskctl export serve --raw` as a process: it prints its target and portal, serves a
// real client, exits 0 on SIGTERM after closing its sessions, and drops a client that
// stops answering NOP-In within --nop-interval plus --nop-timeout.

import Foundation
import ISCSI
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportServeProcessTests {
    @Test func serveRawPrintsItsPortalServesAndStopsCleanlyOnSIGTERM() async throws {
        let directory = try ScratchDirectory(prefix: "export-serve")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 8 << 20)
        let port = try LoopbackPort.reserve()
        let iqn = "iqn.2025-01.io.vdiskd:served"
        let process = try await ChildProcess.spawn(
            executable: try VDiskCtl.path(),
            arguments: ["export", "serve", "--raw", image, "--listen", "127.0.0.1:\(port)", "--iqn", iqn],
            stdoutPath: directory.file("stdout"), stderrPath: directory.file("stderr")
        )
        do {
            // Bounded: 100 looks, 100 ms apart.
            var banner = ""
            for _ in 0..<100 {
                banner = (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? ""
                if banner.contains("portal ") || !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(banner.contains("target \(iqn)"))
            #expect(banner.contains("portal 127.0.0.1:\(port)"))
            let capacity = try await LibISCSIClient.capacity(Portal(host: "127.0.0.1", port: port).libiscsiURL(target: iqn, lun: 0))
            #expect(capacity == 8 << 20)
            process.send(signal: SIGTERM)
            let status = await process.waitForExit(timeout: .seconds(20))
            #expect(status?.isSuccess == true, "exit: \(String(describing: status)) \(process.outputTail())")
        } catch {
            _ = await process.terminate(gracePeriod: .seconds(1))
            throw error
        }
        if process.isRunning { _ = await process.terminate(gracePeriod: .seconds(1)) }
    }

    /// `--nop-interval 1 --nop-timeout 2`: a client that never answers is pinged after a
    /// second of silence and dropped two seconds later; one that answers every NOP-In stays.
    @Test func aSilentClientIsPingedThenDroppedWithinTheConfiguredBoundAndAnAnsweringOneStays() async throws {
        let directory = try ScratchDirectory(prefix: "export-nop")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 8 << 20)
        try await ServedExport.with(["--raw", image, "--nop-interval", "1", "--nop-timeout", "2"], in: directory) { export in
            // Both connections watched off the concurrency pool (their calls block), 50 ms at a
            // time (bounded: 200 turns, 10 s). The silent one must see a NOP-In asking for an
            // answer (a real TTT), then the hang-up; the answering one echoes every ping it gets.
            let watch = try await OffPool.run { () throws -> PingWatch in
                let clock = ContinuousClock()
                let silent = try ScriptedInitiator(port: export.portal.port, target: export.iqn, initiator: "iqn.2025-01.io.vdiskd:silent", isid: 0x80_0000_0003_00)
                let answering = try ScriptedInitiator(port: export.portal.port, target: export.iqn, initiator: "iqn.2025-01.io.vdiskd:answering", isid: 0x80_0000_0004_00, timeoutSeconds: 1)
                var watch = PingWatch(loggedIn: clock.now, answering: answering)
                for _ in 0..<200 {
                    if watch.dropped != nil && clock.now - watch.loggedIn >= .seconds(6) { break }
                    if watch.dropped == nil, silent.client.isReadable(within: 25) {
                        switch try silent.client.receive() {
                        case .nopIn(let ping)? where watch.pinged == nil && ping.initiatorTaskTag == reservedTag && ping.targetTransferTag != reservedTag:
                            watch.pinged = clock.now
                        case nil:
                            watch.dropped = clock.now
                        case let other?:
                            watch.oddities.append("the silent client got \(other)")
                        }
                    }
                    if answering.client.isReadable(within: 25), case .nopIn(let nop)? = try answering.client.receive(), nop.targetTransferTag != reservedTag {
                        try answering.client.send(.nopOut(NOPOut(initiatorTaskTag: reservedTag, targetTransferTag: nop.targetTransferTag, cmdSN: answering.cmdSN, expStatSN: 0)))
                        watch.answered += 1
                    }
                }
                return watch
            }
            let (loggedIn, pinged, dropped, answered) = (watch.loggedIn, watch.pinged, watch.dropped, watch.answered)
            #expect(watch.oddities.isEmpty, "\(watch.oddities)")
            let ping = try #require(pinged, "the silent client was never pinged")
            let end = try #require(dropped, "the silent client was not dropped within 10 s")
            #expect(ping - loggedIn < .seconds(4), "pinged \(ping - loggedIn) after login; the interval is 1 s")
            #expect(end - ping >= .milliseconds(1500) && end - ping < .seconds(5), "dropped \(end - ping) after the ping; the timeout is 2 s")
            #expect(answered >= 2, "the answering client saw \(answered) pings in 6 s")

            // Well past the silent one's end, the answering one still runs commands.
            let ready = try await OffPool.run { () throws -> UInt8 in
                try watch.answering.clearUnitAttentions()
                let status = try watch.answering.run(cdb: [0, 0, 0, 0, 0, 0]).status
                try watch.answering.logout()
                return status
            }
            #expect(ready == 0)
        }
    }

    /// What watching the two pinged connections showed.
    struct PingWatch: Sendable {
        var loggedIn: ContinuousClock.Instant
        var answering: ScriptedInitiator
        var pinged: ContinuousClock.Instant?
        var dropped: ContinuousClock.Instant?
        var answered = 0
        var oddities: [String] = []
    }
}
