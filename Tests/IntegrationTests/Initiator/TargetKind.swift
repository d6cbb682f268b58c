// The real targets the engine tests run against, started through TestSupport with
// one file-backed LUN per target, so a test body can take the kind as an argument.

import ISCSI
import TestSupport

enum TargetKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case tgt
    case istgt

    var description: String { rawValue }

    /// tgt reserves LUN 0 for its controller; istgt numbers LUNs from 0.
    var lun: Int {
        switch self {
        case .tgt: 1
        case .istgt: 0
        }
    }

    /// What the native initiator must offer for CHAP. tgt 1.0.85 picks SHA-256 when offered
    /// and then refuses every SHA-256 answer, and a refused answer is never retried with a
    /// weaker algorithm, so logins to tgt say MD5 (docs/INITIATOR.md). istgt picks MD5 itself.
    var chapAlgorithms: [CHAPAlgorithm]? {
        switch self {
        case .tgt: [.md5]
        case .istgt: nil
        }
    }

    /// Starts one daemon of this kind serving every target in `targets` (one LUN
    /// of `lunSize` bytes each), runs `body`, and stops the daemon however it ends.
    func with<Result>(
        _ targets: [(iqn: String, chap: CHAPAuthentication?)],
        lunSize: UInt64,
        _ body: (any ISCSITargetDaemon) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .tgt:
            let specs = targets.map { TgtTargetSpec(iqn: $0.iqn, luns: [.file(lun, size: lunSize)], chap: $0.chap) }
            return try await withTgt(TgtConfiguration(targets: specs)) { try await body($0) }
        case .istgt:
            let specs = targets.map { IstgtTargetSpec(iqn: $0.iqn, luns: [.file(lun, size: lunSize)], chap: $0.chap) }
            return try await withIstgt(IstgtConfiguration(targets: specs)) { try await body($0) }
        }
    }
}
