// Who a logical unit says it is: the UUID behind its serial number and designators,
// and the vendor, product and revision INQUIRY reports.

import Foundation

/// The names a logical unit answers INQUIRY with.
public struct LogicalUnitIdentity: Sendable, Hashable {
    /// The disk's UUID: VPD 0x80 carries it as 32 hex digits, and the NAA and T10
    /// designators of VPD 0x83 are derived from it, so they stay stable across restarts.
    public var uuid: UUID
    /// The disk's name, for messages only.
    public var name: String
    /// T10 VENDOR IDENTIFICATION, at most 8 ASCII characters.
    public var vendor: String
    /// PRODUCT IDENTIFICATION, at most 16 ASCII characters.
    public var product: String
    /// PRODUCT REVISION LEVEL, at most 4 ASCII characters.
    public var revision: String

    public init(uuid: UUID, name: String, vendor: String = "VDISKD", product: String = "VIRTUAL DISK", revision: String = "0001") {
        self.uuid = uuid
        self.name = name
        self.vendor = vendor
        self.product = product
        self.revision = revision
    }

    /// The identity a datastore disk descriptor implies.
    public init(_ descriptor: LogicalUnitDescriptor) {
        self.init(uuid: descriptor.uuid, name: descriptor.name)
    }

    /// The unit serial number: the UUID as 32 lowercase hex digits (no dashes, so
    /// every initiator's idea of a serial number accepts it).
    public var serialNumber: String {
        uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The 8-byte NAA designator. NAA 3 (locally assigned) needs no IEEE company ID;
    /// the 60 bits after the NAA nibble fold the UUID's two halves together.
    public var naaIdentifier: [UInt8] {
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        var folded = (0..<8).map { bytes[$0] ^ bytes[$0 + 8] }
        folded[0] = 0x30 | (folded[0] & 0x0F)
        return folded
    }
}
