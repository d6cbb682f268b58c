// One `[[export]]`: an iSCSI target the daemon serves its disks through.

/// A front-end iSCSI target: where it listens, its name, and the disks it presents as LUNs.
public struct ExportSettings: Sendable, Hashable, Codable {
    public var name: String
    public var iqn: String
    public var listen: [Endpoint]
    /// `datastore/disk` references, presented as LUN 0, 1, ... in this order.
    public var disks: [String]
    public var chapUser: String? = nil
    public var chapSecret: String? = nil
    public var readOnly: Bool = false

    public init(name: String, iqn: String, listen: [Endpoint], disks: [String]) {
        self.name = name
        self.iqn = iqn
        self.listen = listen
        self.disks = disks
    }
}

extension ExportSettings {
    /// Why this export's disks cannot be presented beside `exports`, or nil when they can.
    ///
    /// Each export makes its own logical unit of a disk, and COMPARE AND WRITE is atomic only
    /// among the sessions of one unit: two writable units over the same blocks would not see
    /// each other's compare-and-write locks. So at most one export may write a disk; any
    /// number of `read_only` exports may present it beside that one. One export reaches a disk
    /// by several paths by listening on several portals.
    func diskConflict(with exports: [ExportSettings]) -> String? {
        var seen: Set<String> = []
        for disk in disks where !seen.insert(disk).inserted {
            return "disk \(disk) is listed twice; each disk is one LUN of an export"
        }
        guard !readOnly else { return nil }
        for export in exports where !export.readOnly {
            if let shared = disks.first(where: export.disks.contains) {
                return "disk \(shared) is already presented writable by export \(export.name); only one export may write a disk (make this one read_only, or give that export more listen portals)"
            }
        }
        return nil
    }
}
