// One `[[target]]`: an iSCSI LUN the daemon logs in to.

import ISCSI
import ISCSIAddress
import Paths

/// A LUN on an iSCSI target, reached through the engine named here.
public struct TargetSettings: Sendable, Hashable {
    public enum Engine: String, Sendable, Hashable, CaseIterable {
        case native
        case libiscsi
    }

    public var name: String
    public var portal: ISCSIEndpoint
    public var iqn: String
    public var lun: Int
    public var engine: Engine = .native
    /// CHAP user name; when set, `chapSecret` names its secret in the secrets file.
    public var chapUser: String? = nil
    public var chapSecret: String? = nil
    /// Mutual CHAP: the name the target must answer with, and its secret's name in the secrets file.
    public var mutualChapUser: String? = nil
    public var mutualChapSecret: String? = nil
    /// The CHAP algorithms offered to this target, strongest first; nil: `CHAPAlgorithm.defaultOffer`.
    public var chapAlgorithms: [CHAPAlgorithm]? = nil
    public var loginTimeoutSeconds: Int = 10
    /// A command unanswered this long is aborted and fails with a timeout.
    public var commandTimeoutSeconds: Int = 30
    /// How long the LUN tries to log in again after a lost connection; 0 turns recovery off.
    public var recoveryTimeoutSeconds: Int = 120
    /// The NOP-Out keepalive: sent after this many idle seconds, the connection is lost when
    /// no NOP-In answers within `nopTimeoutSeconds`.
    public var nopIntervalSeconds: Int = 5
    public var nopTimeoutSeconds: Int = 5

    /// Several paths to the LUN (docs/PATHS.md); empty: the one `portal`, whose session recovers itself.
    public var paths: [PathSettings] = []
    public var pathPolicy: PathPolicy = .fixed(preferred: nil)
    /// How often dead paths are opened again and idle ones probed.
    public var probeIntervalSeconds: Int = 2
    /// With every path down, how long I/O waits before it fails.
    public var apdTimeoutSeconds: Int = 140

    /// Also make a path of every portal the target lists for its IQN in a SendTargets answer
    /// (asked through the configured portals, in order, at open).
    public var discoverPaths = false

    /// Whether the LUN is reached through the Paths layer.
    public var isMultipath: Bool { !paths.isEmpty || discoverPaths }

    /// The configured paths; a single-portal target that discovers its paths starts with its portal.
    public var configuredPaths: [PathSettings] {
        paths.isEmpty ? [PathSettings(name: "path0", portal: portal)] : paths
    }

    public init(name: String, portal: ISCSIEndpoint, iqn: String, lun: Int) {
        self.name = name
        self.portal = portal
        self.iqn = iqn
        self.lun = lun
    }
}
