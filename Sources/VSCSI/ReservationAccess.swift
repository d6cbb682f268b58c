// How a command touches the medium, as far as reservations care (SPC-5 §5.14,
// SBC-4 §4.18): it decides which holders and registrants may run it.

/// The reservation class of a command.
enum ReservationAccess: Sendable, Hashable, CustomStringConvertible {
    /// Allowed whatever is reserved (INQUIRY, REPORT LUNS, READ CAPACITY, ...).
    case unrestricted
    /// Reads the medium: allowed under Write Exclusive, conflicts under Exclusive Access.
    case read
    /// Changes the medium or its settings: conflicts under both for non-holders.
    case write
    /// START STOP UNIT: a plain start (START 1, POWER CONDITION 0) is allowed, a stop conflicts.
    case startStop
    /// PERSISTENT RESERVE IN/OUT: sorted out by their own rules; conflict only with an SPC-2 reservation.
    case persistentReservation
    /// RESERVE/RELEASE: conflict while a persistent reservation exists.
    case legacyReservation

    var description: String {
        switch self {
        case .unrestricted: "allowed"
        case .read: "read"
        case .write: "write"
        case .startStop: "start allowed, stop write"
        case .persistentReservation: "PR rules"
        case .legacyReservation: "SPC-2 rules"
        }
    }
}
