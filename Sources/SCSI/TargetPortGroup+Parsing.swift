// Decoding of REPORT TARGET PORT GROUPS parameter data (SPC-5 §6.36.2), in the length-only
// format (a 4-byte header) and the extended one (8 bytes: format type 1 and the implicit
// transition time).

extension TargetPortGroup {
    /// Every descriptor of the answer. Needs the whole list the RETURN DATA LENGTH announces.
    public static func parseList(_ bytes: [UInt8]) throws(SCSIParseError) -> [TargetPortGroup] {
        let header = ByteReader(bytes, structure: "REPORT TARGET PORT GROUPS data")
        try header.require(4)
        let length = Int(try header.uint32(at: 0))
        let reader = try header.subReader(at: 0, count: 4 + length, structure: "REPORT TARGET PORT GROUPS data")
        var offset = 4
        // The extended header's FORMAT TYPE (byte 4, bits 6-4) is 1; in the length-only format
        // byte 4 starts a descriptor, whose bits 6-4 are reserved (zero).
        if length >= 4, try reader.bits(at: 4, shift: 4, width: 3) == 1 {
            offset = 8
        }
        var groups: [TargetPortGroup] = []
        while offset < 4 + length {
            try reader.require(offset + 8)
            let portCount = Int(try reader.uint8(at: offset + 7))
            try reader.require(offset + 8 + 4 * portCount)
            var supported: Set<AsymmetricAccessState> = []
            for (bit, state) in supportBits where try reader.bit(bit, at: offset + 1) {
                supported.insert(state)
            }
            var ports: [UInt16] = []
            for index in 0..<portCount {
                ports.append(try reader.uint16(at: offset + 8 + 4 * index + 2))
            }
            groups.append(TargetPortGroup(
                id: try reader.uint16(at: offset + 2),
                state: AsymmetricAccessState(rawValue: try reader.uint8(at: offset)),
                preferred: try reader.bit(7, at: offset),
                supportedStates: supported,
                statusCode: try reader.uint8(at: offset + 5),
                relativeTargetPorts: ports
            ))
            offset += 8 + 4 * portCount
        }
        return groups
    }
}
