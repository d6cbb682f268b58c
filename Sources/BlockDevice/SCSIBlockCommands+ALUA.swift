// ALUA on any engine: the logical unit's target port groups and their states (REPORT TARGET
// PORT GROUPS), for multipath to pick a path.

import SCSI

extension SCSIBlockCommands {
    /// Every target port group of the logical unit with its asymmetric access state. Fails with
    /// `.notSupported`-class sense (ILLEGAL REQUEST) on a unit without ALUA (TPGS 0).
    public func reportTargetPortGroups() async throws -> [TargetPortGroup] {
        try checkOpen()
        let length = 1024
        let data = try await runCommand(CDB.reportTargetPortGroups(allocationLength: UInt32(length)), name: "REPORT TARGET PORT GROUPS", dataOut: nil, dataInLength: length)
        do {
            return try TargetPortGroup.parseList(Array(data.readableBytesView))
        } catch {
            throw BlockDeviceError(.deviceError, "\(unitDescription) answered REPORT TARGET PORT GROUPS with bad data", underlying: error)
        }
    }
}
