// Helpers shared by the PDU codec tests: encode a list, decode everything a buffer holds, the four digest settings.

import ISCSI
import NIOCore

enum CodecTestSupport {
    struct Digests: Sendable, CustomStringConvertible {
        var header: Bool
        var data: Bool
        var description: String { "header digest \(header ? "on" : "off"), data digest \(data ? "on" : "off")" }
    }

    static let allDigests: [Digests] = [
        Digests(header: false, data: false), Digests(header: true, data: false),
        Digests(header: false, data: true), Digests(header: true, data: true),
    ]

    static func encoder(_ digests: Digests) -> ISCSIPDUEncoder {
        ISCSIPDUEncoder(headerDigest: digests.header, dataDigest: digests.data)
    }

    static func decoder(
        _ direction: ISCSIPDUDecoder.Direction,
        _ digests: Digests,
        maxDataSegmentLength: Int = 65536
    ) -> ISCSIPDUDecoder {
        ISCSIPDUDecoder(
            accepting: direction,
            maxDataSegmentLength: maxDataSegmentLength,
            headerDigest: digests.header,
            dataDigest: digests.data
        )
    }

    static func encode(_ pdus: [ISCSIPDU], with encoder: ISCSIPDUEncoder) -> ByteBuffer {
        var buffer = ByteBuffer()
        for pdu in pdus { encoder.encode(pdu, into: &buffer) }
        return buffer
    }

    /// Decodes until the decoder wants more bytes.
    static func decodeAll(_ buffer: inout ByteBuffer, with decoder: inout ISCSIPDUDecoder) throws -> [ISCSIPDU] {
        var result: [ISCSIPDU] = []
        while let pdu = try decoder.decode(buffer: &buffer) { result.append(pdu) }
        return result
    }

    /// A short CDB comes back zero-padded to the 16 bytes the BHS holds.
    static func normalised(_ pdu: ISCSIPDU) -> ISCSIPDU {
        guard case .scsiCommand(var command) = pdu, command.cdb.count < 16 else { return pdu }
        command.cdb += [UInt8](repeating: 0, count: 16 - command.cdb.count)
        return .scsiCommand(command)
    }

    /// The error `body` throws, as an `ISCSIError` (nil if it threw nothing or something else).
    static func iscsiError(_ body: () throws -> Void) -> ISCSIError? {
        do {
            try body()
            return nil
        } catch let error as ISCSIError {
            return error
        } catch {
            return nil
        }
    }
}
