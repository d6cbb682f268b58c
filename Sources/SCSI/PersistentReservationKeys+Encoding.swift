// Building PERSISTENT RESERVE IN / READ KEYS parameter data (SPC-5 §6.15.2).

extension PersistentReservationKeys {
    /// PRGENERATION, ADDITIONAL LENGTH and one 8-byte key per registration.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8 + 8 * keys.count)
        bytes.storeBigEndian(generation, at: 0)
        bytes.storeBigEndian(UInt32(truncatingIfNeeded: 8 * keys.count), at: 4)
        for (index, key) in keys.enumerated() {
            bytes.storeBigEndian(key, at: 8 + 8 * index)
        }
        return bytes
    }
}
