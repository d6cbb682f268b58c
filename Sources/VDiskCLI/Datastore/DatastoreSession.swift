// One command's stay on a datastore: open the device, mount as this process's host,
// do the work, then unmount (releasing locks and the heartbeat slot) and close.

import BlockDevice
import Datastore
import Foundation

enum DatastoreSession {
    /// Mounts, runs `body`, and unmounts even when `body` fails, so no lock or slot is
    /// left for other hosts to wait a lease for.
    static func withMounted<T: Sendable>(
        _ location: DatastoreLocation, _ host: HostOptions,
        _ body: (Datastore) async throws -> T
    ) async throws -> T {
        let device = try await BlockDeviceLocator.open(location.datastore, readOnly: false)
        let store: Datastore
        do {
            store = try await Datastore.mount(device: device, host: host.identity, options: host.datastoreOptions)
        } catch {
            try? await device.close()
            throw error
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(store))
        } catch {
            result = .failure(error)
        }
        for recovery in store.recoveries { DatastoreCommandRunner.printNote(recovery.description) }
        var unmountError: (any Error)?
        do { try await store.unmount() } catch { unmountError = error }
        try? await device.close()
        let value = try result.get()
        if let unmountError { throw unmountError }
        return value
    }

    /// Retries `attempt` while it fails with `.locked`, for at most `lockWait`: each try
    /// reads the holder's heartbeat again, and once it has stood still for a lease the
    /// datastore breaks the lock. Without a wait the first `.locked` is final.
    static func retryingWhileLocked<T: Sendable>(
        _ host: HostOptions, _ attempt: () async throws -> T
    ) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + host.lockWait.duration
        // A pause short against the heartbeat interval, so the lease is measured closely.
        let pause = min(Duration.milliseconds(250), host.heartbeatInterval.duration / 2)
        let maximumAttempts = 1 + Int(host.lockWait.duration / pause)
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try await attempt()
            } catch let error as DatastoreError where error.code == .locked {
                guard clock.now + pause <= deadline, attempts < maximumAttempts else { throw error }
                try await Task.sleep(for: pause)
            }
        }
    }
}
