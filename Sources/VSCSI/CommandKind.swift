// Every command a logical unit implements, as the key its dispatcher switches on.

/// One implemented command; `CommandTable` gives each its opcode, CDB usage and rules.
enum CommandKind: Sendable, Hashable, CaseIterable {
    case testUnitReady, requestSense, inquiry, startStopUnit
    case modeSelect6, modeSense6, modeSelect10, modeSense10
    case reserve6, release6, reserve10, release10
    case persistentReserveIn, persistentReserveOut
    case read6, read10, read12, read16
    case write6, write10, write12, write16
    case verify10, verify12, verify16
    case writeAndVerify10, writeAndVerify12, writeAndVerify16
    case writeSame10, writeSame16, unmap
    case orWrite16, writeAtomic16, compareAndWrite
    case preFetch10, preFetch16, synchronizeCache10, synchronizeCache16
    case readCapacity10, readCapacity16, getLBAStatus
    case readDefectData10, readDefectData12
    case reportLUNs, reportSupportedOperationCodes, reportSupportedTaskManagementFunctions
    case extendedCopy, receiveCopyStatus, receiveCopyOperatingParameters
    case sanitize
}
