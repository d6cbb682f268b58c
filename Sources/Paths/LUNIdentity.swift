// The names by which one logical unit is recognised on every path: its VPD 0x83 designators.

import SCSI

/// A logical unit's identity: the designators of its Device Identification page that name
/// the unit itself (NAA, EUI-64, T10 vendor ID, SCSI name string). Two paths reach the same
/// unit when they share one of them.
public struct LUNIdentity: Sendable, Hashable, CustomStringConvertible {
    public var designators: [Designator]

    static let identifyingTypes: Set<Designator.DesignatorType> = [.naa, .eui64, .t10VendorID, .scsiNameString]

    public init(designators: [Designator]) {
        self.designators = designators.filter { $0.association == .logicalUnit && Self.identifyingTypes.contains($0.designatorType) }
    }

    public init(page: DeviceIdentificationPage) {
        self.init(designators: page.designators)
    }

    /// Whether the unit names nothing it could be recognised by.
    public var isEmpty: Bool { designators.isEmpty }

    /// Whether both name the same unit: they share a designator of the same type and value.
    public func matches(_ other: LUNIdentity) -> Bool {
        designators.contains { mine in
            other.designators.contains { $0.designatorType == mine.designatorType && $0.identifier == mine.identifier }
        }
    }

    public var description: String {
        isEmpty ? "no identity" : designators.map(\.description).joined(separator: ", ")
    }
}
