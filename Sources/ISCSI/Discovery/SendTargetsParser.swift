// Turns the text of a SendTargets answer (RFC 7143 §13.3, Appendix C) into targets
// and portals, tolerating what real targets send.

/// Reads `TargetName=` / `TargetAddress=` sequences.
///
/// Each TargetName starts a target; the TargetAddress keys after it are its
/// portals. Robustness choices, since one bad line should not hide every other
/// target: a TargetAddress before any TargetName belongs to no target and is
/// ignored; a malformed TargetAddress is skipped; keys other than these two
/// (TargetAlias, vendor keys) are ignored; a target listed twice gets its portals
/// merged. `SendTargets=Reject` or `Irrelevant` — the target refusing the
/// question — is an error.
public enum SendTargetsParser {
    public static func parse(_ pairs: [TextKeyValue]) throws(ISCSIError) -> [DiscoveredTarget] {
        var targets: [DiscoveredTarget] = []
        var indexByName: [String: Int] = [:]
        var current: Int?
        for pair in pairs {
            switch pair.key {
            case "TargetName":
                guard !pair.value.isEmpty, TextValue.special(pair.value) == nil else {
                    current = nil
                    continue
                }
                if let index = indexByName[pair.value] {
                    current = index
                } else {
                    indexByName[pair.value] = targets.count
                    current = targets.count
                    targets.append(DiscoveredTarget(name: pair.value))
                }
            case "TargetAddress":
                guard let current, let portal = try? TargetPortal(parsing: pair.value) else { continue }
                if !targets[current].portals.contains(portal) {
                    targets[current].portals.append(portal)
                }
            case "SendTargets":
                if let special = TextValue.special(pair.value) {
                    throw ISCSIError(
                        .rejected,
                        scope: .session,
                        "the target answered SendTargets=\(special.rawValue): it does not allow discovery here"
                    )
                }
            default:
                continue
            }
        }
        return targets
    }
}
