// One target a test wants tgtd to serve: IQN, LUNs, CHAP and forced keys.

public struct TgtTargetSpec: Hashable, Sendable {
    public var iqn: String
    /// LUN numbers start at 1: tgt reserves LUN 0 for its controller.
    public var luns: [LUNSpec]
    public var chap: CHAPAuthentication?
    public var parameters: [TgtTargetParameter]

    public init(
        iqn: String,
        luns: [LUNSpec],
        chap: CHAPAuthentication? = nil,
        parameters: [TgtTargetParameter] = []
    ) {
        self.iqn = iqn
        self.luns = luns
        self.chap = chap
        self.parameters = parameters
    }
}
