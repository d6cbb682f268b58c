// `vdiskctl disk write`: copy a file into a disk at an offset; with the hidden --repeat,
// keep writing stamped copies and report each acknowledged one (crash and takeover tests).

import ArgumentParser
import Datastore
import Foundation
import NIOCore

struct DiskWriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write a file's bytes into a disk at a byte offset (opens the disk exclusively)."
    )

    @OptionGroup var location: DatastoreLocation
    @Argument(help: "The disk name.")
    var name: String
    @Option(help: "The byte offset in the disk (units allowed).")
    var offset: ByteCount
    @Option(name: .customLong("in"), help: ArgumentHelp("The file to write.", valueName: "file"))
    var input: String
    @Flag(help: "Write with FUA: each write is durable when it returns (otherwise one flush at the end).")
    var fua = false

    @Option(help: .hidden)
    var `repeat` = 1
    @Option(help: .hidden)
    var stride: ByteCount?
    /// With --repeat: flush (SYNCHRONIZE CACHE) after every copy and acknowledge it only then,
    /// the other way a write becomes durable; the crash tests cover both.
    @Flag(help: .hidden)
    var flushEach = false

    @OptionGroup var host: HostOptions

    static let chunkBytes = 1 << 20

    func validate() throws {
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if `repeat` > 1 && stride == nil { throw ValidationError("--repeat needs --stride") }
        if flushEach && fua { throw ValidationError("--flush-each and --fua are two ways to make a write durable; use one") }
    }

    func run() async throws {
        try await DatastoreCommandRunner.run {
            guard let file = FileHandle(forReadingAtPath: input) else {
                throw DatastoreCommandError("cannot open input file \(input)", exitCode: DatastoreCommandError.refused)
            }
            defer { try? file.close() }
            let stop = StopRequest()
            defer { stop.release() }
            let written = try await DatastoreSession.withMounted(location, host) { store -> UInt64 in
                let disk = try await DatastoreSession.retryingWhileLocked(host) {
                    try await store.openDisk(name: name, mode: .exclusive)
                }
                do {
                    let count = `repeat` > 1
                        ? try await writeRepeatedly(file: file, disk: disk, stop: stop)
                        : try await writeOnce(file: file, disk: disk)
                    try await disk.close()
                    return count
                } catch {
                    try? await disk.close()
                    throw error
                }
            }
            if `repeat` == 1 {
                print("wrote \(written) bytes to disk '\(name)' at offset \(offset.bytes)")
            }
        }
    }

    private func writeOnce(file: FileHandle, disk: VirtualDisk) async throws -> UInt64 {
        var position = offset.bytes
        while let chunk = try file.read(upToCount: Self.chunkBytes), !chunk.isEmpty {
            try await disk.write(ByteBuffer(bytes: chunk), offset: position, fua: fua)
            position += UInt64(chunk.count)
        }
        if !fua { try await disk.flush() }
        return position - offset.bytes
    }

    /// Copy `i` goes to `offset + (i mod slots) × stride` and starts with that offset as
    /// 8 little-endian bytes, so a copy that landed in the wrong place is caught. Each copy
    /// is printed as "acked OFFSET" only after its write returned.
    private func writeRepeatedly(file: FileHandle, disk: VirtualDisk, stop: StopRequest) async throws -> UInt64 {
        let template = try file.readToEnd() ?? Data()
        let stride = self.stride!.bytes
        guard template.count >= 8, UInt64(template.count) <= stride,
              offset.bytes + UInt64(template.count) <= disk.size
        else {
            throw DatastoreCommandError("--repeat needs an input of 8 bytes up to --stride (\(stride)) that fits the disk at --offset", exitCode: DatastoreCommandError.usage)
        }
        let slots = (disk.size - offset.bytes - UInt64(template.count)) / stride + 1
        var copies: UInt64 = 0
        for index in 0..<UInt64(`repeat`) {
            if stop.isRequested { break }
            let position = offset.bytes + (index % slots) * stride
            var copy = ByteBuffer(bytes: template)
            copy.setInteger(position, at: copy.readerIndex, endianness: .little)
            try await disk.write(copy, offset: position, fua: fua)
            if flushEach { try await disk.flush() }
            FileHandle.standardOutput.write(Data("acked \(position)\n".utf8))
            copies += 1
        }
        if !fua { try await disk.flush() }
        return copies * UInt64(template.count)
    }
}
