// Decoding of fixed-format (0x70/0x71) and descriptor-format (0x72/0x73) sense data.

extension SenseData {
    /// Decodes sense data as it follows a CHECK CONDITION (without iSCSI's
    /// two-byte SenseLength prefix). Bytes past the ADDITIONAL SENSE LENGTH are
    /// ignored, since transports pad; fewer bytes than it announces throw.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "sense data")
        let responseCode = try header.uint8(at: 0) & 0x7F
        switch responseCode {
        case 0x70, 0x71:
            self = try SenseData.parseFixed(bytes, deferred: responseCode == 0x71)
        case 0x72, 0x73:
            self = try SenseData.parseDescriptor(bytes, deferred: responseCode == 0x73)
        default:
            throw header.invalid("response code 0x\(responseCode.hexDigits) is neither fixed (0x70/0x71) nor descriptor (0x72/0x73) format")
        }
    }

    private static func parseFixed(_ bytes: [UInt8], deferred: Bool) throws(SCSIParseError) -> SenseData {
        let whole = ByteReader(bytes, structure: "fixed-format sense data")
        let length = 8 + Int(try whole.uint8(at: 7))
        let reader = try whole.subReader(at: 0, count: length, structure: "fixed-format sense data")

        // Fields past the announced length are absent; reading them as zero matches
        // what a device means by a short additional sense length.
        func byte(_ offset: Int) throws(SCSIParseError) -> UInt8 {
            offset < length ? try reader.uint8(at: offset) : 0
        }
        func field32(_ offset: Int) throws(SCSIParseError) -> UInt32 {
            offset + 4 <= length ? try reader.uint32(at: offset) : 0
        }

        let flags = try reader.uint8(at: 2)
        let senseKey = SenseKey(lowNibbleOf: flags)
        let valid = try reader.bit(7, at: 0)
        let information = try reader.uint32(at: 3)
        let commandSpecific = try field32(8)
        let fru = try byte(14)
        return SenseData(
            format: .fixed,
            isDeferred: deferred,
            senseKey: senseKey,
            additionalSenseCode: AdditionalSenseCode(asc: try byte(12), ascq: try byte(13)),
            information: valid ? UInt64(information) : nil,
            commandSpecificInformation: commandSpecific == 0 ? nil : UInt64(commandSpecific),
            senseKeySpecific: SenseKeySpecific(try byte(15), try byte(16), try byte(17), senseKey: senseKey),
            fieldReplaceableUnitCode: fru == 0 ? nil : fru,
            filemark: flags & 0x80 != 0,
            endOfMedium: flags & 0x40 != 0,
            incorrectLengthIndicator: flags & 0x20 != 0,
            senseDataOverflow: flags & 0x10 != 0
        )
    }

    private static func parseDescriptor(_ bytes: [UInt8], deferred: Bool) throws(SCSIParseError) -> SenseData {
        let whole = ByteReader(bytes, structure: "descriptor-format sense data")
        let length = 8 + Int(try whole.uint8(at: 7))
        let reader = try whole.subReader(at: 0, count: length, structure: "descriptor-format sense data")
        let senseKey = SenseKey(lowNibbleOf: try reader.uint8(at: 1))
        var sense = SenseData(
            format: .descriptor,
            isDeferred: deferred,
            senseKey: senseKey,
            additionalSenseCode: AdditionalSenseCode(asc: try reader.uint8(at: 2), ascq: try reader.uint8(at: 3)),
            senseDataOverflow: try reader.bit(7, at: 4)
        )

        var offset = 8
        while offset < length {
            let type = try reader.uint8(at: offset)
            guard offset + 2 <= length else {
                throw reader.invalid("sense descriptor 0x\(type.hexDigits) at byte \(offset) has no length byte")
            }
            let bodyLength = Int(try reader.uint8(at: offset + 1))
            guard offset + 2 + bodyLength <= length else {
                throw reader.invalid(
                    "sense descriptor 0x\(type.hexDigits) at byte \(offset) runs \(offset + 2 + bodyLength - length) bytes past the additional sense length"
                )
            }
            let body = try reader.subReader(
                at: offset + 2,
                count: bodyLength,
                structure: "sense descriptor 0x\(type.hexDigits)"
            )
            try sense.apply(descriptorType: type, body: body)
            offset += 2 + bodyLength
        }
        return sense
    }

    /// Folds one descriptor into the value; `body` starts after the two-byte header.
    private mutating func apply(descriptorType type: UInt8, body: ByteReader) throws(SCSIParseError) {
        switch type {
        case 0x00:
            // Information: VALID in body byte 0, the value in body bytes 2-9.
            if try body.bit(7, at: 0) {
                information = try body.uint64(at: 2)
            } else {
                try body.require(10)
            }
        case 0x01:
            commandSpecificInformation = try body.uint64(at: 2)
        case 0x02:
            senseKeySpecific = SenseKeySpecific(
                try body.uint8(at: 2), try body.uint8(at: 3), try body.uint8(at: 4),
                senseKey: senseKey
            )
        case 0x03:
            let code = try body.uint8(at: 1)
            fieldReplaceableUnitCode = code == 0 ? nil : code
        case 0x04:
            let flags = try body.uint8(at: 1)
            filemark = flags & 0x80 != 0
            endOfMedium = flags & 0x40 != 0
            incorrectLengthIndicator = flags & 0x20 != 0
        case 0x05:
            incorrectLengthIndicator = try body.bit(5, at: 1)
        default:
            otherDescriptors.append(SenseDescriptor(type: type, body: try body.bytes(at: 0, count: body.count)))
        }
    }
}
