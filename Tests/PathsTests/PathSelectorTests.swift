// The policies as a pure value: which path each command takes.

import Testing
@testable import Paths

struct PathSelectorTests {
    static func candidates(_ indices: [Int], rank: [Int: Int] = [:], healthySince: [Int: Duration] = [:]) -> [PathSelector.Candidate] {
        indices.map { PathSelector.Candidate(index: $0, name: "p\($0)", rank: rank[$0] ?? 0, healthySince: healthySince[$0] ?? .zero) }
    }

    @Test func roundRobinMovesOnAfterTheCommandCountOrTheByteCount() {
        var selector = PathSelector(policy: .roundRobin(ios: 3, bytes: 1 << 30), failbackDelay: .seconds(10))
        let picks = (0..<9).map { _ in selector.choose(from: Self.candidates([0, 1, 2]), bytes: 4096, now: .seconds(100))! }
        #expect(picks == [0, 0, 0, 1, 1, 1, 2, 2, 2])

        var byBytes = PathSelector(policy: .roundRobin(ios: 1000, bytes: 8192), failbackDelay: .seconds(10))
        let bytePicks = (0..<6).map { _ in byBytes.choose(from: Self.candidates([0, 1]), bytes: 4096, now: .seconds(100))! }
        #expect(bytePicks == [0, 0, 1, 1, 0, 0])
    }

    @Test func roundRobinSkipsAPathThatLeftAndOnlyUsesTheBestALUARank() {
        var selector = PathSelector(policy: .roundRobin(ios: 1, bytes: 1 << 30), failbackDelay: .seconds(10))
        let picks = (0..<4).map { _ in selector.choose(from: Self.candidates([0, 2]), bytes: 512, now: .zero)! }
        #expect(picks == [0, 2, 0, 2])
        let optimizedOnly = (0..<4).map { _ in selector.choose(from: Self.candidates([0, 1, 2], rank: [0: 1, 2: 1]), bytes: 512, now: .zero)! }
        #expect(optimizedOnly == [1, 1, 1, 1], "active/non-optimized paths wait while an optimized one is usable")
    }

    @Test func mostRecentlyUsedStaysUntilItsPathGoesAndNeverFailsBack() {
        var selector = PathSelector(policy: .mostRecentlyUsed, failbackDelay: .seconds(10))
        #expect(selector.choose(from: Self.candidates([0, 1]), bytes: 512, now: .zero) == 0)
        #expect(selector.choose(from: Self.candidates([1]), bytes: 512, now: .seconds(1)) == 1)
        #expect(selector.choose(from: Self.candidates([0, 1]), bytes: 512, now: .seconds(100)) == 1)
        #expect(selector.choose(from: [], bytes: 512, now: .seconds(100)) == nil)
    }

    @Test func fixedFailsBackOnlyAfterThePreferredPathWasHealthyForTheDelay() {
        var selector = PathSelector(policy: .fixed(preferred: "p1"), failbackDelay: .seconds(10))
        #expect(selector.choose(from: Self.candidates([0, 1]), bytes: 512, now: .seconds(1)) == 1)
        // p1 fails: p0 takes over.
        #expect(selector.choose(from: Self.candidates([0]), bytes: 512, now: .seconds(2)) == 0)
        // p1 is back since 5 s: not yet.
        #expect(selector.choose(from: Self.candidates([0, 1], healthySince: [1: .seconds(5)]), bytes: 512, now: .seconds(9)) == 0)
        // Healthy for 10 s: back to p1.
        #expect(selector.choose(from: Self.candidates([0, 1], healthySince: [1: .seconds(5)]), bytes: 512, now: .seconds(15)) == 1)
    }

    @Test func fixedWithoutAPreferenceKeepsTheFirstConfiguredPath() {
        var selector = PathSelector(policy: .fixed(preferred: nil), failbackDelay: .zero)
        #expect(selector.choose(from: Self.candidates([1, 0]), bytes: 512, now: .zero) == 0)
        #expect(selector.choose(from: Self.candidates([1]), bytes: 512, now: .seconds(1)) == 1)
        #expect(selector.choose(from: Self.candidates([0, 1]), bytes: 512, now: .seconds(2)) == 0)
    }

    @Test func policyNamesAreCheckedWithTheChoicesInTheMessage() throws {
        #expect(try PathPolicy(name: "ROUND_ROBIN", ios: 5, bytes: 9) == .roundRobin(ios: 5, bytes: 9))
        #expect(try PathPolicy(name: "mru") == .mostRecentlyUsed)
        #expect(try PathPolicy(name: "fixed", preferred: "a") == .fixed(preferred: "a"))
        let error = #expect(throws: PathsError.self) { try PathPolicy(name: "fastest") }
        #expect(error?.message.contains("fixed, mru, round_robin") == true)
        #expect(throws: PathsError.self) { try PathPolicy(name: "round_robin", ios: 0) }
    }
}
