// `vdiskctl export serve` as a process: it prints its target and portal, serves a real
// client, and exits 0 on SIGTERM after closing its sessions; a thin datastore disk
// reports its block map and 4 KiB physical blocks, and a paced SANITIZE keeps running.

import Foundation
import ISCSI
import NIOCore
import SCSI
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportServeProcessTests {
    /// The vdiskctl built with the tests: beside the test bundle, else in .build/debug; VDISKCTL overrides.
    static func vdiskctlPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["VDISKCTL"] { return path }
        var candidates: [String] = []
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(bundle.appendingPathComponent("vdiskctl").path)
            bundle.deleteLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/vdiskctl").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(.commandFailed, "no vdiskctl binary found (run `swift build --build-tests` first); looked in \(candidates)")
        }
        return found
    }

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
        let process = try await ChildProcess.spawn(
            executable: try vdiskctlPath(), arguments: ["export", "serve"] + arguments,
            stdoutPath: directory.file("stdout"), stderrPath: directory.file("stderr")
        )
        do {
            var banner = ""
            for _ in 0..<100 {
                banner = (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? ""
                if banner.contains("portal ") || !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await body(banner)
            process.send(signal: SIGTERM)
            let status = await process.waitForExit(timeout: .seconds(20))
            #expect(status?.isSuccess == true, "exit: \(String(describing: status)) \(process.outputTail())")
        } catch {
            _ = await process.terminate(gracePeriod: .seconds(1))
            throw error
        }
        if process.isRunning { _ = await process.terminate(gracePeriod: .seconds(1)) }
    }

    /// Runs vdiskctl to the end (at most 60 s) and expects exit 0.
    static func vdiskctl(_ arguments: [String], in directory: ScratchDirectory) async throws {
        let process = try await ChildProcess.spawn(
            executable: try vdiskctlPath(), arguments: arguments, stdoutPath: directory.file("setup.out")
        )
        let status = await process.waitForExit(timeout: .seconds(60))
        if status == nil { _ = await process.terminate(gracePeriod: .seconds(1)) }
        guard status?.isSuccess == true else {
            throw TestSupportError(.commandFailed, "vdiskctl \(arguments.joined(separator: " ")): \(process.outputTail())")
        }
    }

    @Test func serveDatastoreThinDiskReportsItsBlockMapAndPacesSanitize() async throws {
        let directory = try ScratchDirectory(prefix: "export-serve-ds")
        defer { directory.remove() }
        let image = directory.file("ds.img")
        try await Self.vdiskctl(["datastore", "format", image, "--label", "t", "--image-size", "256MiB"], in: directory)
        try await Self.vdiskctl(["disk", "create", image, "thin", "--size", "8MiB"], in: directory)
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
            let sense = try SenseData(parsing: busy.senseData)
            #expect(sense.senseKey == .notReady)
            #expect(sense.additionalSenseCode == .logicalUnitNotReadySanitizeInProgress)
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
}
