// What a reload would change, section by section, and which of it is applied live.

import Control
import Logging

/// The difference between the running config and a freshly validated one. The log level, disks
/// and exports are applied live (`ConfigReloader` marks each change it managed); targets,
/// datastores, other [daemon] settings and secrets are reported as needing a restart.
public struct ReloadPlan: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        public var section: String
        public var detail: String
        public var appliedLive: Bool
    }

    public var changes: [Change] = []
    /// Exports removed or changed: stopped first.
    var exportsToStop: [String] = []
    /// Disks removed or changed: closed once the exports are stopped.
    var disksToClose: [String] = []
    /// Disks added or changed: opened next.
    var disksToOpen: [DiskSettings] = []
    /// Exports added or changed: started last, once their disks are open.
    var exportsToStart: [ExportSettings] = []

    public init(running: DaemonConfig, proposed: DaemonConfig) {
        if running.daemon.logLevel != proposed.daemon.logLevel {
            changes.append(Change(section: "daemon.log_level", detail: "\(running.daemon.logLevel) -> \(proposed.daemon.logLevel)", appliedLive: true))
        }
        var daemonRest = proposed.daemon
        daemonRest.logLevel = running.daemon.logLevel
        if daemonRest != running.daemon {
            changes.append(Change(section: "daemon", detail: "settings other than log_level changed; live reload of [daemon] is not implemented", appliedLive: false))
        }
        if running.secrets != proposed.secrets {
            changes.append(Change(section: "secrets", detail: "the secrets file changed; live reload of secrets is not implemented", appliedLive: false))
        }
        Self.compare("target", running.targets.map(\.name), proposed.targets.map(\.name), running.targets == proposed.targets, into: &changes)
        Self.compare("datastore", running.datastores.map(\.name), proposed.datastores.map(\.name), running.datastores == proposed.datastores, into: &changes)

        let disks = Self.difference(running.disks, proposed.disks, key: \.reference)
        disksToClose = disks.removed.map(\.reference) + disks.changed.map(\.reference)
        disksToOpen = disks.changed + disks.added
        let exports = Self.difference(running.exports, proposed.exports, key: \.name)
        exportsToStop = exports.removed.map(\.name) + exports.changed.map(\.name)
        exportsToStart = exports.changed + exports.added
        for (section, difference) in [("disk", disks.names), ("export", exports.names)] {
            for name in difference.removed { changes.append(Change(section: "\(section) \(name)", detail: "removed", appliedLive: false)) }
            for name in difference.changed { changes.append(Change(section: "\(section) \(name)", detail: "changed", appliedLive: false)) }
            for name in difference.added { changes.append(Change(section: "\(section) \(name)", detail: "added", appliedLive: false)) }
        }
    }

    /// Entries only in `old`, only in `new`, and in both but different, by `key`.
    private static func difference<Entry: Equatable>(_ old: [Entry], _ new: [Entry], key: (Entry) -> String)
        -> (removed: [Entry], added: [Entry], changed: [Entry], names: (removed: [String], added: [String], changed: [String]))
    {
        let removed = old.filter { entry in !new.contains { key($0) == key(entry) } }
        let added = new.filter { entry in !old.contains { key($0) == key(entry) } }
        let changed = new.filter { entry in old.contains { key($0) == key(entry) && $0 != entry } }
        return (removed, added, changed, (removed.map(key), added.map(key), changed.map(key)))
    }

    private static func compare(_ section: String, _ old: [String], _ new: [String], _ equal: Bool, into changes: inout [Change]) {
        guard !equal else { return }
        let added = new.filter { !old.contains($0) }
        let removed = old.filter { !new.contains($0) }
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        if parts.isEmpty { parts.append("entries changed") }
        changes.append(Change(section: section, detail: parts.joined(separator: "; ") + "; live reload of [[\(section)]] is not implemented, restart vdiskd", appliedLive: false))
    }

    /// Marks the change of `section` applied, or adds why it was not.
    mutating func record(_ section: String, _ outcome: Result<Void, JSONRPCError>) {
        guard let index = changes.firstIndex(where: { $0.section == section }) else { return }
        switch outcome {
        case .success:
            // A changed entry is recorded twice (close, then open); one failure keeps it unapplied.
            changes[index].appliedLive = !changes[index].detail.contains("not applied")
        case .failure(let error):
            changes[index].appliedLive = false
            changes[index].detail += "; not applied: \(error.message)"
        }
    }

    /// Whether anything needs a restart to take effect.
    public var needsRestart: Bool { changes.contains { !$0.appliedLive } }
}
