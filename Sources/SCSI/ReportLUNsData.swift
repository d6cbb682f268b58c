// REPORT LUNS parameter data (SPC-5 §6.33.2): the logical units behind a target.

public struct ReportLUNsData: Sendable, Hashable {
    public var luns: [LUN]

    /// Needs the whole list its LUN LIST LENGTH announces; a response cut by a
    /// small allocation length throws `.truncated` with the length to ask for.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "REPORT LUNS data")
        try header.require(8)
        let listLength = Int(try header.uint32(at: 0))
        guard listLength % 8 == 0 else {
            throw header.invalid("LUN LIST LENGTH \(listLength) is not a multiple of 8")
        }
        let reader = try header.subReader(at: 0, count: 8 + listLength, structure: "REPORT LUNS data")
        var luns: [LUN] = []
        luns.reserveCapacity(listLength / 8)
        for offset in stride(from: 8, to: 8 + listLength, by: 8) {
            luns.append(LUN(rawValue: try reader.uint64(at: offset)))
        }
        self.luns = luns
    }
}
