// What a multipath target reports, turned into its service state, events and log lines.

import Foundation
import Paths

extension StorageService {
    /// Follows a multipath target: `running` while a path takes I/O, `recovering` with every
    /// path down (it keeps probing and comes back by itself), `failed` on device loss until
    /// `paths.reopen`. Every event is logged and kept in `events.list`. Ends at close.
    func watch(_ name: String, _ device: MultipathDevice) async {
        let key = "target:\(name)"
        for await event in device.events {
            let text: String
            switch event {
            case .pathChanged(let path, let from, let to, let reason):
                text = "path \(path): \(from) → \(to) (\(reason))"
            case .allPathsDown(let reason):
                state.setService(key, .recovering(since: Date(), attempts: 0))
                text = "all paths down; I/O waits up to apd_timeout_seconds: \(reason)"
            case .allPathsDownTimedOut(let message):
                text = "all-paths-down timeout: I/O fails until a path returns; \(message)"
            case .pathsRestored(let path):
                state.setService(key, .running)
                text = "path \(path) is back; I/O resumes"
            case .deviceLost(let message):
                state.setService(key, .failed(message))
                text = message
            case .pathRefused(_, let message):
                text = message
            }
            logger.warning("target path event", metadata: ["vdiskd.target": "\(name)", "vdiskd.event": "\(text)"])
            storage.recordEvent(name, "\(Date()): \(text)")
            state.events.record(key, "paths", reason: text)
        }
    }
}
