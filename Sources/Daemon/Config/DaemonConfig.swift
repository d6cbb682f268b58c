// The whole validated configuration, as plain values the services start from.

/// A config that passed validation, with the secrets it references loaded.
public struct DaemonConfig: Sendable, Hashable {
    /// The file it was read from, for messages and `status`.
    public var path: String
    public var daemon = DaemonSettings()
    public var targets: [TargetSettings] = []
    public var datastores: [DatastoreSettings] = []
    public var disks: [DiskSettings] = []
    public var exports: [ExportSettings] = []
    /// CHAP secrets by name, from the secrets file; never reported through the control socket.
    public var secrets: [String: String] = [:]
    /// Where each key was written, for errors found after parsing (a port in use at start).
    var keyLines = TOMLKeyLocator(source: "")

    public init(path: String) {
        self.path = path
    }
}
