// What a reload would change, section by section, and which of it this version applies live.

import Logging

/// The difference between the running config and a freshly validated one. Only the log level is
/// applied live today; every other change is reported as needing a restart, never as done.
public struct ReloadPlan: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        public var section: String
        public var detail: String
        public var appliedLive: Bool
    }

    public var changes: [Change] = []

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
        Self.compare("disk", running.disks.map(\.reference), proposed.disks.map(\.reference), running.disks == proposed.disks, into: &changes)
        Self.compare("export", running.exports.map(\.name), proposed.exports.map(\.name), running.exports == proposed.exports, into: &changes)
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

    /// Whether anything needs a restart to take effect.
    public var needsRestart: Bool { changes.contains { !$0.appliedLive } }
}
