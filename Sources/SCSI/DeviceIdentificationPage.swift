// The Device Identification page (0x83, SPC-5 §7.7.6): the names by which a
// logical unit and its ports can be recognised across paths.

public struct DeviceIdentificationPage: Sendable, Hashable {
    public var designators: [Designator]

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .deviceIdentification)
        var designators: [Designator] = []
        var offset = 4
        while offset < reader.count {
            guard offset + 4 <= reader.count else {
                throw reader.invalid("designation descriptor at byte \(offset) is cut off inside its 4-byte header")
            }
            let length = Int(try reader.uint8(at: offset + 3))
            guard offset + 4 + length <= reader.count else {
                throw reader.invalid(
                    "designation descriptor at byte \(offset) claims \(length) bytes, past the page length"
                )
            }
            let descriptor = try reader.subReader(
                at: offset,
                count: 4 + length,
                structure: "designation descriptor at byte \(offset) of the Device Identification VPD page"
            )
            designators.append(try Designator(descriptor))
            offset += 4 + length
        }
        self.designators = designators
    }

    /// The logical unit's preferred worldwide name: an NAA designator, else EUI-64,
    /// else a SCSI name string, associated with the logical unit.
    public var logicalUnitName: Designator? {
        let forUnit = designators.filter { $0.association == .logicalUnit }
        for type in [Designator.DesignatorType.naa, .eui64, .scsiNameString] {
            if let match = forUnit.first(where: { $0.designatorType == type }) { return match }
        }
        return nil
    }

    /// The RELATIVE TARGET PORT IDENTIFIER of the port that answered.
    public var relativeTargetPort: UInt16? {
        designators.lazy.compactMap(\.relativeTargetPort).first
    }

    public var targetPortGroup: UInt16? {
        designators.lazy.compactMap(\.targetPortGroup).first
    }
}
