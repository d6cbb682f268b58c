// `vdiskctl datastore format`: write a new, empty datastore over a whole device.

import ArgumentParser
import Datastore
import Foundation

struct DatastoreFormatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "format",
        abstract: "Write a new, empty datastore over the whole device (every disk on it is lost)."
    )

    @OptionGroup var location: DatastoreLocation

    @Option(help: "The volume label (up to 64 bytes).")
    var label: String

    @Option(help: "The file block size: a power of two from 64KiB to 16MiB.")
    var blockSize = ByteCount(bytes: 1 << 20)

    @Option(help: "The most hosts that can mount the datastore at once (1...64).")
    var maxHosts = 64

    @Option(help: "The most disks the datastore can hold.")
    var maxDisks = 512

    @Option(help: ArgumentHelp("ats or reservations; default: ats when the device has COMPARE AND WRITE.", valueName: "mode"))
    var lockMode: String?

    @Option(help: "Create the image file with this size first (sparse); it must not exist.")
    var imageSize: ByteCount?

    @Flag(help: "Format even when the device already holds a datastore.")
    var force = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            var options = FormatOptions(label: label)
            options.fileBlockSize = Int(clamping: blockSize.bytes)
            options.maxHosts = maxHosts
            options.maxDisks = maxDisks
            switch lockMode?.lowercased() {
            case nil: options.lockMode = nil
            case "ats": options.lockMode = .ats
            case "reservations", "pr": options.lockMode = .reservations
            case let other?:
                throw DatastoreCommandError("--lock-mode '\(other)' is neither ats nor reservations", exitCode: DatastoreCommandError.usage)
            }
            if let imageSize {
                try await BlockDeviceLocator.createImage(location.datastore, size: imageSize.bytes)
            }
            let device = try await BlockDeviceLocator.open(location.datastore, readOnly: false)
            do {
                if !force, let existing = try? await Datastore.info(device: device) {
                    throw DatastoreCommandError(
                        "\(location.datastore) already holds datastore '\(existing.label)' (\(existing.uuid)); add --force to overwrite it",
                        exitCode: DatastoreCommandError.refused
                    )
                }
                let info = try await Datastore.format(device: device, options: options)
                try await device.close()
                if output.json {
                    try output.printJSON(info)
                } else {
                    print("formatted datastore '\(info.label)' (\(info.uuid)) on \(location.datastore): \(info.dataBlocks) file blocks of \(ByteCount(bytes: UInt64(info.fileBlockSize))), \(info.maxHosts) hosts, lock mode \(info.lockMode)")
                }
            } catch {
                try? await device.close()
                throw error
            }
        }
    }
}
