// `vdiskctl target write URL --lba N --in FILE`.

import ArgumentParser
import Foundation
import ISCSI
import NIOCore

struct TargetWriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write a file's contents to a LUN; its size must be a whole number of blocks."
    )

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @Option(help: "The first logical block to write.")
    var lba: UInt64

    @Option(name: .customLong("in"), help: "The file whose bytes to write.")
    var input: String

    @Flag(help: "Force unit access: the data is on stable storage when the command ends.")
    var fua = false

    @OptionGroup var target: TargetOptions

    func run() async throws {
        let url = try parseTargetURL(self.url)
        try await CLIFailure.guarding {
            guard let contents = FileManager.default.contents(atPath: input) else {
                throw CLIError("cannot read \(input)", exitCode: CLIExitCode.usage)
            }
            guard !contents.isEmpty else { throw CLIError("\(input) is empty: nothing to write", exitCode: CLIExitCode.usage) }
            try await TargetConnection.withDevice(url, options: target) { device in
                let blockSize = device.geometry.blockSize
                guard contents.count % blockSize == 0 else {
                    throw CLIError(
                        "\(input) holds \(contents.count) bytes, not a whole number of \(blockSize)-byte blocks",
                        exitCode: CLIExitCode.usage
                    )
                }
                try await device.write(ByteBuffer(bytes: contents), at: lba, fua: fua)
            }
            FileHandle.standardError.write(Data("wrote \(contents.count) bytes at LBA \(lba)\n".utf8))
        }
    }
}
