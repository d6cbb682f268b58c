// One accepted control connection: its framed channel and who is on the other end.

import NIOCore

/// What the server's child-channel initializer hands to the connection task.
struct ControlConnection: Sendable {
    var channel: NIOAsyncChannel<ControlLineDecoder.Frame, ByteBuffer>
    var peer: PeerCredentials
}
