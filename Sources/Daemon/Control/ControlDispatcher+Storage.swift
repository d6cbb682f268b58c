// The control methods on datastores and disks: a datastore's hosts, locks and space; disks
// created, deleted, grown, opened and closed while the daemon runs.

import BlockDevice
import Control
import Datastore
import Foundation

extension ControlDispatcher {
    static let storageReadMethods: Set<String> = ["datastores.show"]
    static let storageMutatingMethods: Set<String> = ["disks.create", "disks.delete", "disks.grow", "disks.open", "disks.close"]

    /// The answer to a storage method, or nil when `request` is not one.
    func callStorage(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>? {
        let live = reloader.live
        switch request.method {
        case "datastores.show":
            return await withDatastore(request) { name, store in
                let info = try await Datastore.info(device: store.device, countingFreeBlocks: true)
                return .object([
                    "name": .string(name),
                    "info": try JSONValue(encoding: info),
                    "hosts": try JSONValue(encoding: try await store.hosts()),
                    "locks": try JSONValue(encoding: try await store.locks()),
                    "disks": try JSONValue(encoding: try await store.listDisks()),
                ])
            }
        case "disks.create":
            guard let size = request.params?["size_bytes"]?.intValue, size > 0 else {
                return .failure(.invalidParams("disks.create needs \"size_bytes\", a positive integer"))
            }
            let kind: DiskKind = request.params?["eager_zeroed"] == .bool(true) ? .eagerZeroed : .thin
            return await live.serialized {
                await withDisk(request) { store, name, _ in
                    try JSONValue(encoding: try await store.createDisk(name: name, size: UInt64(size), kind: kind))
                }
            }
        case "disks.delete":
            return await live.serialized {
                await withDisk(request) { store, name, reference in
                    if let refusal = inUse(reference, action: "delete") { throw refusal }
                    try await store.deleteDisk(name: name)
                    return .object(["deleted": .string(reference)])
                }
            }
        case "disks.grow":
            guard let size = request.params?["size_bytes"]?.intValue, size > 0 else {
                return .failure(.invalidParams("disks.grow needs \"size_bytes\", a positive integer"))
            }
            return await live.serialized {
                await withDisk(request) { store, name, reference in
                    if let open = state.storage.disk(reference) {
                        try await open.grow(to: UInt64(size))
                        var presented: any BlockDevice & AnyObject = open
                        if let chain = state.storage.chain(reference) { presented = chain }
                        // Every export presenting it tells its initiators the capacity changed.
                        for export in state.exports.exports(presenting: reference, config: state.config) {
                            await state.exports.export(export)?.capacityChanged(of: presented)
                        }
                    } else {
                        try await store.growDisk(name: name, to: UInt64(size))
                    }
                    return try JSONValue(encoding: try await store.diskInfo(name: name))
                }
            }
        case "disks.open":
            var mode = DiskSettings.Mode.exclusive
            if let text = request.params?["mode"]?.stringValue {
                guard let parsed = DiskSettings.Mode(rawValue: text) else {
                    return .failure(.invalidParams("\"mode\" is \"exclusive\" or \"shared-read-only\", not \"\(text)\""))
                }
                mode = parsed
            }
            return await live.serialized {
                await withDisk(request) { _, name, reference in
                    let datastore = String(reference.prefix(while: { $0 != "/" }))
                    var settings = DiskSettings(datastore: datastore, name: name)
                    settings.mode = mode
                    try await live.openDisk(settings).get()
                    live.persist(disk: reference)
                    return ControlViews.disk(settings, state: state)
                }
            }
        case "disks.close":
            return await live.serialized {
                await withDisk(request) { _, _, reference in
                    // Recorded even when closing failed: the disk has left the running config.
                    defer { live.persist(disk: reference) }
                    try await live.closeDisk(reference).get()
                    return .object(["closed": .string(reference)])
                }
            }
        default:
            return nil
        }
    }

    /// Why `reference` cannot be deleted while the daemon uses it, or nil when it does not.
    private func inUse(_ reference: String, action: String) -> JSONRPCError? {
        let exports = state.exports.exports(presenting: reference, config: state.config)
        if !exports.isEmpty {
            return .inUse("cannot \(action) disk \(reference): export \(exports.joined(separator: ", ")) presents it")
        }
        if state.storage.disk(reference) != nil {
            return .inUse("cannot \(action) disk \(reference): vdiskd has it open; close it first (disks.close)")
        }
        return nil
    }

    /// Runs `body` on the mounted datastore named by the "datastore" param.
    private func withDatastore(
        _ request: JSONRPCRequest, _ body: (String, Datastore) async throws -> JSONValue
    ) async -> Result<JSONValue, JSONRPCError> {
        guard let name = request.params?["datastore"]?.stringValue else {
            return .failure(.invalidParams("\(request.method) needs \"datastore\", a configured datastore's name"))
        }
        guard let store = state.storage.datastore(name) else {
            let configured = state.config.datastores.contains { $0.name == name }
            return .failure(.notFound(configured ? "datastore \(name) is not mounted (see datastores.list)" : "no datastore \(name) in the config"))
        }
        do {
            return .success(try await body(name, store))
        } catch {
            return .failure(Self.rpcError(error))
        }
    }

    /// Runs `body` with the datastore, the disk name and its `datastore/disk` reference.
    private func withDisk(
        _ request: JSONRPCRequest, _ body: (Datastore, String, String) async throws -> JSONValue
    ) async -> Result<JSONValue, JSONRPCError> {
        guard let disk = request.params?["name"]?.stringValue, !disk.isEmpty else {
            return .failure(.invalidParams("\(request.method) needs \"datastore\" and \"name\", the disk's name"))
        }
        return await withDatastore(request) { name, store in
            try await body(store, disk, "\(name)/\(disk)")
        }
    }

    /// A thrown error as the JSON-RPC error a client can act on.
    static func rpcError(_ error: any Error) -> JSONRPCError {
        switch error {
        case let error as JSONRPCError:
            return error
        case let error as DatastoreError where error.code == .notFound:
            return .notFound(error.message)
        case let error as DatastoreError where error.code == .alreadyExists || error.code == .locked || error.code == .busy:
            return .inUse(error.message)
        case let error as DatastoreError where error.code == .invalidArgument:
            return .invalidParams(error.message)
        default:
            return .operationFailed("\(error)")
        }
    }
}

extension JSONValue {
    /// Any Encodable value as JSON (dates as ISO 8601), as the CLI's --json prints it.
    init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        self = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
    }
}
