// What the chain does when a filter itself breaks (throws an error of its own or stops answering).

/// A filter's declared answer to its own failure. `failIO` suits every filter; `bypass` only
/// one whose absence cannot change data or ordering (inspection): the chain then skips it for
/// that disk from then on and raises a `FilterEvent.bypassed` alert.
public enum FilterFailurePolicy: String, Sendable, Hashable, CustomStringConvertible {
    case failIO = "fail-io"
    case bypass

    public var description: String { rawValue }
}
