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

/// A config printed anywhere (ServiceLifecycle logs each service, config included, at debug
/// level) names its file and what it configures, and only the names of its secrets.
extension DaemonConfig: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "DaemonConfig(path: \(path), \(targets.count) targets, \(datastores.count) datastores, \(disks.count) disks, "
            + "\(exports.count) exports, secrets: \(secrets.keys.sorted()) (values not shown))"
    }

    public var debugDescription: String { description }
}
