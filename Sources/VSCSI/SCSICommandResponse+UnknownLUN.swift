// Answers for a LUN the target does not have (SPC-5 §4.6.22 and §6.7.2): INQUIRY says
// "no unit here", everything else is LOGICAL UNIT NOT SUPPORTED.

import NIOCore
import SCSI

extension SCSICommandResponse {
    /// What a transport answers to `cdb` sent to a LUN with no unit behind it.
    public static func unknownLUN(cdb: [UInt8], expectedDataInLength: Int) -> SCSICommandResponse {
        if cdb.first == OperationCode.inquiry.rawValue, cdb.count >= 6, cdb[1] & 0x01 == 0 {
            // PERIPHERAL QUALIFIER 011b, DEVICE TYPE 1Fh: not capable of a unit at this LUN;
            // VERSION SPC-4, RESPONSE DATA FORMAT 2, ADDITIONAL LENGTH 31.
            var data = [UInt8](repeating: 0, count: 36)
            data[0] = 0x7F
            data[2] = 0x06
            data[3] = 0x02
            data[4] = 31
            let allocation = Int(cdb[3]) << 8 | Int(cdb[4])
            let length = min(data.count, allocation, expectedDataInLength)
            return SCSICommandResponse(status: .good, dataIn: ByteBuffer(bytes: data.prefix(length)), transferLength: min(data.count, allocation))
        }
        let sense = SenseData(senseKey: .illegalRequest, additionalSenseCode: .logicalUnitNotSupported)
        return SCSICommandResponse(status: .checkCondition, sense: sense.encoded(as: .fixed), transferLength: 0)
    }
}
