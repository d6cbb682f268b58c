// `disks.stats`: the I/O statistics of every configured disk, or of one.

import Control
import VSCSI

extension ControlDispatcher {
    /// Every configured disk in config order, or only `{"disk": "datastore/disk"}`.
    func diskStatistics(_ params: JSONValue?) -> Result<JSONValue, JSONRPCError> {
        var references = state.config.disks.map(\.reference)
        if let params, params != .object([:]) {
            guard let wanted = params["disk"]?.stringValue else {
                return .failure(.invalidParams("expected no params or {\"disk\": \"datastore/disk\"}"))
            }
            guard references.contains(wanted) else {
                return .failure(.notFound("no disk \"\(wanted)\" is configured; disks.list names them"))
            }
            references = [wanted]
        }
        return .success(.array(references.map { reference in
            ControlViews.diskStatistics(reference, state: state, snapshot: state.diskStatistics.statistics(for: reference).snapshot())
        }))
    }
}
