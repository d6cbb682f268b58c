// The SERVICE ACTION of PERSISTENT RESERVE IN (SPC-5 table 200).

public enum PersistentReserveInServiceAction: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case readKeys = 0x00
    case readReservation = 0x01
    case reportCapabilities = 0x02
    case readFullStatus = 0x03

    public var description: String {
        switch self {
        case .readKeys: "READ KEYS"
        case .readReservation: "READ RESERVATION"
        case .reportCapabilities: "REPORT CAPABILITIES"
        case .readFullStatus: "READ FULL STATUS"
        }
    }
}
