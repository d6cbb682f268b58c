// PDUs against bytes laid out by hand from the RFC 7143 §11 diagrams: Login Request, SCSI Command with two AHSs, Data-In with status.

import ISCSI
import NIOCore
import Testing

@Suite struct ISCSIPDUKnownAnswerTests {
    /// §11.12: I bit always set, T=1 CSG=0 NSG=1, ISID and TSIH in bytes 8-15, CID in bytes 20-21.
    static let loginRequestBytes: [UInt8] =
        [
            0x43, 0x81, 0x00, 0x00,  // .|I|0x03, T|C|.|.|CSG|NSG, Version-max, Version-min
            0x00, 0x00, 0x00, 0x23,  // TotalAHSLength, DataSegmentLength = 35
            0x40, 0x00, 0x01, 0x37, 0x00, 0x00,  // ISID
            0x00, 0x00,  // TSIH
            0x00, 0x00, 0x00, 0x01,  // ITT
            0x00, 0x01, 0x00, 0x00,  // CID, reserved
            0x00, 0x00, 0x00, 0x01,  // CmdSN
            0x00, 0x00, 0x00, 0x00,  // ExpStatSN
        ] + [UInt8](repeating: 0, count: 16)  // reserved
        + Array("SessionType=Normal\u{0}AuthMethod=None\u{0}".utf8) + [0x00]  // 35 bytes + 1 padding

    static let loginRequest = ISCSIPDU.loginRequest(
        LoginRequest(
            transit: true, currentStage: .securityNegotiation, nextStage: .operationalNegotiation,
            isid: 0x4000_0137_0000, tsih: 0, initiatorTaskTag: 1, connectionID: 1, cmdSN: 1, expStatSN: 0,
            data: ByteBuffer(string: "SessionType=Normal\u{0}AuthMethod=None\u{0}")
        )
    )

    static let cdb32: [UInt8] = (0..<32).map { UInt8(0xA0 &+ $0) }

    /// §11.3 with an Extended CDB AHS (§11.2.2.3, AHSLength = 32 - 15) and a
    /// Bidirectional Read Expected Data Transfer Length AHS (§11.2.2.4).
    static let scsiCommandBytes: [UInt8] =
        [
            0x01, 0xE1, 0x00, 0x00,  // .|.|0x01, F|R|W|.|.|ATTR=1 (simple)
            0x07, 0x00, 0x00, 0x00,  // TotalAHSLength = 7 words, no data
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN 1 (SAM peripheral addressing)
            0x0A, 0x0B, 0x0C, 0x0D,  // ITT
            0x00, 0x00, 0x10, 0x00,  // Expected Data Transfer Length
            0x00, 0x00, 0x00, 0x11,  // CmdSN
            0x00, 0x00, 0x00, 0x22,  // ExpStatSN
        ] + Array(cdb32[0..<16])
        + [0x00, 0x11, 0x01, 0x00] + Array(cdb32[16..<32])  // AHSLength 17, type 1, reserved, CDB bytes 16-31
        + [0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x20, 0x00]  // AHSLength 5, type 2, reserved, read length 0x2000

    static let scsiCommand = ISCSIPDU.scsiCommand(
        SCSICommand(
            read: true, write: true, attribute: .simple, lun: 0x0001_0000_0000_0000, initiatorTaskTag: 0x0A0B_0C0D,
            expectedDataTransferLength: 0x1000, cmdSN: 0x11, expStatSN: 0x22, cdb: cdb32,
            bidirectionalReadDataLength: 0x2000
        )
    )

    /// §11.7: F and S (status collapsed into the last Data-In) with U, status in byte 3.
    static let dataInBytes: [UInt8] =
        [
            0x25, 0x83, 0x00, 0x00,  // .|.|0x25, F|A|.|.|.|O|U|S, reserved, Status GOOD
            0x00, 0x00, 0x00, 0x05,  // DataSegmentLength = 5
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
            0x00, 0x00, 0x00, 0x07,  // ITT
            0xFF, 0xFF, 0xFF, 0xFF,  // TTT
            0x00, 0x00, 0x01, 0x00,  // StatSN
            0x00, 0x00, 0x00, 0x20,  // ExpCmdSN
            0x00, 0x00, 0x00, 0x40,  // MaxCmdSN
            0x00, 0x00, 0x00, 0x00,  // DataSN
            0x00, 0x00, 0x00, 0x00,  // Buffer Offset
            0x00, 0x00, 0x01, 0xFB,  // Residual Count = 507
        ] + Array("hello".utf8) + [0, 0, 0]

    static let dataIn = ISCSIPDU.dataIn(
        DataIn(
            final: true, residualUnderflow: true, statusPresent: true, status: 0, initiatorTaskTag: 7,
            statSN: 0x100, expCmdSN: 0x20, maxCmdSN: 0x40, dataSN: 0, bufferOffset: 0, residualCount: 507,
            data: ByteBuffer(string: "hello")
        )
    )

    @Test func matchesHandBuiltBytes() throws {
        let cases: [(ISCSIPDU, [UInt8], ISCSIPDUDecoder.Direction)] = [
            (Self.loginRequest, Self.loginRequestBytes, .fromInitiator),
            (Self.scsiCommand, Self.scsiCommandBytes, .fromInitiator),
            (Self.dataIn, Self.dataInBytes, .fromTarget),
        ]
        for (pdu, bytes, direction) in cases {
            var encoded = ByteBuffer()
            ISCSIPDUEncoder().encode(pdu, into: &encoded)
            #expect(Array(encoded.readableBytesView) == bytes, "\(pdu.opcode) encodes to the RFC layout")

            var input = ByteBuffer(bytes: bytes)
            var decoder = ISCSIPDUDecoder(accepting: direction)
            #expect(try decoder.decode(buffer: &input) == pdu, "\(pdu.opcode) decodes from the RFC layout")
            #expect(input.readableBytes == 0)
        }
    }

    @Test func digestIsCRC32CSentLeastSignificantByteFirst() throws {
        // RFC 3720 B.4: 32 zero bytes → 0x8A9136AA, and the digest field carries it as aa 36 91 8a.
        let zeros = ByteBuffer(repeating: 0, count: 32)
        var digestOfZeros = ByteBuffer()
        let encoder = ISCSIPDUEncoder(dataDigest: true)
        encoder.encodeTrailer(forDataSegment: zeros, into: &digestOfZeros)
        #expect(Array(digestOfZeros.readableBytesView) == [0xAA, 0x36, 0x91, 0x8A])
    }
}
