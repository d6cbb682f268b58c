// One iSCSI target (IQN) of a started daemon, with its LUNs and the CHAP
// credentials a client needs.

public struct ServedTarget: Hashable, Sendable {
    public let iqn: String
    public let luns: [ServedLUN]
    public let chap: CHAPAuthentication?

    public init(iqn: String, luns: [ServedLUN], chap: CHAPAuthentication?) {
        self.iqn = iqn
        self.luns = luns
        self.chap = chap
    }

    public func lun(_ number: Int) -> ServedLUN? {
        luns.first { $0.number == number }
    }
}
