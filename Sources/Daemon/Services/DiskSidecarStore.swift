// A disk's sidecars in its datastore, in the face the Filters target defines.

import Datastore
import Filters

/// What a filter's `FilterContext.sidecars` reaches: the open disk's blobs, which only this
/// host (holding the disk's lock) reads and writes.
struct DiskSidecarStore: SidecarStore {
    let disk: VirtualDisk

    func read(_ name: String) async throws -> [UInt8]? { try await disk.sidecar(name) }
    func write(_ name: String, _ content: [UInt8]) async throws { try await disk.writeSidecar(name, content) }
    func delete(_ name: String) async throws { try await disk.deleteSidecar(name) }
    func names() async throws -> [String] { try await disk.sidecarNames() }
}
