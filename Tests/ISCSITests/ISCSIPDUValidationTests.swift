// Field checks RFC 7143 §11 makes mandatory are enforced; reserved bits are ignored.

import ISCSI
import NIOCore
import Testing

@Suite struct ISCSIPDUValidationTests {
    /// Encodes `pdu`, lets `patch` break it, and decodes the result.
    private func decodePatched(
        _ pdu: ISCSIPDU,
        _ direction: ISCSIPDUDecoder.Direction,
        _ patch: (inout ByteBuffer) -> Void
    ) -> Result<ISCSIPDU?, ISCSIError> {
        var bytes = ByteBuffer()
        ISCSIPDUEncoder().encode(pdu, into: &bytes)
        patch(&bytes)
        var decoder = ISCSIPDUDecoder(accepting: direction, maxDataSegmentLength: 65536)
        do {
            return .success(try decoder.decode(buffer: &bytes))
        } catch let error as ISCSIError {
            return .failure(error)
        } catch {
            Issue.record("unexpected error type \(error)")
            return .success(nil)
        }
    }

    private func expectMalformed(
        _ pdu: ISCSIPDU,
        _ direction: ISCSIPDUDecoder.Direction,
        mentioning text: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ patch: (inout ByteBuffer) -> Void
    ) {
        switch decodePatched(pdu, direction, patch) {
        case .success(let decoded):
            Issue.record("decoded \(String(describing: decoded)) instead of throwing", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error.code == .malformedPDU, sourceLocation: sourceLocation)
            #expect(error.scope == .connection, sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(pdu.opcode.description), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    private func sample(_ opcode: ISCSIOpcode) -> ISCSIPDU {
        (SamplePDUs.fromTarget + SamplePDUs.fromInitiator).first { $0.opcode == opcode }!
    }

    @Test func taskManagementFunctionMustBeDefined() {
        for code: UInt8 in [0, 9, 0x7F] {
            expectMalformed(sample(.taskManagementRequest), .fromInitiator, mentioning: "function code \(code)") {
                $0.setInteger(0x80 | code, at: 1)
            }
        }
    }

    @Test func logoutReasonMustBeDefined() {
        expectMalformed(sample(.logoutRequest), .fromInitiator, mentioning: "reason code 3") { $0.setInteger(UInt8(0x83), at: 1) }
    }

    @Test func taskAttributeMustBeDefined() {
        expectMalformed(sample(.scsiCommand), .fromInitiator, mentioning: "task attribute 5") { $0.setInteger(UInt8(0xC5), at: 1) }
    }

    @Test func loginStagesAndTransitFlags() {
        let response = sample(.loginResponse)
        expectMalformed(response, .fromTarget, mentioning: "CSG 2") { $0.setInteger(UInt8(0x80 | 2 << 2 | 3), at: 1) }
        expectMalformed(response, .fromTarget, mentioning: "NSG 2") { $0.setInteger(UInt8(0x80 | 1 << 2 | 2), at: 1) }
        expectMalformed(response, .fromTarget, mentioning: "T and C") { $0.setInteger(UInt8(0xC0 | 1 << 2 | 3), at: 1) }
        expectMalformed(sample(.loginRequest), .fromInitiator, mentioning: "CSG 2") { $0.setInteger(UInt8(2 << 2), at: 1) }

        // Without T, a reserved NSG is ignored and reads as the current stage.
        let lenient = decodePatched(response, .fromTarget) { $0.setInteger(UInt8(1 << 2 | 2), at: 1) }
        guard case .success(.loginResponse(let decoded)?) = lenient else {
            Issue.record("expected a Login Response, got \(lenient)")
            return
        }
        #expect(!decoded.transit)
        #expect(decoded.currentStage == .operationalNegotiation)
        #expect(decoded.nextStage == .operationalNegotiation)
    }

    @Test func textFinalAndContinueAreExclusive() {
        expectMalformed(sample(.textResponse), .fromTarget, mentioning: "F and C") { $0.setInteger(UInt8(0xC0), at: 1) }
        expectMalformed(sample(.textRequest), .fromInitiator, mentioning: "F and C") { $0.setInteger(UInt8(0xC0), at: 1) }
    }

    @Test func readyToTransferTagAndLength() {
        expectMalformed(sample(.readyToTransfer), .fromTarget, mentioning: "Target Transfer Tag") {
            $0.setInteger(reservedTag, at: 20)
        }
        expectMalformed(sample(.readyToTransfer), .fromTarget, mentioning: "Desired Data Transfer Length is 0") {
            $0.setInteger(UInt32(0), at: 44)
        }
    }

    @Test func dataInStatusNeedsFinalAndResidualBitsAreExclusive() {
        expectMalformed(sample(.dataIn), .fromTarget, mentioning: "S bit") { $0.setInteger(UInt8(0x01), at: 1) }
        expectMalformed(sample(.dataIn), .fromTarget, mentioning: "O and U") { $0.setInteger(UInt8(0x86), at: 1) }
        expectMalformed(sample(.scsiResponse), .fromTarget, mentioning: "o and u") { $0.setInteger(UInt8(0x98), at: 1) }
        expectMalformed(sample(.scsiResponse), .fromTarget, mentioning: "O and U") { $0.setInteger(UInt8(0x86), at: 1) }
    }

    @Test func nopOutWithoutTagMustBeImmediate() {
        let unanswered = SamplePDUs.fromInitiator[1]
        expectMalformed(unanswered, .fromInitiator, mentioning: "I bit") { $0.setInteger(UInt8(0x00), at: 0) }
    }

    @Test func opcodesWithoutDataSegmentRefuseOne() {
        for (opcode, direction) in [
            (ISCSIOpcode.taskManagementResponse, ISCSIPDUDecoder.Direction.fromTarget), (.logoutResponse, .fromTarget),
            (.readyToTransfer, .fromTarget), (.taskManagementRequest, .fromInitiator), (.logoutRequest, .fromInitiator),
            (.snackRequest, .fromInitiator),
        ] {
            expectMalformed(sample(opcode), direction, mentioning: "DataSegmentLength is 4") {
                $0.setInteger(UInt8(4), at: 7)
                $0.writeInteger(UInt32(0))
            }
        }
    }

    @Test func reservedBitsAndFieldsAreIgnored() {
        let nopIn = SamplePDUs.fromTarget[1]
        let decoded = decodePatched(nopIn, .fromTarget) {
            $0.setInteger(UInt8(0x80 | 0x20), at: 0)  // reserved top bit of byte 0
            $0.setInteger(UInt8(0xFF), at: 1)  // reserved bits next to the fixed 1
            $0.setInteger(UInt16(0xBEEF), at: 2)
            $0.setInteger(UInt64(0x0102_0304_0506_0708), at: 36)
            $0.setInteger(UInt32(0x0A0B_0C0D), at: 44)
        }
        guard case .success(let pdu) = decoded else {
            Issue.record("reserved bits made the decoder throw: \(decoded)")
            return
        }
        #expect(pdu == nopIn)
    }

    // MARK: Additional Header Segments

    /// A SCSI Command with a 16-byte CDB whose AHS area is `ahs` (a multiple of 4 bytes).
    private func commandBytes(withAHS ahs: [UInt8]) -> ByteBuffer {
        var bytes = ByteBuffer()
        ISCSIPDUEncoder().encode(SamplePDUs.fromInitiator[2], into: &bytes)
        bytes.setInteger(UInt8(ahs.count / 4), at: 4)
        bytes.writeBytes(ahs)
        return bytes
    }

    private func decodeCommand(withAHS ahs: [UInt8]) -> Result<ISCSIPDU?, ISCSIError> {
        var bytes = commandBytes(withAHS: ahs)
        var decoder = ISCSIPDUDecoder(accepting: .fromInitiator)
        do {
            return .success(try decoder.decode(buffer: &bytes))
        } catch let error as ISCSIError {
            return .failure(error)
        } catch {
            return .success(nil)
        }
    }

    @Test(arguments: [
        ([0x00, 0x04, 0x02, 0x00, 0, 0, 0, 0], "AHSLength 4"),  // bidirectional AHS must say 5
        ([0x00, 0x01, 0x01, 0x00], "AHSLength 1"),  // Extended CDB with no CDB bytes
        ([0x00, 0x09, 0x02, 0x00, 0, 0, 0, 0], "runs past"),  // longer than the area
        ([0x00, 0x05, 0x02, 0x00, 0, 0, 0, 1, 0x00, 0x05, 0x02, 0x00, 0, 0, 0, 2], "two Bidirectional"),
        ([0x00, 0x02, 0x01, 0x00, 0xAA, 0, 0, 0, 0x00, 0x02, 0x01, 0x00, 0xBB, 0, 0, 0], "two Extended CDB"),
    ] as [([UInt8], String)])
    func inconsistentAHSIsMalformed(ahs: [UInt8], mention: String) {
        switch decodeCommand(withAHS: ahs) {
        case .success(let pdu):
            Issue.record("decoded \(String(describing: pdu))")
        case .failure(let error):
            #expect(error.code == .malformedPDU)
            #expect(error.message.contains(mention), "\(error.message)")
        }
    }

    @Test func unknownAHSTypeIsSkipped() throws {
        // Type 60 (non-iSCSI extension) with 3 bytes + padding, then a bidirectional AHS.
        let result = decodeCommand(withAHS: [0x00, 0x03, 60, 0x00, 0xEE, 0xEE, 0, 0] + [0x00, 0x05, 0x02, 0x00, 0, 0, 0x01, 0x00])
        guard case .success(.scsiCommand(let command)?) = result else {
            Issue.record("expected a SCSI Command, got \(result)")
            return
        }
        #expect(command.bidirectionalReadDataLength == 256)
        #expect(command.cdb == SamplePDUs.cdb16)
    }
}
