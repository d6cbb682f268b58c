// Hands the unit attentions of paths opened before their device existed to that device.

import SCSI
import Synchronization

/// Set once the multipath device exists; the paths opened while it was being made report
/// their unit attentions here.
final class UnitAttentionRelay: Sendable {
    private let target = Mutex<(@Sendable (SenseData) -> Void)?>(nil)

    func connect(_ handler: @escaping @Sendable (SenseData) -> Void) {
        target.withLock { $0 = handler }
    }

    func forward(_ sense: SenseData) {
        target.withLock { $0 }?(sense)
    }
}
