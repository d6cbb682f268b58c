// PERSISTENT RESERVE IN (SPC-5 §6.15) and OUT (SPC-5 §6.16).

extension CDB {
    /// PERSISTENT RESERVE IN for one service action.
    public static func persistentReserveIn(
        _ action: PersistentReserveInServiceAction,
        allocationLength: UInt16 = 8192
    ) -> [UInt8] {
        var cdb = blank(.persistentReserveIn, length: 10)
        cdb[1] = action.rawValue
        cdb.storeBigEndian(allocationLength, at: 7)
        return cdb
    }

    /// PERSISTENT RESERVE OUT for `request`, with the 24-byte parameter list to send
    /// as Data-Out. SCOPE is always LU_SCOPE (0).
    public static func persistentReserveOut(_ request: PersistentReserveOutRequest) -> (cdb: [UInt8], parameterList: [UInt8]) {
        var cdb = blank(.persistentReserveOut, length: 10)
        cdb[1] = request.serviceAction
        cdb[2] = request.reservationType
        cdb.storeBigEndian(UInt32(PersistentReserveOutRequest.parameterListLength), at: 5)
        return (cdb, request.parameterList)
    }
}
