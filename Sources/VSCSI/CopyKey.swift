// The key under which an EXTENDED COPY's status is kept (SPC-5 §6.4.3.2).

/// List identifiers are unique per I_T nexus only, so the nexus is part of the key.
struct CopyKey: Sendable, Hashable {
    var nexus: Nexus
    var listIdentifier: UInt8
}
