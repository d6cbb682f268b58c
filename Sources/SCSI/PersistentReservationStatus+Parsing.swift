// Decoding of PERSISTENT RESERVE IN / READ RESERVATION parameter data (SPC-5 §6.15.3).

extension PersistentReservationStatus {
    /// ADDITIONAL LENGTH is 0 (no reservation) or 16 (one reservation descriptor).
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "READ RESERVATION data")
        try reader.require(8)
        let generation = try reader.uint32(at: 0)
        let length = try reader.uint32(at: 4)
        switch length {
        case 0:
            self.init(generation: generation, holder: nil)
        case 16:
            try reader.require(24)
            let key = try reader.uint64(at: 8)
            let scope = try reader.bits(at: 21, shift: 4, width: 4)
            let typeCode = try reader.bits(at: 21, shift: 0, width: 4)
            guard scope == 0 else {
                throw reader.invalid("SCOPE is 0x\(scope.hexDigits); only LU_SCOPE (0) is defined")
            }
            guard let type = PersistentReservationType(rawValue: typeCode) else {
                throw reader.invalid("reservation TYPE 0x\(typeCode.hexDigits) is not one SPC-5 defines")
            }
            self.init(generation: generation, holder: Holder(key: key, type: type))
        default:
            throw reader.invalid("ADDITIONAL LENGTH is \(length); it must be 0 or 16")
        }
    }
}
