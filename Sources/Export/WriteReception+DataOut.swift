// One Data-Out PDU checked against the write it belongs to: its offset, DataSN, TTT,
// the first burst and the R2T it answers (RFC 7143 §11.7).

import ISCSI
import NIOCore

extension WriteReception {
    /// Checks one Data-Out against this write's sequence and appends its data; the reason
    /// when the sequence is broken (the write then ends, the connection does not).
    mutating func accept(_ data: DataOut) -> String? {
        let tag = String(data.initiatorTaskTag, radix: 16)
        let length = data.data.readableBytes
        let offset = Int(data.bufferOffset)
        guard offset == received else {
            return "Data-Out for task 0x\(tag) at offset \(offset), expected \(received) (DataPDUInOrder=Yes)"
        }
        if data.targetTransferTag == reservedTag {
            guard unsolicitedOpen else {
                return "unsolicited Data-Out for task 0x\(tag) after its first burst ended"
            }
            guard data.dataSN == unsolicitedDataSN else {
                return "unsolicited Data-Out for task 0x\(tag) has DataSN \(data.dataSN), expected \(unsolicitedDataSN)"
            }
            guard offset + length <= unsolicitedLimit else {
                return "unsolicited data for task 0x\(tag) passes FirstBurstLength/EDTL (\(unsolicitedLimit) bytes)"
            }
            unsolicitedDataSN &+= 1
            var payload = data.data
            self.data.writeBuffer(&payload)
            if data.final {
                unsolicitedOpen = false
                nextR2TOffset = received
            }
            return nil
        }
        guard let index = outstanding.firstIndex(where: { $0.targetTransferTag == data.targetTransferTag }) else {
            return "Data-Out for task 0x\(tag) names TTT 0x\(String(data.targetTransferTag, radix: 16)), which no R2T gave"
        }
        var solicitation = outstanding[index]
        guard data.dataSN == solicitation.nextDataSN else {
            return "Data-Out for task 0x\(tag) has DataSN \(data.dataSN), expected \(solicitation.nextDataSN)"
        }
        guard offset >= solicitation.offset, offset + length <= solicitation.offset + solicitation.length else {
            return "Data-Out for task 0x\(tag) passes the end of its R2T"
        }
        solicitation.nextDataSN &+= 1
        solicitation.received += length
        var payload = data.data
        self.data.writeBuffer(&payload)
        let done = solicitation.received == solicitation.length
        guard done == data.final else {
            return "Data-Out for task 0x\(tag): F bit \(data.final) with \(solicitation.received) of \(solicitation.length) bytes of the R2T"
        }
        if done {
            outstanding.remove(at: index)
        } else {
            outstanding[index] = solicitation
        }
        return nil
    }
}
