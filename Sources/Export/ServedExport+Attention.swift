// Unit attentions for the units over one device, from whoever watches that device's store.

import BlockDevice
import SCSI

extension ServedExport {
    /// Queues `code` for every initiator of the units over `device`; returns how many units.
    @discardableResult
    public func queueUnitAttention(_ code: AdditionalSenseCode, of device: any BlockDevice & AnyObject) -> Int {
        var count = 0
        for unit in target.units.values where (unit.device as AnyObject) === device {
            unit.queueUnitAttentionForAll(code)
            count += 1
        }
        return count
    }
}
