// Standard INQUIRY data (SPC-5 §6.7.2): who the logical unit is and what it can do.

/// The decoded standard INQUIRY data.
///
/// The first 36 bytes (through PRODUCT REVISION LEVEL) are required; anything
/// past them is optional and read only as far as it came, because targets cut
/// this response to the allocation length without complaint.
public struct StandardInquiryData: Sendable, Hashable {
    public var peripheralQualifier: PeripheralQualifier
    public var peripheralDeviceType: PeripheralDeviceType
    /// RMB: removable medium.
    public var removable: Bool
    /// VERSION: 0x05 SPC-3, 0x06 SPC-4, 0x07 SPC-5.
    public var version: UInt8
    public var normalACA: Bool
    /// HISUP: LUNs are reported in the hierarchical format.
    public var hierarchicalSupport: Bool
    public var responseDataFormat: UInt8
    /// SCCS: an embedded storage array controller is present.
    public var storageArrayController: Bool
    /// ACC: an access controls coordinator is present.
    public var accessControlsCoordinator: Bool
    /// TPGS: 0 no ALUA, 1 implicit, 2 explicit, 3 both.
    public var targetPortGroupSupport: UInt8
    /// 3PC: third-party copy (EXTENDED COPY) is supported.
    public var thirdPartyCopy: Bool
    /// PROTECT: protection information is supported.
    public var protect: Bool
    public var enclosureServices: Bool
    /// MULTIP: the device has more than one port.
    public var multiPort: Bool
    /// CMDQUE: the full task management model (queued commands) is supported.
    public var commandQueueing: Bool
    public var vendorIdentification: String
    public var productIdentification: String
    public var productRevisionLevel: String
    /// The non-zero VERSION DESCRIPTORs (bytes 58-73) that arrived.
    public var versionDescriptors: [UInt16]

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "standard INQUIRY data")
        try reader.require(36)
        peripheralQualifier = PeripheralQualifier(rawValue: try reader.bits(at: 0, shift: 5, width: 3))
        peripheralDeviceType = PeripheralDeviceType(rawValue: try reader.uint8(at: 0))
        removable = try reader.bit(7, at: 1)
        version = try reader.uint8(at: 2)
        normalACA = try reader.bit(5, at: 3)
        hierarchicalSupport = try reader.bit(4, at: 3)
        responseDataFormat = try reader.bits(at: 3, shift: 0, width: 4)
        storageArrayController = try reader.bit(7, at: 5)
        accessControlsCoordinator = try reader.bit(6, at: 5)
        targetPortGroupSupport = try reader.bits(at: 5, shift: 4, width: 2)
        thirdPartyCopy = try reader.bit(3, at: 5)
        protect = try reader.bit(0, at: 5)
        enclosureServices = try reader.bit(6, at: 6)
        multiPort = try reader.bit(4, at: 6)
        commandQueueing = try reader.bit(1, at: 7)
        vendorIdentification = try reader.text(at: 8, count: 8)
        productIdentification = try reader.text(at: 16, count: 16)
        productRevisionLevel = try reader.text(at: 32, count: 4)

        // Only what the device both announced and sent; a descriptor cut in half is dropped.
        let announced = 5 + Int(try reader.uint8(at: 4))
        let available = min(announced, bytes.count, 74)
        var descriptors: [UInt16] = []
        var offset = 58
        while offset + 2 <= available {
            let descriptor = try reader.uint16(at: offset)
            if descriptor != 0 { descriptors.append(descriptor) }
            offset += 2
        }
        versionDescriptors = descriptors
    }

    /// Whether a disk is really there: a direct-access device with qualifier 0.
    public var isConnectedDisk: Bool {
        peripheralQualifier == .connected && peripheralDeviceType == .directAccessBlock
    }
}
