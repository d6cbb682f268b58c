// One accepted control connection: its framed channel and who is on the other end.

import NIOCore

/// What the server's child-channel initializer hands to the connection task: the channel still
/// unwrapped and not yet reading (see ControlServer.run for why).
struct ControlConnection: Sendable {
    var channel: any Channel
    var peer: PeerCredentials
}
