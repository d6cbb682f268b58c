// The fault-handling pieces without a target: the takeover and space config keys, the pause
// between takeover attempts, the event log's ring, and the states `status` shows for them.

@testable import Daemon
import Datastore
import Foundation
import Logging
import Testing

@Suite struct FaultSettingsTests {
    @Test func takeoverDefaultsToManualAndTakesAutoOrRefusesOtherValues() throws {
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).disks.first?.takeover == .manual)
        let auto = ConfigFixtures.minimal.replacingOccurrences(of: "name = \"vm1\"\n\n", with: "name = \"vm1\"\ntakeover = \"auto\"\n\n")
        #expect(try ConfigFixtures.parse(auto).disks.first?.takeover == .auto)
        let bad = ConfigFixtures.errors(auto.replacingOccurrences(of: "\"auto\"", with: "\"sometimes\""))
        #expect(bad.map(\.key) == ["disk[1].takeover"], "\(bad)")
        #expect(bad.first?.message.contains("auto") == true && bad.first?.message.contains("manual") == true, "\(bad)")
    }

    @Test func spaceWarningPercentDefaultsTo90AndIsBounded() throws {
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).datastores.first?.spaceWarningPercent == 90)
        let off = ConfigFixtures.minimal.replacingOccurrences(of: "target = \"lun1\"\n", with: "target = \"lun1\"\nspace_warning_percent = 0\n")
        #expect(try ConfigFixtures.parse(off).datastores.first?.spaceWarningPercent == 0)
        let errors = ConfigFixtures.errors(off.replacingOccurrences(of: "= 0\n", with: "= 101\n"))
        #expect(errors.map(\.key) == ["datastore[1].space_warning_percent"], "\(errors)")
        #expect(errors.first?.message == "101 is out of range: expected 0...100")
    }

    @Test func aLiveHolderIsRetriedWithBackoffAndAStaleOneAtTheEndOfItsLease() {
        let interval = Duration.seconds(3)
        let live = LockHolder(name: "host-a", heartbeatAge: .milliseconds(800), lease: .seconds(16))
        var pauses: [Duration] = []
        var previous: Duration?
        for _ in 0..<6 {
            let pause = DiskTakeover.delay(after: previous, holder: live, interval: interval)
            pauses.append(pause)
            previous = pause
        }
        #expect(pauses == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3)])
        // A holder silent for 14 s of a 16 s lease: try again when the lease runs out.
        let stale = LockHolder(name: "host-a", heartbeatAge: .seconds(14), lease: .seconds(16))
        #expect(DiskTakeover.delay(after: .seconds(3), holder: stale, interval: interval) == .seconds(2))
        // Silent for 5 s: not before an interval, so a death is seen within one.
        let quiet = LockHolder(name: "host-a", heartbeatAge: .seconds(5), lease: .seconds(16))
        #expect(DiskTakeover.delay(after: nil, holder: quiet, interval: interval) == .seconds(3))
        // Past the lease already (the next try breaks the lock): soon, but not spinning.
        let dead = LockHolder(name: "host-a", heartbeatAge: .seconds(17), lease: .seconds(16))
        #expect(DiskTakeover.delay(after: nil, holder: dead, interval: interval) == .milliseconds(100))
        #expect(DiskTakeover.describe(live) == "host-a (heartbeat 0.8 s old)")
    }

    @Test func theEventLogKeepsTheNewestAndCountsWhatItDropped() {
        let log = EventLog(capacity: 3)
        for index in 0..<5 { log.record("disk:ds1/vm\(index)", "running") }
        let (events, dropped) = log.snapshot
        #expect(events.map(\.part) == ["disk:ds1/vm2", "disk:ds1/vm3", "disk:ds1/vm4"])
        #expect(dropped == 2)
    }

    @Test func stateChangesGoToTheEventLogWithTheirReasons() throws {
        let state = DaemonState(config: try ConfigFixtures.parse(ConfigFixtures.minimal), logLevel: LogLevelControl(.info))
        state.setService("datastore:ds1", .running)
        state.setService("datastore:ds1", .running)
        state.setService("datastore:ds1", .fenced("host 'a' lost its slot"))
        state.setService("disk:ds1/vm1", .waiting("host-b (heartbeat 1.0 s old)"))
        let events = state.events.snapshot.events
        #expect(events.map(\.state) == ["running", "fenced", "waiting"], "\(events)")
        #expect(events[1].reason == "host 'a' lost its slot")
        #expect(ServiceState.waiting("host-b (heartbeat 1.0 s old)").description == "waiting for host-b (heartbeat 1.0 s old)")
        let view = ControlViews.events(state.events, limit: 2)
        #expect(view["events"]?.arrayValue?.count == 2)
        #expect(view["events"]?.arrayValue?.first?["state"] == .string("fenced"))
        #expect(view["events"]?.arrayValue?.first?["time"]?.stringValue?.hasSuffix("Z") == true, "\(view)")
    }
}
