// Which commands `IOStatistics` counts, and as what.

extension CommandKind {
    /// The statistics class of a data command; nil for commands that move no user data.
    var ioKind: IOKind? {
        switch self {
        case .read6, .read10, .read12, .read16:
            .read
        case .write6, .write10, .write12, .write16, .writeAndVerify10, .writeAndVerify12, .writeAndVerify16,
             .orWrite16, .writeAtomic16, .compareAndWrite:
            .write
        case .verify10, .verify12, .verify16, .writeSame10, .writeSame16, .unmap, .preFetch10, .preFetch16,
             .synchronizeCache10, .synchronizeCache16, .getLBAStatus, .extendedCopy, .sanitize:
            .other
        case .testUnitReady, .requestSense, .inquiry, .startStopUnit, .modeSelect6, .modeSense6, .modeSelect10,
             .modeSense10, .reserve6, .release6, .reserve10, .release10, .persistentReserveIn, .persistentReserveOut,
             .readCapacity10, .readCapacity16, .readDefectData10, .readDefectData12, .reportLUNs,
             .reportSupportedOperationCodes, .reportSupportedTaskManagementFunctions, .receiveCopyStatus,
             .receiveCopyOperatingParameters:
            nil
        }
    }
}

extension SCSICommandResponse {
    /// The user data a command of `kind` moved: Data-In for reads, Data-Out for writes, both otherwise.
    func movedBytes(_ kind: IOKind, request: SCSICommandRequest) -> Int {
        switch kind {
        case .read: dataIn.readableBytes
        case .write: request.dataOut.readableBytes
        case .other: dataIn.readableBytes + request.dataOut.readableBytes
        }
    }
}
