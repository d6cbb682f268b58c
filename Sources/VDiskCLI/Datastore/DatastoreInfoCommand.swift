// `vdiskctl datastore info`: the header and free space, read without mounting.

import ArgumentParser
import Datastore
import Foundation

struct DatastoreInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a datastore's header and free space (reads only; takes no heartbeat slot)."
    )

    @OptionGroup var location: DatastoreLocation
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let device = try await BlockDeviceLocator.open(location.datastore, readOnly: true)
            let info: DatastoreInfo
            do {
                info = try await Datastore.info(device: device, countingFreeBlocks: true)
                try await device.close()
            } catch {
                try? await device.close()
                throw error
            }
            if output.json {
                try output.printJSON(info)
                return
            }
            let block = UInt64(info.fileBlockSize)
            let free = info.freeBlocks ?? 0
            print("""
                label:         \(info.label)
                uuid:          \(info.uuid)
                version:       \(info.version)
                lock mode:     \(info.lockMode)
                size:          \(ByteCount(bytes: info.volumeSize))
                file block:    \(ByteCount(bytes: block))
                data blocks:   \(info.dataBlocks) (\(free) free, \(ByteCount(bytes: free * block)))
                clusters:      \(info.clusterCount) of \(info.clusterBlocks) blocks
                max hosts:     \(info.maxHosts)
                max disks:     \(info.maxDisks)
                created:       \(info.created.formatted(.iso8601))
                """)
            if info.usedBackupHeader {
                print("warning:       the primary header is damaged; the backup served (run `datastore check --repair`)")
            }
        }
    }
}
