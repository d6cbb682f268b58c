// mClock on a simulated clock: ESXi's worked example, shares under contention, reservations.

import Filters
import Testing

@Suite struct MClockSchedulerTests {
    /// Every client always has work queued; the scheduler runs `seconds` of simulated time in
    /// 1 ms rounds. Returns how many I/Os each client got.
    private func saturate(_ scheduler: inout MClockScheduler, clients: [String], seconds: Double) -> [String: Int] {
        var counts: [String: Int] = [:]
        var owner: [Int: String] = [:]
        var nextID = 0
        var queued: [String: Int] = [:]
        var now = 0.0
        while now < seconds {
            for client in clients where queued[client, default: 0] < 64 {
                for _ in queued[client, default: 0]..<64 {
                    scheduler.enqueue(client, id: nextID, cost: 1, now: now)
                    owner[nextID] = client
                    nextID += 1
                }
                queued[client] = 64
            }
            for id in scheduler.dispatch(now: now) {
                let client = owner.removeValue(forKey: id)!
                counts[client, default: 0] += 1
                queued[client]! -= 1
            }
            now += 0.001
        }
        return counts
    }

    @Test func esxisWorkedExampleGivesSixteenFortyEightSixteenHundred() {
        // An 8000-IOPS device; shares 1000, 2500, 500, 1000 → 1600, 4000, 800, 1600 IOPS.
        var scheduler = MClockScheduler(capacity: 8000)
        let shares = ["vm1": 1000.0, "vm2": 2500, "vm3": 500, "vm4": 1000]
        for (name, value) in shares { scheduler.setClient(name, reservation: 0, shares: value) }
        let counts = saturate(&scheduler, clients: shares.keys.sorted(), seconds: 10)
        let expected = ["vm1": 16000.0, "vm2": 40000, "vm3": 8000, "vm4": 16000]
        for (name, target) in expected {
            let got = Double(counts[name] ?? 0)
            #expect(abs(got - target) / target < 0.01, "\(name): \(got) I/Os in 10 s, expected \(target)")
        }
    }

    @Test func aReservationIsMetThoughItsSharesAreSmall() {
        // Shares 1:9 would give vm1 800 of 8000 IOPS; its reservation of 3000 wins.
        var scheduler = MClockScheduler(capacity: 8000)
        scheduler.setClient("vm1", reservation: 3000, shares: 100)
        scheduler.setClient("vm2", reservation: 0, shares: 900)
        let counts = saturate(&scheduler, clients: ["vm1", "vm2"], seconds: 5)
        let vm1 = Double(counts["vm1"] ?? 0) / 5, vm2 = Double(counts["vm2"] ?? 0) / 5
        #expect(vm1 >= 3000 * 0.99, "vm1 got \(vm1) IOPS")
        #expect(abs(vm1 + vm2 - 8000) < 80, "total \(vm1 + vm2) IOPS")
    }

    @Test func aDiskBackFromIdleEarnsNoCredit() {
        var scheduler = MClockScheduler(capacity: 1000)
        scheduler.setClient("busy", reservation: 0, shares: 1000)
        scheduler.setClient("late", reservation: 0, shares: 1000)
        _ = saturate(&scheduler, clients: ["busy"], seconds: 3)
        // Now both compete from t = 3 s: equal shares must split evenly at once.
        var counts: [String: Int] = [:]
        var owner: [Int: String] = [:]
        var id = 1_000_000
        var now = 3.0
        for _ in 0..<500 {
            for client in ["busy", "late"] {
                scheduler.enqueue(client, id: id, cost: 1, now: now)
                owner[id] = client
                id += 1
            }
            for dispatched in scheduler.dispatch(now: now) { counts[owner[dispatched] ?? "busy", default: 0] += 1 }
            now += 0.001
        }
        let late = counts["late"] ?? 0, busy = counts["busy"] ?? 0
        #expect(abs(late - busy) <= max(10, (late + busy) / 10), "late \(late), busy \(busy)")
    }

    @Test func capacityIsNeverExceeded() {
        var scheduler = MClockScheduler(capacity: 500)
        scheduler.setClient("a", reservation: 100, shares: 1)
        let counts = saturate(&scheduler, clients: ["a"], seconds: 4)
        #expect(abs(Double(counts["a"] ?? 0) - 2000) <= 5, "\(counts)")
    }
}
