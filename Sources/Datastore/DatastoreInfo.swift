// What `datastore info` shows about a volume.

import Foundation

/// A volume's identity and geometry, as read from its header.
public struct DatastoreInfo: Sendable, Hashable, Codable {
    public var uuid: UUID
    public var label: String
    public var version: String
    public var lockMode: String
    public var fileBlockSize: Int
    public var maxHosts: Int
    public var maxDisks: Int
    public var clusterBlocks: Int
    public var clusterCount: Int
    public var dataBlocks: UInt64
    public var volumeSize: UInt64
    public var created: Date
    /// The primary header was bad and the backup was used.
    public var usedBackupHeader: Bool
    /// Free file blocks, when counted (`info` on a mounted datastore).
    public var freeBlocks: UInt64?

    init(header: VolumeHeader, fromBackup: Bool, freeBlocks: UInt64? = nil) {
        uuid = header.uuid
        label = header.label
        version = "\(header.majorVersion).\(header.minorVersion)"
        lockMode = header.lockMode == .ats ? "ats" : "reservations"
        fileBlockSize = header.fileBlockSizeInt
        maxHosts = Int(header.maxHosts)
        maxDisks = Int(header.maxDisks)
        clusterBlocks = Int(header.clusterBlocks)
        clusterCount = Int(header.clusterCount)
        dataBlocks = header.dataBlockCount
        volumeSize = header.volumeSize
        created = Date(timeIntervalSince1970: Double(header.createdMillis) / 1000)
        usedBackupHeader = fromBackup
        self.freeBlocks = freeBlocks
    }
}
