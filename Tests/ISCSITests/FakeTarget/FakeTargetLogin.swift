// How the fake target answers a login: the few behaviours real targets cannot be made to show.

import ISCSI
import NIOCore

/// The fake target's login behaviour.
enum FakeTargetLogin: Sendable {
    /// AuthMethod=None, then every operational offer accepted (the first value of a list).
    case accept
    /// Reads the Login Request and never answers it.
    case stall
    /// Answers the first Login Request with status class 1 and this TargetAddress.
    case redirect(to: TargetPortal, permanent: Bool)
    /// Redirects every login to this same target: a loop the initiator must give up on.
    case redirectToItself
    /// Answers the first Login Request with these bytes, as a server that is no iSCSI target would.
    case reply(ByteBuffer)
    /// Asks for CHAP, picks the first algorithm of the initiator's CHAP_A offer, and refuses
    /// whatever response comes back with 0x0201: a rogue target fishing for a weaker answer
    /// (or tgt 1.0.85 failing SHA-256), which no real target can be told to do on purpose.
    case chapRefusingEveryResponse
}
