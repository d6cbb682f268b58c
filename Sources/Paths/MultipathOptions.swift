// How a multipath device chooses, probes and gives up.

/// The settings of one LUN's multipath device.
public struct MultipathOptions: Sendable {
    public var policy: PathPolicy = .fixed(preferred: nil)
    /// How often dead paths are opened again, idle paths sent TEST UNIT READY, and ALUA states read.
    public var probeInterval: Duration = .seconds(2)
    /// With every path dead, how long commands wait for one to return before they fail
    /// (all paths down, APD); ESXi's default.
    public var apdTimeout: Duration = .seconds(140)
    /// How long a FIXED policy's preferred path must be healthy before I/O goes back to it.
    public var failbackDelay: Duration = .seconds(10)
    /// Flap damping of paths that keep failing or stalling.
    public var damping = PathDamping.Settings()
    /// A command or probe slower than this counts as a stall of its path (damping).
    public var stallThreshold: Duration = .seconds(1)

    public init() {}

    /// Throws unless every setting can work: intervals above zero.
    public func validate() throws(PathsError) {
        guard probeInterval > .zero else {
            throw PathsError(.invalidArgument, "the path probe interval must be above zero")
        }
        guard apdTimeout >= .zero else {
            throw PathsError(.invalidArgument, "the all-paths-down timeout cannot be negative")
        }
    }
}
