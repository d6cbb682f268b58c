// Renewing this host's heartbeat, watching everyone else's, and fencing on failure.

import BlockDevice
import Foundation
import NIOCore

extension Datastore {
    /// One renewal: COMPARE AND WRITE of the slot against the image last written.
    /// A miscompare fences only when another host acted on the slot (`requireOwnSlot`); a slot
    /// still carrying this mount's generation (a renewal that landed although its answer was
    /// lost) is adopted as the image to compare against, and the renewal is tried once more.
    ///
    /// A host fenced only because its lease ran out (it was paused, or the LUN was away) still
    /// tries: the compare-and-swap against the image it last wrote succeeds only if no host has
    /// touched the slot, and a host taking over must win that same swap before it breaks any
    /// lock. So a renewal that lands proves nobody acted, and lifts the fence (`.resumed`).
    public func renewHeartbeat() async throws {
        do {
            try checkLive("heartbeat renewal")
        } catch {
            guard state.withLockedValue({ $0.fencedByLease }) else { throw error }
        }
        let started = options.clock.now()
        for attempt in 0..<2 {
            let (slot, record, image) = state.withLockedValue { ($0.slot, $0.heartbeat, $0.heartbeatImage) }
            var next = record
            next.counter &+= 1
            next.renewedMillis = options.clock.wallMillis()
            let nextImage = next.encoded(sectorSize: sectorSize)
            if try await swapSector(at: header.heartbeatUnit(slot: slot), expected: image, replacement: nextImage) {
                state.withLockedValue { state in
                    state.heartbeat = next
                    state.heartbeatImage = nextImage
                    // The renewal counts from when it was sent, not when it returned: slow storage eats the lease.
                    state.lastRenewal = max(state.lastRenewal, started)
                }
                let lifted = state.withLockedValue { state -> String? in
                    guard state.fencedByLease, let reason = state.fenceReason else { return nil }
                    state.fenceReason = nil
                    state.fencedByLease = false
                    return reason
                }
                if let lifted {
                    report(.resumed("host '\(host.name)' renewed its heartbeat on \(volumeName) with its generation intact, so no host took over; I/O resumes (it had stopped because: \(lifted))"))
                }
                try? await observeHeartbeats()
                return
            }
            let found = try await requireOwnSlot("found its heartbeat changed")
            guard attempt == 0 else { break }
            state.withLockedValue { state in
                state.heartbeat = found.record
                state.heartbeatImage = found.image
            }
        }
        throw DatastoreError(.busy, "the heartbeat slot of host '\(host.name)' on \(volumeName) changed under two renewals in a row although it still carries its generation; retrying at the next interval")
    }

    /// Reads every slot and notes, on this host's clock, when each one last changed.
    func observeHeartbeats() async throws {
        let region = try await device.read(
            at: header.heartbeatOffset / UInt64(sectorSize),
            blockCount: Int(header.maxHosts) * VolumeLayout.unitSize / sectorSize
        )
        let now = options.clock.now()
        state.withLockedValue { state in
            for slot in 0..<Int(header.maxHosts) {
                let sector = region.getSlice(at: region.readerIndex + slot * VolumeLayout.unitSize, length: sectorSize)!
                if state.observations[slot]?.image != sector {
                    state.observations[slot] = Observation(image: sector, since: now)
                }
            }
        }
    }

    /// Every heartbeat slot in use, with how long this host has seen it stand still.
    public func hosts() async throws -> [HostSlotInfo] {
        try await observeHeartbeats()
        let now = options.clock.now()
        let mySlot = slot
        return state.withLockedValue { state in
            (0..<Int(header.maxHosts)).compactMap { slot -> HostSlotInfo? in
                guard let observation = state.observations[slot],
                      let record = try? HeartbeatRecord.decode(observation.image, slot: slot),
                      record.generation > 0
                else { return nil }
                let silent = now - observation.since
                return HostSlotInfo(
                    slot: slot, state: "\(record.state)", hostUUID: record.hostUUID, hostName: record.hostName,
                    generation: record.generation, counter: record.counter,
                    lastRenewal: Date(timeIntervalSince1970: Double(record.renewedMillis) / 1000),
                    silentSeconds: Double(silent.components.seconds) + Double(silent.components.attoseconds) / 1e18,
                    isThisHost: slot == mySlot
                )
            }
        }
    }
}
