// A heartbeat slot in use, as `datastore hosts` reports it.

import Foundation

/// A heartbeat slot as `datastore hosts` shows it.
public struct HostSlotInfo: Sendable, Hashable, Codable {
    public var slot: Int
    public var state: String
    public var hostUUID: UUID
    public var hostName: String
    public var generation: UInt64
    public var counter: UInt64
    public var lastRenewal: Date
    /// Seconds this observer has seen the counter stand still.
    public var silentSeconds: Double?
    public var isThisHost: Bool
}
