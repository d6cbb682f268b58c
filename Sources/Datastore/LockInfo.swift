// A held on-disk lock, as `datastore locks` reports it.

import Foundation

/// A held lock, as `datastore locks` shows it.
public struct LockInfo: Sendable, Hashable, Codable {
    /// "disk NAME" or "cluster N".
    public var object: String
    public var mode: String
    public var ownerUUID: UUID?
    public var ownerName: String?
    public var ownerSlot: Int?
    public var since: Date?
    public var sharedSlots: [Int]
    /// The holder unmounted without releasing it, or died and was recovered: the next host
    /// that wants the lock takes it at once, so it blocks nobody.
    public var isStale: Bool
}
