// An ALUA asymmetric access state as SPC-4 numbers it (REPORT TARGET PORT GROUPS, and LIO's
// `alua_access_state` attribute), for tests that set and check a port group's state.

public enum ALUAState: Int, Hashable, Sendable, CaseIterable {
    case activeOptimized = 0
    case activeNonOptimized = 1
    case standby = 2
    case unavailable = 3
    case offline = 14
    case transitioning = 15
}
