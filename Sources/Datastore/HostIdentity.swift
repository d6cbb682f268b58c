// Who a mounting host is: the UUID that owns locks and a name people can read.

import Foundation

/// The identity a host mounts a datastore with.
public struct HostIdentity: Sendable, Hashable, Codable {
    public var uuid: UUID
    public var name: String

    public init(uuid: UUID, name: String) {
        self.uuid = uuid
        self.name = name
    }

    /// A fresh identity named after this machine and process.
    public static func current() -> HostIdentity {
        HostIdentity(uuid: UUID(), name: "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)")
    }

    /// The persistent-reservation key: derived from the UUID, never 0.
    var reservationKey: UInt64 {
        let u = uuid.uuid
        let key = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return key == 0 ? 1 : key
    }
}
