// A logical unit a test asks a target to serve: its number, what backs it
// and whether it advertises thin provisioning.

public struct LUNSpec: Hashable, Sendable {
    public enum Backing: Hashable, Sendable {
        /// A sparse file of this many bytes in the target's scratch directory.
        case file(size: UInt64)
        /// tgt's null backing store: discards writes, reads zeros, 1 TiB.
        case null
    }

    public var number: Int
    public var backing: Backing
    /// tgt only: `thin_provisioning=1`, which enables UNMAP and LBP VPD pages.
    public var thinProvisioning: Bool

    public init(number: Int, backing: Backing, thinProvisioning: Bool = false) {
        self.number = number
        self.backing = backing
        self.thinProvisioning = thinProvisioning
    }

    public static func file(_ number: Int, size: UInt64, thinProvisioning: Bool = false) -> LUNSpec {
        LUNSpec(number: number, backing: .file(size: size), thinProvisioning: thinProvisioning)
    }

    public static func null(_ number: Int) -> LUNSpec {
        LUNSpec(number: number, backing: .null)
    }
}
