// Closing a connection given up for lost so that nothing written to it reaches the target later.

import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

extension Channel {
    /// Makes the next close reset the connection and drop whatever the kernel still holds
    /// unsent (SO_LINGER with a zero timeout). A connection given up for lost may only be
    /// silent (a cut link): closed gracefully, its kernel would go on retransmitting the
    /// commands it held, and once the link came back a write retried elsewhere could be
    /// overtaken by its own stale copy. On the channel's event loop the option is set before
    /// this returns.
    func discardUnsentOnClose() {
        _ = (self as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
    }
}
