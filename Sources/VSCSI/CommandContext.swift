// What a command handler gets: the request, its CDB, its table row, and the unit
// settings captured when the command was admitted.

import NIOCore

struct CommandContext: Sendable {
    let request: SCSICommandRequest
    let cdb: CDBFields
    let descriptor: CommandDescriptor
    let writeProtected: Bool
    let writeCacheEnabled: Bool
    /// The nexus's abort generation at admission; see `LogicalUnitState.abortGenerations`.
    let abortGeneration: UInt64

    var nexus: Nexus { request.nexus }
    var dataOut: ByteBuffer { request.dataOut }
}
