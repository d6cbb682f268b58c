// What breaking a dead host's locks did: whose generation was bumped and which journal
// transaction was replayed, so tools can report the takeover.

import Foundation

/// One takeover of a host whose heartbeat stood still for a lease.
public struct HostRecovery: Sendable, Hashable, Codable, CustomStringConvertible {
    public var slot: Int
    public var hostUUID: UUID
    public var hostName: String
    /// The generation the dead host mounted with; it can never write again under it.
    public var oldGeneration: UInt64
    /// The journal transaction replayed on its behalf, nil when none was pending.
    public var replayedSequence: UInt64?

    public var description: String {
        let journal = replayedSequence.map { "replayed its journal transaction \($0)" } ?? "its journal had nothing pending"
        return "recovered host '\(hostName)' (\(hostUUID)) in slot \(slot): generation \(oldGeneration) fenced, \(journal)"
    }
}
