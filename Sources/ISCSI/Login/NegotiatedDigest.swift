// The digest values of HeaderDigest and DataDigest (RFC 7143 §13.1).

/// A digest a connection may use on headers or data segments.
public enum NegotiatedDigest: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none = "None"
    case crc32c = "CRC32C"

    public var description: String { rawValue }
}
