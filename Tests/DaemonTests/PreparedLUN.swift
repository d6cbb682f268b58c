// A real tgt LUN prepared as an administrator would with vdiskctl: a datastore "ds1" holding one
// thin disk "vm1", and a scratch directory for the daemon's files.

import Foundation
import Testing
import TestSupport

/// What a daemon test starts from.
struct PreparedLUN {
    let tgt: TgtTarget
    /// The tgt portal, `host:port`.
    let portal: String
    let iqn: String
    /// The LUN as vdiskctl's datastore commands take it.
    let url: String
    let scratch: TemporaryDirectory

    /// Starts tgt with one file-backed LUN of `size` bytes, formats it (with `formatOptions`
    /// added to `datastore format`) and creates vm1 of `diskSize`.
    static func with(iqn: String, size: UInt64 = 128 << 20, diskSize: String, formatOptions: [String] = [],
                     _ body: (PreparedLUN) async throws -> Void) async throws {
        let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: size)])
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let portal = "\(tgt.portal.host):\(tgt.portal.port)"
            let lun = PreparedLUN(tgt: tgt, portal: portal, iqn: iqn, url: "iscsi://\(portal)/\(iqn)/1", scratch: TemporaryDirectory("vdiskd-test"))
            try await lun.vdiskctl(["datastore", "format", lun.url, "--label", "ds1"] + formatOptions)
            try await lun.vdiskctl(["disk", "create", lun.url, "vm1", "--size", diskSize])
            try await body(lun)
        }
    }

    /// Runs vdiskctl and requires exit 0.
    func vdiskctl(_ arguments: [String]) async throws {
        let output = try await ProcessRunner.run("\(ProcessRunner.productsDirectory)/vdiskctl", arguments)
        try #require(output.status == 0, "vdiskctl \(arguments.joined(separator: " ")): \(output.stderr)")
    }

    /// Starts vdiskd on this LUN with its export on `exportPort`.
    func startDaemon(exportPort: Int, shutdownTimeout: Int = 30, user: UnprivilegedUser? = nil, edit: (String) -> String = { $0 }) throws -> DaemonProcess {
        try DaemonProcess.start(in: scratch, tgt: portal, lunIQN: iqn, exportPort: exportPort, shutdownTimeout: shutdownTimeout, user: user, edit: edit)
    }
}
