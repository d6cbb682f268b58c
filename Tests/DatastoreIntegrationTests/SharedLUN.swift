// One LUN of a running target that several hosts share: each connection is a new
// session (its own I_T nexus), as a separate machine would have.

import BlockDevice
import Datastore
import Foundation
import ISCSI
import ISCSIAddress
import TestSupport

struct SharedLUN: Sendable {
    /// iscsi://127.0.0.1:PORT/IQN/LUN, which both ISCSITargetURL and vdiskctl accept.
    let url: String
    /// The file the target keeps the LUN in.
    let backingFile: String
    /// The daemon's scratch directory, for files a test writes beside the LUN.
    let directory: ScratchDirectory

    init(daemon: any ISCSITargetDaemon, iqn: String, lun: Int, directory: ScratchDirectory? = nil) throws {
        url = daemon.url(iqn, lun: lun)
        guard let file = daemon.target(iqn)?.lun(lun)?.backingFile else {
            throw SharedLUNError("LUN \(lun) of \(iqn) has no backing file")
        }
        backingFile = file
        self.directory = directory ?? daemon.directory
    }

    /// Drops every registration and reservation an earlier user of the LUN left on the target
    /// (registrations outlive their sessions): register, then CLEAR.
    func clearReservations() async throws {
        let device = try await connect()
        let key: UInt64 = 0xC1EA_0000_0000_0001
        do {
            try await device.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: key))
            try await device.persistentReserveOut(.clear(key: key))
            try await device.close()
        } catch {
            try? await device.close()
            throw error
        }
    }

    /// A new session to the LUN: a random ISID makes it a separate I_T nexus.
    func connect() async throws -> ISCSILUN {
        let parsed = try ISCSITargetURL(parsing: url)
        var configuration = ISCSISessionConfiguration(portal: parsed.portal, targetName: parsed.targetName, authentication: try parsed.authentication())
        configuration.loginTimeout = .seconds(10)
        return try await ISCSILUN.connect(parsed, configuration: configuration)
    }

    /// Formats the LUN with the lock mode left to the probe, through a connection of its own.
    @discardableResult
    func format(fileBlockSize: Int = 64 << 10, maxHosts: Int = 8, maxDisks: Int = 16, clusterBlocks: Int = 256) async throws -> DatastoreInfo {
        let device = try await connect()
        var options = FormatOptions(label: "shared")
        options.fileBlockSize = fileBlockSize
        options.maxHosts = maxHosts
        options.maxDisks = maxDisks
        options.clusterBlocks = clusterBlocks
        options.journalUnits = 32
        do {
            let info = try await Datastore.format(device: device, options: options)
            try await device.close()
            return info
        } catch {
            try? await device.close()
            throw error
        }
    }

    /// Bytes the target's backing file really occupies (st_blocks), not its length.
    func allocatedBytes() throws -> UInt64 {
        var status = stat()
        guard stat(backingFile, &status) == 0 else {
            throw SharedLUNError("stat \(backingFile) failed: \(String(cString: strerror(errno)))")
        }
        return UInt64(status.st_blocks) * 512
    }
}
