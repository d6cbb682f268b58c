// How hosts serialize lock and heartbeat updates; recorded in the volume header.

/// How hosts serialize updates of lock and heartbeat sectors.
public enum LockMode: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// COMPARE AND WRITE (ATS) on the lock sector.
    case ats = 1
    /// A SCSI-3 persistent reservation held around the sector's read-modify-write.
    case reservations = 2

    public var description: String {
        switch self {
        case .ats: "ATS"
        case .reservations: "persistent reservations"
        }
    }
}
