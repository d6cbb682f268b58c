// A WRITE driven by hand on a raw connection: the data goes out in Data-Out PDUs of a size
// the test picks, answering each R2T, so a test controls exactly how the target receives it.

import ISCSI
import NIOCore

extension RawISCSIClient {
    /// The keys of a login whose writes wait for R2Ts (no immediate or unsolicited data),
    /// each R2T asking for up to `burst` bytes, one at a time.
    static func solicitedWriteKeys(burst: Int = 1 << 20) -> [TextKeyValue] {
        [
            TextKeyValue("InitialR2T", "Yes"), TextKeyValue("ImmediateData", "No"),
            TextKeyValue("MaxBurstLength", "\(burst)"), TextKeyValue("MaxOutstandingR2T", "1"),
            TextKeyValue("MaxRecvDataSegmentLength", "262144"),
        ]
    }

    /// WRITE(16) of `data` at `lba` (512-byte blocks): answers every R2T with Data-Out PDUs
    /// of at most `pduSize` bytes, and returns how the command ended.
    func write(_ data: ByteBuffer, at lba: UInt64, pduSize: Int, tag: UInt32, cmdSN: UInt32, within limit: Duration? = nil) throws -> Completion {
        let blocks = UInt32(data.readableBytes / 512)
        var cdb: [UInt8] = [0x8A, 0]
        cdb += withUnsafeBytes(of: lba.bigEndian, Array.init)
        cdb += withUnsafeBytes(of: blocks.bigEndian, Array.init)
        cdb += [0, 0]
        return try run(cdb: cdb, sending: data, pduSize: pduSize, tag: tag, cmdSN: cmdSN, within: limit)
    }

    /// Any command with Data-Out: sends `data` as the R2Ts ask for it, in PDUs of at most
    /// `pduSize` bytes, and returns how the command ended. Bounded by the PDUs the data
    /// needs plus 64 others; each read and send by the socket's timeout, the whole by `limit`
    /// when given (checked as each R2T arrives).
    func run(
        lun: UInt64 = 0, cdb: [UInt8], sending data: ByteBuffer, pduSize: Int = 8192, tag: UInt32, cmdSN: UInt32, within limit: Duration? = nil
    ) throws -> Completion {
        let clock = ContinuousClock()
        let deadline = limit.map { clock.now + $0 }
        try send(.scsiCommand(SCSICommand(
            final: true, read: false, write: true, lun: lun, initiatorTaskTag: tag,
            expectedDataTransferLength: UInt32(data.readableBytes), cmdSN: cmdSN, expStatSN: 0, cdb: cdb
        )))
        let pduLimit = data.readableBytes / 512 + 64
        for _ in 0..<pduLimit {
            guard let pdu = try receive() else { throw Failure(description: "the target closed the connection during the command tagged \(tag)") }
            switch pdu {
            case .readyToTransfer(let r2t) where r2t.initiatorTaskTag == tag:
                if let deadline, clock.now > deadline {
                    throw Failure(description: "the command tagged \(tag) was still asking for data after \(limit!)")
                }
                try sendData(data, for: r2t, pduSize: pduSize)
            case .scsiResponse(let response) where response.initiatorTaskTag == tag:
                var segment = response.data
                let length = Int(segment.readInteger(as: UInt16.self) ?? 0)
                let sense = segment.readBytes(length: min(length, segment.readableBytes)) ?? []
                return Completion(status: response.status, data: [], sense: sense, others: [])
            default:
                continue
            }
        }
        throw Failure(description: "the command tagged \(tag) did not end within \(pduLimit) PDUs")
    }

    /// The Data-Out PDUs one R2T asks for, sent in one piece.
    func sendData(_ data: ByteBuffer, for r2t: ReadyToTransfer, pduSize: Int, omittingLast omitted: Int = 0) throws {
        let start = Int(r2t.bufferOffset)
        let end = start + Int(r2t.desiredDataTransferLength) - omitted
        var batch = ByteBuffer()
        var offset = start
        var dataSN: UInt32 = 0
        // Bounded: each turn moves `offset` forward by at least one byte.
        while offset < end {
            let length = min(pduSize, end - offset)
            let payload = data.getSlice(at: data.readerIndex + offset, length: length)!
            encoder.encode(.dataOut(DataOut(
                final: offset + length == start + Int(r2t.desiredDataTransferLength), lun: 0,
                initiatorTaskTag: r2t.initiatorTaskTag, targetTransferTag: r2t.targetTransferTag,
                expStatSN: 0, dataSN: dataSN, bufferOffset: UInt32(offset), data: payload
            )), into: &batch)
            dataSN &+= 1
            offset += length
        }
        try sendBytes(batch)
    }
}
