// How `disk list` and `disk info` print a disk as text.

import Datastore
import Foundation

extension DiskInfo {
    var listLine: String {
        "\(name)\t\(kind)\t\(ByteCount(bytes: size))\t\(ByteCount(bytes: allocatedBytes)) allocated"
    }

    var detailText: String {
        let sidecars = sidecarBlock == 0 ? "" : "\nsidecars:   file block \(sidecarBlock)"
        return """
        name:       \(name)
        uuid:       \(uuid)
        kind:       \(kind)
        size:       \(ByteCount(bytes: size)) (\(size) bytes)
        allocated:  \(allocatedBlocks) file blocks (\(ByteCount(bytes: allocatedBytes)))
        created:    \(created.formatted(.iso8601))
        modified:   \(modified.formatted(.iso8601))
        descriptor: \(descriptorIndex)\(sidecars)
        """
    }
}
