// The control methods for incidents: the event log of recent state changes, and bringing a
// fenced datastore back without restarting the daemon.

import Control
import Foundation

extension ControlDispatcher {
    static let faultReadMethods: Set<String> = ["events.list"]
    static let faultMutatingMethods: Set<String> = ["datastores.recover"]

    /// The answer to a fault method, or nil when `request` is not one.
    func callFaults(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>? {
        switch request.method {
        case "events.list":
            var limit = EventLog.defaultCapacity
            if let value = request.params?["limit"] {
                guard let number = value.intValue, number > 0 else {
                    return .failure(.invalidParams("\"limit\" is a positive integer, the number of most recent events"))
                }
                limit = number
            }
            return .success(ControlViews.events(state.events, limit: limit))
        case "datastores.recover":
            guard let name = request.params?["datastore"]?.stringValue else {
                return .failure(.invalidParams("datastores.recover needs \"datastore\", a configured datastore's name"))
            }
            let live = reloader.live
            return await live.serialized { await live.recoverDatastore(name) }
        default:
            return nil
        }
    }
}

extension ControlViews {
    /// The newest `limit` events, oldest first, and how many the ring dropped.
    static func events(_ log: EventLog, limit: Int) -> JSONValue {
        let (events, dropped) = log.snapshot
        return .object([
            "dropped": .int(dropped),
            "events": .array(events.suffix(limit).map { event in
                var fields: [String: JSONValue] = [
                    "time": .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(event.time)),
                    "part": .string(event.part),
                    "state": .string(event.state),
                ]
                fields["reason"] = event.reason.map { .string($0) }
                return .object(fields)
            }),
        ])
    }
}
