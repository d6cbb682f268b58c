// A datastore stacked on an export: `vdiskctl export serve` makes an image file (or a
// disk of another datastore) a LUN, the datastore formats that LUN, and since the export
// has COMPARE AND WRITE the format probe picks ATS locking. Two vdiskctl hosts, each with
// its own session to the export, then contend for one disk the way two machines would.

import Foundation
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExportStackedDatastoreTests {
    /// What the export serves as the LUN the datastore is formatted on.
    enum Lower: String, CaseIterable, CustomStringConvertible {
        case imageFile
        /// A thin disk of a datastore on an image file: a datastore inside a datastore disk.
        case datastoreDisk
        var description: String { rawValue }
    }

    @Test(arguments: Lower.allCases)
    func aDatastoreOnAnExportLocksWithATSAndASecondHostIsLockedOut(lower: Lower) async throws {
        let directory = try ScratchDirectory(prefix: "export-stacked")
        defer { directory.remove() }
        let image: String
        let served: [String]
        switch lower {
        case .imageFile:
            image = try directory.createSparseFile("lun.img", size: 128 << 20)
            served = ["--raw", image]
        case .datastoreDisk:
            image = directory.file("outer.img")
            try await VDiskCtl.run(["datastore", "format", image, "--image-size", "256MiB", "--label", "outer", "--block-size", "64k", "--max-hosts", "8", "--max-disks", "16"], in: directory).check()
            try await VDiskCtl.run(["disk", "create", image, "lower", "--size", "128MiB"], in: directory).check()
            served = [image, "lower"]
        }
        let stamp = directory.file("stamp.raw")
        let template = TestPattern.bytes(seed: 0x57AC, count: 4096)
        try Data(template.readableBytesView).write(to: URL(fileURLWithPath: stamp))
        try await ServedExport.with(served, in: directory) { export in
            let lun = export.url(lun: 0)
            let format = try await VDiskCtl.run(["datastore", "format", lun, "--label", "stacked", "--block-size", "64k", "--max-hosts", "8", "--max-disks", "16"], in: directory).check()
            #expect(format.stdout.contains("lock mode ats"), "\(format)")
            let info = try await VDiskCtl.run(["datastore", "info", lun, "--json"], in: directory).check()
            let fields = try info.json()
            #expect(fields["lockMode"] as? String == "ats", "\(info)")
            try await VDiskCtl.run(["disk", "create", lun, "vm", "--size", "8MiB"], in: directory).check()

            // Host A keeps the disk open, writing 4 KiB copies (each stamped with its offset) until told to stop.
            let holder = try await VDiskCtl.spawn(
                ["disk", "write", lun, "vm", "--offset", "0", "--in", stamp, "--repeat", "100000", "--stride", "4096", "--host-name", "host-a"],
                in: directory
            )
            do {
                // Bounded: 600 looks, 100 ms apart.
                for _ in 0..<600 {
                    if !holder.isRunning || VDiskCtl.contents(holder.stdoutPath).contains("acked ") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                try #require(VDiskCtl.contents(holder.stdoutPath).contains("acked "), "host A never wrote: \(holder.outputTail())")

                // Host B, a session of its own through the same export, is refused the held disk.
                let contender = directory.file("contender.raw")
                let refused = try await VDiskCtl.run(["disk", "read", lun, "vm", "--offset", "0", "--length", "4096", "--out", contender, "--host-name", "host-b"], in: directory)
                #expect(!refused.status.isSuccess, "\(refused)")
                #expect(refused.stderr.contains("is locked by host 'host-a'"), "\(refused)")
                #expect(holder.isRunning, "host A stopped while B was refused: \(holder.outputTail())")
            } catch {
                await holder.terminate(gracePeriod: .seconds(5))
                throw error
            }
            // A stops politely: it closes the disk and unmounts, so the lock goes at once.
            holder.send(signal: SIGTERM)
            let holderStatus = await holder.waitForExit(timeout: .seconds(30))
            #expect(holderStatus?.isSuccess == true, "host A: \(String(describing: holderStatus)) \(holder.outputTail())")
            let acked = VDiskCtl.contents(holder.stdoutPath).split(separator: "\n").filter { $0.hasPrefix("acked ") }.count
            #expect(acked >= 1)

            // Now B gets the disk, and finds A's first copy (offset 0 stamped into its first 8 bytes).
            let output = directory.file("after.raw")
            try await VDiskCtl.run(["disk", "read", lun, "vm", "--offset", "0", "--length", "4096", "--out", output, "--host-name", "host-b"], in: directory).check()
            var expected = template
            expected.setInteger(UInt64(0), at: expected.readerIndex, endianness: .little)
            #expect(FileManager.default.contents(atPath: output) == Data(expected.readableBytesView))
            let check = try await VDiskCtl.run(["datastore", "check", lun], in: directory)
            #expect(check.status.isSuccess, "\(check)")
        }

        switch lower {
        case .imageFile:
            // The image file behind the export holds that datastore, ATS in its header.
            let direct = try await VDiskCtl.run(["datastore", "info", image, "--json"], in: directory).check()
            let fields = try direct.json()
            #expect(fields["lockMode"] as? String == "ats" && fields["label"] as? String == "stacked", "\(direct)")
        case .datastoreDisk:
            // The outer datastore is intact, its disk still thin: only what the inner one wrote is allocated.
            let check = try await VDiskCtl.run(["datastore", "check", image], in: directory)
            #expect(check.status.isSuccess, "\(check)")
            let info = try await VDiskCtl.run(["disk", "info", image, "lower", "--json"], in: directory).check()
            let fields = try info.json()
            let allocated = try #require(fields["allocatedBytes"] as? Int, "\(info)")
            #expect(fields["kind"] as? String == "thin" && allocated > 0 && allocated < 64 << 20, "\(info)")
        }
    }
}
