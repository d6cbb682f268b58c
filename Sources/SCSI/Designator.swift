// One designation descriptor of the Device Identification VPD page
// (SPC-5 §7.7.6): a name for the logical unit, a target port or the target.

/// A designator: how it is coded, what it names, and its identifier bytes.
public struct Designator: Sendable, Hashable, CustomStringConvertible {
    /// CODE SET (SPC-5 table 582).
    public struct CodeSet: RawRepresentable, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

        public static let binary = CodeSet(rawValue: 1)
        public static let ascii = CodeSet(rawValue: 2)
        public static let utf8 = CodeSet(rawValue: 3)
    }

    /// ASSOCIATION: what the designator names (SPC-5 table 583).
    public struct Association: RawRepresentable, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x03 }

        public static let logicalUnit = Association(rawValue: 0)
        public static let targetPort = Association(rawValue: 1)
        public static let targetDevice = Association(rawValue: 2)
    }

    /// DESIGNATOR TYPE (SPC-5 table 584).
    public struct DesignatorType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

        public static let vendorSpecific = DesignatorType(rawValue: 0x0)
        public static let t10VendorID = DesignatorType(rawValue: 0x1)
        public static let eui64 = DesignatorType(rawValue: 0x2)
        public static let naa = DesignatorType(rawValue: 0x3)
        public static let relativeTargetPort = DesignatorType(rawValue: 0x4)
        public static let targetPortGroup = DesignatorType(rawValue: 0x5)
        public static let logicalUnitGroup = DesignatorType(rawValue: 0x6)
        public static let md5LogicalUnitIdentifier = DesignatorType(rawValue: 0x7)
        public static let scsiNameString = DesignatorType(rawValue: 0x8)
        public static let protocolSpecificPortIdentifier = DesignatorType(rawValue: 0x9)
        public static let uuid = DesignatorType(rawValue: 0xA)

        public var description: String {
            switch rawValue {
            case 0x0: "vendor specific"
            case 0x1: "T10 vendor ID"
            case 0x2: "EUI-64"
            case 0x3: "NAA"
            case 0x4: "relative target port"
            case 0x5: "target port group"
            case 0x6: "logical unit group"
            case 0x7: "MD5 logical unit identifier"
            case 0x8: "SCSI name string"
            case 0x9: "protocol specific port identifier"
            case 0xA: "UUID"
            default: "designator type 0x\(rawValue.hexDigits)"
            }
        }
    }

    /// PROTOCOL IDENTIFIER, meaningful only when PIV is set (0x5 is iSCSI).
    public var protocolIdentifier: UInt8?
    public var codeSet: CodeSet
    public var association: Association
    public var designatorType: DesignatorType
    /// The DESIGNATOR field as it came.
    public var identifier: [UInt8]

    /// Decodes a whole descriptor (4-byte header plus designator) and checks the
    /// designator's length against what its type requires.
    init(_ reader: ByteReader) throws(SCSIParseError) {
        let piv = try reader.bit(7, at: 1)
        protocolIdentifier = piv ? try reader.bits(at: 0, shift: 4, width: 4) : nil
        codeSet = CodeSet(rawValue: try reader.uint8(at: 0))
        association = Association(rawValue: try reader.bits(at: 1, shift: 4, width: 2))
        designatorType = DesignatorType(rawValue: try reader.uint8(at: 1))
        identifier = try reader.bytes(at: 4, count: reader.count - 4)
        try checkLength(reader)
    }

    public init(
        protocolIdentifier: UInt8? = nil,
        codeSet: CodeSet,
        association: Association,
        designatorType: DesignatorType,
        identifier: [UInt8]
    ) {
        self.protocolIdentifier = protocolIdentifier
        self.codeSet = codeSet
        self.association = association
        self.designatorType = designatorType
        self.identifier = identifier
    }

    private func checkLength(_ reader: ByteReader) throws(SCSIParseError) {
        let length = identifier.count
        let fits: Bool
        switch designatorType {
        case .eui64: fits = [8, 12, 16].contains(length)
        case .relativeTargetPort, .targetPortGroup, .logicalUnitGroup: fits = length == 4
        case .md5LogicalUnitIdentifier: fits = length == 16
        // UUID: a byte of flags, a reserved byte, then the 16-byte UUID.
        case .uuid: fits = length == 18
        // Eight bytes of T10 VENDOR IDENTIFICATION, then anything.
        case .t10VendorID: fits = length >= 8
        case .naa:
            guard let first = identifier.first else {
                throw reader.invalid("NAA designator is empty")
            }
            // NAA 6 (IEEE Registered Extended) is 16 bytes; the other formats 8.
            fits = length == (first >> 4 == 6 ? 16 : 8)
        default:
            fits = true
        }
        guard fits else {
            throw reader.invalid("\(designatorType) designator is \(length) bytes long, which its type does not allow")
        }
    }

    /// The NAA field (the identifier's top four bits) of an NAA designator.
    public var naaFormat: UInt8? {
        designatorType == .naa ? identifier.first.map { $0 >> 4 } : nil
    }

    /// RELATIVE TARGET PORT IDENTIFIER, for a relative target port designator.
    public var relativeTargetPort: UInt16? {
        designatorType == .relativeTargetPort ? trailingUInt16 : nil
    }

    /// TARGET PORT GROUP, for a target port group designator (used with ALUA).
    public var targetPortGroup: UInt16? {
        designatorType == .targetPortGroup ? trailingUInt16 : nil
    }

    /// The T10 VENDOR IDENTIFICATION of a T10 vendor ID designator.
    public var t10VendorIdentification: String? {
        guard designatorType == .t10VendorID, identifier.count >= 8 else { return nil }
        return ByteReader.trimmedText(Array(identifier[0..<8]))
    }

    /// The identifier as text when its code set says it is ASCII or UTF-8
    /// (SCSI name strings are NUL-padded, so padding is removed).
    public var text: String? {
        switch codeSet {
        case .ascii, .utf8:
            let end = identifier.firstIndex(of: 0) ?? identifier.endIndex
            return String(decoding: identifier[..<end], as: UTF8.self)
        default:
            return nil
        }
    }

    /// The identifier in lower-case hex, as `naa.` and `eui.` names print it.
    public var hexString: String {
        identifier.map { $0.hexDigits.lowercased() }.joined()
    }

    /// e.g. "NAA 6001405f…" or "SCSI name string iqn.2003-01.org.example:disk1,t,0x1".
    public var description: String {
        "\(designatorType) \(text ?? hexString)"
    }

    /// Bytes 2-3 of a four-byte designator; `checkLength` guaranteed the size.
    private var trailingUInt16: UInt16? {
        guard identifier.count == 4 else { return nil }
        return UInt16(identifier[2]) << 8 | UInt16(identifier[3])
    }
}
