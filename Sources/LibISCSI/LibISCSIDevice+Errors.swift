// How engine failures without a SCSI status (timeouts, a lost connection, close)
// become BlockDeviceErrors; SCSI failures use the shared table in BlockDevice.

import BlockDevice

extension LibISCSIDevice {
    /// A command that never got a SCSI status.
    func blockDeviceError(_ error: LibISCSIEngineError, name: String) -> BlockDeviceError {
        let object = "\(name) on \(unitDescription)"
        switch error {
        case .timeout(let reason):
            return BlockDeviceError(
                .timeout,
                "\(object) got no answer in time; the target may be down",
                underlying: LibISCSITransportError(operation: name, reason: reason)
            )
        case .transport(let reason):
            return BlockDeviceError(.transport, "\(object) failed on the connection", underlying: LibISCSITransportError(operation: name, reason: reason))
        case .closed:
            return BlockDeviceError(.closed, "\(object) did not run: the device is closed")
        case .revoked(let reason):
            return BlockDeviceError(.fenced, "\(object) was taken back before it completed: \(reason)")
        }
    }
}
