// Building sense data bytes in either format, for the export's CHECK CONDITIONs
// and for tests that play a target.

extension SenseData {
    /// The largest sense data SPC-5 allows: 8 header bytes plus 244 additional.
    public static let maximumLength = 252

    /// The bytes of this sense data in `format` (by default, the value's own format).
    ///
    /// In fixed format an INFORMATION or COMMAND-SPECIFIC INFORMATION value above
    /// 32 bits cannot be carried: INFORMATION is then sent with VALID clear and
    /// the other field as zero, as SPC-5 directs. Unknown descriptors exist only
    /// in descriptor format; those that do not fit in 252 bytes are dropped and
    /// SDAT_OVFL is set.
    public func encoded(as format: Format? = nil) -> [UInt8] {
        switch format ?? self.format {
        case .fixed: encodedFixed()
        case .descriptor: encodedDescriptor()
        }
    }

    private func encodedFixed() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 18)
        let fits = information.map { $0 <= UInt64(UInt32.max) } ?? false
        bytes[0] = (fits ? 0x80 : 0) | (isDeferred ? 0x71 : 0x70)
        bytes[2] = (filemark ? 0x80 : 0) | (endOfMedium ? 0x40 : 0) | (incorrectLengthIndicator ? 0x20 : 0)
            | (senseDataOverflow ? 0x10 : 0) | senseKey.rawValue
        if fits, let information {
            bytes.storeBigEndian(UInt32(information), at: 3)
        }
        bytes[7] = 10
        if let specific = commandSpecificInformation, specific <= UInt64(UInt32.max) {
            bytes.storeBigEndian(UInt32(specific), at: 8)
        }
        bytes[12] = additionalSenseCode.asc
        bytes[13] = additionalSenseCode.ascq
        bytes[14] = fieldReplaceableUnitCode ?? 0
        if let specific = senseKeySpecific {
            bytes.replaceSubrange(15..<18, with: specific.bytes)
        }
        return bytes
    }

    private func encodedDescriptor() -> [UInt8] {
        var descriptors: [[UInt8]] = []
        if let information {
            var descriptor: [UInt8] = [0x00, 0x0A, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
            descriptor.storeBigEndian(information, at: 4)
            descriptors.append(descriptor)
        }
        if let commandSpecificInformation {
            var descriptor: [UInt8] = [0x01, 0x0A, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
            descriptor.storeBigEndian(commandSpecificInformation, at: 4)
            descriptors.append(descriptor)
        }
        if let senseKeySpecific {
            descriptors.append([0x02, 0x06, 0x00, 0x00] + senseKeySpecific.bytes + [0x00])
        }
        if let fieldReplaceableUnitCode {
            descriptors.append([0x03, 0x02, 0x00, fieldReplaceableUnitCode])
        }
        if filemark || endOfMedium {
            let flags: UInt8 = (filemark ? 0x80 : 0) | (endOfMedium ? 0x40 : 0) | (incorrectLengthIndicator ? 0x20 : 0)
            descriptors.append([0x04, 0x02, 0x00, flags])
        } else if incorrectLengthIndicator {
            // A disk reports ILI in the block commands descriptor.
            descriptors.append([0x05, 0x02, 0x00, 0x20])
        }
        for other in otherDescriptors where other.body.count <= 0xFF {
            descriptors.append([other.type, UInt8(other.body.count)] + other.body)
        }

        var body: [UInt8] = []
        var overflow = senseDataOverflow
        for descriptor in descriptors {
            if 8 + body.count + descriptor.count > SenseData.maximumLength {
                overflow = true
                continue
            }
            body += descriptor
        }
        let header: [UInt8] = [
            isDeferred ? 0x73 : 0x72,
            senseKey.rawValue,
            additionalSenseCode.asc,
            additionalSenseCode.ascq,
            overflow ? 0x80 : 0x00,
            0, 0,
            UInt8(body.count),
        ]
        return header + body
    }
}
