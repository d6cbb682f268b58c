// What a target's login responder needs to know: its targets with their access
// rules, the portal group it answers for, and its negotiation limits.

/// The fixed inputs of every login on one portal group.
public struct TargetLoginConfiguration: Sendable {
    /// Targets by IQN (compared without regard to case, RFC 3722 names are case-folded).
    public var targets: [String: TargetAccessPolicy]
    /// Rules for discovery sessions (SendTargets), which name no target.
    public var discoveryPolicy: TargetAccessPolicy
    public var portalGroupTag: UInt16
    public var limits: TargetOperationalLimits
    /// How many commands the initiator may have sent beyond ExpCmdSN (MaxCmdSN − ExpCmdSN + 1).
    public var commandWindow: UInt32

    public init(
        targets: [String: TargetAccessPolicy],
        discoveryPolicy: TargetAccessPolicy = TargetAccessPolicy(),
        portalGroupTag: UInt16 = 1,
        limits: TargetOperationalLimits = TargetOperationalLimits(),
        commandWindow: UInt32 = 64
    ) {
        precondition(commandWindow >= 1, "a command window holds at least one command")
        self.commandWindow = commandWindow
        self.targets = Dictionary(targets.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.discoveryPolicy = discoveryPolicy
        self.portalGroupTag = portalGroupTag
        self.limits = limits
    }

    func policy(forTarget name: String) -> TargetAccessPolicy? {
        targets[name.lowercased()]
    }
}
