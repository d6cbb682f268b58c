// The JSON shape of one disk's I/O statistics.

import Control
import VSCSI

extension ControlViews {
    /// `{"disk", "state", "elapsed_seconds", "interval_seconds", "read": {...}, "write": {...}, "other": {...}}`.
    static func diskStatistics(_ reference: String, state: DaemonState, snapshot: IOStatisticsSnapshot) -> JSONValue {
        var fields: [String: JSONValue] = [
            "disk": .string(reference),
            "state": .string((state.state(of: "disk:\(reference)") ?? .notStarted("")).name),
            "elapsed_seconds": .double(seconds(snapshot.elapsed)),
            "interval_seconds": .double(seconds(snapshot.interval)),
        ]
        for kind in IOKind.allCases {
            fields[kind.rawValue] = entry(snapshot[kind])
        }
        return .object(fields)
    }

    private static func entry(_ entry: IOStatisticsSnapshot.Entry) -> JSONValue {
        var fields: [String: JSONValue] = [
            "operations": .int(Int(clamping: entry.totals.operations)),
            "bytes": .int(Int(clamping: entry.totals.bytes)),
            "errors": .int(Int(clamping: entry.totals.errors)),
            "iops": .double(entry.sinceStart.operationsPerSecond),
            "mb_per_second": .double(entry.sinceStart.megabytesPerSecond),
        ]
        if let last = entry.lastInterval {
            fields["interval_iops"] = .double(last.operationsPerSecond)
            fields["interval_mb_per_second"] = .double(last.megabytesPerSecond)
        }
        if let latency = entry.latency {
            fields["latency_us"] = .object([
                "p50": .int(Int(clamping: latency.p50Microseconds)),
                "p90": .int(Int(clamping: latency.p90Microseconds)),
                "p99": .int(Int(clamping: latency.p99Microseconds)),
                "p99_9": .int(Int(clamping: latency.p999Microseconds)),
                "max": .int(Int(clamping: latency.maxMicroseconds)),
            ])
        }
        return .object(fields)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
