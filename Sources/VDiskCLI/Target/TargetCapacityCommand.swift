// `vdiskctl target capacity URL`: size and block size of a LUN.

import ArgumentParser
import BlockDevice
import ISCSI

struct TargetCapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Show a LUN's capacity, block size and optional features."
    )

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @OptionGroup var target: TargetOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let url = try parseTargetURL(self.url)
        try await CLIFailure.guarding {
            let (geometry, capabilities) = try await TargetConnection.withDevice(url, options: target) { device in
                (device.geometry, device.capabilities)
            }
            let features = Self.names(of: capabilities)
            if json {
                print(try JSONOutput.string([
                    "blocks": geometry.blockCount,
                    "blockSize": geometry.blockSize,
                    "bytes": geometry.byteCount,
                    "features": features,
                ] as [String: Any]))
            } else {
                print("\(geometry.byteCount) bytes (\(ByteCount(bytes: geometry.byteCount))), \(geometry)")
                print("features: \(features.isEmpty ? "none" : features.joined(separator: ", "))")
            }
        }
    }

    static func names(of capabilities: BlockDeviceCapabilities) -> [String] {
        let all: [(BlockDeviceCapabilities, String)] = [
            (.unmap, "unmap"),
            (.writeSame, "write-same"),
            (.writeSameUnmap, "write-same-unmap"),
            (.compareAndWrite, "compare-and-write"),
            (.persistentReservations, "persistent-reservations"),
            (.unmappedReadsZero, "unmapped-reads-zero"),
            (.forceUnitAccess, "fua"),
        ]
        return all.filter { capabilities.contains($0.0) }.map(\.1)
    }
}
