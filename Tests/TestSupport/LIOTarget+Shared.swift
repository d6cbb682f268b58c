// One LIO guest shared by every test of a run that asks for the same configuration: TCG boots
// cost seconds each on two cores, so a suite boots its guest once and its tests use their own
// targets on it. The guest lives until the test process exits.

import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

extension LIOTarget {
    private static let sharedGuests = NIOLockedValueBox<[LIOConfiguration: Task<LIOTarget, any Error>]>([:])

    /// PIDs and directories of the shared guests, for the exit handler (which may not await).
    private static let sharedRemains = NIOLockedValueBox<[(pid: pid_t, directory: String)]>([])

    /// The guest for `configuration`, booted by the first caller; later callers wait for that
    /// boot. A failed boot is reported to every waiting test and retried by the next caller.
    public static func shared(_ configuration: LIOConfiguration) async throws -> LIOTarget {
        let task = sharedGuests.withLockedValue { guests in
            if let task = guests[configuration] { return task }
            let task = Task {
                let target = try await start(configuration)
                registerForExit(target)
                return target
            }
            guests[configuration] = task
            return task
        }
        do {
            return try await task.value
        } catch {
            sharedGuests.withLockedValue { guests in
                if guests[configuration] == task { guests[configuration] = nil }
            }
            throw error
        }
    }

    private static func registerForExit(_ target: LIOTarget) {
        let first = sharedRemains.withLockedValue { remains in
            remains.append((target.pid, target.directory.path))
            return remains.count == 1
        }
        if first {
            // QEMU would die with the test process anyway (parent-death signal); this also
            // removes the scratch directories and their LUN files at a normal exit.
            atexit {
                for remain in LIOTarget.sharedRemains.withLockedValue({ $0 }) {
                    Glibc.kill(remain.pid, SIGKILL)
                    var status: Int32 = 0
                    waitpid(remain.pid, &status, 0)
                    try? FileManager.default.removeItem(atPath: remain.directory)
                }
            }
        }
    }
}

/// Runs `body` with the shared guest for `configuration` (see `LIOTarget.shared`). The guest
/// is not stopped afterwards: tests must leave it as they found it, apart from their own LUNs.
public func withSharedLIO<Result>(
    _ configuration: LIOConfiguration,
    _ body: (LIOTarget) async throws -> Result
) async throws -> Result {
    let target = try await LIOTarget.shared(configuration)
    do {
        return try await body(target)
    } catch {
        // The failure may be the guest's own (a hung kernel, a QEMU starved on a loaded
        // machine), and its console goes with its folder when the run ends: the first LIO test
        // that fails with an error in a run prints the end of it.
        if sharedGuestConsoleShown.withLockedValue({ shown in defer { shown = true }; return !shown }) {
            print("LIO guest console (end), at the first LIO test that failed with an error (\(error)):\n\(TextFile.tail(of: target.consoleLog, maxBytes: 3000))")
        }
        throw error
    }
}

/// Whether a failed test has printed the shared guest's console in this run.
private let sharedGuestConsoleShown = NIOLockedValueBox(false)
