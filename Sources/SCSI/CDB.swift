// Builders for the command descriptor blocks the initiator sends (SPC-5, SBC-4).
// Each returns the CDB bytes; commands with a parameter list build that too.

/// A namespace of CDB builders. Field widths are expressed by the argument
/// types, so every value a caller can pass fits its field; the control byte is
/// always zero (no NACA, no linked commands).
public enum CDB {
    /// TEST UNIT READY (SPC-5 §6.47): 6 bytes, all zero but the opcode.
    public static func testUnitReady() -> [UInt8] {
        [OperationCode.testUnitReady.rawValue, 0, 0, 0, 0, 0]
    }

    /// A zeroed CDB of `length` bytes with the opcode in place.
    static func blank(_ code: OperationCode, length: Int) -> [UInt8] {
        var cdb = [UInt8](repeating: 0, count: length)
        cdb[0] = code.rawValue
        return cdb
    }
}
