// The SessionType key (RFC 7143 §13.21): a discovery session only does SendTargets.

public enum SessionType: String, Sendable, Hashable {
    case normal = "Normal"
    case discovery = "Discovery"
}
