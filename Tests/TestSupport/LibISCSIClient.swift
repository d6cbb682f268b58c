// libiscsi's command-line clients (Debian libiscsi-bin) as an independent
// initiator: what they see proves a target is set up as the test asked.

public enum LibISCSIClient {
    public static let timeout: Duration = .seconds(20)

    /// `iscsi-inq URL`: logs in and sends INQUIRY. A refused login is a
    /// failed result (exit code 10 with "Authentication failure"), not a throw.
    public static func inquiry(_ url: String) async throws -> CommandResult {
        try await ExternalCommand.run(.iscsiInq, [url], timeout: timeout)
    }

    /// `iscsi-readcapacity16 URL`: the LUN's size in bytes ("Total size:").
    public static func capacity(_ url: String) async throws -> UInt64 {
        let result = try await ExternalCommand.run(.iscsiReadCapacity16, [url], timeout: timeout).check()
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("Total size:") {
            if let size = UInt64(line.dropFirst("Total size:".count)) {
                return size
            }
        }
        throw TestSupportError(.commandFailed, "`iscsi-readcapacity16 \(url)` printed no \"Total size:\" line: \(result.stdout)")
    }

    /// `qemu-img dd` (its iSCSI driver is libiscsi): copies `blocks` blocks
    /// of `blockSize` bytes between a local file and a libiscsi URL, either
    /// way, to put data on a LUN or fetch it back.
    public static func copy(from source: String, to destination: String, blockSize: Int = 512, blocks: Int) async throws {
        try await ExternalCommand.run(
            .qemuImg,
            ["dd", "-f", "raw", "-O", "raw", "bs=\(blockSize)", "count=\(blocks)", "if=\(source)", "of=\(destination)"],
            timeout: timeout
        ).check()
    }

    /// `iscsi-ls URL`: SendTargets discovery, as (IQN, portal) pairs.
    /// Never point it at istgt: its SendTargets answer makes iscsi-ls spin.
    public static func discover(_ portal: Portal) async throws -> [(iqn: String, portal: String)] {
        let result = try await ExternalCommand.run(.iscsiLs, [portal.discoveryURL], timeout: timeout).check()
        var found: [(iqn: String, portal: String)] = []
        for line in result.stdout.split(separator: "\n") {
            // "Target:iqn.2026-11.test:t1 Portal:127.0.0.1:3300,1"
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].hasPrefix("Target:"), fields[1].hasPrefix("Portal:") else {
                continue
            }
            found.append((String(fields[0].dropFirst("Target:".count)), String(fields[1].dropFirst("Portal:".count))))
        }
        return found
    }
}
