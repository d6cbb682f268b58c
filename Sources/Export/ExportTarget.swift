// One exported iSCSI target: its name, who may log in, and its logical units by LUN.

import ISCSI
import SCSI
import VSCSI

/// A target and the logical units it serves.
public final class ExportTarget: Sendable {
    /// The target's IQN.
    public let name: String
    public let access: TargetAccessPolicy
    /// Units by LUN number (0, 1, ...).
    public let units: [Int: LogicalUnit]

    public init(name: String, access: TargetAccessPolicy, units: [Int: LogicalUnit]) {
        self.name = name
        self.access = access
        self.units = units
    }

    /// The LUN list REPORT LUNS returns, lowest first.
    public var lunList: [LUN] {
        units.keys.sorted().compactMap { LUN(number: $0) }
    }

    /// The unit a PDU's 8-byte LUN field addresses.
    public func unit(forField field: UInt64) -> LogicalUnit? {
        guard let number = LUN(rawValue: field).number else { return nil }
        return units[number]
    }

    /// The 8-byte LUN fields that exist, for task management.
    var lunFields: Set<UInt64> {
        Set(units.keys.compactMap { LUN(number: $0)?.rawValue })
    }
}
