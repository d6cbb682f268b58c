// The real targets the datastore runs on in these tests, and the lock mode each must make
// the format probe choose: ATS on istgt and LIO, reservations on tgt.

import Datastore
import TestSupport

/// A target daemon the tests start, with one file-backed LUN for a datastore.
enum RealTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Has a working COMPARE AND WRITE.
    case istgt
    /// tgt 1.0.x: no COMPARE AND WRITE, but persistent reservations and UNMAP.
    case tgt
    /// LIO in the suite's QEMU guest: COMPARE AND WRITE (one block), reservations and UNMAP.
    case lio

    var description: String { rawValue }

    /// What the format probe must pick on this target.
    var expectedLockMode: LockMode {
        switch self {
        case .istgt, .lio: .ats
        case .tgt: .reservations
        }
    }

    /// Starts the daemon with one LUN of `size` bytes, runs `body`, and stops the daemon
    /// on every way out. `thinProvisioning` exists on tgt (`thin_provisioning=1`) and LIO
    /// (always on there). LIO's LUNs come from the shared guest's pool, at most 256 MiB.
    func withLUN<Result>(
        size: UInt64,
        thinProvisioning: Bool = false,
        _ body: (SharedLUN) async throws -> Result
    ) async throws -> Result {
        let iqn = "iqn.2026-11.org.vdiskd.test:datastore-\(rawValue)"
        switch self {
        case .istgt:
            precondition(!thinProvisioning, "istgt has no thin provisioning")
            let spec = IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: size)])
            return try await withIstgt(IstgtConfiguration(targets: [spec])) { daemon in
                try await body(SharedLUN(daemon: daemon, iqn: iqn, lun: 0))
            }
        case .tgt:
            let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: size, thinProvisioning: thinProvisioning)])
            return try await withTgt(TgtConfiguration(targets: [spec])) { daemon in
                try await body(SharedLUN(daemon: daemon, iqn: iqn, lun: 1))
            }
        case .lio:
            precondition(size <= LIOSuiteGuest.datastoreLUNSize, "the LIO pool's LUNs hold \(LIOSuiteGuest.datastoreLUNSize) bytes")
            return try await LIOLUNPool.suite.with { guest, number in
                // Files a test writes beside the LUN go to a directory of its own: the guest's
                // scratch directory is shared by every test.
                let directory = try ScratchDirectory(prefix: "lio-lun")
                defer { directory.remove() }
                let lun = try SharedLUN(daemon: guest, iqn: LIOSuiteGuest.iqn(LIOSuiteGuest.datastoreTarget), lun: number, directory: directory)
                try await lun.clearReservations()
                return try await body(lun)
            }
        }
    }
}
