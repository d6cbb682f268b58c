// Persistent reservation vocabulary shared by the CDB builders and the BlockDevice face (SPC-5 §6.15, §6.16).

/// The reservation TYPE field of PERSISTENT RESERVE OUT (SPC-5 table 212).
public enum PersistentReservationType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case writeExclusive = 0x1
    case exclusiveAccess = 0x3
    case writeExclusiveRegistrantsOnly = 0x5
    case exclusiveAccessRegistrantsOnly = 0x6
    case writeExclusiveAllRegistrants = 0x7
    case exclusiveAccessAllRegistrants = 0x8

    public var description: String {
        switch self {
        case .writeExclusive: "write exclusive"
        case .exclusiveAccess: "exclusive access"
        case .writeExclusiveRegistrantsOnly: "write exclusive, registrants only"
        case .exclusiveAccessRegistrantsOnly: "exclusive access, registrants only"
        case .writeExclusiveAllRegistrants: "write exclusive, all registrants"
        case .exclusiveAccessAllRegistrants: "exclusive access, all registrants"
        }
    }
}

/// One PERSISTENT RESERVE OUT request, with the parameters its service action needs.
public enum PersistentReserveOutRequest: Sendable, Hashable {
    /// REGISTER: replace `existingKey` (0 when not yet registered) with `newKey`; a `newKey` of 0 unregisters.
    case register(existingKey: UInt64, newKey: UInt64)
    /// REGISTER AND IGNORE EXISTING KEY.
    case registerAndIgnoreExistingKey(newKey: UInt64)
    case reserve(key: UInt64, type: PersistentReservationType)
    case release(key: UInt64, type: PersistentReservationType)
    case clear(key: UInt64)
    /// PREEMPT, or PREEMPT AND ABORT when `abort` is set.
    case preempt(key: UInt64, victimKey: UInt64, type: PersistentReservationType, abort: Bool)

    /// The SERVICE ACTION field (SPC-5 table 211).
    public var serviceAction: UInt8 {
        switch self {
        case .register: 0x00
        case .reserve: 0x01
        case .release: 0x02
        case .clear: 0x03
        case .preempt(_, _, _, let abort): abort ? 0x05 : 0x04
        case .registerAndIgnoreExistingKey: 0x06
        }
    }
}

/// What READ KEYS returns.
public struct PersistentReservationKeys: Sendable, Hashable {
    public var generation: UInt32
    public var keys: [UInt64]

    public init(generation: UInt32, keys: [UInt64]) {
        self.generation = generation
        self.keys = keys
    }
}

/// What READ RESERVATION returns; `holder` is nil when no reservation exists.
public struct PersistentReservationStatus: Sendable, Hashable {
    public struct Holder: Sendable, Hashable {
        public var key: UInt64
        public var type: PersistentReservationType

        public init(key: UInt64, type: PersistentReservationType) {
            self.key = key
            self.type = type
        }
    }

    public var generation: UInt32
    public var holder: Holder?

    public init(generation: UInt32, holder: Holder?) {
        self.generation = generation
        self.holder = holder
    }
}
