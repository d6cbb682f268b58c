// `vdiskctl export serve` as a process: it prints its target and portal, serves a real
// client, and exits 0 on SIGTERM after closing its sessions; a thin datastore disk
// reports its block map and 4 KiB physical blocks, a paced SANITIZE keeps running, and a
// client that stops answering NOP-In is dropped within --nop-interval plus --nop-timeout.

import Foundation
import ISCSI
import NIOCore
import SCSI
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportServeProcessTests {
    @Test func serveRawPrintsItsPortalServesAndStopsCleanlyOnSIGTERM() async throws {
        let directory = try ScratchDirectory(prefix: "export-serve")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 8 << 20)
        let port = try LoopbackPort.reserve()
        let iqn = "iqn.2025-01.io.vdiskd:served"
        try await Self.serving(["--raw", image, "--listen", "127.0.0.1:\(port)", "--iqn", iqn], in: directory) { banner in
            #expect(banner.contains("target \(iqn)"))
            #expect(banner.contains("portal 127.0.0.1:\(port)"))
            let capacity = try await LibISCSIClient.capacity(Portal(host: "127.0.0.1", port: port).libiscsiURL(target: iqn, lun: 0))
            #expect(capacity == 8 << 20)
        }
    }

    /// Starts `vdiskctl export serve ARGUMENTS`, waits (bounded: 100 looks, 100 ms apart)
    /// for its portal line, runs `body` with what it printed, then stops it with SIGTERM
    /// and expects exit 0 within 20 s. The process is killed on every other way out.
    static func serving(_ arguments: [String], in directory: ScratchDirectory, _ body: (String) async throws -> Void) async throws {
        try await serving(arguments, in: directory) { banner, _ in try await body(banner) }
    }

    /// `serving` whose body also gets the process, to watch it from outside.
    /// `environment` is set for the process only (through env(1), so its values stay out of
    /// the export's own command line).
    static func serving(
        _ arguments: [String], in directory: ScratchDirectory, environment: [String: String] = [:], launcher: [String] = [],
        _ body: (String, ChildProcess) async throws -> Void
    ) async throws {
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        // `launcher` (prlimit, say) and env(1) exec the export in turn: the pid is the export's.
        let argv = launcher + (environment.isEmpty ? [] : ["/usr/bin/env"] + settings) + [try VDiskCtl.path(), "export", "serve"] + arguments
        let process = try await ChildProcess.spawn(
            executable: argv[0],
            arguments: Array(argv.dropFirst()),
            stdoutPath: directory.file("stdout"), stderrPath: directory.file("stderr")
        )
        do {
            var banner = ""
            for _ in 0..<100 {
                banner = (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? ""
                if banner.contains("portal ") || !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await body(banner, process)
            process.send(signal: SIGTERM)
            let status = await process.waitForExit(timeout: .seconds(20))
            #expect(status?.isSuccess == true, "exit: \(String(describing: status)) \(process.outputTail())")
        } catch {
            _ = await process.terminate(gracePeriod: .seconds(1))
            throw error
        }
        if process.isRunning { _ = await process.terminate(gracePeriod: .seconds(1)) }
    }

    @Test func serveDatastoreThinDiskReportsItsBlockMapAndPacesSanitize() async throws {
        let directory = try ScratchDirectory(prefix: "export-serve-ds")
        defer { directory.remove() }
        let image = directory.file("ds.img")
        try await VDiskCtl.run(["datastore", "format", image, "--label", "t", "--image-size", "256MiB"], in: directory).check()
        try await VDiskCtl.run(["disk", "create", image, "thin", "--size", "8MiB"], in: directory).check()
        let port = try LoopbackPort.reserve()
        let iqn = "iqn.2025-01.io.vdiskd:datastore"
        // 8 MiB of disk at 8 MiB/s: a sanitize takes about a second.
        let arguments = [image, "thin", "--listen", "127.0.0.1:\(port)", "--iqn", iqn, "--sanitize-rate", "8MiB"]
        try await Self.serving(arguments, in: directory) { _ in
            let session = try await ISCSISession.connect(ISCSISessionConfiguration(
                portal: TargetPortal(host: "127.0.0.1", port: port), targetName: iqn,
                initiatorName: "iqn.2025-01.io.vdiskd:process-test", loginTimeout: .seconds(10)
            ))
            func run(_ cdb: [UInt8], _ data: [UInt8] = [], expected: Int = 0) async throws -> SCSITaskResult {
                try await session.execute(SCSITaskRequest(lun: 0, cdb: cdb, dataOut: data.isEmpty ? nil : ByteBuffer(bytes: data), expectedDataInLength: expected))
            }
            for _ in 0..<5 where !(try await run([0, 0, 0, 0, 0, 0]).isGood) {}
            let capacity = try ReadCapacity16Data(parsing: Array(try await run(CDB.readCapacity16(), expected: 32).data.readableBytesView))
            #expect(capacity.logicalBlocksPerPhysicalBlockExponent == 3)
            #expect(capacity.logicalBlockProvisioningManagementEnabled && capacity.logicalBlockProvisioningReadZeros)
            func status(_ lba: UInt64) async throws -> (lba: UInt64, count: UInt32, state: UInt8) {
                let data = try await run([0x9E, 0x12] + withUnsafeBytes(of: lba.bigEndian, Array.init) + [0, 0, 0, 24, 0, 0], expected: 24).data
                let bytes = Array(data.readableBytesView)
                guard bytes.count >= 24 else { return (0, 0, 0xFF) }
                let start = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let count = bytes[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return (start, count, bytes[20] & 0x0F)
            }
            // A fresh thin disk: all 16384 blocks deallocated.
            #expect(try await status(0) == (0, 16384, 1))
            // 8 blocks at LBA 4096 allocate the 1 MiB file block holding blocks 4096...6143.
            #expect(try await run([0x2A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], [UInt8](repeating: 7, count: 4096)).isGood)
            #expect(try await status(0) == (0, 4096, 1))
            #expect(try await status(4100) == (4100, 2044, 0))
            #expect(try await status(6144) == (6144, 16384 - 6144, 1))
            // SANITIZE OVERWRITE with IMMED: NOT READY, SANITIZE IN PROGRESS until done, about a second later.
            let started = ContinuousClock.now
            #expect(try await run([0x48, 0x81, 0, 0, 0, 0, 0, 0, 5, 0], [0x01, 0, 0, 1, 0xA5]).isGood)
            let busy = try await run([0, 0, 0, 0, 0, 0])
            if busy.isGood {
                // A machine stalled for over a second let the whole paced sanitize pass before this
                // TEST UNIT READY (seen once beside the parallel suite): it still took its second.
                #expect(ContinuousClock.now - started >= .milliseconds(800))
            } else {
                let sense = try SenseData(parsing: busy.senseData)
                #expect(sense.senseKey == .notReady)
                #expect(sense.additionalSenseCode == .logicalUnitNotReadySanitizeInProgress)
            }
            var finished = false
            for _ in 0..<300 where !finished {
                finished = try await run([0, 0, 0, 0, 0, 0]).isGood
                if !finished { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(finished)
            #expect(ContinuousClock.now - started >= .milliseconds(800))
            // Every block was written, so every file block is allocated now.
            #expect(try await status(0) == (0, 16384, 0))
            try await session.logout()
        }
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
