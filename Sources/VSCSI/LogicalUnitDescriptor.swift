// What the layer below knows about the disk behind a logical unit (a datastore
// descriptor, or a description of a raw device): identity and provisioning.

import Foundation

/// The disk facts a logical unit learns from whoever opened the disk.
public struct LogicalUnitDescriptor: Sendable, Hashable {
    public var uuid: UUID
    public var name: String
    /// A thin disk allocates on write: the unit then reports LBPME and offers UNMAP.
    public var isThin: Bool

    public init(uuid: UUID, name: String, isThin: Bool) {
        self.uuid = uuid
        self.name = name
        self.isThin = isThin
    }
}
