// One `[[export]]`: an iSCSI target the daemon serves its disks through.

/// A front-end iSCSI target: where it listens, its name, and the disks it presents as LUNs.
public struct ExportSettings: Sendable, Hashable {
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
