// vdiskd-testbed: one real iSCSI target from the test harness, for scripts (Scripts/conformance).
//
//     vdiskd-testbed tgt|lio --iqn IQN --size BYTES [--thin]
//     vdiskd-testbed pathlab [--size BYTES]
//
// Starts tgtd on a free loopback port, or boots the LIO guest in QEMU, serving one file-backed
// LUN of BYTES (sparse, in the harness's scratch directory), prints `url <libiscsi URL>` and
// `pid <target PID>` on stdout, then serves until SIGTERM, SIGINT or the end of stdin, and
// stops the target (QEMU or tgtd by PID, scratch removed) before it exits. `pathlab` builds
// TestSupport's PathLab instead (a host and a target namespace, two links, tgtd on a portal per
// link; Scripts/bench-paths) and prints its namespaces, interfaces and each link's URL.

import Dispatch
import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

struct Arguments {
    enum Kind: String { case tgt, lio, pathlab }
    var kind: Kind
    var iqn = "iqn.2026-12.io.vdiskd:testbed"
    var size: UInt64 = 1 << 30
    var thin = false

    static let usage = "usage: vdiskd-testbed tgt|lio|pathlab [--iqn IQN] [--size BYTES] [--thin]"

    init(_ words: [String]) throws {
        guard let first = words.first, let kind = Kind(rawValue: first) else { throw Failure(Self.usage) }
        self.kind = kind
        var rest = words.dropFirst()[...]
        while let word = rest.popFirst() {
            switch word {
            case "--thin": thin = true
            case "--iqn":
                guard let value = rest.popFirst() else { throw Failure("--iqn needs a value") }
                iqn = value
            case "--size":
                guard let value = rest.popFirst(), let bytes = UInt64(value), bytes > 0, bytes % 512 == 0 else {
                    throw Failure("--size needs a positive multiple of 512 bytes")
                }
                size = bytes
            default: throw Failure("unknown argument \(word)\n\(Self.usage)")
            }
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Yields once SIGTERM or SIGINT arrives or stdin ends. Not isolated to the main actor (as
/// top-level code is): the handlers run on dispatch's and a plain thread.
nonisolated func watchForStop(_ requested: AsyncStream<Void>.Continuation) -> [any DispatchSourceSignal] {
    let sources = [SIGTERM, SIGINT].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number)
        source.setEventHandler { @Sendable in requested.yield() }
        source.resume()
        return source
    }
    Thread.detachNewThread { @Sendable in
        // Blocks on stdin; its end (the script closed the pipe or exited) also stops.
        while FileHandle.standardInput.availableData.count > 0 {}
        requested.yield()
    }
    return sources
}

let (stopRequests, stopRequested) = AsyncStream<Void>.makeStream()
let signalSources = watchForStop(stopRequested)

func untilAskedToStop() async {
    for await _ in stopRequests { return }
}

func announce(url: String, pid: pid_t) {
    FileHandle.standardOutput.write(Data("url \(url)\npid \(pid)\n".utf8))
}

do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    let lun = { (number: Int) in LUNSpec.file(number, size: arguments.size, thinProvisioning: arguments.thin) }
    switch arguments.kind {
    case .tgt:
        try await withTgt(TgtConfiguration(targets: [TgtTargetSpec(iqn: arguments.iqn, luns: [lun(1)])])) { target in
            announce(url: target.url(arguments.iqn, lun: 1), pid: target.pid)
            await untilAskedToStop()
        }
    case .pathlab:
        let spec = TgtTargetSpec(iqn: PathLab.primaryIQN, luns: [lun(1)])
        try await PathLab.with(targets: [spec]) { lab in
            var lines = ["hostns \(lab.hostNamespace)", "targetns \(lab.targetNamespace)", "pid \(lab.tgt.pid)"]
            for link in lab.links {
                lines.append("link\(link.index) \(link.hostInterface) \(link.targetInterface) \(lab.url(PathLab.primaryIQN, lun: 1, through: lab.targetPortal(link: link.index)))")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            await untilAskedToStop()
        }
    case .lio:
        try await withLIO(LIOConfiguration(targets: [LIOTargetSpec(iqn: arguments.iqn, luns: [lun(0)])])) { target in
            announce(url: target.url(arguments.iqn, lun: 0), pid: target.pid)
            await untilAskedToStop()
        }
    }
} catch {
    FileHandle.standardError.write(Data("vdiskd-testbed: \(error)\n".utf8))
    exit(1)
}
withExtendedLifetime(signalSources) {}
