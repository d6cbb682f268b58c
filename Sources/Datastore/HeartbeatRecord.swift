// One host slot of the heartbeat region (docs/FORMAT.md, "Heartbeat record").

import Foundation
import NIOCore

/// What a heartbeat slot says about the host that holds it.
struct HeartbeatRecord: Sendable, Hashable {
    enum State: UInt32, Sendable {
        case free = 0
        case live = 1
        case recovering = 2
    }

    static let magic: UInt32 = 0x4248_4456  // "VDHB"

    var slot: UInt32
    var state: State = .free
    var hostUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    var hostName = ""
    var generation: UInt64 = 0
    var counter: UInt64 = 0
    var renewedMillis: UInt64 = 0
    var mountedMillis: UInt64 = 0
    var recoveringHost = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// The lock sector image: the 512-byte record padded with zeros to `sectorSize`.
    func encoded(sectorSize: Int) -> ByteBuffer {
        var unit = ByteBuffer.zeros(sectorSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(slot, 4)
        unit.setLE(state.rawValue, 8)
        unit.setUUID(hostUUID, 16)
        unit.setPaddedString(hostName, 32, length: 64)
        unit.setLE(generation, 96)
        unit.setLE(counter, 104)
        unit.setLE(renewedMillis, 112)
        unit.setLE(mountedMillis, 120)
        unit.setUUID(recoveringHost, 128)
        unit.sealCRC(at: VolumeLayout.recordCRCOffset)
        return unit
    }

    static func decode(_ sector: ByteBuffer, slot: Int) throws -> HeartbeatRecord {
        let place = "heartbeat slot \(slot)"
        try sector.requireRecord(VolumeLayout.recordSize, place)
        if sector.isAllZero(length: VolumeLayout.recordSize) { return HeartbeatRecord(slot: UInt32(slot)) }
        guard (try? sector.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no heartbeat magic")
        }
        guard sector.hasValidCRC(at: VolumeLayout.recordCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            guard let state = State(rawValue: try sector.le(8)), try sector.le(4, as: UInt32.self) == UInt32(slot) else {
                throw DatastoreError(.corrupt, "\(place) has a bad state or slot number")
            }
            // Every mount and every recovery adds one; no slot can have used them all.
            guard try sector.le(96, as: UInt64.self) < UInt64.max else {
                throw DatastoreError(.corrupt, "\(place) has an impossible generation \(UInt64.max)")
            }
            return HeartbeatRecord(
                slot: UInt32(slot), state: state, hostUUID: try sector.uuid(16), hostName: try sector.paddedString(32, length: 64),
                generation: try sector.le(96), counter: try sector.le(104), renewedMillis: try sector.le(112),
                mountedMillis: try sector.le(120), recoveringHost: try sector.uuid(128)
            )
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }
}
