// One path of a `[[target]]` with several: where it goes, and where it leaves this host.

import ISCSIAddress

/// A path to a multipath target's LUN.
public struct PathSettings: Sendable, Hashable {
    /// The name `vdiskctl paths` shows and takes: `path0`, `path1`… unless the config names it.
    public var name: String
    public var portal: ISCSIEndpoint
    /// The source address this path binds before connecting (port binding); nil: the system's choice.
    public var source: String?
    /// The network interface this path is bound to (SO_BINDTODEVICE); nil: any.
    public var interface: String?

    public init(name: String, portal: ISCSIEndpoint, source: String? = nil, interface: String? = nil) {
        self.name = name
        self.portal = portal
        self.source = source
        self.interface = interface
    }

    /// Where the path's connections leave from; nil when it binds nothing. The config reader
    /// has checked the form, so a malformed source cannot get here.
    public var connectionSource: ConnectionSource? {
        guard source != nil || interface != nil else { return nil }
        return try? ConnectionSource(address: source, interface: interface)
    }

    /// "source → portal", as listings show the path.
    public var route: String { "\(connectionSource.map { "\($0)" } ?? "*") → \(portal)" }
}
