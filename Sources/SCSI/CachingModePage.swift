// The Caching mode page (0x08, SBC-4 §6.5.5): whether the device caches writes,
// which decides whether the initiator must flush or use FUA for durability.

public struct CachingModePage: Sendable, Hashable {
    /// The page's PAGE LENGTH (SBC-4 fixes it at 0x12).
    public static let pageLength = 0x12

    /// WCE: writes may complete from a volatile cache; SYNCHRONIZE CACHE is needed.
    public var writeCacheEnabled: Bool
    /// RCD: reads always go to the medium.
    public var readCacheDisabled: Bool
    /// DRA: read-ahead is off.
    public var disableReadAhead: Bool
    /// NV_DIS: the non-volatile cache is disabled.
    public var nonVolatileCacheDisabled: Bool
    public var numberOfCacheSegments: UInt8
    public var cacheSegmentSize: UInt16

    public init(parsing page: ModePage) throws(SCSIParseError) {
        let reader = ByteReader(page.parameters, structure: "Caching mode page")
        guard page.pageCode == ModePage.cachingPageCode, page.subpageCode == nil else {
            throw reader.invalid("page 0x\(page.pageCode.hexDigits) is not the Caching mode page (0x08)")
        }
        try reader.require(Self.pageLength)
        writeCacheEnabled = try reader.bit(2, at: 0)
        readCacheDisabled = try reader.bit(0, at: 0)
        disableReadAhead = try reader.bit(5, at: 10)
        nonVolatileCacheDisabled = try reader.bit(0, at: 10)
        numberOfCacheSegments = try reader.uint8(at: 11)
        cacheSegmentSize = try reader.uint16(at: 12)
    }
}
