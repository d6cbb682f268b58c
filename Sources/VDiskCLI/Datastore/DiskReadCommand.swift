// `vdiskctl disk read`: copy a byte range of a disk into a file (or stdout).

import ArgumentParser
import Datastore
import Foundation

struct DiskReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read a byte range of a disk into a file (opens the disk shared read-only)."
    )

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @Option(help: "The byte offset in the disk (units allowed).")
    var offset: ByteCount
    @Option(help: "How many bytes to read (units allowed).")
    var length: ByteCount
    @Option(name: .customLong("out"), help: ArgumentHelp("The file to write, or - for stdout.", valueName: "file"))
    var output: String
    @OptionGroup var host: HostOptions

    static let chunkBytes: UInt64 = 1 << 20

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let sink: FileHandle
            if output == "-" {
                sink = .standardOutput
            } else {
                guard FileManager.default.createFile(atPath: output, contents: nil),
                      let handle = FileHandle(forWritingAtPath: output)
                else {
                    throw DatastoreCommandError("cannot create output file \(output)", exitCode: DatastoreCommandError.refused)
                }
                sink = handle
            }
            defer { if output != "-" { try? sink.close() } }
            try await DatastoreSession.withMounted(location, host) { store in
                let disk = try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.openDisk(name: name, mode: .sharedReadOnly)
                }
                do {
                    var done: UInt64 = 0
                    while done < length.bytes {
                        let piece = min(Self.chunkBytes, length.bytes - done)
                        let data = try await disk.read(offset: offset.bytes + done, length: Int(piece))
                        try sink.write(contentsOf: Data(data.readableBytesView))
                        done += piece
                    }
                    try await disk.close()
                } catch {
                    try? await disk.close()
                    throw error
                }
            }
        }
    }
}
