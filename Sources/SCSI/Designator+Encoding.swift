// Building designation descriptors (SPC-5 §7.7.6.1) for the Device Identification
// VPD page and the EXTENDED COPY identification descriptors.

extension Designator {
    /// The 4-byte header and the identifier. An identifier longer than 255 bytes
    /// cannot be described and is cut to 255.
    public func encoded() -> [UInt8] {
        let body = Array(identifier.prefix(255))
        let byte0 = (protocolIdentifier.map { ($0 & 0x0F) << 4 } ?? 0) | codeSet.rawValue
        let byte1 = (protocolIdentifier == nil ? 0 : 0x80) | association.rawValue << 4 | designatorType.rawValue
        return [byte0, byte1, 0, UInt8(body.count)] + body
    }
}
