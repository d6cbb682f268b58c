// Decoding of PERSISTENT RESERVE IN / READ KEYS parameter data (SPC-5 §6.15.2).

extension PersistentReservationKeys {
    /// Needs the whole key list its ADDITIONAL LENGTH announces.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "READ KEYS data")
        try header.require(8)
        let generation = try header.uint32(at: 0)
        let length = Int(try header.uint32(at: 4))
        guard length % 8 == 0 else {
            throw header.invalid("ADDITIONAL LENGTH \(length) is not a multiple of 8")
        }
        let reader = try header.subReader(at: 0, count: 8 + length, structure: "READ KEYS data")
        var keys: [UInt64] = []
        for offset in stride(from: 8, to: 8 + length, by: 8) {
            keys.append(try reader.uint64(at: offset))
        }
        self.init(generation: generation, keys: keys)
    }
}
