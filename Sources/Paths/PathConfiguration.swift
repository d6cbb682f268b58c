// One way to a LUN: how to open it, and what to call it.

import BlockDevice
import SCSI

/// A path as the multipath device is given it. The device does not know the engine: `open`
/// logs in (native or libiscsi, bound to a source or not) and returns the LUN on that session.
public struct PathConfiguration: Sendable {
    /// Opens the path: logs in and returns the LUN, ready for commands. `onUnitAttention`
    /// receives the sense of every unit attention the path's commands meet (ALUA changes are
    /// among them); engines that cannot report them may ignore it.
    public typealias Open = @Sendable (_ onUnitAttention: @escaping @Sendable (SenseData) -> Void) async throws -> any SCSIBlockCommands

    /// The path's name in listings and commands: unique within its LUN.
    public var name: String
    /// Where the path leaves this host: a source address or interface, or nil for the system's choice.
    public var source: String?
    /// Where it arrives: the portal (host:port).
    public var destination: String
    public var open: Open

    public init(name: String, source: String? = nil, destination: String, open: @escaping Open) {
        self.name = name
        self.source = source
        self.destination = destination
        self.open = open
    }
}
