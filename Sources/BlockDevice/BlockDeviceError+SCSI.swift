// The one table from a SCSI command that failed at the device server to a
// BlockDeviceError code. Every engine uses it, so callers cannot tell engines apart by their errors.

import SCSI

extension BlockDeviceError {
    /// Opcodes of optional commands: UNMAP, WRITE SAME(16), COMPARE AND WRITE,
    /// PERSISTENT RESERVE IN and OUT. A target that answers one of them with
    /// INVALID FIELD IN CDB lacks that form of the command rather than failing.
    public static let optionalOperationCodes: Set<UInt8> = [0x42, 0x93, 0x89, 0x5E, 0x5F]

    /// Classifies `failure` (status and sense of the command `cdb`).
    ///
    /// `object` names the command and the device, e.g. "WRITE(16) on LUN 1 of
    /// 127.0.0.1:3260"; it opens the message. The underlying error is `failure`,
    /// which carries the sense in words.
    public init(_ failure: SCSICommandError, cdb: [UInt8], object: String) {
        switch failure.status {
        case .reservationConflict:
            self.init(.reservationConflict, "\(object) hit a reservation held by another initiator", underlying: failure)
            return
        case .busy, .taskSetFull:
            self.init(.busy, "\(object) was refused for now (\(failure.status)); retry later", underlying: failure)
            return
        default:
            break
        }
        guard let sense = failure.sense else {
            self.init(.deviceError, "\(object) failed with \(failure.status)", underlying: failure)
            return
        }
        switch sense.senseKey {
        case .miscompare:
            self.init(
                .miscompare,
                "\(object) found different data",
                miscompareOffset: sense.miscompareOffset.map { Int(clamping: $0) },
                underlying: failure
            )
        case .dataProtect where sense.additionalSenseCode.asc == 0x27 && sense.additionalSenseCode.ascq == 0x07:
            self.init(.noSpace, "\(object) was refused: the thin-provisioned LUN has no space left", underlying: failure)
        case .dataProtect:
            self.init(.readOnly, "\(object) was refused: the LUN is write-protected", underlying: failure)
        case .mediumError:
            self.init(.mediumError, "\(object) hit a medium error", underlying: failure)
        case .illegalRequest:
            let optional = cdb.first.map { Self.optionalOperationCodes.contains($0) } ?? false
            switch (sense.additionalSenseCode.asc, sense.additionalSenseCode.ascq) {
            case (0x21, 0x00):
                self.init(.outOfRange, "\(object) addressed blocks past the end", underlying: failure)
            case (0x20, 0x00):
                self.init(.notSupported, "\(object) is not supported by the target", underlying: failure)
            case (0x24, 0x00) where optional:
                self.init(.notSupported, "\(object) is not supported by the target", underlying: failure)
            default:
                self.init(.deviceError, "\(object) was refused", underlying: failure)
            }
        default:
            self.init(.deviceError, "\(object) failed", underlying: failure)
        }
    }
}
