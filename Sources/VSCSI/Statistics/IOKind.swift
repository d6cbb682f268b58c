// The three classes of data command a logical unit counts separately.

/// How `IOStatistics` classes a data command.
///
/// - `read`: READ (6/10/12/16); bytes are the Data-In delivered.
/// - `write`: WRITE (6/10/12/16), WRITE AND VERIFY, ORWRITE, WRITE ATOMIC and
///   COMPARE AND WRITE; bytes are the Data-Out received.
/// - `other`: VERIFY, WRITE SAME, UNMAP, PRE-FETCH, SYNCHRONIZE CACHE, GET LBA STATUS,
///   EXTENDED COPY and SANITIZE; bytes are whatever crossed the transport either way.
public enum IOKind: String, Sendable, Hashable, CaseIterable {
    case read, write, other
}
