// Which path of a LUN the next command takes: ESXi's three path selection policies.

/// How a multipath device picks the path for each command.
public enum PathPolicy: Sendable, Hashable, CustomStringConvertible {
    /// One preferred path (the named one, or the first configured); after a failover the
    /// device goes back to it once it has been healthy for `MultipathOptions.failbackDelay`.
    case fixed(preferred: String?)
    /// The path in use stays in use until it fails; there is no failback.
    case mostRecentlyUsed
    /// Rotates over every usable path, moving on after `ios` commands or `bytes` bytes,
    /// whichever comes first.
    case roundRobin(ios: Int, bytes: Int)

    /// ESXi's round-robin defaults: 1000 commands or 10 MiB.
    public static let defaultRoundRobinIOs = 1000
    public static let defaultRoundRobinBytes = 10 << 20

    /// The names the config and `vdiskctl paths policy` take.
    public static let names = ["fixed", "mru", "round_robin"]

    /// The policy called `name` (one of `names`, any case), with its settings.
    public init(
        name: String,
        preferred: String? = nil,
        ios: Int = PathPolicy.defaultRoundRobinIOs,
        bytes: Int = PathPolicy.defaultRoundRobinBytes
    ) throws(PathsError) {
        switch name.lowercased() {
        case "fixed":
            self = .fixed(preferred: preferred)
        case "mru":
            self = .mostRecentlyUsed
        case "round_robin", "roundrobin", "rr":
            guard ios > 0, bytes > 0 else {
                throw PathsError(.invalidArgument, "round robin switches after at least one command and one byte (got \(ios) commands, \(bytes) bytes)")
            }
            self = .roundRobin(ios: ios, bytes: bytes)
        default:
            throw PathsError(.invalidArgument, "there is no path policy \"\(name)\"; use one of \(Self.names.joined(separator: ", "))")
        }
    }

    public var name: String {
        switch self {
        case .fixed: "fixed"
        case .mostRecentlyUsed: "mru"
        case .roundRobin: "round_robin"
        }
    }

    public var description: String {
        switch self {
        case .fixed(let preferred): preferred.map { "fixed (preferred \($0))" } ?? "fixed"
        case .mostRecentlyUsed: "mru"
        case .roundRobin(let ios, let bytes): "round_robin (switch after \(ios) commands or \(bytes) bytes)"
        }
    }
}
