// Building PERSISTENT RESERVE IN / READ RESERVATION parameter data (SPC-5 §6.15.3).

extension PersistentReservationStatus {
    /// 8 bytes without a reservation, 24 with one (LU_SCOPE, the holder's key and type).
    public func encoded() -> [UInt8] {
        guard let holder else {
            var bytes = [UInt8](repeating: 0, count: 8)
            bytes.storeBigEndian(generation, at: 0)
            return bytes
        }
        var bytes = [UInt8](repeating: 0, count: 24)
        bytes.storeBigEndian(generation, at: 0)
        bytes.storeBigEndian(UInt32(16), at: 4)
        bytes.storeBigEndian(holder.key, at: 8)
        bytes[21] = holder.type.rawValue & 0x0F
        return bytes
    }
}
