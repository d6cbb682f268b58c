// Keeping a flapping path out of use: route-flap damping, applied to paths.

import Foundation

/// A path's flap penalty: every failure adds `penaltyPerFailure`, the penalty halves every
/// `halfLife`, and a path whose penalty rose above `suppressAbove` is not opened again until it
/// has decayed below `reuseBelow`. One failure never suppresses; three in quick succession do,
/// for about as long as it takes to fall from the peak to `reuseBelow`. The cap bounds that wait.
public struct PathDamping: Sendable, Hashable {
    public struct Settings: Sendable, Hashable {
        public var penaltyPerFailure: Double = 1000
        /// A command (or probe) slower than the stall threshold: a path whose session survives
        /// a flapping link shows it only as stalls, so they count too, at most once a second.
        public var penaltyPerStall: Double = 1000
        public var suppressAbove: Double = 2500
        public var reuseBelow: Double = 750
        public var maximumPenalty: Double = 6000
        public var halfLife: Duration = .seconds(15)

        public init() {}

        /// No damping: every failed path is probed again at once.
        public static var off: Settings {
            var settings = Settings()
            settings.penaltyPerFailure = 0
            return settings
        }
    }

    public let settings: Settings
    private var penalty: Double = 0
    private var updated: Duration = .zero
    /// Whether the path is kept out of use now.
    private var suppressed = false
    private var lastStall: Duration?

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// The penalty at `now` (a monotonic time since any fixed origin).
    public func penalty(at now: Duration) -> Double {
        let elapsed = max(.zero, now - updated)
        let halfLives = elapsed / settings.halfLife
        return penalty * exp2(-halfLives)
    }

    /// Counts one failure at `now`.
    public mutating func recordFailure(at now: Duration) {
        add(settings.penaltyPerFailure, at: now)
    }

    /// Counts one stall at `now`; returns whether it counted (one a second at most, so a queue
    /// of commands stalled together is one stall).
    @discardableResult
    public mutating func recordStall(at now: Duration) -> Bool {
        if let last = lastStall, now - last < .seconds(1) { return false }
        lastStall = now
        add(settings.penaltyPerStall, at: now)
        return true
    }

    private mutating func add(_ amount: Double, at now: Duration) {
        penalty = min(settings.maximumPenalty, penalty(at: now) + amount)
        updated = now
        if penalty > settings.suppressAbove { suppressed = true }
    }

    /// Whether the path is kept out of use at `now` (without ending the suppression).
    public func isSuppressed(at now: Duration) -> Bool {
        suppressed && penalty(at: now) >= settings.reuseBelow
    }

    /// Whether the path may be opened (and used) at `now`; ends the suppression once the
    /// penalty has decayed enough.
    public mutating func allowsUse(at now: Duration) -> Bool {
        guard suppressed else { return true }
        if penalty(at: now) < settings.reuseBelow {
            suppressed = false
            return true
        }
        return false
    }

    /// How long until a suppressed path may be used again; zero when it may now.
    public func remainingSuppression(at now: Duration) -> Duration {
        guard suppressed else { return .zero }
        let current = penalty(at: now)
        guard current >= settings.reuseBelow, settings.reuseBelow > 0 else { return .zero }
        let halfLives = log2(current / settings.reuseBelow)
        return settings.halfLife * halfLives
    }
}
