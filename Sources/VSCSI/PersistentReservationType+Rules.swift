// What each persistent reservation type lets registrants and others do (SPC-5 §5.14.3).

import SCSI

extension PersistentReservationType {
    /// Registrants Only: every registrant gets access; one of them holds the reservation.
    var isRegistrantsOnly: Bool {
        self == .writeExclusiveRegistrantsOnly || self == .exclusiveAccessRegistrantsOnly
    }

    /// All Registrants: every registrant is a reservation holder.
    var isAllRegistrants: Bool {
        self == .writeExclusiveAllRegistrants || self == .exclusiveAccessAllRegistrants
    }

    /// The Exclusive Access family: those without access may not even read.
    var excludesReads: Bool {
        self == .exclusiveAccess || self == .exclusiveAccessRegistrantsOnly || self == .exclusiveAccessAllRegistrants
    }
}
