// Who may open a discovery session (SendTargets) on an export.

import ISCSI

/// The authentication discovery sessions need.
public enum DiscoveryAccess: Sendable, Hashable {
    /// CHAP whenever a target of the export uses it, with the credentials of any of those
    /// targets; open when none does.
    case automatic
    /// No authentication. SendTargets still lists only the targets without CHAP whose ACL
    /// admits the initiator.
    case open
    /// CHAP with credentials of its own.
    case chap(CHAPLoginAccount)

    /// The login policy of discovery sessions on an export serving `targets`.
    func policy(for targets: [ExportTarget]) -> TargetAccessPolicy {
        switch self {
        case .open:
            return TargetAccessPolicy()
        case .automatic:
            let accounts = targets.sorted { $0.name < $1.name }.flatMap(\.access.chapAccounts)
            var policy = TargetAccessPolicy()
            policy.additionalCHAP = accounts
            return policy
        case .chap(let account):
            return TargetAccessPolicy(chap: account.credentials, mutualCHAP: account.mutual)
        }
    }
}
