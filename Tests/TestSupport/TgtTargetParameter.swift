// An iSCSI login key a test forces on a tgt target, spelled as
// `tgtadm --op update --mode target --name KEY --value VALUE` takes it and
// as `tgtadm --op show --mode target --tid N` prints it back.

public struct TgtTargetParameter: Hashable, Sendable, CustomStringConvertible {
    public enum Digest: String, Hashable, Sendable {
        case none = "None"
        case crc32c = "CRC32C"
    }

    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public static func headerDigest(_ digest: Digest) -> Self {
        Self(key: "HeaderDigest", value: digest.rawValue)
    }

    public static func dataDigest(_ digest: Digest) -> Self {
        Self(key: "DataDigest", value: digest.rawValue)
    }

    public static func immediateData(_ enabled: Bool) -> Self {
        Self(key: "ImmediateData", value: enabled ? "Yes" : "No")
    }

    public static func initialR2T(_ enabled: Bool) -> Self {
        Self(key: "InitialR2T", value: enabled ? "Yes" : "No")
    }

    /// tgt refuses values below 512 ("invalid request").
    public static func firstBurstLength(_ bytes: Int) -> Self {
        Self(key: "FirstBurstLength", value: String(bytes))
    }

    public static func maxBurstLength(_ bytes: Int) -> Self {
        Self(key: "MaxBurstLength", value: String(bytes))
    }

    /// What tgt declares it can receive per PDU.
    public static func maxRecvDataSegmentLength(_ bytes: Int) -> Self {
        Self(key: "MaxRecvDataSegmentLength", value: String(bytes))
    }

    public static func maxOutstandingR2T(_ count: Int) -> Self {
        Self(key: "MaxOutstandingR2T", value: String(count))
    }

    public var description: String {
        "\(key)=\(value)"
    }
}
