// The Block Device Characteristics page (0xB1, SBC-4 §6.6.2): spinning or
// solid state, and the physical size of the device.

public struct BlockDeviceCharacteristicsPage: Sendable, Hashable {
    /// NOMINAL FORM FACTOR (SBC-4 table 236).
    public enum FormFactor: UInt8, Sendable, Hashable, CaseIterable {
        case notReported = 0
        case fiveAndAQuarterInch = 1
        case threeAndAHalfInch = 2
        case twoAndAHalfInch = 3
        case oneAndEightTenthsInch = 4
        case smallerThanOneAndEightTenthsInch = 5
    }

    /// MEDIUM ROTATION RATE: 0 not reported, 1 non-rotating (solid state),
    /// 0x0401-0xFFFE revolutions per minute.
    public var mediumRotationRate: UInt16
    public var productType: UInt8
    /// WABEREQ and WACEREQ: what reads of written-but-never-erased blocks return.
    public var writeAfterBlockEraseRequired: UInt8
    public var writeAfterCryptographicEraseRequired: UInt8
    /// NOMINAL FORM FACTOR; nil for a reserved value.
    public var nominalFormFactor: FormFactor?
    /// ZONED: 0 not reported, 1 host aware, 2 device managed.
    public var zoned: UInt8
    /// FUAB: SYNCHRONIZE CACHE is as good as FUA for the blocks it names.
    public var forceUnitAccessBehavior: Bool
    /// VBULS: VERIFY with BYTCHK 0 checks unmapped blocks too.
    public var verifyByteCheckUnmappedLBASupported: Bool

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = try ByteReader.vitalProductDataPage(bytes, .blockDeviceCharacteristics)
        mediumRotationRate = try reader.uint16IfPresent(at: 4)
        productType = try reader.uint8IfPresent(at: 6)
        let byte7 = try reader.uint8IfPresent(at: 7)
        writeAfterBlockEraseRequired = byte7 >> 6
        writeAfterCryptographicEraseRequired = (byte7 >> 4) & 0x03
        nominalFormFactor = FormFactor(rawValue: byte7 & 0x0F)
        let byte8 = try reader.uint8IfPresent(at: 8)
        zoned = (byte8 >> 4) & 0x03
        forceUnitAccessBehavior = byte8 & 0x02 != 0
        verifyByteCheckUnmappedLBASupported = byte8 & 0x01 != 0
    }

    public var isNonRotating: Bool { mediumRotationRate == 1 }

    /// Revolutions per minute, when the device reports a real rate.
    public var revolutionsPerMinute: Int? {
        (0x0401...0xFFFE).contains(mediumRotationRate) ? Int(mediumRotationRate) : nil
    }
}
