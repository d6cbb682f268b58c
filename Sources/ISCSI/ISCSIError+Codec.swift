// Constructors for the framing errors the PDU codec throws (RFC 7143 §11, §13.1): all end the connection.

extension ISCSIError {
    /// A field holds a value RFC 7143 does not allow.
    static func malformed(_ opcode: ISCSIOpcode, _ detail: String) -> ISCSIError {
        ISCSIError(.malformedPDU, scope: .connection, "\(opcode) PDU (opcode 0x\(hex(opcode.rawValue))): \(detail)")
    }

    /// A byte stream that cannot be an iSCSI PDU at all (no known opcode).
    static func malformed(_ detail: String) -> ISCSIError {
        ISCSIError(.malformedPDU, scope: .connection, detail)
    }

    static func hex<T: FixedWidthInteger>(_ value: T) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        let width = T.bitWidth / 4
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
