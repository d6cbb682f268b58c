// One target port group descriptor of REPORT TARGET PORT GROUPS (SPC-5 §6.36): the group's
// ALUA state for the logical unit, the states it may take, and its target ports.

/// A target port group as the logical unit reports it.
public struct TargetPortGroup: Hashable, Sendable {
    public var id: UInt16
    public var state: AsymmetricAccessState
    /// PREF: the group is a preferred path.
    public var preferred: Bool
    /// The states the group supports (T_SUP, O_SUP, LBD_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP).
    public var supportedStates: Set<AsymmetricAccessState>
    /// STATUS CODE: 0 none, 1 altered by SET TARGET PORT GROUPS, 2 altered implicitly.
    public var statusCode: UInt8
    /// Relative target port identifiers of the group's ports.
    public var relativeTargetPorts: [UInt16]

    public init(
        id: UInt16,
        state: AsymmetricAccessState,
        preferred: Bool = false,
        supportedStates: Set<AsymmetricAccessState> = [],
        statusCode: UInt8 = 0,
        relativeTargetPorts: [UInt16] = []
    ) {
        self.id = id
        self.state = state
        self.preferred = preferred
        self.supportedStates = supportedStates
        self.statusCode = statusCode
        self.relativeTargetPorts = relativeTargetPorts
    }

    /// The SUPPORTED bits of byte 1, highest first, with the state each stands for.
    static let supportBits: [(bit: Int, state: AsymmetricAccessState)] = [
        (7, .transitioning), (6, .offline), (4, .logicalBlockDependent), (3, .unavailable),
        (2, .standby), (1, .activeNonOptimized), (0, .activeOptimized),
    ]
}
