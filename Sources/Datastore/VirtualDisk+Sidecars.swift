// An open disk's sidecars: only the host holding the disk's lock reads or writes them, and
// only an exclusive open writes.

import BlockDevice

extension VirtualDisk {
    /// The content of sidecar `name`, or nil when it was never written. Throws `.corrupt`
    /// (naming the disk and the sidecar) when the blob or its directory fails its checksum.
    public func sidecar(_ name: String) async throws -> [UInt8]? {
        try checkUsable("reading sidecar '\(name)'", writing: false)
        return try await datastore.metadataLock.withLock {
            try await datastore.readSidecar(name, descriptor: state.withLockedValue { $0.descriptor }, index: index)
        }
    }

    /// Replaces sidecar `name` with `content` (at most 32 KiB) in one journaled transaction.
    public func writeSidecar(_ name: String, _ content: [UInt8]) async throws {
        try await changeSidecar(name, content)
    }

    /// Removes sidecar `name`; nothing happens when there is none.
    public func deleteSidecar(_ name: String) async throws {
        try await changeSidecar(name, nil)
    }

    /// The names of the disk's sidecars, sorted.
    public func sidecarNames() async throws -> [String] {
        try checkUsable("listing sidecars", writing: false)
        return try await datastore.metadataLock.withLock {
            let descriptor = state.withLockedValue { $0.descriptor }
            return try await datastore.readSidecarDirectory(descriptor, index: index)?.entries.map(\.name).sorted() ?? []
        }
    }

    private func changeSidecar(_ name: String, _ content: [UInt8]?) async throws {
        try checkUsable(content == nil ? "deleting sidecar '\(name)'" : "writing sidecar '\(name)'", writing: true)
        try await datastore.metadataLock.withLock {
            let current = state.withLockedValue { $0.descriptor }
            let changed = try await datastore.writeSidecar(name, content, descriptor: current, index: index)
            state.withLockedValue { $0.descriptor = changed }
        }
    }
}
