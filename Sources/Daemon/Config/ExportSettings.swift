// One `[[export]]`: an iSCSI target the daemon serves its disks through.

import ISCSIAddress

/// A front-end iSCSI target: where it listens, its name, and the disks it presents as LUNs.
public struct ExportSettings: Sendable, Hashable, Codable {
    public var name: String
    public var iqn: String
    public var listen: [ISCSIEndpoint]
    /// `datastore/disk` references, presented as LUN 0, 1, ... in this order.
    public var disks: [String]
    public var chapUser: String? = nil
    public var chapSecret: String? = nil
    /// Mutual CHAP: the name the export answers with, and its secret's name in the secrets file.
    public var mutualChapUser: String? = nil
    public var mutualChapSecret: String? = nil
    /// Initiator IQNs allowed in; empty allows every initiator.
    public var allowedInitiators: [String] = []
    /// Discovery sessions' authentication: CHAP whenever the export uses it, or open.
    public var discovery: Discovery = .automatic
    public var readOnly: Bool = false
    /// Limits of the export as a network service (`ExportConfiguration` has the defaults).
    public var maxSessions: Int = 1024
    public var maxDiscoverySessions: Int = 16
    public var loginTimeoutSeconds: Int = 15
    public var discoveryIdleTimeoutSeconds: Int = 30
    public var writeBudgetBytes: Int = 512 << 20
    public var connectionWriteBudgetBytes: Int = 128 << 20
    public var dataPhaseTimeoutSeconds: Int = 20
    public var maxFailedLogins: Int = 5
    public var maxPendingLogins: Int = 64
    public var maxPendingLoginsPerSource: Int = 16
    public var maxSessionsPerInitiator: Int = 32
    /// Descriptors the export's client connections leave free for the rest of the daemon.
    public var descriptorReserve: Int = 64

    /// Descriptors this export may hold at its limits: a socket per session of either kind
    /// and per connection still logging in (the `LimitNOFILE` arithmetic in the unit).
    public var descriptorsAtLimits: Int { maxSessions + maxDiscoverySessions + maxPendingLogins }

    /// What the process itself holds besides exports and the reserve: stdio, the journal,
    /// each event loop's epoll, eventfd and timer, the listeners (measured: about 40).
    public static let processDescriptors = 64

    /// The descriptor limit `exports` need at their limits: their sockets, the largest
    /// reserve any of them keeps for the daemon, and the process's own.
    public static func descriptorsNeeded(by exports: [ExportSettings]) -> Int {
        exports.reduce(0) { $0 + $1.descriptorsAtLimits } + (exports.map(\.descriptorReserve).max() ?? 0) + processDescriptors
    }

    private enum CodingKeys: String, CodingKey {
        case name, iqn, listen, disks, chapUser, chapSecret, mutualChapUser, mutualChapSecret, allowedInitiators, discovery
        case readOnly, maxSessions, maxDiscoverySessions, loginTimeoutSeconds, discoveryIdleTimeoutSeconds, writeBudgetBytes
        case connectionWriteBudgetBytes, dataPhaseTimeoutSeconds, maxFailedLogins, maxPendingLogins, maxPendingLoginsPerSource
        case maxSessionsPerInitiator, descriptorReserve
    }

    /// Decodes what `encode(to:)` wrote; a key written by an older vdiskd that did not have it
    /// yet takes its default, so the live-change record survives an upgrade that adds settings.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try values.decode(String.self, forKey: .name), iqn: try values.decode(String.self, forKey: .iqn),
            listen: try values.decode([ISCSIEndpoint].self, forKey: .listen), disks: try values.decode([String].self, forKey: .disks)
        )
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try values.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        chapUser = try values.decodeIfPresent(String.self, forKey: .chapUser)
        chapSecret = try values.decodeIfPresent(String.self, forKey: .chapSecret)
        mutualChapUser = try values.decodeIfPresent(String.self, forKey: .mutualChapUser)
        mutualChapSecret = try values.decodeIfPresent(String.self, forKey: .mutualChapSecret)
        allowedInitiators = try value(.allowedInitiators, allowedInitiators)
        discovery = try value(.discovery, discovery)
        readOnly = try value(.readOnly, readOnly)
        maxSessions = try value(.maxSessions, maxSessions)
        maxDiscoverySessions = try value(.maxDiscoverySessions, maxDiscoverySessions)
        loginTimeoutSeconds = try value(.loginTimeoutSeconds, loginTimeoutSeconds)
        discoveryIdleTimeoutSeconds = try value(.discoveryIdleTimeoutSeconds, discoveryIdleTimeoutSeconds)
        writeBudgetBytes = try value(.writeBudgetBytes, writeBudgetBytes)
        connectionWriteBudgetBytes = try value(.connectionWriteBudgetBytes, connectionWriteBudgetBytes)
        dataPhaseTimeoutSeconds = try value(.dataPhaseTimeoutSeconds, dataPhaseTimeoutSeconds)
        maxFailedLogins = try value(.maxFailedLogins, maxFailedLogins)
        maxPendingLogins = try value(.maxPendingLogins, maxPendingLogins)
        maxPendingLoginsPerSource = try value(.maxPendingLoginsPerSource, maxPendingLoginsPerSource)
        maxSessionsPerInitiator = try value(.maxSessionsPerInitiator, maxSessionsPerInitiator)
        descriptorReserve = try value(.descriptorReserve, descriptorReserve)
    }

    public enum Discovery: String, Sendable, Hashable, CaseIterable, Codable {
        case automatic
        case open
    }

    public init(name: String, iqn: String, listen: [ISCSIEndpoint], disks: [String]) {
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
