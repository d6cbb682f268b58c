// The control socket service: a Unix socket speaking line-delimited JSON-RPC 2.0.

#if canImport(Glibc)
import Control
import Glibc
#endif
import Export
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Listens on `path` (mode 0660, group `socketGroup`), one task per connection in a discarding task
/// group. A connection's bad requests are answered and forgotten; one that fails at the socket level
/// is closed alone, and the daemon goes on.
public struct ControlServer: Service {
    /// Why the control socket could not be opened; the daemon cannot start without it.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    let path: String
    let socketGroup: String?
    let dispatcher: ControlDispatcher
    let state: DaemonState
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let onListening: @Sendable () -> Void

    public init(
        path: String,
        socketGroup: String?,
        dispatcher: ControlDispatcher,
        state: DaemonState,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onListening: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.socketGroup = socketGroup
        self.dispatcher = dispatcher
        self.state = state
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        state.setService("control-socket", .starting)
        try Self.removeStaleSocket(path)
        let server: NIOAsyncChannel<ControlConnection, Never>
        do {
            // A connection accepted just as shutdown closes the listener is dropped by NIO without
            // reaching our loop. So the initializer hands over the plain channel, with reading
            // off, and `serve` wraps it; a dropped plain channel is harmless, a dropped
            // NIOAsyncChannel traps.
            server = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 64)
                // NIO's built-in accept backoff leaves the socket on epoll and spins on EMFILE;
                // this pause, first in the pipeline, takes the error and the socket off epoll.
                .serverChannelInitializer { [logger] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(logger: logger))
                    }
                }
                .childChannelOption(.autoRead, value: false)
                .bind(unixDomainSocketPath: path) { channel in
                    PeerCredentials.read(from: channel).flatMapThrowing { peer in
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ControlLineDecoder()))
                        return ControlConnection(channel: channel, peer: peer)
                    }
                }
        } catch {
            state.setService("control-socket", .failed("cannot listen on \(path): \(error)"))
            throw StartError(description: "cannot listen on the control socket \(path): \(error)")
        }
        try setPermissions()
        state.setService("control-socket", .running)
        logger.info("control socket listening", metadata: ["vdiskd.socket": "\(path)"])
        onListening()
        defer {
            unlink(path)
            state.setService("control-socket", .stopped)
        }
        // Shutdown closes the listening channel rather than cancelling the loop: the sequence then
        // ends after yielding every connection already accepted, and each is closed by its task.
        let listener = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            listener.close(promise: nil)
        }
    }

    private func serve(_ connection: ControlConnection) async {
        do {
            let raw = connection.channel
            let wrapped = try await raw.eventLoop.submit {
                try NIOAsyncChannel<ControlLineDecoder.Frame, ByteBuffer>(wrappingChannelSynchronously: raw)
            }.get()
            // Reading starts only now that every frame has somewhere to go.
            try await raw.setOption(.autoRead, value: true).get()
            try await wrapped.executeThenClose { inbound, outbound in
                for try await frame in inbound.cancelOnGracefulShutdown() {
                    guard let line = await dispatcher.respond(to: frame, peer: connection.peer) else { continue }
                    var buffer = ByteBuffer(string: line)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    try await outbound.write(buffer)
                }
            }
        } catch {
            logger.debug("control connection closed", metadata: ["vdiskd.error": "\(error)", "vdiskd.pid": "\(connection.peer.pid)"])
        }
    }

    private func setPermissions() throws {
        guard chmod(path, 0o660) == 0 else {
            throw StartError(description: "cannot set mode 0660 on \(path): \(String(cString: strerror(errno)))")
        }
        guard let socketGroup else { return }
        guard let group = getgrnam(socketGroup) else {
            throw StartError(description: "socket_group \"\(socketGroup)\" does not exist on this host; create it or change [daemon] socket_group")
        }
        guard chown(path, uid_t.max, group.pointee.gr_gid) == 0 else {
            throw StartError(description: "cannot give \(path) to group \(socketGroup): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a socket file left by a daemon that died; refuses when a live daemon still answers on it.
    public static func removeStaleSocket(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw StartError(description: "\(path) exists and is not a socket; remove it or choose another control_socket")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw StartError(description: "control_socket path \(path) is too long for a Unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected == 0 {
            throw StartError(description: "another vdiskd is already listening on \(path)")
        }
        unlink(path)
    }
}
