// One filter in one disk's chain, with whether the chain has given up on it.

import Synchronization

/// A filter's place in a chain. `bypassed` is set once, when a filter with the `bypass` policy
/// breaks; the chain then runs as if it were not there until it is removed or replaced.
final class FilterStage: Sendable {
    let filter: any IOFilter
    private let bypassedFlag = Atomic<Bool>(false)

    init(_ filter: any IOFilter) {
        self.filter = filter
    }

    var isBypassed: Bool { bypassedFlag.load(ordering: .relaxed) }

    /// Marks the stage bypassed; true only for the call that changed it.
    func markBypassed() -> Bool {
        !bypassedFlag.exchange(true, ordering: .relaxed)
    }
}
