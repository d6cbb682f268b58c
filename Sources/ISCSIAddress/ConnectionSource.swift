// Where an initiator's connections leave from: a local address to bind, a network
// interface to bind to, or both (iSCSI port binding). Shared by both engines and the
// layers that configure them; each engine says which parts it can apply.

#if canImport(Glibc)
import Glibc
#endif

/// The local end of an initiator's TCP connections.
///
/// `address` is bound (port 0, any free port) before connecting; `interface` is bound
/// with SO_BINDTODEVICE, which Linux allows an unprivileged process since 5.7 as long
/// as the socket is not bound to a device yet. With both, the connection leaves through
/// that interface from that address. Two sources on two links give two independent
/// paths even to one portal.
public struct ConnectionSource: Sendable, Hashable, CustomStringConvertible {
    /// The IP family of a source address or a portal written as an address literal.
    public enum Family: Sendable, Hashable, CustomStringConvertible {
        case ipv4
        case ipv6

        public var description: String {
            switch self {
            case .ipv4: "IPv4"
            case .ipv6: "IPv6"
            }
        }

        /// The family of an IPv4 or IPv6 literal (no brackets, no zone); nil for a host name.
        public init?(literal: String) {
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, literal, &v4) == 1 {
                self = .ipv4
            } else if inet_pton(AF_INET6, literal, &v6) == 1 {
                self = .ipv6
            } else {
                return nil
            }
        }
    }

    /// The longest interface name Linux accepts (IFNAMSIZ less the terminating NUL).
    public static let maximumInterfaceNameLength = 15

    /// A local IPv4 or IPv6 address, without brackets.
    public let address: String?
    /// A network interface name (`eth1`, `veth-a`).
    public let interface: String?

    /// Checks the parts' form; whether the address belongs to this host and the interface
    /// exists is found out when a connection binds them.
    public init(address: String? = nil, interface: String? = nil) throws(ISCSIAddressError) {
        let shown = [address.map { "address \($0)" }, interface.map { "interface \($0)" }].compactMap { $0 }.joined(separator: ", ")
        func bad(_ reason: String) -> ISCSIAddressError {
            ISCSIAddressError(input: shown.isEmpty ? "(empty source)" : shown, part: .source, reason: reason)
        }
        guard address != nil || interface != nil else { throw bad("give a source address, an interface, or both") }
        if let address {
            guard Family(literal: address) != nil else {
                throw bad("'\(address)' is not an IPv4 or IPv6 address (write IPv6 without brackets)")
            }
        }
        if let interface {
            guard !interface.isEmpty, interface.utf8.count <= Self.maximumInterfaceNameLength else {
                throw bad("an interface name has 1 to \(Self.maximumInterfaceNameLength) bytes, '\(interface)' has \(interface.utf8.count)")
            }
            guard interface.allSatisfy({ !$0.isWhitespace && $0 != "/" && $0 != ":" && $0 != "," && $0.isASCII }) else {
                throw bad("'\(interface)' is not an interface name (no spaces, '/', ':' or ',')")
            }
        }
        self.address = address
        self.interface = interface
    }

    /// The source address's family; nil when only an interface is bound.
    public var family: Family? { address.flatMap(Family.init(literal:)) }

    /// Why this source cannot reach a portal at `host`, when both are address literals of
    /// different families; nil when they match or the host is a name (resolved later).
    public func familyConflict(withPortalHost host: String) -> String? {
        guard let own = family, let portal = Family(literal: host), own != portal else { return nil }
        return "source address \(address ?? "") is \(own) but the portal \(host) is \(portal); bind an \(portal) address"
    }

    /// "address 10.0.1.5", "interface eth1", "address 10.0.1.5 on interface eth1".
    public var description: String {
        switch (address, interface) {
        case let (address?, interface?): "address \(address) on interface \(interface)"
        case let (address?, nil): "address \(address)"
        case let (nil, interface?): "interface \(interface)"
        case (nil, nil): "any"
        }
    }
}
