// Why a control call failed, by class, so vdiskctl can pick an exit code and a hint.

/// A failed call to the daemon's control socket.
public struct ControlClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No daemon listens on the socket (missing file or connection refused).
        case notRunning
        /// The socket exists but its mode or group keeps this user out.
        case permissionDenied
        /// The daemon did not answer in time.
        case timeout
        /// The answer was not a JSON-RPC response to our request.
        case badResponse
        /// The daemon answered with a JSON-RPC error.
        case daemonError(JSONRPCError)
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
