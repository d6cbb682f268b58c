// How a datastore disk is presented by an export: its UUID and name identify the logical unit,
// and a thin disk is a thin unit.

import Datastore
import Export
import VSCSI

extension VirtualDisk {
    /// This disk as an export presents it; a disk opened shared-read-only is write-protected.
    public var exportedDisk: ServedExport.Disk {
        ServedExport.Disk(
            device: self,
            descriptor: LogicalUnitDescriptor(uuid: info.uuid, name: name, isThin: info.kind == .thin),
            writeProtected: mode == .sharedReadOnly
        )
    }
}
