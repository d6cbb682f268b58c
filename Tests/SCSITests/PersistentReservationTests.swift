// Service action codes of PERSISTENT RESERVE OUT (SPC-5 table 211).

import SCSI
import Testing

@Suite struct PersistentReservationTests {
    @Test func serviceActions() {
        #expect(PersistentReserveOutRequest.register(existingKey: 0, newKey: 1).serviceAction == 0)
        #expect(PersistentReserveOutRequest.reserve(key: 1, type: .writeExclusive).serviceAction == 1)
        #expect(PersistentReserveOutRequest.release(key: 1, type: .writeExclusive).serviceAction == 2)
        #expect(PersistentReserveOutRequest.clear(key: 1).serviceAction == 3)
        #expect(PersistentReserveOutRequest.preempt(key: 1, victimKey: 2, type: .exclusiveAccess, abort: false).serviceAction == 4)
        #expect(PersistentReserveOutRequest.preempt(key: 1, victimKey: 2, type: .exclusiveAccess, abort: true).serviceAction == 5)
        #expect(PersistentReserveOutRequest.registerAndIgnoreExistingKey(newKey: 3).serviceAction == 6)
    }

    @Test func typeCodes() {
        #expect(PersistentReservationType.exclusiveAccessAllRegistrants.rawValue == 8)
        #expect(PersistentReservationType(rawValue: 2) == nil)
    }
}
