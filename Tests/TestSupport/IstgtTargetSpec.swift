// One target a test wants istgt to serve: IQN, file-backed LUNs, CHAP.

public struct IstgtTargetSpec: Hashable, Sendable {
    public var iqn: String
    /// File-backed only; istgt numbers LUNs from 0.
    public var luns: [LUNSpec]
    /// One-way (`AuthMethod CHAP`) or mutual (`AuthMethod CHAP Mutual`).
    public var chap: CHAPAuthentication?

    public init(iqn: String, luns: [LUNSpec], chap: CHAPAuthentication? = nil) {
        self.iqn = iqn
        self.luns = luns
        self.chap = chap
    }
}
