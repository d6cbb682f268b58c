// The disks and exports changed through the control socket, kept in the state directory so that a
// reload or a restart runs them again instead of falling back to what the config file says.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Each entry is one disk or export as the file had it when the change was made (`file`, nil when
/// the file did not name it) and as it has run since (`live`, nil when closed or removed). An
/// entry applies while the file still says what it said then; once the file names that disk or
/// export differently, the file wins and the entry is dropped. The settings are stored whole
/// (JSON of the config structs), so fields the config gains ride along without changes here.
public struct LiveChangeRecord: Sendable, Hashable, Codable {
    public struct Entry<Settings: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
        /// `datastore/disk` or the export's name.
        public var key: String
        public var file: Settings?
        public var live: Settings?
    }

    /// The file in the state directory.
    public static let fileName = "live-changes.json"

    public var disks: [Entry<DiskSettings>] = []
    public var exports: [Entry<ExportSettings>] = []

    public init() {}

    public var isEmpty: Bool { disks.isEmpty && exports.isEmpty }

    /// Notes that the disk `key` now runs as `live` (nil: closed) where the file says `file`.
    public mutating func recordDisk(_ key: String, file: DiskSettings?, live: DiskSettings?) {
        Self.record(&disks, Entry(key: key, file: file, live: live))
    }

    /// Notes that the export `key` now runs as `live` (nil: removed) where the file says `file`.
    public mutating func recordExport(_ key: String, file: ExportSettings?, live: ExportSettings?) {
        Self.record(&exports, Entry(key: key, file: file, live: live))
    }

    private static func record<Settings>(_ entries: inout [Entry<Settings>], _ entry: Entry<Settings>) {
        entries.removeAll { $0.key == entry.key }
        // Back to what the file says: nothing left to remember.
        if entry.file != entry.live { entries.append(entry) }
    }

    /// `fileConfig` with the entries that still apply, and the record of just those. An entry is
    /// dropped, and the file wins, when the file now names its disk or export differently than
    /// when the change was made, or when applying it would break the config's rules (a disk of a
    /// datastore no longer configured, a listen port or writable disk another export now has).
    public func applied(to fileConfig: DaemonConfig) -> (config: DaemonConfig, kept: LiveChangeRecord, dropped: [String]) {
        var config = fileConfig
        var kept = LiveChangeRecord()
        var dropped: [String] = []
        for entry in disks {
            let current = fileConfig.disks.first { $0.reference == entry.key }
            guard current == entry.file else {
                dropped.append("disk \(entry.key): the config file changed it since")
                continue
            }
            if let live = entry.live, !fileConfig.datastores.contains(where: { $0.name == live.datastore }) {
                dropped.append("disk \(entry.key): no [[datastore]] \(live.datastore) is configured now")
                continue
            }
            Self.replace(&config.disks, key: entry.key, with: entry.live, keyOf: \.reference)
            kept.disks.append(entry)
        }
        for entry in exports {
            let current = fileConfig.exports.first { $0.name == entry.key }
            guard current == entry.file else {
                dropped.append("export \(entry.key): the config file changed it since")
                continue
            }
            if let live = entry.live {
                let others = config.exports.filter { $0.name != entry.key }
                if let missing = live.disks.first(where: { reference in !config.disks.contains { $0.reference == reference } }) {
                    dropped.append("export \(entry.key): its disk \(missing) is not configured now")
                    continue
                }
                if let taken = live.listen.first(where: { endpoint in others.contains { $0.listen.contains(endpoint) } }) {
                    dropped.append("export \(entry.key): \(taken) is now used by another export")
                    continue
                }
                if let conflict = live.diskConflict(with: others) {
                    dropped.append("export \(entry.key): \(conflict)")
                    continue
                }
            }
            Self.replace(&config.exports, key: entry.key, with: entry.live, keyOf: \.name)
            kept.exports.append(entry)
        }
        // A disk closed live that an export of the file now presents is opened again.
        for entry in kept.disks where entry.live == nil {
            guard let file = entry.file, config.exports.contains(where: { $0.disks.contains(entry.key) }) else { continue }
            dropped.append("disk \(entry.key): an export presents it now")
            kept.disks.removeAll { $0.key == entry.key }
            config.disks.append(file)
        }
        return (config, kept, dropped)
    }

    private static func replace<Settings>(_ entries: inout [Settings], key: String, with live: Settings?, keyOf: (Settings) -> String) {
        if let index = entries.firstIndex(where: { keyOf($0) == key }) {
            if let live { entries[index] = live } else { entries.remove(at: index) }
        } else if let live {
            entries.append(live)
        }
    }

    /// Reads the record in `directory`. No file is an empty record; a file that cannot be read or
    /// decoded is an error naming it (the daemon then starts from the config file alone).
    public static func load(directory: String) throws(LiveChangeRecordError) -> LiveChangeRecord {
        let path = "\(directory)/\(fileName)"
        guard FileManager.default.fileExists(atPath: path) else { return LiveChangeRecord() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LiveChangeRecordError(path: path, reason: "cannot read it (permission denied?)")
        }
        do {
            return try JSONDecoder().decode(LiveChangeRecord.self, from: data)
        } catch {
            throw LiveChangeRecordError(path: path, reason: "not a record of live changes: \(error)")
        }
    }

    /// Writes the record to `directory` atomically (a new file renamed over the old), mode 0600;
    /// an empty record removes the file.
    public func save(directory: String) throws(LiveChangeRecordError) {
        let path = "\(directory)/\(Self.fileName)"
        do {
            if isEmpty {
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
                return
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let staging = "\(path).new"
            guard FileManager.default.createFile(atPath: staging, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
                throw LiveChangeRecordError(path: path, reason: "cannot write \(staging)")
            }
            guard rename(staging, path) == 0 else {
                throw LiveChangeRecordError(path: path, reason: "cannot rename \(staging) over it: \(String(cString: strerror(errno)))")
            }
        } catch let error as LiveChangeRecordError {
            throw error
        } catch {
            throw LiveChangeRecordError(path: path, reason: "cannot write it: \(error.localizedDescription)")
        }
    }
}
