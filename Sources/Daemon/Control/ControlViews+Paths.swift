// How `paths.list` shows a multipath target.

import Control
import Paths

extension ControlViews {
    static func paths(_ snapshot: MultipathSnapshot) -> JSONValue {
        var fields: [String: JSONValue] = [
            "target": .string(snapshot.name),
            "health": .string(snapshot.health.rawValue),
            "policy": .string(snapshot.policy.name),
            "policy_detail": .string(snapshot.policy.description),
            "identity": .string(snapshot.identity.description),
            "paths": .array(snapshot.paths.map(path)),
        ]
        if let lost = snapshot.lostMessage { fields["lost"] = .string(lost) }
        return .object(fields)
    }

    private static func path(_ path: MultipathSnapshot.Path) -> JSONValue {
        let counters = path.counters
        var fields: [String: JSONValue] = [
            "name": .string(path.name),
            "source": .string(path.source ?? "*"),
            "destination": .string(path.destination),
            "state": .string(path.state.rawValue),
            "reason": .string(path.reason),
            "selected": .bool(path.selected),
            "damped": .bool(path.damped),
            "stalls": .int(counters.stalls),
            "reads": .int(counters.reads),
            "writes": .int(counters.writes),
            "others": .int(counters.others),
            "bytes_read": .int(counters.bytesRead),
            "bytes_written": .int(counters.bytesWritten),
            "path_errors": .int(counters.pathErrors),
            "failures": .int(counters.failures),
            "latency_mean_us": .int(Int(counters.latencyMean / .microseconds(1))),
            "latency_max_us": .int(Int(counters.latencyMaximum / .microseconds(1))),
        ]
        if let group = path.portGroup { fields["port_group"] = .int(Int(group)) }
        if let access = path.accessState { fields["alua_state"] = .string("\(access)") }
        return .object(fields)
    }
}
