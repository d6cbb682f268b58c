// The two real targets the datastore runs on in these tests, and the lock mode each
// must make the format probe choose: ATS on istgt, reservations on tgt.

import Datastore
import TestSupport

/// A target daemon the tests start, with one file-backed LUN for a datastore.
enum RealTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Has a working COMPARE AND WRITE.
    case istgt
    /// tgt 1.0.x: no COMPARE AND WRITE, but persistent reservations and UNMAP.
    case tgt

    var description: String { rawValue }

    /// What the format probe must pick on this target.
    var expectedLockMode: LockMode {
        switch self {
        case .istgt: .ats
        case .tgt: .reservations
        }
    }

    /// Starts the daemon with one LUN of `size` bytes, runs `body`, and stops the daemon
    /// on every way out. `thinProvisioning` exists on tgt only (`thin_provisioning=1`).
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
        }
    }
}
