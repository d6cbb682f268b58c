// The CDB fields and the 24-byte basic parameter list of PERSISTENT RESERVE OUT
// (SPC-5 §6.16.3) for each request.

extension PersistentReserveOutRequest {
    /// Length of the basic parameter list every service action but REGISTER AND MOVE uses.
    public static let parameterListLength = 24

    /// The TYPE field; zero for the actions that ignore it.
    public var reservationType: UInt8 {
        switch self {
        case .register, .registerAndIgnoreExistingKey, .clear: 0
        case .reserve(_, let type), .release(_, let type), .preempt(_, _, let type, _): type.rawValue
        }
    }

    /// RESERVATION KEY: the key this I_T nexus is registered with.
    public var reservationKey: UInt64 {
        switch self {
        case .register(let existingKey, _): existingKey
        // The device server ignores it; zero is what SPC-5 suggests sending.
        case .registerAndIgnoreExistingKey: 0
        case .reserve(let key, _), .release(let key, _), .clear(let key), .preempt(let key, _, _, _): key
        }
    }

    /// SERVICE ACTION RESERVATION KEY: the new key, or the key to preempt.
    public var serviceActionReservationKey: UInt64 {
        switch self {
        case .register(_, let newKey), .registerAndIgnoreExistingKey(let newKey): newKey
        case .preempt(_, let victimKey, _, _): victimKey
        case .reserve, .release, .clear: 0
        }
    }

    /// The 24-byte parameter list. SPEC_I_PT, ALL_TG_PT and APTPL are clear:
    /// registrations apply to this I_T nexus only and do not survive power loss.
    public var parameterList: [UInt8] {
        var list = [UInt8](repeating: 0, count: Self.parameterListLength)
        list.storeBigEndian(reservationKey, at: 0)
        list.storeBigEndian(serviceActionReservationKey, at: 8)
        return list
    }
}
