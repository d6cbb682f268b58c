// vdiskd against a real tgt: it opens the session, mounts the datastore and locks the disk,
// and after SIGTERM another host opens the same disk at once.

import Control
import Daemon
import Datastore
import Foundation
import ISCSI
import ISCSIAddress
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct VDiskdStorageTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:daemon"

    @Test func opensStorageAndReleasesTheDiskLockOnSIGTERM() async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 256 << 20)])
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let url = ISCSITargetURL(endpoint: ISCSIEndpoint(host: tgt.portal.host, port: tgt.portal.port), targetName: Self.iqn, lun: 1)
            // Prepare the LUN as an administrator would: format, create one disk.
            let setup = try await ISCSILUN.connect(url)
            _ = try await Datastore.format(device: setup, options: FormatOptions(label: "ds1"))
            let admin = try await Datastore.mount(device: setup, host: HostIdentity(uuid: UUID(), name: "admin"))
            _ = try await admin.createDisk(name: "vm1", size: 16 << 20)
            try await admin.unmount()
            try await setup.close()

            let scratch = TemporaryDirectory("vdiskd-test")
            let daemon = try DaemonProcess.start(in: scratch, tgt: "\(tgt.portal.host):\(tgt.portal.port)", lunIQN: Self.iqn, exportPort: try LoopbackPort.reserve())
            defer { daemon.stop() }
            let receiver = daemon.notify

            #expect(await receiver.waitFor("READY=1", timeout: 60) != nil, "no READY=1: \(daemon.stderr)")
            let client = ControlClient(socketPath: "\(scratch.path)/control.sock")
            #expect(try await client.call("targets.list").arrayValue?.first?["state"] == .string("running"))
            #expect(try await client.call("datastores.list").arrayValue?.first?["state"] == .string("running"))
            #expect(try await client.call("disks.list").arrayValue?.first?["state"] == .string("running"))

            // While vdiskd holds the disk, another host cannot open it exclusively.
            let other = try await ISCSILUN.connect(url)
            var options = DatastoreOptions()
            options.lockWait = .seconds(1)
            let otherStore = try await Datastore.mount(device: other, host: HostIdentity(uuid: UUID(), name: "other"), options: options)
            do {
                _ = try await otherStore.openDisk(name: "vm1")
                Issue.record("another host opened vm1 while vdiskd held it")
            } catch let error as DatastoreError {
                #expect(error.code == .locked, "\(error)")
            }

            daemon.signal(SIGTERM)
            #expect(await receiver.waitFor("STOPPING=1", timeout: 10) != nil)
            #expect(await daemon.waitForExit(timeout: .seconds(30)) == 0, "\(daemon.stderr)")

            // The lock was released at shutdown: the other host opens the disk at once.
            let disk = try await otherStore.openDisk(name: "vm1")
            try await disk.close()
            try await otherStore.unmount()
            try await other.close()
        }
    }
}
