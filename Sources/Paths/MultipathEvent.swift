// What a multipath device reports to its owner: path state changes, all paths down, device loss.

/// An event of a multipath device, in order.
public enum MultipathEvent: Sendable, Equatable {
    /// A path changed state, with why (the error that killed it, the ALUA state, the operator).
    case pathChanged(path: String, from: PathState, to: PathState, reason: String)
    /// Every path is dead; commands wait up to the APD timeout.
    case allPathsDown(reason: String)
    /// The APD timeout passed: commands fail until a path returns.
    case allPathsDownTimedOut(message: String)
    /// A path returned after all paths were down.
    case pathsRestored(path: String)
    /// The LUN is gone for good (PDL): commands fail at once until it is reopened.
    case deviceLost(message: String)
    /// A path reaches a different LUN and is refused.
    case pathRefused(path: String, message: String)
}
