// What RECEIVE COPY RESULTS reports about one EXTENDED COPY (SPC-5 §6.18.3).

/// The state of an EXTENDED COPY kept under its list identifier.
struct CopyRecord: Sendable, Equatable {
    enum Status: UInt8, Sendable {
        case inProgress = 0x00
        case completedGood = 0x01
        case completedWithError = 0x02
    }

    var status: Status
    var segmentsProcessed: UInt16
    /// Bytes copied so far; RECEIVE COPY STATUS reports them in KiB once they pass 32 bits.
    var bytesTransferred: UInt64
}
