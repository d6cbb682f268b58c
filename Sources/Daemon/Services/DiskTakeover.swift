// Automatic takeover (`takeover = "auto"`): a configured disk another host holds is retried
// until it opens — at once when the holder lets go, after the holder's lease when its
// heartbeat stands still (the datastore then breaks the lock: generation bumped, journal
// replayed) — and the exports presenting it start as soon as it is open.

import Datastore
import Foundation
import Logging
import NIOCore

/// Drives one waiting disk. Its state is `waiting for HOST (heartbeat N s old)` meanwhile.
struct DiskTakeover: Sendable {
    let settings: DiskSettings
    let state: DaemonState
    let group: any EventLoopGroup
    let logger: Logger

    /// The pause before the next attempt. A holder whose heartbeat moves is tried again after
    /// 250 ms, doubling up to one heartbeat interval (so a holder that dies later is noticed
    /// within an interval). A holder whose heartbeat has stood still longer than an interval
    /// may be dead: the next try is when its lease will have run out (at least 100 ms, at most
    /// an interval away), so the takeover comes within the lease and two intervals of its death.
    static func delay(after previous: Duration?, holder: LockHolder, interval: Duration) -> Duration {
        if holder.heartbeatAge > interval {
            return min(max(holder.lease - holder.heartbeatAge, .milliseconds(100)), interval)
        }
        guard let previous else { return .milliseconds(250) }
        return min(previous * 2, interval)
    }

    /// "host-a (heartbeat 3.2 s old)".
    static func describe(_ holder: LockHolder) -> String {
        let seconds = Double(holder.heartbeatAge.components.seconds) + Double(holder.heartbeatAge.components.attoseconds) / 1e18
        return "\(holder.name) (heartbeat \(String(format: "%.1f", seconds)) s old)"
    }

    /// One try. Returns nil when the disk is open (and its exports were started, unless this is
    /// the first try at start-up, when the export service starts them), else the pause before the next.
    func attempt(after previous: Duration?, startingExports: Bool) async -> Duration? {
        let key = "disk:\(settings.reference)"
        let interval = heartbeatInterval
        guard let store = state.storage.datastore(settings.datastore), store.fenceReason == nil else {
            // Unmounted or fenced: nothing can be taken over until it is mounted again.
            return interval
        }
        do {
            let mode: DiskOpenMode = settings.mode == .exclusive ? .exclusive : .sharedReadOnly
            let disk = try await store.openDisk(name: settings.name, mode: mode)
            try await StorageService.addOpened(disk, settings, state: state, logger: logger)
            state.setService(key, .running)
            if previous != nil {
                let recovered = store.recoveries.last.map { "; \($0)" } ?? ""
                logger.notice("opened a disk another host held", metadata: ["vdiskd.disk": "\(settings.reference)", "vdiskd.recovery": "\(recovered)"])
            }
            // Not once shutdown has begun: the exports are draining, and the disk is closed next.
            if startingExports && !Task.isCancelled { await startExports() }
            return nil
        } catch let error as DatastoreError where error.code == .locked && error.holder != nil {
            let holder = error.holder!
            if previous == nil {
                logger.info("disk held by another host; waiting (takeover = \"auto\")", metadata: ["vdiskd.disk": "\(settings.reference)", "vdiskd.holder": "\(holder.name)"])
            }
            state.setService(key, .waiting(Self.describe(holder)))
            return Self.delay(after: previous, holder: holder, interval: interval)
        } catch {
            // The target may be recovering, or the disk not yet created: try again in an interval.
            state.setService(key, .failed("\(error); retrying every \(interval) (takeover = \"auto\")"))
            return interval
        }
    }

    /// Opens a `takeover = "auto"` disk now, or, when another host holds it, keeps trying in
    /// the background until shutdown. With `startingExports` false (start-up) the export
    /// service starts the exports of a disk that opened at once.
    static func openOrWait(_ settings: DiskSettings, state: DaemonState, group: any EventLoopGroup, logger: Logger, startingExports: Bool) async {
        let takeover = DiskTakeover(settings: settings, state: state, group: group, logger: logger)
        if let pause = await takeover.attempt(after: nil, startingExports: startingExports) {
            state.storage.addBackground(Task { await takeover.run(firstPause: pause) })
        }
    }

    /// Retries after `pause` until the disk is open or the task is cancelled (shutdown).
    func run(firstPause pause: Duration) async {
        var pause = pause
        while !Task.isCancelled {
            do { try await Task.sleep(for: pause) } catch { return }
            guard let next = await attempt(after: pause, startingExports: true) else { return }
            pause = next
        }
    }

    private var heartbeatInterval: Duration {
        .seconds(state.config.datastores.first { $0.name == settings.datastore }?.heartbeatIntervalSeconds ?? 3)
    }

    /// Starts every configured export presenting this disk whose disks are now all open.
    private func startExports() async {
        await state.changes.lock()
        defer { state.changes.unlock() }
        for export in state.config.exports where export.disks.contains(settings.reference) && state.exports.export(export.name) == nil {
            guard export.disks.allSatisfy({ state.storage.disk($0) != nil }) else { continue }
            await ExportService.start(export, state: state, group: group, logger: logger)
        }
    }
}
