// `vdiskctl target read URL --lba N --blocks N [--out FILE]`.

import ArgumentParser
import Foundation
import ISCSI
import NIOCore

struct TargetReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read blocks from a LUN to a file or to standard output."
    )

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @Option(help: "The first logical block to read.")
    var lba: UInt64

    @Option(help: "How many blocks to read.")
    var blocks: Int

    @Option(help: "Write the data to this file instead of standard output.")
    var out: String?

    @OptionGroup var target: TargetOptions

    func validate() throws {
        guard blocks > 0 else { throw ValidationError("--blocks must be at least 1") }
    }

    func run() async throws {
        let url = try parseTargetURL(self.url)
        try await CLIFailure.guarding {
            let data = try await TargetConnection.withDevice(url, options: target) { device in
                try await device.read(at: lba, blockCount: blocks)
            }
            let bytes = Data(data.readableBytesView)
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: bytes) else {
                    throw CLIError("cannot write \(out)")
                }
                FileHandle.standardError.write(Data("read \(bytes.count) bytes from LBA \(lba) into \(out)\n".utf8))
            } else {
                FileHandle.standardOutput.write(bytes)
            }
        }
    }
}
