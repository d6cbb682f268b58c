// Building REPORT LUNS parameter data (SPC-5 §6.33.2), for the export's logical units.

extension ReportLUNsData {
    public init(luns: [LUN]) {
        self.luns = luns
    }

    /// The 8-byte header and one 8-byte entry per LUN, in the order given.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8 + 8 * luns.count)
        bytes.storeBigEndian(UInt32(truncatingIfNeeded: 8 * luns.count), at: 0)
        for (index, lun) in luns.enumerated() {
            bytes.storeBigEndian(lun.rawValue, at: 8 + 8 * index)
        }
        return bytes
    }
}
