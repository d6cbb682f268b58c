// A LUN as a started target serves it: what a test needs to address it and
// to check its data on the backing file directly.

public struct ServedLUN: Hashable, Sendable {
    public let number: Int
    /// Size in bytes as the target reports it (READ CAPACITY).
    public let size: UInt64
    /// The backing file, or nil for tgt's null backing store.
    public let backingFile: String?
    public let thinProvisioning: Bool

    public init(number: Int, size: UInt64, backingFile: String?, thinProvisioning: Bool) {
        self.number = number
        self.size = size
        self.backingFile = backingFile
        self.thinProvisioning = thinProvisioning
    }
}
