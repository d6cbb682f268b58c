// One SCSI command as the session's callers hand it in.

import NIOCore

/// A SCSI command to run on one LUN of a session.
public struct SCSITaskRequest: Sendable {
    /// The LUN number (not yet SAM-encoded).
    public var lun: UInt64
    public var cdb: [UInt8]
    /// Data to write; nil for commands without a data-out phase.
    public var dataOut: ByteBuffer?
    /// How many bytes the command may read back; 0 for none.
    public var expectedDataInLength: Int
    public var attribute: TaskAttribute
    /// A name for messages, such as "READ(16)"; the opcode in hex when nil.
    public var operationName: String?

    public init(
        lun: UInt64,
        cdb: [UInt8],
        dataOut: ByteBuffer? = nil,
        expectedDataInLength: Int = 0,
        attribute: TaskAttribute = .simple,
        operationName: String? = nil
    ) {
        self.lun = lun
        self.cdb = cdb
        self.dataOut = dataOut
        self.expectedDataInLength = expectedDataInLength
        self.attribute = attribute
        self.operationName = operationName
    }

    /// What messages call this command.
    public var name: String {
        if let operationName { return operationName }
        guard let opcode = cdb.first else { return "empty CDB" }
        return "opcode 0x" + String(opcode, radix: 16, uppercase: true)
    }
}
