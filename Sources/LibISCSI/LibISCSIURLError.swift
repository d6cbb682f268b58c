// The reason a libiscsi-style URL could not be parsed; wrapped by BlockDeviceError.

/// A malformed target URL: which URL (secrets removed) and what is wrong with it.
public struct LibISCSIURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL with its secrets replaced by "…".
    public var url: String
    public var reason: String

    public var description: String { "bad target URL \(url): \(reason)" }
}
