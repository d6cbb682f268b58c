// Which end of a path lab link `cut` takes down, and what an initiator then sees.

public enum PathLabLinkSide: Hashable, Sendable {
    /// The target's end (`ip link set tgtN down`), as when the array's port, its cable or the
    /// switch beyond the host fails. The host's interface stays administratively up with its
    /// addresses and routes (the veth reports NO-CARRIER), so nothing tells the initiator:
    /// segments of an open TCP connection vanish and only a NOP-Out timeout notices; a new
    /// connection fails after about 3 s with "No route to host" once ARP gets no answer.
    case target
    /// The host's end (`ip link set nicN down`), as when an operator downs the host's card: its
    /// connected and policy routes are withdrawn, so a new connection fails at once with
    /// "Network is unreachable" and an open connection's sends fail locally (TCP keeps retrying).
    case host
}
