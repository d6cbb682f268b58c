// libFuzzer entry point for the iSCSI PDU decoder (RFC 7143 §11 framing, §13.1 digests).
// Input byte 0 picks direction, digests, limit and how the rest is cut into reads.

import FuzzDriver
import ISCSI
import NIOCore

/// What one input byte selects, so the fuzzer explores every decoder configuration.
private struct Configuration {
    var direction: ISCSIPDUDecoder.Direction
    var headerDigest: Bool
    var dataDigest: Bool
    var maxDataSegmentLength: Int
    /// 0 = the whole stream in one read; otherwise reads of this many bytes.
    var chunkSize: Int

    init(_ byte: UInt8) {
        direction = byte & 0x01 == 0 ? .fromTarget : .fromInitiator
        headerDigest = byte & 0x02 != 0
        dataDigest = byte & 0x04 != 0
        maxDataSegmentLength = [512, 8192, 65536, 0xFF_FFFF][Int(byte >> 3) & 0x03]
        chunkSize = [0, 1, 7, 48][Int(byte >> 5) & 0x03]
    }
}

/// Decodes `stream` through the same processor a channel handler would use,
/// then checks that every PDU it produced re-encodes into bytes that decode to
/// the same PDU. Only an `ISCSIError` is an acceptable way for input to fail.
private func run(_ configuration: Configuration, _ stream: ByteBuffer) {
    let settings = ISCSIPDUDecoder.Settings(
        maxDataSegmentLength: configuration.maxDataSegmentLength,
        headerDigest: configuration.headerDigest,
        dataDigest: configuration.dataDigest
    )
    let processor = NIOSingleStepByteToMessageProcessor(
        ISCSIPDUDecoder(accepting: configuration.direction, settings: settings)
    )
    var decoded: [ISCSIPDU] = []
    do {
        var rest = stream
        if configuration.chunkSize == 0 {
            try processor.process(buffer: rest) { decoded.append($0) }
        } else {
            while rest.readableBytes > 0 {
                let chunk = rest.readSlice(length: min(configuration.chunkSize, rest.readableBytes))!
                try processor.process(buffer: chunk) { decoded.append($0) }
            }
        }
        try processor.finishProcessing(seenEOF: true) { decoded.append($0) }
    } catch is ISCSIError {
        // Malformed input rejected: the expected outcome for most inputs.
    } catch {
        fatalError("decoder threw something other than ISCSIError: \(error)")
    }

    let encoder = ISCSIPDUEncoder(headerDigest: configuration.headerDigest, dataDigest: configuration.dataDigest)
    for pdu in decoded {
        var bytes = ByteBuffer()
        encoder.encode(pdu, into: &bytes)
        var decoder = ISCSIPDUDecoder(
            accepting: configuration.direction,
            maxDataSegmentLength: configuration.maxDataSegmentLength,
            headerDigest: configuration.headerDigest,
            dataDigest: configuration.dataDigest
        )
        do {
            guard let again = try decoder.decode(buffer: &bytes), again == pdu, bytes.readableBytes == 0 else {
                fatalError("\(pdu.opcode) does not survive re-encoding: \(pdu)")
            }
        } catch {
            fatalError("\(pdu.opcode) re-encoded by us is refused by our decoder: \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPDUDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    run(Configuration(input[0]), ByteBuffer(bytes: input.dropFirst()))
    return 0
}

/// The entry point SwiftPM links as main(); see FuzzDriver.c.
@_cdecl("FuzzPDUDecoder_main")
public func fuzzPDUDecoderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    vdisk_fuzz_main(argc, argv, fuzzPDUDecoder)
}
