// Decides whether a peer may call a method that changes the daemon.

#if canImport(Glibc)
import Glibc
#endif

/// Reading is open to anyone the socket's mode lets in; mutating needs root, the daemon's own
/// user, or membership in `control_group` — by primary group, or by being listed in the group's
/// members.
public struct ControlAccess: Sendable, Hashable {
    /// The group allowed to mutate; nil means root and the daemon's own user only.
    public var mutatingGroup: String?
    /// The user the daemon runs as. It may mutate: it could signal or replace the daemon anyway,
    /// and the unit's `ExecReload=vdiskctl reload` runs as it.
    public var daemonUID: UInt32

    public init(mutatingGroup: String?, daemonUID: UInt32 = geteuid()) {
        self.mutatingGroup = mutatingGroup
        self.daemonUID = daemonUID
    }

    public func mayMutate(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == daemonUID { return true }
        guard let mutatingGroup, let group = getgrnam(mutatingGroup) else { return false }
        if group.pointee.gr_gid == peer.gid { return true }
        guard let account = getpwuid(peer.uid), let userName = account.pointee.pw_name.map({ String(cString: $0) }) else { return false }
        guard var member = group.pointee.gr_mem else { return false }
        // gr_mem is a NULL-terminated list; 65536 bounds the walk should the entry be corrupt.
        for _ in 0..<65536 {
            guard let name = member.pointee else { return false }
            if String(cString: name) == userName { return true }
            member += 1
        }
        return false
    }
}
