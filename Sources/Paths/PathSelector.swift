// The policy as a pure value: given the paths that may take I/O now, which one takes the next command.

/// Picks a path for each command according to a `PathPolicy`. Pure: the multipath device
/// calls it under its lock with the usable paths and the clock, and it keeps only what the
/// policy itself remembers (the path in use, the round-robin counts).
struct PathSelector: Sendable {
    /// A path that may take I/O now.
    struct Candidate: Sendable, Equatable {
        var index: Int
        var name: String
        /// 0 for active/optimized (or a unit without ALUA), 1 for active/non-optimized.
        var rank: Int
        /// Since when the path has been usable without a failure.
        var healthySince: Duration
    }

    var policy: PathPolicy {
        didSet { ioCount = 0; byteCount = 0 }
    }
    /// How long a FIXED preferred path must stay healthy before I/O goes back to it.
    var failbackDelay: Duration
    /// The path the last command took.
    private(set) var current: Int?
    private var ioCount = 0
    private var byteCount = 0

    init(policy: PathPolicy, failbackDelay: Duration) {
        self.policy = policy
        self.failbackDelay = failbackDelay
    }

    /// The path for a command of `bytes` bytes, or nil when no path is usable.
    mutating func choose(from candidates: [Candidate], bytes: Int, now: Duration) -> Int? {
        guard let bestRank = candidates.map(\.rank).min() else { return nil }
        let best = candidates.filter { $0.rank == bestRank }.sorted { $0.index < $1.index }
        let currentIsBest = best.contains { $0.index == current }
        let chosen: Int
        switch policy {
        case .fixed(let preferredName):
            let preferred = preferredName.flatMap { name in best.first { $0.name == name } } ?? (preferredName == nil ? best.first : nil)
            if let preferred, preferred.index != current,
               !currentIsBest || now - preferred.healthySince >= failbackDelay {
                chosen = preferred.index
            } else if currentIsBest, let current {
                chosen = current
            } else {
                chosen = preferred?.index ?? best[0].index
            }
        case .mostRecentlyUsed:
            chosen = currentIsBest ? current! : best[0].index
        case .roundRobin(let ios, let bytesPerSwitch):
            if let position = best.firstIndex(where: { $0.index == current }) {
                if ioCount >= ios || byteCount >= bytesPerSwitch {
                    chosen = best[(position + 1) % best.count].index
                } else {
                    chosen = best[position].index
                }
            } else {
                chosen = best[0].index
            }
        }
        if chosen != current {
            current = chosen
            ioCount = 0
            byteCount = 0
        }
        ioCount += 1
        byteCount += bytes
        return chosen
    }
}
