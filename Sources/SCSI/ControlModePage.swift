// The Control mode page (0x0A, SPC-5 §7.5.8): queueing and error-reporting
// behaviour of the logical unit, including which sense format it uses.

public struct ControlModePage: Sendable, Hashable {
    /// The page's PAGE LENGTH (SPC-5 fixes it at 0x0A).
    public static let pageLength = 0x0A

    /// TST: 0 one task set for all nexuses, 1 one per I_T nexus.
    public var taskSetType: UInt8
    /// TMF_ONLY: only task management functions are processed during ACA.
    public var taskManagementFunctionsOnly: Bool
    /// DPICZ: protection information checking is disabled for PROTECT 0 reads.
    public var disableProtectionInformationCheckIfProtectZero: Bool
    /// D_SENSE: sense data is returned in descriptor format.
    public var descriptorSense: Bool
    /// GLTSD: global logging target save disable.
    public var globalLoggingTargetSaveDisable: Bool
    /// RLEC: report log exception condition.
    public var reportLogExceptionCondition: Bool
    /// QUEUE ALGORITHM MODIFIER: 0 restricted reordering, 1 unrestricted.
    public var queueAlgorithmModifier: UInt8
    /// NUAR: no unit attention on release.
    public var noUnitAttentionOnRelease: Bool
    /// QERR: what happens to other commands when one ends in CHECK CONDITION.
    public var queueErrorManagement: UInt8
    /// RAC: report a check rather than BUSY for long delays.
    public var reportACheck: Bool
    /// UA_INTLCK_CTRL.
    public var unitAttentionInterlocksControl: UInt8
    /// SWP: software write protect.
    public var softwareWriteProtect: Bool
    /// ATO: application tags are owned by the application client.
    public var applicationTagOwner: Bool
    /// TAS: aborted commands of other nexuses end in TASK ABORTED status.
    public var taskAbortedStatus: Bool
    /// ATMPE: application tag mode page enabled.
    public var applicationTagModePageEnabled: Bool
    /// RWWP: reject write without protection.
    public var rejectWriteWithoutProtection: Bool
    public var autoloadMode: UInt8
    /// BUSY TIMEOUT PERIOD in 100 ms units; 0xFFFF unlimited.
    public var busyTimeoutPeriod: UInt16
    /// EXTENDED SELF-TEST COMPLETION TIME in seconds.
    public var extendedSelfTestCompletionTime: UInt16

    public init(parsing page: ModePage) throws(SCSIParseError) {
        let reader = ByteReader(page.parameters, structure: "Control mode page")
        guard page.pageCode == ModePage.controlPageCode, page.subpageCode == nil else {
            throw reader.invalid("page 0x\(page.pageCode.hexDigits) is not the Control mode page (0x0A)")
        }
        try reader.require(Self.pageLength)
        // `parameters` starts at page byte 2, so page byte N is parameter N - 2.
        taskSetType = try reader.bits(at: 0, shift: 5, width: 3)
        taskManagementFunctionsOnly = try reader.bit(4, at: 0)
        disableProtectionInformationCheckIfProtectZero = try reader.bit(3, at: 0)
        descriptorSense = try reader.bit(2, at: 0)
        globalLoggingTargetSaveDisable = try reader.bit(1, at: 0)
        reportLogExceptionCondition = try reader.bit(0, at: 0)
        queueAlgorithmModifier = try reader.bits(at: 1, shift: 4, width: 4)
        noUnitAttentionOnRelease = try reader.bit(3, at: 1)
        queueErrorManagement = try reader.bits(at: 1, shift: 1, width: 2)
        reportACheck = try reader.bit(6, at: 2)
        unitAttentionInterlocksControl = try reader.bits(at: 2, shift: 4, width: 2)
        softwareWriteProtect = try reader.bit(3, at: 2)
        applicationTagOwner = try reader.bit(7, at: 3)
        taskAbortedStatus = try reader.bit(6, at: 3)
        applicationTagModePageEnabled = try reader.bit(5, at: 3)
        rejectWriteWithoutProtection = try reader.bit(4, at: 3)
        autoloadMode = try reader.bits(at: 3, shift: 0, width: 3)
        busyTimeoutPeriod = try reader.uint16(at: 6)
        extendedSelfTestCompletionTime = try reader.uint16(at: 8)
    }
}
