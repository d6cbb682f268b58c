// How the native engine applies a ConnectionSource to its socket: checks before
// connecting, the address to bind, SO_BINDTODEVICE, and errors that name both ends.

import ISCSIAddress
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

extension ConnectionSource {
    /// What can be known before a socket exists: an interface that does not exist, or a
    /// source address of the other family than a portal written as an address.
    func check(reaching portal: TargetPortal) throws(ISCSIError) {
        if let conflict = familyConflict(withPortalHost: portal.host) {
            throw ISCSIError(.connectFailed, scope: .connection, "cannot connect to \(portal) from \(self): \(conflict)")
        }
        if let interface, if_nametoindex(interface) == 0 {
            throw ISCSIError(
                .connectFailed,
                scope: .connection,
                "cannot connect to \(portal) from \(self): this host has no network interface named '\(interface)' (see `ip link`)"
            )
        }
    }

    /// The local address to bind, port 0 (any free port); nil when only an interface is bound.
    func bindAddress(reaching portal: TargetPortal) throws(ISCSIError) -> SocketAddress? {
        guard let address else { return nil }
        do {
            return try SocketAddress(ipAddress: address, port: 0)
        } catch {
            throw ISCSIError(.connectFailed, scope: .connection, "cannot connect to \(portal) from \(self): '\(address)' is not an IP address")
        }
    }

    /// Binds `channel`'s socket to the interface (SO_BINDTODEVICE) before it connects.
    func bindDevice(of channel: any Channel) -> EventLoopFuture<Void> {
        guard let interface else { return channel.eventLoop.makeSucceededVoidFuture() }
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ISCSIError(.connectFailed, scope: .connection, "the channel has no socket to bind to interface \(interface)"))
        }
        return provider.unsafeSetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(SO_BINDTODEVICE),
            value: InterfaceName(interface)
        )
    }

    /// A connect that failed with this source set, in words naming the source, the portal
    /// and, for the errors binding causes, what to check.
    func connectError(_ error: any Error, reaching portal: TargetPortal) -> ISCSIError {
        let prefix = "cannot connect to \(portal) from \(self)"
        // Happy eyeballs wraps each attempt's failure; the first one says what binding did.
        let cause = (error as? NIOConnectionError)?.connectionErrors.first?.error ?? error
        guard let io = cause as? IOError else {
            return ISCSIError(.connectFailed, scope: .connection, "\(prefix): \(error)")
        }
        let hint: String = switch io.errnoCode {
        case EADDRNOTAVAIL: "the source address \(address ?? "") is not an address of this host (see `ip addr`)"
        case EAFNOSUPPORT: "the source address \(address ?? "") is not of the family the portal resolved to"
        case EINVAL where address != nil: "the source address \(address ?? "") cannot be bound for the family the portal resolved to"
        case EPERM, EACCES: "binding to interface \(interface ?? "") was refused (Linux before 5.7 needs CAP_NET_RAW for SO_BINDTODEVICE)"
        case ENODEV: "this host has no network interface named '\(interface ?? "")'"
        case ENETUNREACH, EHOSTUNREACH: "the portal cannot be reached from that source (no route through it)"
        default: "\(io)"
        }
        return ISCSIError(.connectFailed, scope: .connection, "\(prefix): \(hint)")
    }
}

extension ConnectionSource {
    /// An interface name as SO_BINDTODEVICE reads it: up to IFNAMSIZ (16) bytes, NUL-padded.
    /// Two words rather than a tuple of bytes so the value is a plain Sendable struct of the
    /// size the kernel expects.
    fileprivate struct InterfaceName: Sendable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        init(_ name: String) {
            withUnsafeMutableBytes(of: &self) { bytes in
                for (index, byte) in name.utf8.prefix(ConnectionSource.maximumInterfaceNameLength).enumerated() {
                    bytes[index] = byte
                }
            }
        }
    }
}
