// Named ASC/ASCQ pairs that only a device server reports (copy manager, sanitize,
// resets, operations in progress); the export's logical units build sense from them.

extension AdditionalSenseCode {
    public static let operationInProgress = AdditionalSenseCode(asc: 0x00, ascq: 0x16)
    public static let logicalUnitNotReadySanitizeInProgress = AdditionalSenseCode(asc: 0x04, ascq: 0x1B)
    public static let unreachableCopyTarget = AdditionalSenseCode(asc: 0x08, ascq: 0x04)
    public static let copyTargetDeviceNotReachable = AdditionalSenseCode(asc: 0x0D, ascq: 0x02)
    public static let tooManyTargetDescriptors = AdditionalSenseCode(asc: 0x26, ascq: 0x06)
    public static let unsupportedTargetDescriptorTypeCode = AdditionalSenseCode(asc: 0x26, ascq: 0x07)
    public static let tooManySegmentDescriptors = AdditionalSenseCode(asc: 0x26, ascq: 0x08)
    public static let unsupportedSegmentDescriptorTypeCode = AdditionalSenseCode(asc: 0x26, ascq: 0x09)
    public static let busDeviceResetFunctionOccurred = AdditionalSenseCode(asc: 0x29, ascq: 0x03)
    public static let sanitizeCommandFailed = AdditionalSenseCode(asc: 0x31, ascq: 0x03)
}
