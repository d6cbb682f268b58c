// Hands the shared guest's datastore LUNs to one test at a time: a test waits for a free LUN,
// gets it with its backing file emptied (every block a hole again), and gives it back.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public actor LIOLUNPool {
    public static let suite = LIOLUNPool(count: LIOSuiteGuest.datastoreLUNs)

    private var free: [Int]
    private var waiters: [CheckedContinuation<Int, Never>] = []

    init(count: Int) {
        free = Array(0..<count)
    }

    private func acquire() async -> Int {
        if !free.isEmpty {
            return free.removeFirst()
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func release(_ lun: Int) {
        if waiters.isEmpty {
            free.append(lun)
        } else {
            waiters.removeFirst().resume(returning: lun)
        }
    }

    /// Runs `body` with a free datastore LUN of the suite guest (its number), emptied first, and
    /// frees it however `body` ends. Persistent-reservation state on the target is the caller's
    /// to clear: that needs an initiator, which this harness does not have.
    public nonisolated func with<Result>(
        _ body: (LIOTarget, Int) async throws -> Result
    ) async throws -> Result {
        let guest = try await LIOTarget.shared(LIOSuiteGuest.configuration)
        let lun = await acquire()
        do {
            let iqn = LIOSuiteGuest.iqn(LIOSuiteGuest.datastoreTarget)
            guard let file = guest.target(iqn)?.lun(lun)?.backingFile else {
                throw TestSupportError(.invalidConfiguration, "the suite guest has no datastore LUN \(lun)")
            }
            try Self.punchOut(file)
            let result = try await body(guest, lun)
            await release(lun)
            return result
        } catch {
            await release(lun)
            throw error
        }
    }

    /// Deallocates the whole file, keeping its size: truncated to nothing and back, the LUN
    /// reads zeros again. Nobody uses a LUN while it is in the pool, and QEMU reads the file
    /// for every guest read (iblock keeps no cache), so the guest sees that at once.
    static func punchOut(_ path: String) throws(TestSupportError) {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TestSupportError(.systemCallFailed, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, ftruncate(descriptor, 0) == 0, ftruncate(descriptor, status.st_size) == 0 else {
            throw TestSupportError(.systemCallFailed, "cannot empty \(path): \(String(cString: strerror(errno)))")
        }
    }
}
