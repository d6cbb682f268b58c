// Size limits for iSCSI text (RFC 7143 §6.1, §12.1.3): per key, per value and
// per exchange, checked before anything is buffered so a peer cannot make us grow.

/// How much text we accept from a peer.
///
/// RFC 7143 §6.1 caps key names at 63 bytes and values at 255 bytes; the binary
/// CHAP values (`CHAP_C`, `CHAP_R`, §12.1.3) are "large-binary-value"s and may be
/// longer. RFC 7143 only promises that 8192 bytes of text per negotiation are always
/// accepted; we allow more but bound the total with `maximumTotalLength`.
public struct TextKeyLimits: Sendable, Hashable {
    /// RFC 7143 §6.1: "key names ... MUST NOT exceed 63 bytes".
    public static let maximumKeyLength = 63
    /// RFC 7143 §6.1: values are at most 255 bytes unless the key says otherwise.
    public static let maximumValueLength = 255
    /// Encoded length allowed for large binary values: a 4 KiB challenge in hex
    /// with its `0x` prefix. Real challenges are 16–64 bytes.
    public static let maximumLargeValueLength = 8194
    /// Bound for the text of one login (all PDUs of all stages together).
    public static let maximumLoginTextLength = 64 * 1024
    /// Bound for one Text Request/Response exchange, e.g. a SendTargets=All answer
    /// listing many targets and portals.
    public static let maximumExchangeTextLength = 1024 * 1024

    /// Keys whose values may reach `maximumLargeValueLength`.
    public var largeValueKeys: Set<String>
    /// Bytes of text accepted in total; the accumulator enforces it across PDUs.
    public var maximumTotalLength: Int

    public init(largeValueKeys: Set<String>, maximumTotalLength: Int) {
        self.largeValueKeys = largeValueKeys
        self.maximumTotalLength = maximumTotalLength
    }

    /// For Login PDUs: CHAP binary values are the only long ones.
    public static let login = TextKeyLimits(
        largeValueKeys: ["CHAP_C", "CHAP_R"],
        maximumTotalLength: maximumLoginTextLength
    )

    /// For Text exchanges such as SendTargets: many pairs, each of normal size.
    public static let exchange = TextKeyLimits(
        largeValueKeys: [],
        maximumTotalLength: maximumExchangeTextLength
    )

    func maximumValueLength(forKey key: String) -> Int {
        largeValueKeys.contains(key) ? Self.maximumLargeValueLength : Self.maximumValueLength
    }
}
