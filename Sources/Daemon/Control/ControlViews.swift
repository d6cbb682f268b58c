// The JSON shapes the control methods answer with, built from config and running state.

import Control
import Foundation

/// One function per shape, so the dispatcher stays a switch and vdiskctl knows what to expect.
enum ControlViews {
    static func status(state: DaemonState) -> JSONValue {
        let config = state.config
        let uptime = state.uptime.components
        return .object([
            "version": .string(DaemonVersion.current),
            "uptime_seconds": .int(Int(uptime.seconds)),
            "config_path": .string(config.path),
            "log_level": .string(state.logLevel.current.rawValue),
            "control_socket": .string(config.daemon.controlSocket),
            "services": .array(state.services.map(service)),
            "counts": .object([
                "targets": .int(config.targets.count),
                "datastores": .int(config.datastores.count),
                "disks": .int(config.disks.count),
                "exports": .int(config.exports.count),
            ]),
        ])
    }

    static func service(_ entry: (name: String, state: ServiceState)) -> JSONValue {
        var fields = fields(of: entry.state)
        fields["name"] = .string(entry.name)
        return .object(fields)
    }

    private static func stateFields(_ key: String, state: DaemonState) -> [String: JSONValue] {
        fields(of: state.state(of: key) ?? .notStarted("not opened by this version of vdiskd"))
    }

    /// `state`, its `reason` when it has one, and for a recovering target since when and how many attempts.
    private static func fields(of serviceState: ServiceState) -> [String: JSONValue] {
        var fields: [String: JSONValue] = ["state": .string(serviceState.name)]
        fields["reason"] = serviceState.reason.map { .string($0) }
        if case .recovering(let since, let attempts) = serviceState {
            fields["since"] = .string(since.formatted(.iso8601))
            fields["attempts"] = .int(attempts)
        }
        return fields
    }

    static func target(_ target: TargetSettings, state: DaemonState) -> JSONValue {
        var fields = stateFields("target:\(target.name)", state: state)
        fields["name"] = .string(target.name)
        fields["portal"] = .string(target.portal.description)
        fields["iqn"] = .string(target.iqn)
        fields["lun"] = .int(target.lun)
        fields["engine"] = .string(target.engine.rawValue)
        fields["chap"] = .bool(target.chapUser != nil)
        fields["session"] = session(of: state.storage.lun(target.name))
        fields["recovery_timeout_seconds"] = .int(target.recoveryTimeoutSeconds)
        fields["reconnects"] = .int(state.storage.lun(target.name)?.reconnections ?? 0)
        if target.isMultipath {
            fields["portal"] = .string(target.configuredPaths.map(\.portal.description).joined(separator: ","))
            fields["paths"] = .int(target.configuredPaths.count)
            if let snapshot = state.storage.multipath(target.name)?.snapshot {
                fields["portal"] = .string(snapshot.paths.map(\.destination).joined(separator: ","))
                fields["paths"] = .int(snapshot.paths.count)
                fields["path_health"] = .string(snapshot.health.rawValue)
                fields["paths_active"] = .int(snapshot.paths.filter { $0.state == .active }.count)
            }
        }
        return .object(fields)
    }

    static func datastore(_ datastore: DatastoreSettings, state: DaemonState) -> JSONValue {
        var fields = stateFields("datastore:\(datastore.name)", state: state)
        fields["name"] = .string(datastore.name)
        fields["target"] = .string(datastore.target)
        fields["host_uuid"] = .string(datastore.hostUUID.uuidString.lowercased())
        fields["host_name"] = .string(datastore.hostName)
        fields["heartbeat_interval_seconds"] = .int(datastore.heartbeatIntervalSeconds)
        fields["heartbeat_lease_seconds"] = .int(datastore.heartbeatLeaseSeconds)
        fields["mount"] = mount(of: state.storage.datastore(datastore.name))
        return .object(fields)
    }

    static func disk(_ disk: DiskSettings, state: DaemonState) -> JSONValue {
        var fields = stateFields("disk:\(disk.reference)", state: state)
        fields["datastore"] = .string(disk.datastore)
        fields["name"] = .string(disk.name)
        fields["mode"] = .string(disk.mode.rawValue)
        fields["takeover"] = .string(disk.takeover.rawValue)
        fields["opened"] = opened(state.storage.disk(disk.reference))
        fields["exports"] = .array(state.exports.exports(presenting: disk.reference, config: state.config).map { .string($0) })
        fields["filters"] = chainNames(disk.reference, state: state)
        return .object(fields)
    }

    static func export(_ export: ExportSettings, state: DaemonState) -> JSONValue {
        var fields = stateFields("export:\(export.name)", state: state)
        fields["name"] = .string(export.name)
        fields["iqn"] = .string(export.iqn)
        fields["listen"] = .array(export.listen.map { .string($0.description) })
        fields["disks"] = .array(export.disks.map { .string($0) })
        fields["read_only"] = .bool(export.readOnly)
        fields["chap"] = .bool(export.chapUser != nil)
        fields["sessions"] = sessions(of: state.exports.export(export.name))
        return .object(fields)
    }

    static func reload(_ plan: ReloadPlan) -> JSONValue {
        .object([
            "valid": .bool(true),
            "needs_restart": .bool(plan.needsRestart),
            "changes": .array(plan.changes.map { change in
                .object([
                    "section": .string(change.section),
                    "detail": .string(change.detail),
                    "applied": .bool(change.appliedLive),
                ])
            }),
        ])
    }
}
