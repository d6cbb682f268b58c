// The exports the daemon serves right now, by name, for the control methods and for shutdown.

import Export
import Synchronization

/// A small registry: the export service and reload add and remove; views read sessions.
public final class RunningExports: Sendable {
    private let inner = Mutex<[(name: String, export: ServedExport)]>([])

    public init() {}

    func add(_ name: String, _ export: ServedExport) {
        inner.withLock { $0.append((name, export)) }
    }

    /// Forgets an export and returns it (the caller stops it).
    func remove(_ name: String) -> ServedExport? {
        inner.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.name == name }) else { return nil }
            return entries.remove(at: index).export
        }
    }

    /// Forgets every export and returns them, newest first, for stopping.
    func removeAll() -> [(name: String, export: ServedExport)] {
        inner.withLock { entries in
            defer { entries = [] }
            return entries.reversed()
        }
    }

    public func export(_ name: String) -> ServedExport? {
        inner.withLock { $0.first(where: { $0.name == name })?.export }
    }

    /// Names of the running exports that present `reference` (`datastore/disk`).
    public func exports(presenting reference: String, config: DaemonConfig) -> [String] {
        let running = Set(inner.withLock { $0.map(\.name) })
        return config.exports.filter { running.contains($0.name) && $0.disks.contains(reference) }.map(\.name)
    }
}
