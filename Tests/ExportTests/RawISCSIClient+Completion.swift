// Reading a raw connection until one command ends, keeping whatever else arrived, so
// tests can tell that an aborted task never answered.

import ISCSI
import NIOCore

extension RawISCSIClient {
    /// How one command ended, and the PDUs for anything else that came in meanwhile.
    struct Completion: Sendable {
        var status: UInt8
        /// Data-In bytes in arrival order.
        var data: [UInt8]
        /// Sense data from the SCSI Response (without its length prefix).
        var sense: [UInt8]
        var others: [ISCSIPDU]

        /// SENSE KEY, ASC, ASCQ of fixed-format sense, or nil without sense.
        var senseCode: (key: UInt8, asc: UInt8, ascq: UInt8)? {
            guard sense.count >= 14 else { return nil }
            return (sense[2] & 0x0F, sense[12], sense[13])
        }
    }

    /// Reads until the command tagged `tag` ends (a SCSI Response, or a Data-In with status),
    /// at most `limit` PDUs; throws when the connection closes first.
    func completion(of tag: UInt32, limit: Int = 256) throws -> Completion {
        var data: [UInt8] = []
        var others: [ISCSIPDU] = []
        for _ in 0..<limit {
            guard let pdu = try receive() else { throw Failure(description: "the target closed the connection before task \(tag) ended") }
            switch pdu {
            case .dataIn(let dataIn) where dataIn.initiatorTaskTag == tag:
                data += Array(dataIn.data.readableBytesView)
                if dataIn.statusPresent { return Completion(status: dataIn.status, data: data, sense: [], others: others) }
            case .scsiResponse(let response) where response.initiatorTaskTag == tag:
                var segment = response.data
                let length = Int(segment.readInteger(as: UInt16.self) ?? 0)
                let sense = segment.readBytes(length: min(length, segment.readableBytes)) ?? []
                return Completion(status: response.status, data: data, sense: sense, others: others)
            default:
                others.append(pdu)
            }
        }
        throw Failure(description: "task \(tag) did not end within \(limit) PDUs")
    }
}
