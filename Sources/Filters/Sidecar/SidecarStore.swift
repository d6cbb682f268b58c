// Per-disk persistent state for filters: small named blobs kept beside the disk. Filters defines
// the face; the daemon wires it to the datastore, so Filters never imports Datastore.

/// Small named blobs of one disk, written whole and crash-consistently: after a crash a blob
/// reads as its old or its new content, never a mix. Names are `filter/key` (an encryption
/// filter's `encryption/key-slot`, a replication filter's `replication/bitmap`).
public protocol SidecarStore: Sendable {
    /// The blob's content, or nil when it was never written. Throws when it is damaged
    /// (its checksum does not match): a filter must not silently start over.
    func read(_ name: String) async throws -> [UInt8]?
    /// Replaces the blob's content atomically.
    func write(_ name: String, _ content: [UInt8]) async throws
    func delete(_ name: String) async throws
    func names() async throws -> [String]
}
