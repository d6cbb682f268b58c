// LiveChangeRecord on its own: which live change applies over which config file, and its file.

import Daemon
import Filters
import Foundation
import ISCSIAddress
import Testing
import TestSupport

@Suite struct LiveChangeRecordTests {
    private let file = try! ConfigFixtures.parse(ConfigFixtures.minimal)

    private func export(_ name: String, port: Int, disks: [String]) -> ExportSettings {
        ExportSettings(name: name, iqn: "iqn.2026-11.example.vdiskd:\(name)", listen: [ISCSIEndpoint(host: "127.0.0.1", port: port)], disks: disks)
    }

    /// vm2 opened and exported as e2, and the file's export vm1 removed, all live.
    private var record: LiveChangeRecord {
        var record = LiveChangeRecord()
        record.recordDisk("ds1/vm2", file: nil, live: DiskSettings(datastore: "ds1", name: "vm2"))
        record.recordExport("e2", file: nil, live: export("e2", port: 3262, disks: ["ds1/vm2"]))
        record.recordExport("vm1", file: file.exports[0], live: nil)
        return record
    }

    /// An export recorded by a vdiskd without the admission limits decodes with their defaults,
    /// and one with every key round-trips.
    @Test func anExportRecordedBeforeTheAdmissionLimitsDecodesWithTheirDefaults() throws {
        var full = export("e2", port: 3262, disks: ["ds1/vm2"])
        full.maxPendingLogins = 8
        full.descriptorReserve = 0
        full.chapUser = "client"
        let encoded = try JSONEncoder().encode(full)
        #expect(try JSONDecoder().decode(ExportSettings.self, from: encoded) == full)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        for key in ["maxPendingLogins", "maxPendingLoginsPerSource", "maxSessionsPerInitiator", "descriptorReserve"] {
            #expect(object.removeValue(forKey: key) != nil, "\(key) was encoded")
        }
        let old = try JSONDecoder().decode(ExportSettings.self, from: try JSONSerialization.data(withJSONObject: object))
        var expected = full
        expected.maxPendingLogins = 64
        expected.descriptorReserve = 64
        #expect(old == expected)
    }

    @Test func liveChangesApplyOverTheFileThatSaysWhatItSaidThen() {
        let (config, kept, dropped) = record.applied(to: file)
        #expect(config.disks.map(\.reference) == ["ds1/vm1", "ds1/vm2"])
        #expect(config.exports.map(\.name) == ["e2"])
        #expect(kept == record)
        #expect(dropped.isEmpty)
    }

    @Test func aChangeBackToWhatTheFileSaysIsForgotten() {
        var record = self.record
        record.recordExport("vm1", file: file.exports[0], live: file.exports[0])
        record.recordDisk("ds1/vm2", file: nil, live: nil)
        #expect(record.exports.map(\.key) == ["e2"])
        #expect(record.disks.isEmpty)
    }

    @Test func theFileWinsForWhatItChangedSince() {
        // The file now names vm1 differently, and has an export of its own on e2's port.
        var edited = file
        edited.exports[0].readOnly = true
        edited.disks.append(DiskSettings(datastore: "ds1", name: "vm3"))
        edited.exports.append(export("e3", port: 3262, disks: ["ds1/vm3"]))
        let (config, kept, dropped) = record.applied(to: edited)
        #expect(config.exports.map(\.name) == ["vm1", "e3"])
        #expect(config.exports[0].readOnly)
        #expect(kept.exports.isEmpty)
        #expect(kept.disks.map(\.key) == ["ds1/vm2"])
        #expect(dropped == ["export e2: 127.0.0.1:3262 is now used by another export", "export vm1: the config file changed it since"], "\(dropped)")
    }

    @Test func aClosedDiskAnExportOfTheFileNowPresentsIsOpenedAgain() {
        var record = LiveChangeRecord()
        record.recordExport("vm1", file: file.exports[0], live: nil)
        record.recordDisk("ds1/vm1", file: file.disks[0], live: nil)
        var edited = file
        edited.exports[0].name = "other"
        let (config, kept, dropped) = record.applied(to: edited)
        #expect(config.disks.map(\.reference) == ["ds1/vm1"])
        #expect(kept.isEmpty)
        #expect(dropped.count == 2, "\(dropped)")
    }

    @Test func theRecordRoundTripsThroughItsFileAndABadFileIsNamed() throws {
        let scratch = TemporaryDirectory("vdiskd-test")
        try record.save(directory: scratch.path)
        let path = "\(scratch.path)/\(LiveChangeRecord.fileName)"
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        #expect(try LiveChangeRecord.load(directory: scratch.path) == record)
        // Empty: the file goes, and a missing file is an empty record.
        try LiveChangeRecord().save(directory: scratch.path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try LiveChangeRecord.load(directory: scratch.path).isEmpty)

        try scratch.write(LiveChangeRecord.fileName, "{\"disks\": 7}")
        let error = #expect(throws: LiveChangeRecordError.self) { try LiveChangeRecord.load(directory: scratch.path) }
        #expect(error?.description.hasPrefix("\(path): not a record of live changes") == true, "\(String(describing: error))")
    }

    @Test func aDisksFilterChainAndTakeoverModeRideInTheRecord() throws {
        var disk = DiskSettings(datastore: "ds1", name: "vm2")
        disk.takeover = .auto
        disk.filters = [
            FilterSpec(name: "ioControl", parameters: FilterParameters(["iops": .int(500), "iops_max": .int(2000), "iops_max_length": .double(1.5)])),
            FilterSpec(name: "inspection", parameters: FilterParameters(["trace_entries": .int(64), "note": .string("x"), "on": .bool(true)])),
        ]
        var changed = LiveChangeRecord()
        changed.recordDisk("ds1/vm2", file: nil, live: disk)
        let scratch = TemporaryDirectory("vdiskd-test")
        try changed.save(directory: scratch.path)
        let loaded = try LiveChangeRecord.load(directory: scratch.path)
        #expect(loaded == changed)
        #expect(loaded.disks.first?.live?.filters?.first?.parameters["iops_max_length"] == .double(1.5))
        #expect(loaded.disks.first?.live?.takeover == .auto)
    }
}
