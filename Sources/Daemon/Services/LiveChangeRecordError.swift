// Why the live-changes file in the state directory could not be read or written.

/// The live-changes file could not be read or written.
public struct LiveChangeRecordError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "\(path): \(reason)" }
}
