// Big-endian field reads from a CDB whose length the command table already checked.

/// A CDB with accessors for its fields; indices are within the command's length.
struct CDBFields: Sendable {
    let bytes: [UInt8]

    subscript(_ index: Int) -> UInt8 { bytes[index] }

    func bit(_ bit: Int, of index: Int) -> Bool { bytes[index] & (1 << bit) != 0 }

    func uint16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: value(offset, width: 2)) }
    func uint24(_ offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: value(offset, width: 3)) }
    func uint32(_ offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: value(offset, width: 4)) }
    func uint64(_ offset: Int) -> UInt64 { value(offset, width: 8) }

    private func value(_ offset: Int, width: Int) -> UInt64 {
        var result: UInt64 = 0
        for index in offset..<(offset + width) {
            result = result << 8 | UInt64(bytes[index])
        }
        return result
    }
}
