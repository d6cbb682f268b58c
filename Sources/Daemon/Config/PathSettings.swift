// One path of a `[[target]]` with several: where it goes, and where it leaves this host.

import ISCSIAddress

/// A path to a multipath target's LUN.
public struct PathSettings: Sendable, Hashable {
    /// The name `vdiskctl paths` shows and takes: `path0`, `path1`… unless the config names it.
    public var name: String
    public var portal: ISCSIEndpoint
    /// The source address this path binds before connecting (port binding); nil: the system's choice.
    public var source: String?

    public init(name: String, portal: ISCSIEndpoint, source: String? = nil) {
        self.name = name
        self.portal = portal
        self.source = source
    }

    /// "source → portal", as listings show the path.
    public var route: String { "\(source ?? "*") → \(portal)" }
}
