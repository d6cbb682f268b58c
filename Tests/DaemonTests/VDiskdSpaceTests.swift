// A thin disk filling its datastore, through the daemon's export on tgt: the soft threshold's
// unit attention first, then DATA PROTECT / SPACE ALLOCATION FAILED WRITE PROTECT (07/27/07) to
// QEMU (qemu-io) and to qemu-img (both through libiscsi); UNMAP frees space and writes work again.

import Control
import Daemon
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct VDiskdSpaceTests {
    static let lunIQN = "iqn.2026-11.org.vdiskd.test:space-lun"
    static let exportIQN = "iqn.2026-11.example.vdiskd:vm1"
    static let mebibyte = 1 << 20

    static func qemuIo(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(try ExternalTool.qemuIo.path(), arguments, timeout: 180)
    }

    @Test func aFullDatastoreRefusesWritesWithDataProtectAndComesBackAfterUnmap() async throws {
        // A 40 MiB LUN and a 128 MiB thin disk: the disk can outgrow its datastore.
        try await PreparedLUN.with(iqn: Self.lunIQN, size: 40 << 20, diskSize: "128MiB", formatOptions: ["--max-hosts", "4", "--max-disks", "8"]) { lun in
            let exportPort = try LoopbackPort.reserve()
            let metricsPort = try LoopbackPort.reserve()
            let daemon = try lun.startDaemon(exportPort: exportPort) { text in
                text.replacingOccurrences(of: "target = \"lun1\"\n", with: "target = \"lun1\"\nspace_warning_percent = 50\n")
                    .replacingOccurrences(of: "[daemon]\n", with: "[daemon]\nmetrics_listen = \"127.0.0.1:\(metricsPort)\"\n")
            }
            defer { daemon.stop() }
            try #require(await daemon.notify.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let exportURL = "iscsi://127.0.0.1:\(exportPort)/\(Self.exportIQN)/0"
            let client = ControlClient(socketPath: daemon.socketPath)
            let info = try await client.call("datastores.show", params: .object(["datastore": .string("ds1")]))["info"]
            let blockSize = try #require(info?["fileBlockSize"]?.intValue)
            let freeBlocks = try #require(info?["freeBlocks"]?.intValue)
            let fits = freeBlocks * blockSize / Self.mebibyte
            #expect(fits > 4 && fits < 40, "free \(freeBlocks) blocks of \(blockSize)")

            // QEMU writes 1 MiB pieces past what fits: the soft threshold's unit attention comes
            // (QEMU reports it and retries), then ENOSPC, QEMU's reading of 07/27/07.
            let pieces = fits + 3
            let fill = try await Self.qemuIo(["-f", "raw"] + (0..<pieces).flatMap { ["-c", "write -P \($0 % 250 + 1) \($0 * Self.mebibyte) 1M"] } + [exportURL])
            let attention = try #require(fill.stderr.range(of: "UNIT_ATTENTION"), "no unit attention: \(fill.stderr)")
            #expect(fill.stderr.contains("0x3807") || fill.stderr.contains("THIN_PROVISION"), "\(fill.stderr)")
            // QEMU's driver names the sense on stderr; qemu-io reports the errno it became on stdout.
            let dataProtect = try #require(fill.stderr.range(of: "DATA PROTECTION(7)"), "no DATA PROTECT: \(fill.stderr)")
            #expect(fill.stderr[dataProtect.upperBound...].prefix(40).contains("(0x2707)"), "not SPACE ALLOCATION FAILED WRITE PROTECT: \(fill.stderr)")
            #expect(attention.lowerBound < dataProtect.lowerBound, "the soft threshold came after the failure: \(fill.stderr)")
            #expect((fill.stdout + fill.stderr).contains("No space left on device"), "QEMU did not read it as ENOSPC: \(fill.stdout.suffix(500))")
            let written = fill.stdout.components(separatedBy: "wrote \(Self.mebibyte)/\(Self.mebibyte)").count - 1
            #expect(written >= fits / 2 && written < pieces, "\(written) pieces written of \(pieces), \(fits) fit")

            // qemu-img (libiscsi) copying a whole disk image meets the same refusal.
            let image = "\(lun.scratch.path)/whole.bin"
            try Data(repeating: 0x5A, count: 128 << 20).write(to: URL(fileURLWithPath: image))
            await #expect { try await LibISCSIClient.copy(from: image, to: exportURL, blockSize: Self.mebibyte, blocks: 128) } throws: { error in
                "\(error)".contains("No space left on device")
            }

            // The daemon said so: log, metrics, events, STATUS.
            #expect(daemon.stderr.contains("datastore reached its space soft threshold"), "\(daemon.stderr)")
            #expect(daemon.stderr.contains("datastore out of space"), "\(daemon.stderr)")
            let scraped = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect(HTTPProbe.value(of: "vdiskd_datastore_space_low{datastore=\"ds1\"}", in: scraped) == 1, "\(scraped)")
            #expect(HTTPProbe.value(of: "vdiskd_datastore_free_bytes{datastore=\"ds1\"}", in: scraped) == 0, "\(scraped)")
            let events = try await client.call("events.list")["events"]?.arrayValue ?? []
            let states = events.filter { $0["part"] == .string("datastore:ds1") }.compactMap { $0["state"]?.stringValue }
            #expect(states.firstIndex(of: "space-low") ?? .max < states.firstIndex(of: "out-of-space") ?? -1, "\(states)")

            // UNMAP of the first 16 MiB frees their blocks: writes that failed now land, no restart.
            let unmap = try await Self.qemuIo(["-f", "raw", "-d", "unmap", "-c", "discard 0 16M", exportURL])
            #expect(unmap.status == 0, "\(unmap.stderr)")
            let again = try await Self.qemuIo(["-f", "raw", "-c", "write -P 9 \(written * Self.mebibyte) 1M", "-c", "read -P 9 \(written * Self.mebibyte) 1M", exportURL])
            #expect(again.status == 0 && !again.stdout.contains("Pattern verification failed"), "\(again.stdout) \(again.stderr)")
            let after = try #require(await HTTPProbe.scrape(port: metricsPort))
            #expect((HTTPProbe.value(of: "vdiskd_datastore_free_bytes{datastore=\"ds1\"}", in: after) ?? 0) > 0, "\(after)")
            #expect(await daemon.terminate() == 0, "\(daemon.stderr)")
            let check = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", ["datastore", "check", lun.url])
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        }
    }
}
