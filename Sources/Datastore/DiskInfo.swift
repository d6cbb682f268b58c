// What `disk list` and `disk info` show about a virtual disk.

import Foundation

/// A disk's descriptor, in terms people read.
public struct DiskInfo: Sendable, Hashable, Codable {
    public var name: String
    public var uuid: UUID
    public var kind: DiskKind
    public var size: UInt64
    /// File blocks the disk holds, data and pointer blocks together.
    public var allocatedBlocks: UInt64
    public var allocatedBytes: UInt64
    public var created: Date
    public var modified: Date
    /// The descriptor slot (for `check` reports and `locks`).
    public var descriptorIndex: Int
    /// The file block holding the disk's sidecars; 0 when it has none.
    public var sidecarBlock: UInt64

    init(_ descriptor: DiskDescriptor, index: Int, fileBlockSize: Int) {
        name = descriptor.name
        uuid = descriptor.uuid
        kind = descriptor.kind
        size = descriptor.size
        allocatedBlocks = descriptor.allocatedBlocks
        // A damaged count (which `check` reports) must not trap here.
        let (bytes, overflow) = descriptor.allocatedBlocks.multipliedReportingOverflow(by: UInt64(fileBlockSize))
        allocatedBytes = overflow ? UInt64.max : bytes
        created = Date(timeIntervalSince1970: Double(descriptor.createdMillis) / 1000)
        modified = Date(timeIntervalSince1970: Double(descriptor.modifiedMillis) / 1000)
        descriptorIndex = index
        sidecarBlock = descriptor.sidecarBlock
    }
}
