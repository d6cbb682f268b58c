// Unit attentions raised from outside the unit: a condition of the store below it that every
// initiator should hear about on its next command (a thin-provisioning soft threshold).

import SCSI

extension LogicalUnit {
    /// Queues `code` as a unit attention for every nexus seen so far.
    public func queueUnitAttentionForAll(_ code: AdditionalSenseCode) {
        state.withLockedValue { $0.queueUnitAttentionForAll(code) }
    }
}
