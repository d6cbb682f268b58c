// How SCSI and engine failures become BlockDeviceErrors: the same classes as the
// native engine's LUN, so callers cannot tell the engines apart by their errors.

import BlockDevice
import SCSI

extension LibISCSIDevice {
    /// A command that reached the device server and failed there.
    func blockDeviceError(_ failure: SCSICommandError, name: String, cdb: [UInt8]) -> BlockDeviceError {
        Self.classify(failure, object: "\(name) on \(self.object)", cdb: cdb)
    }

    /// The BlockDeviceError code for a SCSI failure, as the native engine chooses it.
    static func classify(_ failure: SCSICommandError, object: String, cdb: [UInt8]) -> BlockDeviceError {
        switch failure.status {
        case .reservationConflict:
            return BlockDeviceError(.reservationConflict, "\(object) hit a reservation held by another initiator", underlying: failure)
        case .busy, .taskSetFull:
            return BlockDeviceError(.busy, "\(object) was refused for now (\(failure.status))", underlying: failure)
        default:
            break
        }
        guard let sense = failure.sense else {
            return BlockDeviceError(.deviceError, "\(object) failed with \(failure.status)", underlying: failure)
        }
        switch sense.senseKey {
        case .miscompare:
            return BlockDeviceError(
                .miscompare,
                "\(object) found different data",
                miscompareOffset: sense.miscompareOffset.map { Int(clamping: $0) },
                underlying: failure
            )
        case .dataProtect:
            return BlockDeviceError(.readOnly, "\(object) was refused: the LUN is write-protected", underlying: failure)
        case .mediumError:
            return BlockDeviceError(.mediumError, "\(object) hit a medium error", underlying: failure)
        case .illegalRequest:
            switch (sense.additionalSenseCode.asc, sense.additionalSenseCode.ascq) {
            case (0x21, 0x00):
                return BlockDeviceError(.outOfRange, "\(object) addressed blocks past the end", underlying: failure)
            case (0x20, 0x00):
                return BlockDeviceError(.notSupported, "\(object) is not supported by the target", underlying: failure)
            case (0x24, 0x00) where optionalOpcodes.contains(cdb.first ?? 0):
                // INVALID FIELD IN CDB on an optional command: the target lacks that form of it.
                return BlockDeviceError(.notSupported, "\(object) is not supported by the target", underlying: failure)
            default:
                return BlockDeviceError(.deviceError, "\(object) was refused", underlying: failure)
            }
        default:
            return BlockDeviceError(.deviceError, "\(object) failed", underlying: failure)
        }
    }

    /// UNMAP, WRITE SAME(16), COMPARE AND WRITE, UNMAP-capable WRITE SAME(10), PERSISTENT RESERVE IN/OUT.
    static let optionalOpcodes: Set<UInt8> = [0x42, 0x93, 0x89, 0x5E, 0x5F]

    /// A command that never got a SCSI status.
    func blockDeviceError(_ error: LibISCSIEngineError, name: String) -> BlockDeviceError {
        let object = "\(name) on \(self.object)"
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
        }
    }
}
