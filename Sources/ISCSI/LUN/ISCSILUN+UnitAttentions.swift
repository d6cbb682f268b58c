// Handing a LUN's unit attentions to an owner that wants only those (the Paths layer reads
// ALUA state changes from them).

import SCSI

extension ISCSILUN {
    /// Calls `handler` with the sense of every unit attention this LUN meets, its commands'
    /// and the ones its session reports, until the LUN is closed. Reads `events`, so it is for
    /// an owner that reads nothing else of them.
    public func forwardUnitAttentions(to handler: @escaping @Sendable (SenseData) -> Void) {
        let events = self.events
        Task {
            for await event in events {
                switch event {
                case .unitAttention(let sense):
                    handler(sense)
                case .session(.unitAttention(_, let bytes)):
                    if let sense = try? SenseData(parsing: bytes) { handler(sense) }
                default:
                    break
                }
            }
        }
    }
}
